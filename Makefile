# tlshim - a TLS-offload NIC modelled in eBPF.  See README.md.
CLANG    ?= clang
BPFTOOL  ?= bpftool
CC       ?= gcc
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH:= $(shell $(CC) -print-multiarch 2>/dev/null)
BUILD    := build

CFLAGS   ?= -O2 -g -Wall -Wextra -Wno-unused-parameter
CFLAGS   += -Iinclude -I$(BUILD) $(shell pkg-config --cflags libbpf 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs libbpf libelf zlib 2>/dev/null || echo -lbpf -lelf -lz) -lpthread
BPF_CFLAGS := -O2 -g -Wall -target bpf -D__TARGET_ARCH_$(ARCH) \
	-Iinclude -Ibpf -I/usr/include/$(MULTIARCH)

BPF_OBJ  := $(BUILD)/tlshim.bpf.o
SKEL     := $(BUILD)/tlshim.skel.h
BPF_SRCS := $(wildcard bpf/*.h bpf/*.c) include/tlshim.h
USER_SRCS:= $(wildcard user/*.c)
USER_HDRS:= $(wildcard user/*.h) include/tlshim.h $(SKEL)

.PHONY: all deps demo check bench clean
all: $(BPF_OBJ) $(SKEL) tlshim

$(BUILD):
	mkdir -p $@

$(BPF_OBJ): $(BPF_SRCS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c bpf/tlshim.bpf.c -o $@

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name tlshim_bpf > $@

tlshim: $(USER_SRCS) $(USER_HDRS)
	$(CC) $(CFLAGS) $(USER_SRCS) -o $@ $(LDLIBS)

clean:
	rm -rf $(BUILD) tlshim
