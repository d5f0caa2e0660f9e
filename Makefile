# concscope: eBPF concurrency profiler.
#   make            build build/concscope, the workloads and the test programs
#   make test       unit tests (cmocka) and integration tests (real BPF, as root)
#   make demo       run the model comparison (concscope run --model=all)
#   make bench      the benchmark suite (tools/bench; bench-quick for CI)
#   make install    PREFIX=/usr/local DESTDIR=
#   make fuzz       libFuzzer targets for the trace reader and the record decoder
#   make V=1        show the commands
# Dependencies: tools/setup.sh installs them from Debian's packages.

SHELL := /bin/bash
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CC ?= cc
CLANG ?= clang
BPFTOOL ?= $(or $(shell command -v bpftool 2>/dev/null),/usr/sbin/bpftool)
PYTHON ?= /usr/bin/python3
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
# The architecture: the machine's (ARCH=... to say another). bpf/arch.h holds
# its facts and stops the build for one it does not describe.
ARCH ?= $(shell uname -m)
BPF_ARCH := $(or $(patsubst x86_64,x86,$(filter x86_64,$(ARCH))),$(patsubst aarch64,arm64,$(filter aarch64,$(ARCH))),$(ARCH))
MULTIARCH ?= $(or $(shell $(CC) -print-multiarch 2>/dev/null),$(ARCH)-linux-gnu)
SYSCALL_HDR ?= /usr/include/$(MULTIARCH)/asm/unistd_64.h
VERSION := 0.1.0

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

LIBBPF_CFLAGS := $(shell pkg-config --cflags libbpf 2>/dev/null)
LIBBPF_LIBS := $(or $(shell pkg-config --libs libbpf 2>/dev/null),-lbpf) -lelf -lz
CMOCKA_LIBS := $(or $(shell pkg-config --libs cmocka 2>/dev/null),-lcmocka)

WARN := -Wall -Wextra -Wno-unused-parameter
CFLAGS ?= -O2 -g
SAN ?=
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
ALL_CFLAGS := $(CFLAGS) $(WARN) $(SANFLAGS) -std=gnu11 -D_GNU_SOURCE -MMD -MP -Ibpf -Iuser -I$(BUILD) \
	$(LIBBPF_CFLAGS) -DCS_VERSION='"$(VERSION)"'
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS)

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Werror -I$(BUILD) -Ibpf

# The pure core: no BPF, no files, no terminal. Unit-tested alone. (hashmap.c: the
# tree's one hash map, used by the core and by the modules around it.)
CORE_SRCS := user/hashmap.c user/state.c user/hist.c user/topk.c user/core.c user/states.c user/locks.c \
	user/profile.c user/episodes.c user/stacks.c user/core_observe.c \
	user/reorder.c user/decode.c user/replay.c user/critpath.c
# The Perfetto trace writer and reader (pure encoding, file I/O only).
PF_SRCS := user/pb.c user/pf_codec.c user/pf_format.c user/pf_bundle.c user/pf_display.c user/pf_stacks.c \
	user/pf_writer.c user/pf_reader.c
# Output and platform modules around it.
APP_SRCS := user/render.c user/render_findings.c user/render_groups.c user/groups.c \
	user/jsonw.c user/summary.c user/view.c user/critpath_show.c user/models.c user/findings.c \
	user/findings_json.c user/findings_trace.c user/procfs.c user/outfile.c user/symbols.c user/python.c \
	user/taskinfo.c user/tracer.c user/session.c user/stacks_out.c user/ehframe.c user/unwind.c \
	user/frames.c user/pyframes.c
# The command line: option values, options, the commands, the model runner, main().
CLI_SRCS := user/parse.c user/opts.c user/cli.c user/cmd_run.c user/cmd_attach.c \
	user/cmd_report.c user/runner.c user/main.c
GEN_SRCS := $(BUILD)/syscalls.c

CORE_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(CORE_SRCS))
PF_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(PF_SRCS))
APP_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(APP_SRCS)) $(BUILD)/obj/syscalls.o
CLI_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(CLI_SRCS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
TEST_PROGS := $(patsubst tests/progs/%.c,$(BUILD)/tests/progs/%,$(wildcard tests/progs/*.c))
WORKLOAD_BINS := $(if $(wildcard workloads/cs-workload.c),$(BUILD)/cs-workload $(BUILD)/cs-ioserver)

.DELETE_ON_ERROR:
.PHONY: all test test-unit test-integration demo install uninstall clean fuzz

all: $(BUILD)/concscope $(WORKLOAD_BINS) $(TEST_PROGS) $(UNIT_TESTS)

# ---- BPF side ----
$(BUILD)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)if [ ! -r "$(VMLINUX_BTF)" ]; then \
		echo "error: no kernel BTF at $(VMLINUX_BTF): concscope needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (or set VMLINUX_BTF=FILE)" >&2; exit 1; fi
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c bpf/concscope.h bpf/arch.h $(wildcard bpf/*.bpf.h) $(BUILD)/vmlinux.h $(BUILD)/pylayout.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp && mv $@.tmp $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# ---- generated syscall name table ----
$(BUILD)/syscalls.c: $(SYSCALL_HDR) tools/gen-syscalls.sh
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)sh tools/gen-syscalls.sh $< > $@.tmp && mv $@.tmp $@

# ---- where CPython keeps its GIL and its frames (from python3-dev's headers) ----
$(BUILD)/pylayout.h: tools/gen-pylayout.sh
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)sh tools/gen-pylayout.sh $(CC) $@

$(BUILD)/obj/python.o $(BUILD)/obj/pyframes.o: $(BUILD)/pylayout.h

# ---- user side ----
$(BUILD)/obj/%.o: user/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/syscalls.o: $(BUILD)/syscalls.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/tracer.o: $(BUILD)/concscope.skel.h

$(BUILD)/concscope: $(CORE_OBJS) $(PF_OBJS) $(APP_OBJS) $(CLI_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ $(LIBBPF_LIBS) -lpthread -lm -o $@.tmp && mv $@.tmp $@

# ---- workloads and test programs ----
# Never sanitized: they are what is measured, and a sanitizer's runtime adds
# threads and processes of its own (LeakSanitizer's exit-time checker).
$(BUILD)/cs-workload: $(wildcard workloads/cs-workload*.c workloads/wl-*.c workloads/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARN) -std=gnu11 -pthread $(filter %.c,$^) -lm -o $@.tmp && mv $@.tmp $@

$(BUILD)/cs-ioserver: workloads/cs-ioserver.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARN) -std=gnu11 $< -o $@.tmp && mv $@.tmp $@

# stackhot proves the unwinding from .eh_frame: no frame pointers
$(BUILD)/tests/progs/stackhot: CFLAGS += -fomit-frame-pointer

$(BUILD)/tests/progs/%: tests/progs/%.c tests/progs/snap.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -pthread $< -o $@.tmp && mv $@.tmp $@

# ---- unit tests: one cmocka binary per module ----
TEST_OBJS := $(BUILD)/obj/render.o $(BUILD)/obj/render_findings.o $(BUILD)/obj/jsonw.o \
	$(BUILD)/obj/render_groups.o $(BUILD)/obj/groups.o \
	$(BUILD)/obj/summary.o $(BUILD)/obj/view.o $(BUILD)/obj/models.o $(BUILD)/obj/findings.o \
	$(BUILD)/obj/findings_json.o $(BUILD)/obj/syscalls.o $(BUILD)/obj/stacks_out.o
$(BUILD)/tests/test_%: tests/unit/test_%.c $(CORE_OBJS) $(PF_OBJS) $(TEST_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -MT $@ $(ALL_LDFLAGS) $(filter %.c %.o,$^) $(CMOCKA_LIBS) $(TEST_LIBS_$(@F)) -lm -o $@.tmp && mv $@.tmp $@

# CLI modules are not in every test binary: each test that needs one says so.
$(BUILD)/tests/test_parse: $(BUILD)/obj/parse.o
$(BUILD)/tests/test_opts: $(BUILD)/obj/opts.o $(BUILD)/obj/parse.o
# the unwind rows, checked against elfutils' libdw on real files
$(BUILD)/tests/test_ehframe: $(BUILD)/obj/ehframe.o
TEST_LIBS_test_ehframe := $(or $(shell pkg-config --libs libdw 2>/dev/null),-ldw -lelf)
# the commands' --help against their parsers: every module but main(), and libbpf
$(BUILD)/tests/test_help: $(APP_OBJS) $(filter-out $(BUILD)/obj/main.o,$(CLI_OBJS))
TEST_LIBS_test_help := $(LIBBPF_LIBS)
$(BUILD)/tests/test_taskinfo: $(BUILD)/obj/taskinfo.o $(BUILD)/obj/procfs.o
$(BUILD)/tests/test_symbols: $(BUILD)/obj/symbols.o
# CPython's line tables, against the interpreter (/usr/bin/python3)
$(BUILD)/tests/test_pyframes: $(BUILD)/obj/pyframes.o
TEST_LIBS_test_symbols := -lelf -pthread
$(BUILD)/tests/test_critpath: $(BUILD)/obj/critpath_show.o

# test_ehframe reads the test program built without frame pointers, from CS_BUILD
test-unit: $(UNIT_TESTS) $(BUILD)/tests/progs/stackhot
	$(Q)fail=0; for t in $(UNIT_TESTS); do echo "== $$t"; CS_BUILD=$(abspath $(BUILD)) $$t || fail=1; done; exit $$fail

test-integration: all
	$(Q)CS_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q tests/integration

test: test-unit test-integration

# ---- fuzzing (libFuzzer, clang; runtime from libclang-rt-14-dev) ----
FUZZ_SECONDS ?= 30
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Ibpf -Iuser -I$(BUILD) \
	-fsanitize=fuzzer,address,undefined -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
FUZZ_TARGETS := $(BUILD)/fuzz/fuzz_report $(BUILD)/fuzz/fuzz_decode

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(CORE_SRCS) $(PF_SRCS) $(wildcard user/*.h) bpf/concscope.h bpf/arch.h
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(CORE_SRCS) $(PF_SRCS) -lm -o $@.tmp && mv $@.tmp $@

# Each target for FUZZ_SECONDS from its seed corpus (tests/fuzz/corpus/NAME);
# new inputs go to $(BUILD)/fuzz/corpus-NAME, crashes to $(BUILD)/fuzz/. An
# input that takes over 10 s is a hang, and fails the run like a crash.
fuzz: $(FUZZ_TARGETS)
	$(Q)for t in report decode; do \
		mkdir -p $(BUILD)/fuzz/corpus-$$t && \
		echo "== fuzz_$$t for $(FUZZ_SECONDS) s" && \
		$(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=65536 \
			-artifact_prefix=$(BUILD)/fuzz/ -print_final_stats=1 \
			$(BUILD)/fuzz/corpus-$$t tests/fuzz/corpus/$$t 2>&1 | \
			grep -E "^(stat::number_of_executed_runs|==[0-9]+==ERROR|SUMMARY|Done|ALARM)" ; \
		test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

demo: all
	$(BUILD)/concscope run --model=all

install: $(BUILD)/concscope $(WORKLOAD_BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/concscope \
		$(DESTDIR)$(PREFIX)/share/concscope $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 755 $(BUILD)/concscope $(DESTDIR)$(PREFIX)/bin/concscope
	install -m 755 $(WORKLOAD_BINS) $(DESTDIR)$(PREFIX)/libexec/concscope/
	install -m 644 workloads/python/cs_workload.py $(DESTDIR)$(PREFIX)/share/concscope/
	install -m 644 doc/concscope.1 $(DESTDIR)$(PREFIX)/share/man/man1/concscope.1
	install -m 644 tools/concscope.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/concscope

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/concscope $(DESTDIR)$(PREFIX)/share/man/man1/concscope.1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/concscope
	rm -rf $(DESTDIR)$(PREFIX)/libexec/concscope $(DESTDIR)$(PREFIX)/share/concscope

clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/tests/*.d)

# The benchmark suite: make bench (full), make bench-quick (CI), make bench-build.
include tools/bench/bench.mk
all: bench-build
