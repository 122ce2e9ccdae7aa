# opsgraph: one Makefile, no autotools. `make` builds bin/opsgraph.
#   make test [SAN=1]   install deps, build, run every test; last line "N passed, N failed"
#   make demo           install deps, build, run the demo incident end to end
#   make bench          benchmarks (print figures; never assert timings)
#   make bench-serve    opsgraph serve under wrk and 1,000 SSE subscribers (figures only)
#   make bench-dryrun   dry-run wall time with and without the eBPF trace, the trace's syscall cost (root; figures only)
#   make fuzz           libFuzzer targets of fuzz/, FUZZ_SECONDS (60) each; make test runs them 5 s
#   make clean
# SAN=1 builds with ASan+UBSan into its own tree so objects never mix.

# O=DIR builds into DIR (binary in DIR/bin) so several builds can run side by side.
SAN ?= 0
ifeq ($(SAN),1)
  BUILD := build/san
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  BIN := $(BUILD)/bin
else
  BUILD := build/rel
  BIN := bin
endif
ifneq ($(O),)
  BUILD := $(O)
  BIN := $(O)/bin
endif

CC ?= cc
# `make V=1` shows the full commands; by default one short line per file.
ifeq ($(V),1)
  Q :=
  say = @true
else
  Q := @
  say = @echo "  $(1) $(2)"
endif
# jemalloc: cJSON and Lua allocate many small blocks per step; glibc's malloc
# cost a quarter of the checkpoint path's time (bench/, S1). Sanitizer builds
# keep the sanitizer's own allocator.
ifneq ($(findstring -fsanitize,$(SANFLAGS) $(OPT) $(LDFLAGS)),)
  ALLOC_PKG :=
else
  ALLOC_PKG := jemalloc
endif
PKGS := lua5.4 libcjson lmdb libcurl libevent libevent_pthreads libcrypto libbpf $(ALLOC_PKG)
OPT ?= -O2 -g
CFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-missing-field-initializers $(SANFLAGS)
LDFLAGS += $(SANFLAGS)

# Without pkg-config data the flags below would be empty and the errors cryptic.
ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
  MISSING := $(strip $(foreach p,$(PKGS),$(if $(shell pkg-config --exists $(p) && echo y),,$(p))))
  ifneq ($(MISSING),)
    $(error missing pkg-config packages: $(MISSING); run scripts/install-deps.sh (or make test / make demo, which run it))
  endif
  PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
  PKG_LIBS := $(shell pkg-config --libs $(PKGS))
endif
CFLAGS += $(PKG_CFLAGS)
LDLIBS := $(PKG_LIBS) -lm -lpthread

# eBPF programs (bpf/NAME.bpf.c, CO-RE): clang -target bpf against a vmlinux.h
# dumped from the running kernel's BTF, then `bpftool gen skeleton` writes
# $(BUILD)/bpf/NAME.skel.h, which engine C files include as "NAME.skel.h"
# (-I$(BUILD)/bpf). The skeleton embeds the object, so the binary needs no
# file at run time. BPF=0 (automatic when the build host has no
# /sys/kernel/btf/vmlinux) builds without them and defines OG_NO_BPF: the
# code that loads programs must then report "built without eBPF" and go on.
BTF_VMLINUX ?= /sys/kernel/btf/vmlinux
BPF ?= $(if $(wildcard $(BTF_VMLINUX)),1,0)
BPF_CLANG ?= clang
BPF_SRCS := $(wildcard bpf/*.bpf.c)
ifeq ($(BPF),1)
  BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.skel.h,$(BPF_SRCS)) $(BUILD)/bpf/impact.minbtf.h
else
  BPF_SKELS :=
  CFLAGS += -DOG_NO_BPF
endif
CFLAGS += -I$(BUILD)/bpf

# cli/ and server/ are the composition roots (layer 3): in the binary, not the library.
LIB_SRCS := $(filter-out engine/cli/% engine/server/%,$(wildcard engine/*/*.c))
CLI_SRCS := $(wildcard engine/cli/*.c engine/server/*.c)
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
CLI_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CLI_SRCS))
LIB := $(BUILD)/libopsgraph.a
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all deps test unit demo bench clean crash-test fuzz bench-serve bench-dryrun
all: $(BIN)/opsgraph

deps:
	@scripts/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# The Lua prelude is embedded in the binary so a node never needs a file path to it.
$(BUILD)/engine/lua/prelude.inc: engine/lua/prelude.lua
	@mkdir -p $(@D)
	$(Q)xxd -i < $< > $@.tmp && echo ', 0x00' >> $@.tmp && mv $@.tmp $@
$(BUILD)/engine/lua/lvm.o: $(BUILD)/engine/lua/prelude.inc
$(BUILD)/engine/lua/lvm.o: CFLAGS += -I$(BUILD)/engine/lua

$(BUILD)/bpf/vmlinux.h: $(BTF_VMLINUX)
	@mkdir -p $(@D)
	$(call say,BTF,$@)
	$(Q)bpftool btf dump file $< format c > $@.tmp && mv $@.tmp $@

# no sanitizer or host flags here: the BPF verifier gets plain -O2 code
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/bpf/vmlinux.h $(wildcard bpf/*.h)
	$(call say,BPF,$<)
	$(Q)$(BPF_CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
		-I$(BUILD)/bpf -Ibpf -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call say,SKEL,$@)
	$(Q)bpftool gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# The types impact.bpf.c's CO-RE reads use, cut from the build host's kernel
# BTF, with what identifies that kernel (engine/trace/impact_btf.h: a cold
# load on the same kernel skips parsing its whole BTF).
KERNEL_NOTES ?= /sys/kernel/notes
$(BUILD)/bpf/%.minbtf.h: $(BUILD)/bpf/%.bpf.o $(BTF_VMLINUX)
	$(call say,MINBTF,$@)
	$(Q)bpftool gen min_core_btf $(BTF_VMLINUX) $(BUILD)/bpf/$*.min.btf $< && { \
		echo '/* generated by the Makefile from $(BTF_VMLINUX) and $(KERNEL_NOTES) */'; \
		echo 'static const unsigned char $*_min_btf[] = {'; xxd -i < $(BUILD)/bpf/$*.min.btf; echo '};'; \
		echo 'static const unsigned char $*_btf_notes[] = {'; \
		if [ -r $(KERNEL_NOTES) ]; then xxd -i < $(KERNEL_NOTES); else echo 0; fi; echo '};'; \
		echo "static const unsigned int $*_btf_notes_len = $$(cat $(KERNEL_NOTES) 2>/dev/null | wc -c);"; \
		echo "static const unsigned long long $*_btf_vmlinux_size = $$(stat -c %s $(BTF_VMLINUX))ULL;"; \
	} > $@.tmp && mv $@.tmp $@

# objects may include a skeleton; -MMD records which once built
$(LIB_OBJS) $(CLI_OBJS) $(UNIT_BINS): | $(BPF_SKELS)

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(BIN)/opsgraph: $(CLI_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB) tests/test.h
	@mkdir -p $(@D)
	$(call say,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Iengine -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

unit: $(UNIT_BINS) $(BIN)/opsgraph

test: deps
	@scripts/install-browser-tools.sh || echo "make test: browser tools not installed; tests/cli/ui_browser.sh will be skipped"
	@$(MAKE) --no-print-directory unit
	@BUILD=$(BUILD) BIN=$(BIN) SAN=$(SAN) tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@BIN=$(BIN) scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@BIN=$(BIN) bench/run.sh

# libFuzzer targets of fuzz/ (clang, ASan+UBSan) in build/fuzz, FUZZ_SECONDS each (60 by default)
fuzz:
	@FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) fuzz/run.sh

# bench/serve.sh: wrk on a thread GET and /metrics, 1,000 SSE subscribers to one thread
bench-serve: deps
	@$(MAKE) --no-print-directory all
	@BIN=$(BIN) bench/serve.sh

# bench/dryrun.sh: dry-runs of /bin/true with and without --trace; a syscall loop traced and not
bench-dryrun:
	@$(MAKE) --no-print-directory all
	@BIN=$(BIN) bench/dryrun.sh

clean:
	rm -rf build bin

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)
.DELETE_ON_ERROR:
.SECONDARY:

# Crash consistency under 1000 SIGKILLs (make test runs 50); prints the counts.
crash-test: deps
	@$(MAKE) --no-print-directory $(BUILD)/tests/test_crash $(BIN)/opsgraph
	@OPSGRAPH=$(CURDIR)/$(BIN)/opsgraph OG_CRASH_KILLS=$${OG_CRASH_KILLS:-1000} $(BUILD)/tests/test_crash
