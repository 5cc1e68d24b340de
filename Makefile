# SPDX-License-Identifier: GPL-2.0
#
# xtcp: build the module, the selftests, and run them in a VM.
# The kernel objects are listed in Kbuild; this file only drives kbuild.
#
#   make [modules]   build ./xtcp.ko (W=1, C=1, C=2 pass through to kbuild)
#   make selftests   build selftests/*.c into build/selftests/
#   make tools       build tools/*.c (xtcp-connect, benchmarks, the preload
#                    library libxtcp-preload.so) into build/tools/
#   make check       install what is missing, build, run the host tests
#                    (packaging), then all the others in a VM
#   make host-tests  selftests/host/*.sh only (into build/host-tests/)
#   make packetdrill build packetdrill from ../shared/third_party into build/
#   make conformance packetdrill's TCP scripts, Linux's TCP and xtcp, in a VM
#   make demo        install what is missing, build, show xtcp in a VM
#   make lint        checkpatch --strict and sparse; fails on any finding
#   make install     build, then install xtcp.ko into /lib/modules/KVER/extra
#                    (and depmod), the header, tools, preload library and
#                    man page under PREFIX (/usr/local); DESTDIR= honoured
#   make uninstall   remove what make install put there (and depmod)
#   make dkms-check  dkms build of a copy of the sources for KVER, in
#                    temporary trees under build/ (not /var/lib/dkms)
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
.PHONY: packetdrill conformance install uninstall dkms-check host-tests

# make install: where things go. DESTDIR is prepended to every path (a
# staging tree for a package); depmod then runs only without it.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
INCLUDEDIR ?= $(PREFIX)/include
XTCP_LIBDIR ?= $(PREFIX)/lib/xtcp
MAN7DIR ?= $(PREFIX)/share/man/man7
MODDIR = $(DESTDIR)/lib/modules/$(KVER)/extra

# The programs installed: every tools/*.c but the lib*.c preload
# libraries (installed into XTCP_LIBDIR), less TOOLS_NOINSTALL; a program
# without a C source can be added to TOOLS_EXTRA (built into build/tools/).
TOOLS_NOINSTALL ?=
TOOLS_EXTRA ?=
TOOLS_INSTALL = $(filter-out $(TOOLS_NOINSTALL),$(sort $(TOOLS_EXTRA) \
	$(patsubst tools/%.c,%,$(filter-out tools/lib%.c,$(wildcard tools/*.c)))))
TOOLS_LIBS = $(patsubst tools/%.c,%.so,$(wildcard tools/lib*.c))
MAN7_PAGES := Documentation/xtcp.7

# Debian's headers ask modules_install to sign (CONFIG_MODULE_SIG_ALL)
# with a key they do not ship, and sign-file's failure is only noise:
# sign when the configured key is there, else skip the step.
SIG_KEY = $(shell sed -n 's/^CONFIG_MODULE_SIG_KEY="\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' \
	$(KDIR)/include/config/auto.conf 2>/dev/null)
MODINST_SIGN = $(if $(filter pkcs11:%,$(SIG_KEY))$(wildcard $(KDIR)/$(SIG_KEY)),,CONFIG_MODULE_SIG_ALL=)

# make dkms-check: what "dkms build" makes of the sources a user copies.
DKMS_FILES := Kbuild dkms.conf include
DKMS_TMP := build/dkms-check

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

# Host-side tests (selftests/host/*.sh: packaging), before the VM: each
# one's TAP output and exit status go to build/host-tests/NAME.{log,rc},
# which run_tests.sh in the VM counts with its own (XTCP_HOST_RESULTS).
HOST_RESULTS := build/host-tests

host-tests:
	@rm -rf $(HOST_RESULTS); mkdir -p $(HOST_RESULTS); \
	for t in selftests/host/*.sh; do \
		[ -f "$$t" ] || continue; n=$${t##*/}; \
		echo "host: $$t (log in $(HOST_RESULTS)/$$n.log)"; \
		KVER=$(KVER) timeout -k 10 1200 bash "$$t" </dev/null \
			>$(HOST_RESULTS)/$$n.log 2>&1; \
		echo $$? >$(HOST_RESULTS)/$$n.rc; \
		grep -E '^not ok ' $(HOST_RESULTS)/$$n.log || true; \
	done

# The last line printed is "N passed, N failed" even when the VM itself
# failed (make's own "Error" line may follow it on stderr). It counts the
# host tests' results too.
check: setup
	@$(MAKE) --no-print-directory modules selftests tools packetdrill || \
		{ echo "0 passed, 1 failed"; exit 1; }
	@$(MAKE) --no-print-directory host-tests
	@mkdir -p build; set -o pipefail; \
	XTCP_HOST_RESULTS=$(CURDIR)/$(HOST_RESULTS) \
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

# kbuild's own depmod step needs a System.map, which kernel headers do
# not have: it is skipped (its warning dropped) and depmod runs here.
install: modules tools
	@set -eo pipefail; \
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=extra $(MODINST_SIGN) modules_install 2>&1 | \
		{ grep -v "missing 'System.map' file" || true; }
	install -d $(DESTDIR)$(INCLUDEDIR)/linux $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(XTCP_LIBDIR) $(DESTDIR)$(MAN7DIR)
	install -m 0644 include/uapi/linux/xtcp.h $(DESTDIR)$(INCLUDEDIR)/linux/xtcp.h
	install -m 0755 $(addprefix build/tools/,$(TOOLS_INSTALL)) $(DESTDIR)$(BINDIR)/
	install -m 0755 $(addprefix build/tools/,$(TOOLS_LIBS)) $(DESTDIR)$(XTCP_LIBDIR)/
	install -m 0644 $(MAN7_PAGES) $(DESTDIR)$(MAN7DIR)/
	@if [ -z "$(DESTDIR)" ]; then \
		echo "depmod -a $(KVER)"; depmod -a $(KVER); \
	else \
		echo "DESTDIR set: depmod not run (depmod -b DESTDIR -a $(KVER) would)"; \
	fi

uninstall:
	rm -f $(MODDIR)/xtcp.ko $(addprefix $(MODDIR)/xtcp.ko,.gz .xz .zst)
	-rmdir --ignore-fail-on-non-empty $(MODDIR)
	rm -f $(DESTDIR)$(INCLUDEDIR)/linux/xtcp.h
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(TOOLS_INSTALL))
	rm -f $(addprefix $(DESTDIR)$(XTCP_LIBDIR)/,$(TOOLS_LIBS))
	-rmdir --ignore-fail-on-non-empty $(DESTDIR)$(XTCP_LIBDIR)
	rm -f $(addprefix $(DESTDIR)$(MAN7DIR)/,$(notdir $(MAN7_PAGES)))
	@if [ -z "$(DESTDIR)" ]; then \
		echo "depmod -a $(KVER)"; depmod -a $(KVER); \
	fi

# As a user would: a copy of the module sources (Kbuild, dkms.conf,
# mod/*.[ch], include/; no objects, not build/), then
# "dkms build" for KVER with every dkms tree under build/dkms-check/ (the
# MOK signing key too, which dkms would otherwise create in
# /var/lib/dkms), and the module checked with modinfo.
dkms-check:
	@command -v dkms >/dev/null || { echo "dkms missing: run scripts/setup" >&2; exit 1; }
	@test -d "$(KDIR)" || { echo "no kernel build tree at $(KDIR): run scripts/setup" >&2; exit 1; }
	@set -e; t=$(CURDIR)/$(DKMS_TMP); rm -rf "$$t"; \
	trap 'rm -rf "$$t"' EXIT; \
	ver=$$(sed -n 's/^PACKAGE_VERSION="\([^"]*\)".*/\1/p' dkms.conf); \
	mkdir -p "$$t/src/xtcp-$$ver" "$$t/dkms" "$$t/usrsrc" "$$t/modules"; \
	mkdir "$$t/src/xtcp-$$ver/mod"; \
	cp -r $(DKMS_FILES) "$$t/src/xtcp-$$ver/"; \
	cp mod/*.[ch] "$$t/src/xtcp-$$ver/mod/"; \
	echo "dkms build xtcp/$$ver -k $(KVER) (trees in $(DKMS_TMP))"; \
	if ! mok_signing_key="$$t/mok.key" mok_certificate="$$t/mok.pub" \
		dkms build "$$t/src/xtcp-$$ver" -k $(KVER) --kernelsourcedir $(KDIR) \
		--dkmstree "$$t/dkms" --sourcetree "$$t/usrsrc" \
		--installtree "$$t/modules" >"$$t/dkms.log" 2>&1; then \
		cat "$$t/dkms.log"; \
		find "$$t/dkms" -name make.log -exec cat {} +; \
		echo "dkms-check: dkms build failed" >&2; exit 1; \
	fi; \
	ko=$$(find "$$t/dkms/xtcp/$$ver/$(KVER)" -name 'xtcp.ko*' | head -n 1); \
	[ -n "$$ko" ] || { cat "$$t/dkms.log"; echo "dkms-check: no xtcp.ko in the dkms tree" >&2; exit 1; }; \
	magic=$$(modinfo -F vermagic "$$ko" | cut -d' ' -f1); \
	mver=$$(modinfo -F version "$$ko"); \
	echo "$${ko#$(CURDIR)/}: vermagic $$magic, version $$mver"; \
	[ "$$magic" = "$(KVER)" ] || { echo "dkms-check: vermagic $$magic, want $(KVER)" >&2; exit 1; }; \
	[ "$$mver" = "$$ver" ] || { echo "dkms-check: version $$mver, want $$ver" >&2; exit 1; }; \
	echo "dkms-check: ok"

clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	rm -rf build

help:
	@sed -n '3,23s/^# \{0,1\}//p' Makefile
