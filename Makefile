# tlshim - a TLS-offload NIC modelled in eBPF.  See README.md.
CLANG    ?= clang
BPFTOOL  ?= bpftool
CC       := gcc
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH:= $(shell $(CC) -print-multiarch 2>/dev/null)
BUILD    := build

# Debian 12 packages the build and the tests need (make deps installs them).
DEB_PKGS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config \
	    gcc make iproute2 util-linux nftables ethtool libssl-dev openssl tcpdump

# ... and the kTLS VM tests (make vmtest, part of make check): installed
# without recommends, they are only needed to boot one throwaway VM.
VM_PKGS  := qemu-system-x86 busybox-static

CFLAGS   ?= -O2 -g -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS   += -Iinclude -Iuser -I$(BUILD) $(shell pkg-config --cflags libbpf 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs libbpf libelf zlib 2>/dev/null || echo -lbpf -lelf -lz) -lpthread -lm
BPF_CFLAGS := -O2 -g -Wall -target bpf -D__TARGET_ARCH_$(ARCH) \
	-Iinclude -Ibpf -I/usr/include/$(MULTIARCH)

BPF_OBJ  := $(BUILD)/tlshim.bpf.o
SKEL     := $(BUILD)/tlshim.skel.h
BPF_SRCS := $(wildcard bpf/*.h bpf/*.c) include/tlshim.h
# The kTLS hooks: a separate object (tracing programs, loaded only by
# `tlshim run --ktls`), sharing the device's maps through their pins.
KTLS_OBJ := $(BUILD)/tlshim_ktls.bpf.o
KTLS_SKEL:= $(BUILD)/tlshim_ktls.skel.h
# user/tlshim.c holds main(); the rest is a library the tests link too.
USER_LIB := $(filter-out user/tlshim.c,$(wildcard user/*.c))
USER_HDRS:= $(wildcard user/*.h) include/tlshim.h include/tlshim_ktls.h $(SKEL) $(KTLS_SKEL)
UNIT_SRCS:= $(wildcard tests/unit/*.c)
UNIT_HDRS:= $(wildcard tests/unit/*.h)
TOOLS    := $(patsubst tools/%.c,$(BUILD)/%,$(wildcard tools/*.c))

.PHONY: all deps vmdeps demo check vmtest bench soak clean
all: $(BPF_OBJ) $(SKEL) $(KTLS_OBJ) $(KTLS_SKEL) tlshim $(BUILD)/unit_tests $(TOOLS)

# apt_install PACKAGES, APT_OPTIONS: install those not installed yet.
define apt_install
	@missing=""; for p in $(1); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) $$missing; \
	fi
endef

deps:
	$(call apt_install,$(DEB_PKGS),)

vmdeps:
	$(call apt_install,$(VM_PKGS),--no-install-recommends)

$(BUILD):
	mkdir -p $@

$(BPF_OBJ): $(BPF_SRCS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c bpf/tlshim.bpf.c -o $@

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name tlshim_bpf > $@

$(KTLS_OBJ): bpf/ktls.bpf.c bpf/ktls_types.h include/tlshim.h include/tlshim_ktls.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c bpf/ktls.bpf.c -o $@

$(KTLS_SKEL): $(KTLS_OBJ)
	$(BPFTOOL) gen skeleton $< name tlshim_ktls > $@

tlshim: user/tlshim.c $(USER_LIB) $(USER_HDRS)
	$(CC) $(CFLAGS) user/tlshim.c $(USER_LIB) -o $@ $(LDLIBS)

$(BUILD)/unit_tests: $(UNIT_SRCS) $(UNIT_HDRS) $(USER_LIB) $(USER_HDRS)
	$(CC) $(CFLAGS) -Itests/unit $(UNIT_SRCS) $(USER_LIB) -o $@ $(LDLIBS)

$(BUILD)/%: tools/%.c $(wildcard tools/*.h) include/tlshim.h $(SKEL) | $(BUILD)
	$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

# tools/ktlsssl is a real OpenSSL peer (kTLS through SSL_OP_ENABLE_KTLS)
$(BUILD)/ktlsssl: LDLIBS += -lssl -lcrypto

check: deps
	$(MAKE) vmdeps
	$(MAKE) all
	tests/run.sh

# The kTLS suite alone, in a VM with Debian's kernel (tools/vm/run.sh).
vmtest: deps
	$(MAKE) vmdeps
	$(MAKE) all
	tests/run.sh tests/vm/run.sh

demo: deps
	$(MAKE) all
	tools/demo.sh

# The randomized differential test at length: 10 million scenarios
# (about an hour or two here); make check runs 100,000 of them.
soak: deps
	$(MAKE) all
	build/unit_tests --soak 10000000

bench: deps
	$(MAKE) all
	tools/bench.sh

clean:
	rm -rf $(BUILD) tlshim

# make bench: the harness in bench/ (never run by make check).  Its BPF
# objects are built like the device's and load beside it, sharing its maps.
BENCH_BPF_OBJS := $(patsubst bench/%.bpf.c,$(BUILD)/bench_%.bpf.o,$(wildcard bench/*.bpf.c))
BENCH_SKELS    := $(BENCH_BPF_OBJS:.bpf.o=.skel.h)
BENCH_SRCS     := $(filter-out %.bpf.c,$(wildcard bench/*.c))
all: $(BUILD)/bench

$(BUILD)/bench_%.bpf.o: bench/%.bpf.c bench/bench.h $(BPF_SRCS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -Ibench -c $< -o $@

$(BUILD)/bench_%.skel.h: $(BUILD)/bench_%.bpf.o
	$(BPFTOOL) gen skeleton $< name bench_$*_bpf > $@

$(BUILD)/bench: $(BENCH_SRCS) $(wildcard bench/*.h) $(BENCH_SKELS) $(USER_LIB) $(USER_HDRS)
	$(CC) $(CFLAGS) -Ibench $(BENCH_SRCS) $(USER_LIB) -o $@ $(LDLIBS) -lm

# tlshim timeline's tests: xmllint checks the SVG, headless Chromium renders
# it.  Part of make deps; Chromium is big, so without recommends (the
# browser alone renders an SVG).
TIMELINE_PKGS := libxml2-utils chromium
.PHONY: timelinedeps
deps: timelinedeps
timelinedeps:
	$(call apt_install,$(TIMELINE_PKGS),--no-install-recommends)

# The loss injector (tools/tlsloss, bpf/tlsloss.bpf.c): its own object and
# skeleton; the tool links the user library (drop_spec.c, endpoints).
LOSS_OBJ  := $(BUILD)/tlsloss.bpf.o
LOSS_SKEL := $(BUILD)/tlsloss.skel.h
# `tlshim conn add --tcp-seq auto` reads sockets with an iter/tcp program.
SOCKSEQ_OBJ  := $(BUILD)/sockseq.bpf.o
SOCKSEQ_SKEL := $(BUILD)/sockseq.skel.h
all: $(LOSS_OBJ) $(LOSS_SKEL) $(SOCKSEQ_OBJ) $(SOCKSEQ_SKEL)

$(LOSS_OBJ): bpf/tlsloss.bpf.c include/tlsloss.h include/tlshim_drop.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c bpf/tlsloss.bpf.c -o $@

$(LOSS_SKEL): $(LOSS_OBJ)
	$(BPFTOOL) gen skeleton $< name tlsloss_bpf > $@.tmp && mv $@.tmp $@

$(SOCKSEQ_OBJ): bpf/sockseq.bpf.c bpf/sockseq_types.h include/tlshim_sockseq.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c bpf/sockseq.bpf.c -o $@

$(SOCKSEQ_SKEL): $(SOCKSEQ_OBJ)
	$(BPFTOOL) gen skeleton $< name sockseq_bpf > $@.tmp && mv $@.tmp $@

# Everything linking the user library (user/sockseq.c) needs its skeleton;
# the unit tests also embed the loss object.
tlshim $(BUILD)/unit_tests $(BUILD)/bench: $(SOCKSEQ_SKEL)
$(BUILD)/unit_tests: $(LOSS_SKEL)

$(BUILD)/tlsloss: tools/tlsloss.c $(LOSS_SKEL) $(SOCKSEQ_SKEL) $(USER_LIB) $(USER_HDRS) | $(BUILD)
	$(CC) $(CFLAGS) tools/tlsloss.c $(USER_LIB) -o $@ $(LDLIBS)

# tools/tlsgen: real TLS (OpenSSL) that installs itself into the device.
# Its helpers live in tools/tlsgen/ (out of the one-file TOOLS wildcard);
# it links the loader's library for device_install() and the pinned maps.
TLSGEN_SRCS := tools/tlsgen.c $(wildcard tools/tlsgen/*.c)
$(BUILD)/tlsgen: $(TLSGEN_SRCS) $(wildcard tools/tlsgen/*.h) tools/tcp_seq.h $(USER_LIB) $(USER_HDRS) $(SOCKSEQ_SKEL) | $(BUILD)
	$(CC) $(CFLAGS) -Itools -Itools/tlsgen $(TLSGEN_SRCS) $(USER_LIB) -o $@ $(LDLIBS) -lssl -lcrypto
