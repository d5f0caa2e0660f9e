#!/bin/sh
# Install concscope's build and test dependencies from Debian's packages.
# Run as root (or with sudo). Safe to run again: it only installs what is missing.
set -eu

PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libcmocka-dev
pkg-config linux-libc-dev python3 python3-pytest protobuf-compiler libclang-rt-14-dev
util-linux procps linux-perf"

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

if [ ! -r /sys/kernel/btf/vmlinux ]; then
	echo "tools/setup.sh: warning: this kernel has no BTF (/sys/kernel/btf/vmlinux);" \
	     "concscope needs CONFIG_DEBUG_INFO_BTF=y" >&2
fi
echo "tools/setup.sh: dependencies are installed"
