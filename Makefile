# SPDX-License-Identifier: GPL-2.0
#
# xtcp: build the module, the selftests, and run them in a VM.
# The kernel objects are listed in Kbuild; this file only drives kbuild.
#
#   make [modules]   build ./xtcp.ko (W=1, C=1, C=2 pass through to kbuild)
#   make selftests   build selftests/*.c into build/selftests/
#   make tools       build tools/*.c (xtcp-connect, benchmarks, the preload
#                    library libxtcp-preload.so) into build/tools/
#   make check       install what is missing, build, run all tests in a VM
#   make packetdrill build packetdrill from ../shared/third_party into build/
#   make conformance packetdrill's TCP scripts, Linux's TCP and xtcp, in a VM
#   make demo        install what is missing, build, show xtcp in a VM
#   make lint        checkpatch --strict and sparse; fails on any finding
#   make clean       kbuild clean and rm -rf build/

SHELL := /bin/bash

# Newest kernel in /boot, evaluated when used (scripts/setup may install it).
KVER ?= $(shell find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' 2>/dev/null | \
	sed 's/^vmlinuz-//' | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KVER)/build

LINUX_SRC := /usr/src/linux-source-6.1.tar.xz
KSFT_DIR := build/linux
KSFT_FILES := tools/testing/selftests/kselftest_harness.h \
	      tools/testing/selftests/kselftest.h \
	      scripts/checkpatch.pl \
	      scripts/spelling.txt \
	      scripts/const_structs.checkpatch
KSFT := $(addprefix $(KSFT_DIR)/,$(KSFT_FILES))

CHECKPATCH := $(KSFT_DIR)/scripts/checkpatch.pl --strict --no-tree --terse \
	--show-types -f
# TRACE_EVENT()'s layout, as in include/trace/events/*.h, which these
# rules were not written for.
CHECKPATCH_TRACE_IGNORE := --ignore OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT \
	--ignore COMPLEX_MACRO,MACRO_ARG_REUSE,SPACING
# Kernel-only rules that do not fit userspace test programs.
CHECKPATCH_USER_IGNORE := --ignore AVOID_EXTERNS,NEW_TYPEDEFS,PREFER_KERNEL_TYPES \
	--ignore SPLIT_STRING,VOLATILE,COMPLEX_MACRO,MACRO_ARG_UNUSED \
	--ignore PREFER_DEFINED_ATTRIBUTE_MACRO,SSCANF_TO_KSTRTO,STRCPY,STRLCPY

# checkpatch takes "FIXTURE_DATA(x) *self" for a multiplication: drop that
# SPACING finding on lines with the harness's type macros, print the rest
# (without the per-file totals) and fail if any is left.
LINT_TESTS_AWK := / (ERROR|WARNING|CHECK):/ { \
	if ($$4 == "SPACING") { \
		cmd = "sed -n " $$2 "p " $$1; src = ""; cmd | getline src; close(cmd); \
		if (src ~ /FIXTURE_(DATA|VARIANT)\(/) next; \
	} \
	print; n++ } END { exit n > 0 }

VM_RUN := scripts/vm-run

# packetdrill, built from the shared snapshot (never part of this tree).
PACKETDRILL_SRC := ../shared/third_party/packetdrill
PACKETDRILL_DIR := build/packetdrill
PACKETDRILL_BIN := gtests/net/packetdrill/packetdrill

.PHONY: all modules selftests tools ksft check demo bench lint clean help setup
.PHONY: packetdrill conformance

all: modules

modules:
	@test -d "$(KDIR)" || { echo "no kernel build tree at $(KDIR): run scripts/setup" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

ksft: $(KSFT)

# Only what the tests and lint need, taken from Debian's linux-source-6.1.
$(KSFT) &:
	@test -r $(LINUX_SRC) || { echo "$(LINUX_SRC) missing: run scripts/setup" >&2; exit 1; }
	mkdir -p $(KSFT_DIR)
	tar -xJf $(LINUX_SRC) -C $(KSFT_DIR) --strip-components=1 --no-wildcards \
		$(addprefix linux-source-6.1/,$(KSFT_FILES))
	touch $(KSFT)

selftests: ksft
	$(MAKE) --no-print-directory -f selftests/Makefile

tools:
	$(MAKE) --no-print-directory -f tools/Makefile

setup:
	scripts/setup

packetdrill: $(PACKETDRILL_DIR)/$(PACKETDRILL_BIN)

# Copy, patch and build in a temporary directory, then move it in place:
# cached, rebuilt only when the binary is missing. Two fixes to the copy:
# the snapshot stores tcp/common/defaults.sh, a symlink upstream, as a
# text file naming its target; and this packetdrill asserts that
# TCP_INFO returns its own struct _tcp_info (Linux 6.16+), longer than
# 6.1's. The buffer is zero-filled, so accepting any length is safe.
$(PACKETDRILL_DIR)/$(PACKETDRILL_BIN):
	@test -d $(PACKETDRILL_SRC)/gtests/net/packetdrill || \
		{ echo "$(PACKETDRILL_SRC) missing: packetdrill's snapshot" >&2; exit 1; }
	rm -rf $(PACKETDRILL_DIR) $(PACKETDRILL_DIR).tmp
	mkdir -p build
	cp -r $(PACKETDRILL_SRC) $(PACKETDRILL_DIR).tmp
	chmod -R u+w $(PACKETDRILL_DIR).tmp
	ln -sf ../../common/defaults.sh $(PACKETDRILL_DIR).tmp/gtests/net/tcp/common/defaults.sh
	sed -i 's/assert(len >= sizeof(struct _tcp_info));/assert(len > 0);/' \
		$(PACKETDRILL_DIR).tmp/gtests/net/packetdrill/code.c
	! grep -q 'len >= sizeof(struct _tcp_info)' $(PACKETDRILL_DIR).tmp/gtests/net/packetdrill/code.c
	cd $(PACKETDRILL_DIR).tmp/gtests/net/packetdrill && ./configure && \
		$(MAKE) --no-print-directory packetdrill
	mv $(PACKETDRILL_DIR).tmp $(PACKETDRILL_DIR)

# The last line printed is "N passed, N failed" even when the VM itself
# failed (make's own "Error" line may follow it on stderr).
check: setup
	@$(MAKE) --no-print-directory modules selftests tools packetdrill || \
		{ echo "0 passed, 1 failed"; exit 1; }
	@mkdir -p build; set -o pipefail; \
	$(VM_RUN) -- selftests/run_tests.sh 2>&1 | tee build/check.log; rc=$$?; \
	last=$$(grep -E '^[0-9]+ passed, [0-9]+ failed' build/check.log | tail -n 1); \
	if [ -z "$$last" ]; then \
		echo "0 passed, 1 failed"; \
	elif [ "$$rc" != 0 ] && [[ "$$last" == *", 0 failed"* ]]; then \
		echo "$${last/, 0 failed/, 1 failed}"; \
	elif [ "$$(tail -n 1 build/check.log)" != "$$last" ]; then \
		echo "$$last"; \
	fi; \
	exit $$rc

demo: setup
	@$(MAKE) --no-print-directory modules tools
	$(VM_RUN) -- scripts/demo

# Every IPv4 script of packetdrill's gtests/net/tcp, Linux's TCP then xtcp,
# in one VM; logs in build/conformance/. The last line is
# "RESULT conformance linux=N xtcp=N total=N".
conformance: setup
	@$(MAKE) --no-print-directory modules tools packetdrill
	@mkdir -p build/conformance; set -o pipefail; \
	$(VM_RUN) --timeout 14400 -- scripts/conformance 2>&1 | tee build/conformance/run.log

# Every mode of xtcp-bench, Linux's TCP and xtcp, in one VM boot.
bench: setup
	@$(MAKE) --no-print-directory modules tools
	$(VM_RUN) -- scripts/bench

lint: ksft
	@rc=0; \
	$(CHECKPATCH) $(filter-out %_trace.h,$(wildcard mod/*.[ch])) \
		include/uapi/linux/*.h || rc=1; \
	$(CHECKPATCH) $(CHECKPATCH_TRACE_IGNORE) mod/*_trace.h || rc=1; \
	if ls selftests/*.c >/dev/null 2>&1; then \
		$(CHECKPATCH) $(CHECKPATCH_USER_IGNORE) selftests/*.[ch] | \
			awk -F: '$(LINT_TESTS_AWK)' || rc=1; \
	fi; \
	echo "sparse (C=2):"; \
	$(MAKE) -C $(KDIR) M=$(CURDIR) C=2 modules > build/sparse.log 2>&1 || { cat build/sparse.log; rc=1; }; \
	if grep -E '^($(CURDIR)/)?(mod|include)/[^:]*:[0-9]+(:[0-9]+)?: (warning|error):' \
		build/sparse.log; then rc=1; fi; \
	if [ $$rc = 0 ]; then echo "lint: clean"; else echo "lint: findings above"; fi; \
	exit $$rc

clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	rm -rf build

help:
	@sed -n '3,15s/^# \{0,1\}//p' Makefile
