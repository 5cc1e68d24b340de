#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Packaging, on the host (it loads nothing): the man page lints clean and
# names every sysctl, counter and tracepoint; the module's version is
# dkms.conf's; "make dkms-check" (dkms build of a copy of the sources, in
# temporary trees); "make install DESTDIR=<tmp>" puts every file in place,
# modprobe finds the module there after depmod -b, the header compiles;
# "make uninstall DESTDIR=<tmp>" leaves no file behind.
#
# Prints TAP. make check runs every selftests/host/*.sh before the VM and
# run_tests.sh (XTCP_HOST_RESULTS) counts their results with the VM's.
# Needs the module and the tools built (make, make tools).

set -u

TOP=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd -P)
cd "$TOP" || exit 1
# shellcheck source=selftests/_lib.sh
. "$TOP/selftests/_lib.sh"

MAN=Documentation/xtcp.7
# As the Makefile's default: the newest kernel in /boot.
KVER=${KVER:-$(find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' 2>/dev/null |
	sed 's/^vmlinuz-//' | sort -V | tail -n 1)}
PREFIX=/usr/local
TMP=
DEST=

cleanup() {
	[ -z "$TMP" ] || rm -rf "$TMP"
}

# Run test function $2 as test case $1: ok if it returns 0, else not ok
# with what it printed.
run_case() {
	local name=$1 rc
	shift
	"$@" >"$TMP/case.out" 2>&1 </dev/null
	rc=$?
	if [ "$rc" = 0 ]; then
		[ ! -s "$TMP/case.out" ] || ktap_diag "$(cat "$TMP/case.out")"
		ktap_ok "$name"
	elif [ "$rc" = 4 ]; then
		ktap_skip "$name" "$(tail -n 1 "$TMP/case.out")"
	else
		ktap_fail "$name" "$(tail -n 60 "$TMP/case.out")"
	fi
}

# The installed files, relative to DESTDIR: what make install must put.
expected_files() {
	local f
	echo "lib/modules/$KVER/extra/xtcp.ko"
	echo "${PREFIX#/}/include/linux/xtcp.h"
	for f in tools/*.c; do
		f=${f##*/}
		case "$f" in
		lib*) echo "${PREFIX#/}/lib/xtcp/${f%.c}.so" ;;
		*) echo "${PREFIX#/}/bin/${f%.c}" ;;
		esac
	done
	echo "${PREFIX#/}/share/man/man7/xtcp.7"
}

# --- test cases -------------------------------------------------------------

t_man_groff() {
	local out
	command -v groff >/dev/null || { echo "groff missing (scripts/setup)"; return 1; }
	out=$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$MAN" 2>&1) || { echo "$out"; return 1; }
	[ -z "$out" ] || { echo "$out"; return 1; }
}

t_man_mandoc() {
	local out
	command -v mandoc >/dev/null || { echo "mandoc not installed"; return 4; }
	out=$(mandoc -Tlint -W warning "$MAN" 2>&1) || { echo "$out"; return 1; }
	[ -z "$out" ] || { echo "$out"; return 1; }
}

t_man_whatis() {
	local out
	command -v lexgrog >/dev/null || { echo "lexgrog not installed"; return 4; }
	out=$(lexgrog "$MAN") || { echo "$out"; return 1; }
	[[ "$out" == *'"xtcp - '* ]] || { echo "lexgrog: $out"; return 1; }
}

# Each sysctl of mod/xtcp_sysctl.c, each counter of mod/xtcp_mib.c and
# each TRACE_EVENT of mod/xtcp_trace.h has its entry in the man page.
t_man_complete() {
	local n rc=0 count=0
	for n in $(grep -oE '(\.procname\s*=|t->procname =) "[a-z0-9_]+"' mod/xtcp_sysctl.c |
			cut -d'"' -f2) \
		 $(grep -oE 'XTCP_KNOB\(XTCP_KNOB_[A-Z0-9_]+, "[a-z0-9_]+"' mod/xtcp_sysctl.c |
			cut -d'"' -f2); do
		count=$((count + 1))
		grep -qE "^\\.IR $n \"" "$MAN" || { echo "sysctl $n: no entry"; rc=1; }
	done
	[ "$count" -ge 20 ] || { echo "found only $count sysctls in mod/xtcp_sysctl.c"; rc=1; }
	for n in $(grep -oE 'SNMP_MIB_ITEM\("[A-Za-z0-9]+"' mod/xtcp_mib.c | cut -d'"' -f2); do
		count=$((count + 1))
		grep -qE "^\\.BR? (.* )?$n( |\$)" "$MAN" || { echo "counter $n: no entry"; rc=1; }
	done
	for n in $(grep -oE '^TRACE_EVENT\([a-z0-9_]+' mod/xtcp_trace.h | cut -d'(' -f2); do
		count=$((count + 1))
		grep -qx "\\.B $n" "$MAN" || { echo "tracepoint $n: no entry"; rc=1; }
	done
	echo "$count names checked"
	return "$rc"
}

t_version() {
	local want got
	want=$(sed -n 's/^PACKAGE_VERSION="\([^"]*\)".*/\1/p' dkms.conf)
	got=$(modinfo -F version xtcp.ko) || return 1
	echo "dkms.conf $want, xtcp.ko $got"
	[ -n "$want" ] && [ "$want" = "$got" ]
}

t_dkms_build() {
	command -v dkms >/dev/null || { echo "dkms missing (scripts/setup)"; return 1; }
	make --no-print-directory dkms-check KVER="$KVER"
}

t_install() {
	make --no-print-directory install DESTDIR="$DEST" KVER="$KVER" >"$TMP/install.log" 2>&1 ||
		{ cat "$TMP/install.log"; return 1; }
}

t_installed() {
	local f rc=0
	while IFS= read -r f; do
		if [ -f "$DEST/$f" ]; then
			echo "$f"
		else
			echo "missing: $f"
			rc=1
		fi
	done < <(expected_files)
	return "$rc"
}

t_installed_modes() {
	local f mode rc=0
	while IFS= read -r f; do
		[ -e "$DEST/$f" ] || continue
		mode=$(stat -c %a "$DEST/$f")
		case "$f" in
		*/bin/*|*.so) [ "$mode" = 755 ] || { echo "$f: mode $mode, want 755"; rc=1; } ;;
		*) [ "$mode" = 644 ] || { echo "$f: mode $mode, want 644"; rc=1; } ;;
		esac
	done < <(expected_files)
	return "$rc"
}

# What modprobe would do with the installed tree, without loading it.
t_modprobe_finds_it() {
	local out ko=$DEST/lib/modules/$KVER/extra/xtcp.ko
	# (An installed tree alone has no modules.order or modules.builtin.)
	depmod -b "$DEST" "$KVER" 2>&1 | grep -v 'WARNING: could not open modules\.'
	[ "${PIPESTATUS[0]}" = 0 ] || return 1
	out=$(modprobe -d "$DEST" -S "$KVER" --show-depends xtcp 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	[[ "$out" == "insmod $ko"* ]] || return 1
	# socket(AF_XTCP) loads it through the family's alias.
	out=$(modprobe -d "$DEST" -S "$KVER" --show-depends net-pf-13 2>&1) || { echo "$out"; return 1; }
	[[ "$out" == "insmod $ko"* ]] || { echo "net-pf-13: $out"; return 1; }
	modinfo -F vermagic "$ko" | grep -q "^$KVER " || { echo "vermagic: $(modinfo -F vermagic "$ko")"; return 1; }
	# Not what make install put: leave the tree as it was.
	rm -f "$DEST/lib/modules/$KVER"/modules.*
}

t_header_compiles() {
	printf '#include <sys/socket.h>\n#include <linux/xtcp.h>\nint f = AF_XTCP, o = SOL_XTCP + XTCP_REUSEPORT;\n' |
		gcc -Wall -Werror -fsyntax-only -I "$DEST$PREFIX/include" -x c -
}

t_man_installed() {
	local out
	out=$(man -M "$DEST$PREFIX/share/man" -w 7 xtcp 2>&1) || { echo "$out"; return 1; }
	[ "$out" = "$DEST$PREFIX/share/man/man7/xtcp.7" ] || { echo "man -w: $out"; return 1; }
}

t_uninstall() {
	local left
	make --no-print-directory uninstall DESTDIR="$DEST" KVER="$KVER" >"$TMP/uninstall.log" 2>&1 ||
		{ cat "$TMP/uninstall.log"; return 1; }
	left=$(find "$DEST" ! -type d)
	[ -z "$left" ] || { echo "left behind:"; echo "$left"; return 1; }
}

main() {
	ktap_header
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/xtcp-packaging.XXXXXX") || exit 1
	DEST=$TMP/dest
	trap cleanup EXIT
	if [ -z "$KVER" ] || [ ! -f xtcp.ko ]; then
		echo "1..0 # SKIP needs a kernel in /boot and xtcp.ko built (make)"
		return 4
	fi
	ktap_diag "kernel $KVER, DESTDIR $DEST"

	run_case man__groff_lint t_man_groff
	run_case man__mandoc_lint t_man_mandoc
	run_case man__whatis_entry t_man_whatis
	run_case man__every_sysctl_counter_tracepoint t_man_complete
	run_case version__dkms_conf_is_modinfo t_version
	run_case dkms__build_for_kver t_dkms_build
	run_case install__destdir t_install
	run_case install__every_file t_installed
	run_case install__modes t_installed_modes
	run_case install__modprobe_finds_module t_modprobe_finds_it
	run_case install__header_compiles t_header_compiles
	run_case install__man_finds_page t_man_installed
	run_case uninstall__removes_every_file t_uninstall

	ktap_finish
}

main "$@"
exit $?
