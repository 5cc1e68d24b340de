#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xtcp's tracepoints (the "xtcp" system in /sys/kernel/tracing/events):
# each event fires where it should, with the right 4-tuple, on a real
# connection to Linux's TCP in another namespace over veth:
#
#   xtcp_connect_port  connect()'s port choice (the port the SYN used)
#   xtcp_set_state     SYN_SENT, ESTABLISHED, ... for that connection
#   xtcp_probe         on the ACKs of a transfer (cwnd, srtt, ...)
#   xtcp_retransmit    with the server unreachable (a drop rule), the SYN
#                      and data sent again
#   xtcp_receive_reset a connect() to a closed port (Linux's RST)
#   xtcp_send_reset    an xtcp listener closed with a child queued
#
# Runs only in the test VM, as root.

set -u

TOP=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)
cd "$TOP" || exit 1
# shellcheck source=selftests/_lib.sh
. "$TOP/selftests/_lib.sh"

T=/sys/kernel/tracing
NS_A=xtcp_tr$$_a
NS_B=xtcp_tr$$_b
CONNECT=$TOP/build/tools/xtcp-connect
LOG=$(mktemp /tmp/xtcp-trace.XXXXXX)
SRV_PID=

cleanup() {
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null
	echo 0 > "$T/events/xtcp/enable" 2>/dev/null
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -f "$LOG"
}
trap cleanup EXIT

ktap_header

if [ ! -d "$T/events" ]; then
	mount -t tracefs nodev "$T" 2>/dev/null
fi
if [ ! -d "$T/events/xtcp" ]; then
	ktap_fail "trace.events_registered" "no $T/events/xtcp"
	ktap_finish
	exit $?
fi
ktap_ok "trace.events_registered"
for e in xtcp_set_state xtcp_connect_port xtcp_send_reset \
	 xtcp_receive_reset xtcp_retransmit xtcp_probe; do
	[ -d "$T/events/xtcp/$e" ] || ktap_diag "missing event $e"
done
ktap_check "trace.all_six_events" test "$(ls -d "$T"/events/xtcp/xtcp_* | wc -l)" -eq 6

ip netns add "$NS_A"
ip netns add "$NS_B"
ip link add trva netns "$NS_A" type veth peer name trvb netns "$NS_B"
ip -n "$NS_A" addr add 192.0.2.1/24 dev trva
ip -n "$NS_B" addr add 192.0.2.2/24 dev trvb
ip -n "$NS_A" link set trva up
ip -n "$NS_B" link set trvb up
ip -n "$NS_A" link set lo up
ip -n "$NS_B" link set lo up

# A Linux TCP sink in B that reads until the client closes.
ip netns exec "$NS_B" python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.0.2.2", 8400))
s.listen(4)
while True:
    c, _ = s.accept()
    while c.recv(65536):
        pass
    c.close()
' &
SRV_PID=$!
for _ in $(seq 100); do
	ip netns exec "$NS_B" ss -ltn | grep -q ':8400 ' && break
	sleep 0.2
done

trace_run() {
	echo > "$T/trace"
	echo 1 > "$T/events/xtcp/enable"
	"$@"
	sleep 0.5
	echo 0 > "$T/events/xtcp/enable"
	cat "$T/trace" > "$LOG"
}

# A connection with 300 KB through it, then a close; connect() picks
# the port (xtcp-connect says which on stderr).
trace_run sh -c "head -c 300000 /dev/zero | ip netns exec $NS_A \
	$CONNECT -s 192.0.2.2 8400 > /dev/null 2> $LOG.err"
PORT=$(sed -n 's/^connected from 192.0.2.1:\([0-9]*\)$/\1/p' "$LOG.err")
rm -f "$LOG.err"
ktap_diag "connect() chose port ${PORT:-?}"
TUPLE="192.0.2.1:${PORT:-none} -> 192.0.2.2:8400"
ktap_check "trace.connect_port" grep -q "xtcp_connect_port: .*$TUPLE scanned=[0-9]* err=0" "$LOG"
# SYN_SENT comes before the port is chosen, as in tcp_v4_connect().
ktap_check "trace.set_state_syn_sent" grep -q "xtcp_set_state: .* -> 192.0.2.2:8400 CLOSE -> SYN_SENT" "$LOG"
ktap_check "trace.set_state_established" grep -q "xtcp_set_state: .*$TUPLE SYN_SENT -> ESTABLISHED" "$LOG"
ktap_check "trace.set_state_fin_wait1" grep -q "xtcp_set_state: .*$TUPLE ESTABLISHED -> FIN_WAIT1" "$LOG"
probes=$(grep -c "xtcp_probe: src=192.0.2.1:${PORT:-none} dest=192.0.2.2:8400 mss=1448 .*snd_cwnd=[0-9]* " "$LOG")
if [ "$probes" -ge 20 ]; then
	ktap_ok "trace.probe_per_ack"
else
	ktap_fail "trace.probe_per_ack" "$probes probe events for 300 KB"
fi
ktap_diag "$(grep -m1 xtcp_probe "$LOG")"
if grep -q xtcp_retransmit "$LOG"; then
	ktap_diag "retransmissions on a clean link: $(grep -c xtcp_retransmit "$LOG")"
fi

# The server unreachable: the SYN is sent again.
ip netns exec "$NS_B" nft add table inet trdrop
ip netns exec "$NS_B" nft add chain inet trdrop in '{ type filter hook input priority 0; }'
ip netns exec "$NS_B" nft add rule inet trdrop in tcp dport 8400 drop
trace_run timeout 3 ip netns exec "$NS_A" "$CONNECT" -b 192.0.2.1:40124 192.0.2.2 8400
ktap_check "trace.retransmit_syn" grep -q "xtcp_retransmit: .*192.0.2.1:40124 -> 192.0.2.2:8400 seq=[0-9]* end_seq=[0-9]* retransmits=[0-9]*" "$LOG"
ip netns exec "$NS_B" nft delete table inet trdrop

# A closed port: Linux answers the SYN with a RST.
trace_run ip netns exec "$NS_A" "$CONNECT" -b 192.0.2.1:40125 192.0.2.2 8401
ktap_check "trace.receive_reset" grep -q "xtcp_receive_reset: .*192.0.2.1:40125 -> 192.0.2.2:8401 state=SYN_SENT" "$LOG"
ktap_check "trace.set_state_close" grep -q "xtcp_set_state: .*192.0.2.1:40125 -> 192.0.2.2:8401 SYN_SENT -> CLOSE" "$LOG"

# An xtcp listener in A closed with a child queued: its RST.
ip netns exec "$NS_A" env LD_PRELOAD="$TOP/build/tools/libxtcp-preload.so" python3 -c '
import socket, time
s = socket.socket()
s.bind(("192.0.2.1", 8500))
s.listen(4)
time.sleep(2)
s.close()
time.sleep(0.5)
' &
LSN=$!
sleep 0.7
echo > "$T/trace"
echo 1 > "$T/events/xtcp/enable"
ip netns exec "$NS_B" python3 -c '
import socket, time
c = socket.create_connection(("192.0.2.1", 8500))
time.sleep(3)
' 2>/dev/null
wait "$LSN"
echo 0 > "$T/events/xtcp/enable"
cat "$T/trace" > "$LOG"
ktap_check "trace.listener_states" grep -q "xtcp_set_state: .*192.0.2.1:8500 -> 0.0.0.0:0 LISTEN -> CLOSE" "$LOG"
ktap_check "trace.send_reset" grep -q "xtcp_send_reset: .*192.0.2.1:8500 -> 192.0.2.2:[0-9]* seq=" "$LOG"
ktap_check "trace.child_established" grep -q "xtcp_set_state: .*192.0.2.1:8500 -> 192.0.2.2:[0-9]* SYN_RECV -> ESTABLISHED" "$LOG"

ktap_finish
exit $?
