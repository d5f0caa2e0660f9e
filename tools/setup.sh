#!/bin/sh
# Install concscope's build and test dependencies from Debian's packages.
# Run as root (or with sudo). Safe to run again: it only installs what is missing.
# The last line's packages are programs nobody here wrote, which the tests and
# tools/accuracy.py trace (redis, sysbench, stress-ng, CPython's http.server
# under curl, perl).
set -eu

PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libcmocka-dev
pkg-config linux-libc-dev python3 python3-pytest protobuf-compiler libclang-rt-14-dev
util-linux procps linux-perf pmccabe libpython3.11-dev libdw-dev
redis-server redis-tools sysbench stress-ng curl perl"

if [ "$(id -u)" -ne 0 ]; then
	echo "tools/setup.sh: installing packages needs root: run it with sudo" >&2
	exit 3
fi

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "tools/setup.sh: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi

# --futex-syscalls attaches classic syscall tracepoints, which libbpf finds
# through tracefs; mount it where it is not (a no-op where it is).
if [ ! -d /sys/kernel/tracing/events ]; then
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null ||
		echo "tools/setup.sh: warning: cannot mount tracefs; --futex-syscalls will not work" >&2
fi

if [ ! -r /sys/kernel/btf/vmlinux ]; then
	echo "tools/setup.sh: warning: this kernel has no BTF (/sys/kernel/btf/vmlinux);" \
	     "concscope needs CONFIG_DEBUG_INFO_BTF=y" >&2
fi
echo "tools/setup.sh: dependencies are installed"
