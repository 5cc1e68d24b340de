#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run_tests.sh [NAME...]: run the xtcp selftests. Runs inside the VM
# (scripts/vm-run -- selftests/run_tests.sh), as root, with xtcp.ko loaded.
#
# Programs: every executable in build/selftests/ and every selftests/*.sh
# except this one and _*.sh (libraries), sorted, each from the checkout root
# under `timeout ${XTCP_TEST_TIMEOUT:-300}`, or longer when a shell test
# asks for it with a "# timeout: SECONDS" line among its first 20 lines
# (as kselftest's settings file). NAME filters by program name
# (socket_test, foo.sh or foo).
#
# Each program prints TAP/KTAP: its output is echoed indented by four
# spaces, and each of its top-level results ("ok N name", "not ok N name",
# "ok N name # SKIP why") is re-emitted renumbered as "ok <n> <program>: <name>".
# Extra failures: a non-zero exit without any "not ok", a program that ran
# no test, and kernel BUG/WARNING/Oops lines in dmesg while it ran. After
# each program xtcp.ko is reloaded if it was unloaded. The last line is
# "N passed, N failed" (", N skipped" when any); exit 0 iff none failed.
#
# XTCP_HOST_RESULTS=DIR: results of tests that ran on the host before the
# VM booted (make check runs selftests/host/*.sh so), counted first as if
# run here: DIR/NAME.log is program NAME's output, DIR/NAME.rc its exit
# status (a missing .rc counts as a failure).

set -uo pipefail

TOP=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)
SELF=$(basename "${BASH_SOURCE[0]}")
TIMEOUT=${XTCP_TEST_TIMEOUT:-300}
KERNEL_RE='BUG:|WARNING:|Oops|Call Trace|general protection|Kernel panic'
RESULT_RE='^(not )?ok [0-9]+( |$)'

N=0 PASSED=0 FAILED=0 SKIPPED=0
MODULE_LOADED=0
LOG=$(mktemp /tmp/xtcp-test.XXXXXX)
trap 'rm -f "$LOG"' EXIT

# One result line of ours: result "ok"|"not ok"|"skip", description.
emit() {
	local result=$1 desc=$2
	N=$((N + 1))
	case "$result" in
	ok) PASSED=$((PASSED + 1)); echo "ok $N $desc" ;;
	skip) SKIPPED=$((SKIPPED + 1)); echo "ok $N $desc" ;;
	*) FAILED=$((FAILED + 1)); echo "not ok $N $desc" ;;
	esac
}

list_programs() {
	local f
	for f in "$TOP"/build/selftests/*; do
		[ -f "$f" ] && [ -x "$f" ] && echo "build/selftests/${f##*/}"
	done
	for f in "$TOP"/selftests/*.sh; do
		[ -f "$f" ] || continue
		case "${f##*/}" in "$SELF"|_*) continue ;; esac
		echo "selftests/${f##*/}"
	done | LC_ALL=C sort
}

# Is program $1 selected by the NAME arguments (all when there are none)?
selected() {
	local prog=$1 name base
	shift
	[ $# -eq 0 ] && return 0
	base=${prog##*/}
	for name in "$@"; do
		name=${name##*/}
		[ "$name" = "$base" ] || [ "$name.sh" = "$base" ] && return 0
	done
	return 1
}

kmsg_mark() {
	echo "<6>xtcp-selftests: $1" >/dev/kmsg 2>/dev/null || true
}

# Kernel log lines since the last "start <prog>" mark.
dmesg_since_start() {
	dmesg 2>/dev/null |
		awk -v m="xtcp-selftests: start $1" '
			substr($0, length($0) - length(m) + 1) == m { n = 0; next }
			{ buf[++n] = $0 }
			END { for (i = 1; i <= n; i++) print buf[i] }'
}

# Re-emit the program's top-level TAP results as ours. The kselftest harness
# prints skips as "ok N # SKIP why", without the name: take it from the
# "#  RUN           name ..." line before.
parse_results() {
	local prog=$1 line rest name directive result run=
	while IFS= read -r line; do
		if [[ "$line" =~ ^#\ +RUN\ +(.*)\ \.\.\.$ ]]; then
			run=${BASH_REMATCH[1]}
			continue
		fi
		[[ "$line" =~ $RESULT_RE ]] || continue
		result=ok
		[[ "$line" == not* ]] && result="not ok"
		rest=${line#not }
		rest=${rest#ok }
		rest=${rest#"${rest%%[!0-9]*}"}
		rest=" ${rest# }"
		name=${rest%%" # "*}
		name=${name# }
		directive=
		[[ "$rest" != *" # "* ]] || directive=${rest#*" # "}
		[ -n "$name" ] || name=${run:-"(unnamed)"}
		run=
		case "${directive^^}" in
		SKIP*) emit skip "$prog: $name # $directive" ;;
		XFAIL*) emit ok "$prog: $name # $directive" ;;
		*) emit "$result" "$prog: $name" ;;
		esac
	done <"$LOG"
}

# The timeout for program $1: XTCP_TEST_TIMEOUT, or its own if longer.
prog_timeout() {
	local t=

	[[ "$1" != *.sh ]] ||
		t=$(head -n 20 "$1" | sed -n 's/^# timeout: \([0-9][0-9]*\)$/\1/p' | head -n 1)
	if [ -n "$t" ] && [ "$t" -gt "$TIMEOUT" ]; then
		echo "$t"
	else
		echo "$TIMEOUT"
	fi
}

run_program() {
	local prog=$1 name=${1##*/} rc nres nfail warn limit

	limit=$(prog_timeout "$prog")
	echo "# ---- $prog"
	kmsg_mark "start $name"
	if [[ "$prog" == *.sh && ! -x "$prog" ]]; then
		timeout -k 10 "$limit" bash "$prog" </dev/null 2>&1 | tee "$LOG" | sed -u 's/^/    /'
	else
		timeout -k 10 "$limit" "./$prog" </dev/null 2>&1 | tee "$LOG" | sed -u 's/^/    /'
	fi
	rc=${PIPESTATUS[0]}
	kmsg_mark "end $name"

	account "$name" "$rc" "$limit"
	check_module "$name"
	warn=$(dmesg_since_start "$name" | grep -E "$KERNEL_RE")
	if [ -n "$warn" ]; then
		# From the first report on: a repeating one (a soft lockup)
		# must not push the first backtrace out.
		echo "# kernel log while $name ran, from the first report:"
		dmesg_since_start "$name" |
			awk -v re="$KERNEL_RE" 'f || $0 ~ re { f = 1; if (++n <= 200) print }' |
			sed 's/^/# /'
		emit "not ok" "$name: kernel warning"
	fi
}

# The results of program $1, whose output is in $LOG, exit status $2,
# run under a timeout of $3 seconds.
account() {
	local name=$1 rc=$2 limit=$3 nres nfail

	nres=$(grep -cE "$RESULT_RE" "$LOG")
	nfail=$(grep -cE '^not ok [0-9]+' "$LOG")
	parse_results "$name"
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		[ "$nfail" -gt 0 ] || emit "not ok" "$name: timed out after ${limit}s"
	elif [ "$rc" = 4 ] && [ "$nres" = 0 ]; then
		emit skip "$name # SKIP exit status 4 (KSFT_SKIP)"
	elif [ "$rc" != 0 ] && [ "$nfail" = 0 ]; then
		emit "not ok" "$name: exit status $rc"
	elif [ "$rc" = 0 ] && [ "$nres" = 0 ]; then
		emit "not ok" "$name: no tests ran"
	fi
}

# XTCP_HOST_RESULTS: each host program's log and exit status, as if it
# had just run here (no kernel log or module checks: it ran on the host).
host_results() {
	local dir=$1 log name rc
	for log in "$dir"/*.log; do
		[ -f "$log" ] || continue
		name="host/${log##*/}"
		name=${name%.log}
		echo "# ---- $name (ran on the host before the VM)"
		sed 's/^/    /' "$log"
		cp "$log" "$LOG"
		rc=$(cat "${log%.log}.rc" 2>/dev/null)
		[[ "$rc" =~ ^[0-9]+$ ]] || rc=125
		account "$name" "$rc" "$TIMEOUT"
	done
}

# Tests may unload xtcp (e.g. to test module parameters): put it back.
check_module() {
	[ "$MODULE_LOADED" = 1 ] && [ ! -d /sys/module/xtcp ] || return 0
	echo "# $1 left xtcp unloaded: insmod $TOP/xtcp.ko"
	insmod "$TOP/xtcp.ko" || emit "not ok" "$1: reloading xtcp.ko"
}

main() {
	local prog name progs=()
	cd "$TOP" || exit 1
	[ -d /sys/module/xtcp ] && MODULE_LOADED=1
	export XTCP_TOP=$TOP
	while IFS= read -r prog; do
		selected "$prog" "$@" && progs+=("$prog")
	done < <(list_programs)

	echo "TAP version 13"
	echo "# $(uname -r), xtcp $([ "$MODULE_LOADED" = 1 ] && echo loaded || echo not loaded)," \
		"${#progs[@]} programs"
	for name in "$@"; do
		for prog in "${progs[@]}"; do
			selected "$prog" "$name" && continue 2
		done
		emit "not ok" "no program matches: $name"
	done
	if [ -n "${XTCP_HOST_RESULTS:-}" ]; then
		if [ -d "$XTCP_HOST_RESULTS" ]; then
			host_results "$XTCP_HOST_RESULTS"
		else
			emit "not ok" "host results: no directory $XTCP_HOST_RESULTS"
		fi
	fi
	for prog in "${progs[@]}"; do
		run_program "$prog"
	done
	echo "1..$N"
	if [ "$SKIPPED" -gt 0 ]; then
		echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	else
		echo "$PASSED passed, $FAILED failed"
	fi
	[ "$FAILED" = 0 ]
}

main "$@"
