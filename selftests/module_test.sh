#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xtcp.ko load and unload: rmmod is refused while an xtcp socket is open,
# repeated insmod/rmmod cycles, what unloading leaves behind (nothing: no
# sysctls, no reserved ports, no family), the family= parameter (a free
# number works, a taken one fails with EEXIST, an out-of-range one with
# EINVAL), per-namespace state across many namespaces, and modprobe
# loading xtcp from a "make install DESTDIR=" tree.
#
# Unloads and reloads ./xtcp.ko; leaves it loaded with no parameters.
# Runs only in the test VM (XTCP_IN_VM=1, set by scripts/vm-run), as root.

set -u

TOP=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)
cd "$TOP" || exit 1
# shellcheck source=selftests/_lib.sh
. "$TOP/selftests/_lib.sh"

KO=$TOP/xtcp.ko
PARAM=/sys/module/xtcp/parameters/family
SYSCTL_DIR=/proc/sys/net/xtcp
RESERVED=/proc/sys/net/ipv4/ip_local_reserved_ports
AF_XTCP=13
NS_PREFIX=xtcp_mt$$_
MARK="xtcp-module-test-$$-$RANDOM"
HOLDER_PID=
TMP=

cleanup() {
	local ns
	if [ -n "$HOLDER_PID" ]; then
		kill "$HOLDER_PID" 2>/dev/null
		wait "$HOLDER_PID" 2>/dev/null
	fi
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
		case "$ns" in "$NS_PREFIX"*) ip netns del "$ns" ;; esac
	done
	if [ -f "$KO" ] && [ ! -d /sys/module/xtcp ]; then
		insmod "$KO" || echo "# could not reload $KO"
	fi
	[ -z "$TMP" ] || rm -rf "$TMP"
}

loaded() {
	[ -d /sys/module/xtcp ]
}

# rmmod, retried for up to 3 s (socket teardown may finish just after
# the owner exits). Prints rmmod's last message on failure.
rmmod_retry() {
	local i out
	for i in $(seq 30); do
		out=$(rmmod xtcp 2>&1) && return 0
		sleep 0.1
	done
	echo "rmmod xtcp: $out"
	return 1
}

# socket(FAM, SOCK_STREAM, 0) for each FAM: prints "FAM:OK" or
# "FAM:<errno name>" for each, space separated.
sock_try() {
	python3 -c '
import errno, socket, sys
out = []
for f in sys.argv[1:]:
    try:
        socket.socket(int(f), socket.SOCK_STREAM, 0).close()
        out.append(f + ":OK")
    except OSError as e:
        out.append(f + ":" + errno.errorcode.get(e.errno, str(e.errno)))
print(" ".join(out))' "$@"
}

# How many ports of [$1, $2] are in ip_local_reserved_ports (file $3).
count_reserved() {
	tr ',' '\n' <"${3:-$RESERVED}" | awk -v lo="$1" -v hi="$2" -F- '
		NF == 0 || $1 == "" { next }
		{
			a = $1 + 0; b = (NF > 1 ? $2 + 0 : a)
			if (a < lo) a = lo
			if (b > hi) b = hi
			if (b >= a) n += b - a + 1
		}
		END { print n + 0 }'
}

mark() {
	echo "<6>$MARK: $1" >/dev/kmsg
}

# Kernel log since the mark "$1".
dmesg_since() {
	dmesg | awk -v m="$MARK: $1" 'index($0, m) { buf = ""; n = 0; next }
		{ lines[++n] = $0 } END { for (i = 1; i <= n; i++) print lines[i] }'
}

# Run test function $2 as test case $1: ok if it returns 0, else not ok
# with what it printed.
# The function runs in this shell (not a subshell): it may set globals.
run_case() {
	local name=$1 rc
	shift
	"$@" >"$TMP/case.out" 2>&1 </dev/null
	rc=$?
	if [ "$rc" = 0 ]; then
		[ ! -s "$TMP/case.out" ] || ktap_diag "$(cat "$TMP/case.out")"
		ktap_ok "$name"
	else
		ktap_fail "$name" "$(cat "$TMP/case.out")"
	fi
}

# --- test cases -------------------------------------------------------------

XTCP_FAM=$AF_XTCP
RANGE_LO=61000
RANGE_HI=65535

t_loaded() {
	loaded || { echo "xtcp is not loaded"; return 1; }
	XTCP_FAM=$(cat "$PARAM") || return 1
	echo "family $XTCP_FAM"
	read -r RANGE_LO RANGE_HI <"$SYSCTL_DIR/ip_local_port_range" || return 1
	echo "ip_local_port_range $RANGE_LO-$RANGE_HI"
}

t_reserved_while_loaded() {
	local n want=$((RANGE_HI - RANGE_LO + 1))
	n=$(count_reserved "$RANGE_LO" "$RANGE_HI")
	[ "$n" = "$want" ] || {
		echo "$n of $want ports of $RANGE_LO-$RANGE_HI reserved: $(cat "$RESERVED")"
		return 1
	}
}

t_rmmod_refused_while_socket_open() {
	local i out rc=0
	python3 -c '
import socket, sys, time
s = socket.socket(int(sys.argv[1]), socket.SOCK_STREAM, 0)
print("ready", flush=True)
time.sleep(120)' "$XTCP_FAM" >"$TMP/holder" 2>&1 &
	HOLDER_PID=$!
	for i in $(seq 300); do
		grep -q ready "$TMP/holder" && break
		kill -0 "$HOLDER_PID" 2>/dev/null || break
		sleep 0.1
	done
	grep -q ready "$TMP/holder" || {
		echo "holder did not open a socket: $(cat "$TMP/holder")"
		return 1
	}
	if out=$(rmmod xtcp 2>&1); then
		echo "rmmod succeeded with an xtcp socket open"
		rc=1
	else
		echo "rmmod refused: $out"
	fi
	loaded || { echo "/sys/module/xtcp is gone"; rc=1; }
	# Put it back for the next cases if rmmod wrongly went through.
	loaded || insmod "$KO"
	return "$rc"
}

t_rmmod_after_socket_closed() {
	[ -n "$HOLDER_PID" ] || { echo "no holder"; return 1; }
	kill "$HOLDER_PID"
	wait "$HOLDER_PID" 2>/dev/null
	HOLDER_PID=
	rmmod_retry || return 1
	! loaded || { echo "/sys/module/xtcp still there"; return 1; }
}

t_cycles() {
	local i
	loaded && rmmod xtcp
	for i in $(seq 20); do
		insmod "$KO" || { echo "insmod $i failed"; return 1; }
		[ -d "$SYSCTL_DIR" ] || { echo "cycle $i: no $SYSCTL_DIR"; return 1; }
		rmmod xtcp || { echo "rmmod $i failed"; return 1; }
	done
	! loaded || { echo "still loaded after the last rmmod"; return 1; }
}

t_unloaded_no_sysctls() {
	loaded && { echo "xtcp is loaded"; return 1; }
	[ ! -e "$SYSCTL_DIR" ] || { echo "$SYSCTL_DIR still exists"; return 1; }
}

t_unloaded_no_reservations() {
	local n
	loaded && { echo "xtcp is loaded"; return 1; }
	n=$(count_reserved "$RANGE_LO" "$RANGE_HI")
	[ "$n" = 0 ] || {
		echo "$n ports of $RANGE_LO-$RANGE_HI still reserved: $(cat "$RESERVED")"
		return 1
	}
}

t_unloaded_no_family() {
	local got
	loaded && { echo "xtcp is loaded"; return 1; }
	got=$(sock_try "$AF_XTCP")
	[ "$got" = "$AF_XTCP:EAFNOSUPPORT" ] || { echo "got $got"; return 1; }
}

t_family_22() {
	local out got rc=0
	out=$(insmod "$KO" family=22 2>&1) || { echo "insmod family=22: $out"; return 1; }
	[ "$(cat "$PARAM")" = 22 ] || { echo "$PARAM reads $(cat "$PARAM")"; rc=1; }
	got=$(sock_try 22 "$AF_XTCP")
	[ "$got" = "22:OK $AF_XTCP:EAFNOSUPPORT" ] || { echo "got $got"; rc=1; }
	rmmod_retry || rc=1
	return "$rc"
}

t_family_taken() {
	local out rc=0
	mark "family=2"
	if out=$(insmod "$KO" family=2 2>&1); then
		echo "insmod family=2 succeeded"
		rmmod xtcp
		return 1
	fi
	echo "insmod: $out"
	[[ "$out" == *"File exists"* ]] || { echo "want EEXIST (File exists)"; rc=1; }
	loaded && { echo "xtcp is loaded"; rmmod xtcp; rc=1; }
	dmesg_since "family=2" | grep -iE 'xtcp.*(family|AF)[ =]*2([^0-9]|$)' |
		grep -qiE 'taken|in use|registered|exists|busy' || {
		echo "no kernel message from xtcp naming family 2 as taken:"
		dmesg_since "family=2" | tail -n 5
		rc=1
	}
	return "$rc"
}

t_family_einval() {
	local fam=$1 out
	if out=$(insmod "$KO" family="$fam" 2>&1); then
		echo "insmod family=$fam succeeded"
		rmmod xtcp
		return 1
	fi
	echo "insmod: $out"
	# kmod prints EINVAL as "Invalid parameters".
	[[ "$out" == *"Invalid parameters"* || "$out" == *"Invalid argument"* ]] || {
		echo "want EINVAL"
		return 1
	}
	! loaded || { echo "xtcp is loaded"; return 1; }
}

t_namespaces() {
	local i ns v rc=0
	insmod "$KO" || return 1
	for i in $(seq 20); do
		ip netns add "$NS_PREFIX$i" || { echo "ip netns add $i failed"; return 1; }
	done
	for i in $(seq 20); do
		ns=$NS_PREFIX$i
		v=$(ip netns exec "$ns" cat "$SYSCTL_DIR/tw_reuse" 2>&1)
		[ "$v" = 2 ] || { echo "$ns: tw_reuse reads '$v'"; rc=1; }
	done
	# A change in one namespace stays there.
	ip netns exec "${NS_PREFIX}1" sh -c "echo 0 >$SYSCTL_DIR/tw_reuse"
	v=$(ip netns exec "${NS_PREFIX}2" cat "$SYSCTL_DIR/tw_reuse")
	[ "$v" = 2 ] || { echo "${NS_PREFIX}2: tw_reuse reads '$v'"; rc=1; }
	for i in $(seq 20); do
		ip netns del "$NS_PREFIX$i" || rc=1
	done
	rmmod_retry || rc=1
	return "$rc"
}

t_rmmod_with_live_namespaces() {
	local ns=${NS_PREFIX}live rc=0 n v
	insmod "$KO" || return 1
	ip netns add "$ns" || return 1
	ip netns exec "$ns" test -d "$SYSCTL_DIR" || { echo "$ns: no $SYSCTL_DIR"; rc=1; }
	rmmod_retry || { ip netns del "$ns"; return 1; }
	if ip netns exec "$ns" test -e "$SYSCTL_DIR"; then
		echo "$ns: $SYSCTL_DIR still there after rmmod"
		rc=1
	fi
	n=$(ip netns exec "$ns" cat "$RESERVED" | tr -d '\n')
	[ -z "$n" ] || { echo "$ns: reserved ports after rmmod: $n"; rc=1; }
	# Loading again sets up the namespace that already exists.
	insmod "$KO" || { ip netns del "$ns"; return 1; }
	v=$(ip netns exec "$ns" cat "$SYSCTL_DIR/tw_reuse" 2>&1)
	[ "$v" = 2 ] || { echo "$ns after insmod: tw_reuse reads '$v'"; rc=1; }
	ip netns exec "$ns" cat "$RESERVED" >"$TMP/ns_reserved"
	n=$(count_reserved 61000 65535 "$TMP/ns_reserved")
	[ "$n" = 4536 ] || { echo "$ns after insmod: $n of 61000-65535 reserved"; rc=1; }
	ip netns del "$ns" || rc=1
	rmmod_retry || rc=1
	return "$rc"
}

# An administrator's reservations survive xtcp: those made before the
# load, and a list rewritten while xtcp was loaded (which then belongs to
# the administrator whole).
t_admin_reservations_kept() {
	local ns=xtcp-adm rc=0 n
	loaded && { rmmod_retry || return 1; }
	ip netns add "$ns" || return 1
	ip netns exec "$ns" sh -c "echo 62000,7000 > $RESERVED" || rc=1
	insmod "$KO" || { ip netns del "$ns"; return 1; }
	ip netns exec "$ns" cat "$RESERVED" >"$TMP/adm"
	n=$(count_reserved 61000 65535 "$TMP/adm")
	[ "$n" = 4536 ] || { echo "after insmod: $n of 61000-65535 reserved"; rc=1; }
	ip netns exec "$ns" sh -c "echo 63000-63010,62000,7000 > $RESERVED" || rc=1
	rmmod_retry || rc=1
	ip netns exec "$ns" cat "$RESERVED" >"$TMP/adm"
	[ "$(cat "$TMP/adm")" = "7000,62000,63000-63010" ] || {
		echo "after rmmod: $(cat "$TMP/adm"), want 7000,62000,63000-63010"
		rc=1
	}
	# Before the load only: kept, and xtcp's own bits gone.
	ip netns exec "$ns" sh -c "echo 62000 > $RESERVED" || rc=1
	insmod "$KO" || rc=1
	rmmod_retry || rc=1
	ip netns exec "$ns" cat "$RESERVED" >"$TMP/adm"
	[ "$(cat "$TMP/adm")" = "62000" ] || { echo "after a clean cycle: $(cat "$TMP/adm")"; rc=1; }
	ip netns del "$ns"
	insmod "$KO" || rc=1
	return "$rc"
}

t_reload_default() {
	local got rc=0
	loaded || insmod "$KO" || return 1
	[ "$(cat "$PARAM")" = "$AF_XTCP" ] || { echo "$PARAM reads $(cat "$PARAM")"; rc=1; }
	got=$(sock_try "$AF_XTCP")
	[ "$got" = "$AF_XTCP:OK" ] || { echo "got $got"; rc=1; }
	[ -d "$SYSCTL_DIR" ] || { echo "no $SYSCTL_DIR"; rc=1; }
	return "$rc"
}

# "make install" into a staging tree, then modprobe loads xtcp from it as
# it would from /lib/modules after a real install (the VM's root is the
# host's, read-only: DESTDIR instead).
t_modprobe_installed() {
	local dest=$TMP/inst kver want got rc=0
	kver=$(uname -r)
	loaded && { rmmod_retry || return 1; }
	make --no-print-directory -C "$TOP" install DESTDIR="$dest" KVER="$kver" \
		>"$TMP/install.log" 2>&1 || { tail -n 30 "$TMP/install.log"; return 1; }
	depmod -b "$dest" "$kver" 2>&1 | grep -v 'WARNING: could not open modules\.'
	modprobe -d "$dest" xtcp || { echo "modprobe -d $dest xtcp failed"; return 1; }
	loaded || { echo "modprobe returned 0 and xtcp is not loaded"; return 1; }
	want=$(sed -n 's/^PACKAGE_VERSION="\([^"]*\)".*/\1/p' "$TOP/dkms.conf")
	got=$(cat /sys/module/xtcp/version 2>&1)
	[ "$got" = "$want" ] || { echo "/sys/module/xtcp/version: '$got', want '$want'"; rc=1; }
	got=$(sock_try "$AF_XTCP")
	[ "$got" = "$AF_XTCP:OK" ] || { echo "socket after modprobe: $got"; rc=1; }
	# The installed tools run against the module modprobe loaded.
	"$dest/usr/local/bin/xtcp-connect" 127.0.0.1 9 >"$TMP/connect.out" 2>&1
	grep -q 'Connection refused' "$TMP/connect.out" ||
		{ echo "installed xtcp-connect: $(cat "$TMP/connect.out")"; rc=1; }
	modprobe -d "$dest" -r xtcp || { echo "modprobe -r failed"; rc=1; }
	! loaded || { echo "still loaded after modprobe -r"; rc=1; }
	insmod "$KO" || rc=1
	return "$rc"
}

t_no_kernel_warnings() {
	local bad
	bad=$(dmesg_since start | grep -E 'BUG:|WARNING:|Oops|Call Trace|general protection|refcount_t|list_(add|del) corruption|UBSAN|KASAN')
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}

main() {
	ktap_header
	if [ "${XTCP_IN_VM:-0}" != 1 ] && [ "${XTCP_ALLOW_HOST:-0}" != 1 ]; then
		echo "1..0 # SKIP unloads modules: runs in the test VM only (XTCP_IN_VM=1)"
		return 4
	fi
	if [ "$(id -u)" != 0 ] || [ ! -f "$KO" ]; then
		echo "1..0 # SKIP needs root and $KO"
		return 4
	fi
	TMP=$(mktemp -d /tmp/xtcp-module-test.XXXXXX)
	trap cleanup EXIT
	mark start

	run_case module__loaded t_loaded
	run_case module__reserved_ports_while_loaded t_reserved_while_loaded
	run_case module__rmmod_refused_while_socket_open \
		t_rmmod_refused_while_socket_open
	run_case module__rmmod_after_socket_closed t_rmmod_after_socket_closed
	run_case module__insmod_rmmod_20_cycles t_cycles
	run_case unloaded__no_sysctl_dir t_unloaded_no_sysctls
	run_case unloaded__no_reserved_ports t_unloaded_no_reservations
	run_case unloaded__family_unregistered t_unloaded_no_family
	run_case param__family_22 t_family_22
	run_case param__family_2_taken t_family_taken
	run_case param__family_46_einval t_family_einval 46
	run_case param__family_0_einval t_family_einval 0
	run_case param__family_negative_einval t_family_einval -1
	run_case netns__20_namespaces t_namespaces
	run_case netns__rmmod_with_live_namespace t_rmmod_with_live_namespaces
	run_case module__reload_default t_reload_default
	run_case netns__admin_reservations_kept t_admin_reservations_kept
	run_case install__modprobe_from_installed_tree t_modprobe_installed
	run_case module__no_kernel_warnings t_no_kernel_warnings

	ktap_finish
}

main "$@"
exit $?
