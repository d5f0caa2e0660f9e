# tools/bench/bench.mk: concscope's benchmark suite (issue #6), a fragment
# the top Makefile includes (after its variables, e.g. at its end):
#
#   include tools/bench/bench.mk
#
#   make bench          full run (~6-10 min, as root): table on stdout,
#                       JSON in $(BUILD)/bench/bench.json
#   make bench-quick    CI run (< 2 min): checks every row is produced, never
#                       fails on a target; ends with "N passed, 0 failed"
#   make bench-build    only build the benchmark programs
#   BENCH_ARGS='...'    more options for tools/bench/bench.py (see --help)
#
# Without the include: make -f Makefile -f tools/bench/bench.mk bench
#
# Uses the top Makefile's BUILD CC CLANG BPFTOOL PYTHON CFLAGS WARN SANFLAGS
# ALL_CFLAGS ALL_LDFLAGS BPF_CFLAGS LIBBPF_LIBS CORE_SRCS CORE_OBJS PF_SRCS Q msg, and
# its rules for $(BUILD)/vmlinux.h, $(BUILD)/concscope and $(BUILD)/obj/%.o.
# Everything is built under $(BUILD)/bench/.

BENCH_DIR := $(BUILD)/bench
BENCH_BINS := $(BENCH_DIR)/storm $(BENCH_DIR)/bare $(BENCH_DIR)/replay
BENCH_JSON ?= $(BENCH_DIR)/bench.json
BENCH_QUICK_JSON ?= $(BENCH_DIR)/bench-quick.json
BENCH_ARGS ?=
# The Perfetto writer (the top Makefile's PF_SRCS), while it is not part of the core objects.
BENCH_PF_SRCS := $(filter-out $(CORE_SRCS),$(wildcard $(PF_SRCS)))
BENCH_CFLAGS := $(filter-out -MMD -MP,$(ALL_CFLAGS))

.PHONY: bench bench-quick bench-build bench-clean

bench-build: $(BENCH_BINS) $(BENCH_DIR)/replay-pf

bench: bench-build $(BUILD)/concscope
	$(Q)$(PYTHON) tools/bench/bench.py --build $(BUILD) --json $(BENCH_JSON) $(BENCH_ARGS)

bench-quick: bench-build $(BUILD)/concscope
	$(Q)$(PYTHON) tools/bench/bench.py --quick --build $(BUILD) --json $(BENCH_QUICK_JSON) $(BENCH_ARGS)

bench-clean:
	rm -rf $(BENCH_DIR)

# The storm: no sanitizers, it is only timed.
$(BENCH_DIR)/storm: tools/bench/storm.c tools/bench/pin.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE $< -o $@.tmp && mv $@.tmp $@

# The bare reference recorder.
$(BENCH_DIR)/bare.bpf.o: tools/bench/bare.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp && mv $@.tmp $@

$(BENCH_DIR)/bare.skel.h: $(BENCH_DIR)/bare.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name bare_bpf > $@.tmp && mv $@.tmp $@

$(BENCH_DIR)/bare: tools/bench/bare.c $(BENCH_DIR)/bare.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) -I$(BENCH_DIR) $(ALL_LDFLAGS) $< $(LIBBPF_LIBS) -o $@.tmp && mv $@.tmp $@

# User-side throughput: the core alone ...
$(BENCH_DIR)/replay: tools/bench/replay.c tools/bench/pin.h $(CORE_OBJS) $(wildcard user/*.h) bpf/concscope.h bpf/arch.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BENCH_CFLAGS) $(ALL_LDFLAGS) $< $(CORE_OBJS) -lm -o $@.tmp && mv $@.tmp $@

# ... and with the Perfetto writer (user/pftrace.h). This rule never fails the
# build: if the writer does not compile here the file is absent, the reason is
# in replay-pf.log, and bench.py says "n/a" in its rows.
$(BENCH_DIR)/replay-pf: tools/bench/replay.c tools/bench/pin.h $(CORE_OBJS) $(BENCH_PF_SRCS) $(wildcard user/*.h) bpf/concscope.h bpf/arch.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@ $@.log; \
	if [ -z "$(wildcard user/pftrace.h)" ]; then \
		echo "user/pftrace.h does not exist" > $@.log; \
	elif $(CC) $(BENCH_CFLAGS) -DCS_BENCH_PFTRACE $(ALL_LDFLAGS) $< $(BENCH_PF_SRCS) $(CORE_OBJS) -lm \
		-o $@.tmp > $@.log 2>&1; then mv $@.tmp $@; rm -f $@.log; \
	else rm -f $@.tmp; echo "  (bench: the Perfetto writer does not build, see $@.log; its rows will say n/a)"; fi

-include $(wildcard $(BENCH_DIR)/*.d)
