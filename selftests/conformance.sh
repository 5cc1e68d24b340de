#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# packetdrill conformance, xtcp half: every script listed in
# selftests/conformance.expected must pass on xtcp. Each runs as in
# make conformance (scripts/conformance --one xtcp SCRIPT: packetdrill
# under the preload library, from the script's directory, in a fresh
# network namespace), one result per script; the log of each is in
# build/conformance/check/. Every result is a skip when packetdrill is not
# built (make packetdrill; make check builds it) or xtcp is not loaded.
#
# Runs only in the test VM (XTCP_IN_VM=1, set by scripts/vm-run), as root.
# The scripts take minutes under emulation, more on a loaded host:
# timeout: 900

set -u

TOP=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)
cd "$TOP" || exit 1
# shellcheck source=selftests/_lib.sh
. "$TOP/selftests/_lib.sh"

LIST=selftests/conformance.expected
PACKETDRILL=build/packetdrill/gtests/net/packetdrill/packetdrill
PRELOAD=build/tools/libxtcp-preload.so
LOGS=build/conformance/check

ktap_header
mapfile -t SCRIPTS < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$LIST" | grep -v '^$')

skip=
if [ ! -x "$PACKETDRILL" ]; then
	skip="packetdrill not built (make packetdrill)"
elif [ ! -f "$PRELOAD" ]; then
	skip="$PRELOAD not built (make tools)"
elif [ ! -d /sys/module/xtcp ]; then
	skip="xtcp is not loaded"
fi
[ ${#SCRIPTS[@]} -gt 0 ] || ktap_skip "$LIST" "no script listed"

again=
for script in "${SCRIPTS[@]}"; do
	if [ -n "$skip" ]; then
		ktap_skip "$script" "$skip"
		continue
	fi
	# On failure --one prints packetdrill's first error line. A timing
	# error alone (a system call or packet later than the tolerance: the
	# emulator stalled) gets one more run; any other mismatch fails.
	if why=$(scripts/conformance --one xtcp "$script" "$LOGS/$script.log"); then
		ktap_ok "$script"
	elif [[ "$why" == *"timing error"* ]] &&
	     again=$(scripts/conformance --one xtcp "$script" "$LOGS/$script.log"); then
		ktap_ok "$script"
		ktap_diag "$script: passed on a second run after: $why"
	else
		ktap_fail "$script" "${again:-$why}" "log: $LOGS/$script.log"
	fi
	again=
done

ktap_finish
exit $?
