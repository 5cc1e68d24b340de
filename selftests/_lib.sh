# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# TAP helpers for the shell selftests (sourced, not run). A test calls
# ktap_header first, then one of ktap_ok / ktap_fail / ktap_skip (or
# ktap_check) per test case, and ends with `ktap_finish; exit $?`.
#
#   ktap_ok NAME              ok N NAME
#   ktap_fail NAME [WHY...]   not ok N NAME, then each WHY as "# WHY"
#   ktap_skip NAME REASON     ok N NAME # SKIP REASON
#   ktap_check NAME CMD...    ok if CMD succeeds, else not ok
#   ktap_diag MSG...          "# MSG" (a comment, not a result)
#   ktap_finish               the plan "1..N"; returns 1 if any failed
#
# And for tests between two namespaces:
#   veth_netpair NS_A NS_B DEV_A DEV_B   make both namespaces, joined by
#                             a veth pair: DEV_A in NS_A with 192.0.2.1/24,
#                             DEV_B in NS_B with 192.0.2.2/24; all up

KTAP_N=0
KTAP_PASS=0
KTAP_FAIL=0
KTAP_SKIP=0

ktap_header() {
	echo "TAP version 13"
}

ktap_diag() {
	local line
	while IFS= read -r line; do
		echo "# $line"
	done <<<"$*"
}

ktap_ok() {
	KTAP_N=$((KTAP_N + 1))
	KTAP_PASS=$((KTAP_PASS + 1))
	echo "ok $KTAP_N $1"
}

ktap_fail() {
	local name=$1
	shift
	KTAP_N=$((KTAP_N + 1))
	KTAP_FAIL=$((KTAP_FAIL + 1))
	[ $# -eq 0 ] || ktap_diag "$@"
	echo "not ok $KTAP_N $name"
}

ktap_skip() {
	KTAP_N=$((KTAP_N + 1))
	KTAP_SKIP=$((KTAP_SKIP + 1))
	echo "ok $KTAP_N $1 # SKIP $2"
}

ktap_check() {
	local name=$1
	shift
	if "$@"; then
		ktap_ok "$name"
	else
		ktap_fail "$name" "failed: $*"
	fi
}

ktap_finish() {
	echo "1..$KTAP_N"
	echo "# $KTAP_PASS passed, $KTAP_FAIL failed, $KTAP_SKIP skipped"
	[ "$KTAP_FAIL" -eq 0 ]
}

veth_netpair() {
	local a=$1 b=$2 da=$3 db=$4 ns

	ip netns add "$a" && ip netns add "$b" &&
		ip link add "$da" netns "$a" type veth peer name "$db" netns "$b" &&
		ip -n "$a" addr add 192.0.2.1/24 dev "$da" &&
		ip -n "$b" addr add 192.0.2.2/24 dev "$db" || return 1
	for ns in "$a" "$b"; do
		ip -n "$ns" link set lo up || return 1
	done
	ip -n "$a" link set "$da" up && ip -n "$b" link set "$db" up
}
