#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/xtcp-ss and /proc/net/xtcp_ss, on xtcp connections with a known
# history between two namespaces over veth (A 192.0.2.1 the clients,
# B 192.0.2.2 a Python server on xtcp through the preload library,
# its sockets owned by uid 65534):
#
#   7001  listener, backlog 5, three connections queued, never accepted
#   7002  listener; its one connection (client TCP_MAXSEG 1000) has
#         carried 3000 bytes A->B and 5000 bytes B->A and stays open,
#         with SO_KEEPALIVE on B's side
#   7003  listener; its connection closed by A first: A keeps TIME-WAIT
#   7004  listener, backlog 5, nothing queued
#   7005  listener whose handshake ACKs B drops: a request in SYN-RECV
#   7009  nothing: B drops the SYNs, A's connect stays in SYN-SENT
#   7100  a listener on Linux's TCP (not in XTCP_PRELOAD_PORTS) with one
#         connection from A on Linux's TCP, to compare with ss
#
# The rows, states, queues, filters, -e's uid/ino/cookie/timers, -i's
# byte counts, MSS and window scales, and -s's counters are checked.
#
# Runs only in the test VM, as root.

set -u

TOP=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)
cd "$TOP" || exit 1
# shellcheck source=selftests/_lib.sh
. "$TOP/selftests/_lib.sh"

SS=$TOP/build/tools/xtcp-ss
CONNECT=$TOP/build/tools/xtcp-connect
LIB=$TOP/build/tools/libxtcp-preload.so
NS_A=xtcp_ss$$_a
NS_B=xtcp_ss$$_b
DIR=$(mktemp -d /tmp/xtcp-ss.XXXXXX)
PIDS=()

cleanup() {
	local p
	exec 7>&-
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ip netns exec "$NS_B" nft delete table inet ssdrop 2>/dev/null
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

ktap_header
if [ ! -x "$SS" ] || [ ! -r "$LIB" ] || ! command -v python3 >/dev/null; then
	ktap_skip "ss" "needs $SS and $LIB (make tools) and python3"
	ktap_finish
	exit $?
fi

veth_netpair "$NS_A" "$NS_B" ssva ssvb
chmod 0777 "$DIR"

# xtcp-ss in namespace $1 (through its own -N), the rest its arguments.
xss() {
	local ns=$1
	shift
	"$SS" -N "$ns" "$@"
}

# Wait up to $1 tenths of a second for the command that follows to succeed.
wait_for() {
	local n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# Does the command that follows $1 print $1 lines?
lines_are() {
	local n=$1
	shift
	[ "$("$@" | wc -l)" -eq "$n" ]
}

size_is() {
	[ "$(stat -c %s "$1" 2>/dev/null)" = "$2" ]
}

# The field "$2:VALUE" of the -i line under the only row xtcp-ss prints
# for the arguments that follow $1 in namespace $1.
info_field() {
	local ns=$1 key=$2
	shift 2
	xss "$ns" -Hi "$@" | awk -v k="$key" '
		/^\t/ { for (i = 1; i <= NF; i++)
				if (index($i, k ":") == 1) print substr($i, length(k) + 2) }'
}

ip netns exec "$NS_B" env LD_PRELOAD="$LIB" XTCP_PRELOAD_PORTS=7001-7009 \
	python3 -c '
import os, socket, sys, time
d = sys.argv[1]
os.setgid(65534)
os.setuid(65534)
def listen(port, backlog):
    s = socket.socket()
    s.bind(("192.0.2.2", port))
    s.listen(backlog)
    return s
l1, l2, l3, l4 = listen(7001, 5), listen(7002, 5), listen(7003, 5), listen(7004, 5)
l5 = listen(7005, 5)
lin = listen(7100, 5)
open(d + "/ready", "w").close()
a, _ = l2.accept()
a.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
n = 0
while n < 3000:
    n += len(a.recv(3000 - n))
a.sendall(b"y" * 5000)
cookie = int.from_bytes(a.getsockopt(socket.SOL_SOCKET, 57, 8), "little")
with open(d + "/acc", "w") as f:
    f.write("%d %d %x\n" % (os.getpid(), a.fileno(), cookie))
b, _ = l3.accept()
while b.recv(4096):
    pass
b.close()
time.sleep(600)
' "$DIR" &
SRV=$!
PIDS+=("$SRV")

if ! wait_for 600 test -e "$DIR/ready"; then
	ktap_fail "ss.setup" "the server did not start"
	ktap_finish
	exit $?
fi

active0=$(xss "$NS_A" -sz ActiveOpens | awk '$1 == "ActiveOpens" { print $2 }')
passive0=$(xss "$NS_B" -sz PassiveOpens | awk '$1 == "PassiveOpens" { print $2 }')

# 7002: 3000 bytes out, then stdin (a FIFO held open on fd 7) stays
# open, so no FIN; 5000 bytes in.
mkfifo "$DIR/c2.in"
ip netns exec "$NS_A" "$CONNECT" -m 1000 -s 192.0.2.2 7002 \
	< "$DIR/c2.in" > "$DIR/c2.out" 2> "$DIR/c2.err" &
PIDS+=($!)
exec 7> "$DIR/c2.in"
head -c 3000 /dev/zero >&7
wait_for 300 test -s "$DIR/acc"
wait_for 100 size_is "$DIR/c2.out" 5000
C2PORT=$(awk -F: '/connected from/ { print $NF }' "$DIR/c2.err")
# 7003: connect and close at once; A ends in TIME-WAIT.
ip netns exec "$NS_A" "$CONNECT" 192.0.2.2 7003 > /dev/null
# 7001: three connections left in the accept queue.
for _ in 1 2 3; do
	ip netns exec "$NS_A" "$CONNECT" -w 600000 192.0.2.2 7001 > /dev/null &
	PIDS+=($!)
done
# 7100: Linux's TCP, for ss.
ip netns exec "$NS_A" bash -c 'exec 3<>/dev/tcp/192.0.2.2/7100 && exec sleep 600' &
PIDS+=($!)

wait_for 100 lines_are 3 xss "$NS_A" -H dport = :7001
wait_for 100 lines_are 1 xss "$NS_A" -H state time-wait
wait_for 100 lines_are 1 ip netns exec "$NS_A" ss -Htn dport = :7100

ktap_diag "$(xss "$NS_A" -aei)"
ktap_diag "$(xss "$NS_B" -aei)"

# ---- /proc/net/xtcp_ss ----
# (7005 and 7009 come last, so B's 7005 listener is the fifth here.)
hdr=$(ip netns exec "$NS_B" head -1 /proc/net/xtcp_ss)
bad=$(ip netns exec "$NS_B" awk -v n="$(wc -w <<<"$hdr")" \
	'NR > 1 && NF != n' /proc/net/xtcp_ss)
rows=$(ip netns exec "$NS_B" awk 'NR > 1' /proc/net/xtcp_ss | wc -l)
if [[ "$hdr" != "kind state recvq sendq local remote timer "* ]]; then
	ktap_fail "ss.proc_header" "header: $hdr"
elif [ -n "$bad" ] || [ "$rows" -ne 9 ]; then
	ktap_fail "ss.proc_header" "$rows rows (want 5 listeners, 4 connections)" "$bad"
else
	ktap_ok "ss.proc_header"
fi
# The lines of /proc/net/xtcp are as they were: one per entry, 3 fields
# (a listener's with its queues).
ktap_check "ss.proc_xtcp_unchanged" test \
	"$(ip netns exec "$NS_B" grep -c '^192.0.2.2:7001 0.0.0.0:0 LISTEN acceptq 3/5 requests 0$' /proc/net/xtcp)" -eq 1

# ---- rows and states ----
out=$(xss "$NS_A" | awk 'NR > 1 { print $1, $5 }' | sort)
want=$(printf 'ESTAB 192.0.2.2:7001\nESTAB 192.0.2.2:7001\nESTAB 192.0.2.2:7001\nESTAB 192.0.2.2:7002')
if [ "$out" = "$want" ]; then
	ktap_ok "ss.default_connections_only"
else
	ktap_fail "ss.default_connections_only" "got:" "$out"
fi

out=$(xss "$NS_A" -Ha | awk '{ print $1, $5 }' | sort)
want=$(printf '%s\nTIME-WAIT 192.0.2.2:7003' "$want")
if [ "$out" = "$want" ]; then
	ktap_ok "ss.all_with_time_wait"
else
	ktap_fail "ss.all_with_time_wait" "got:" "$out"
fi

out=$(xss "$NS_B" -Hl | awk '{ print $1, $2, $3, $4, $5 }' | sort)
want=$(printf 'LISTEN %s 5 192.0.2.2:%s 0.0.0.0:*\n' 3 7001 0 7002 0 7003 0 7004 \
	0 7005 | sort)
if [ "$out" = "$want" ]; then
	ktap_ok "ss.listeners_queues"
else
	ktap_fail "ss.listeners_queues" "got:" "$out" "want:" "$want"
fi

# ---- filters ----
ktap_check "ss.state_time_wait" test \
	"$(xss "$NS_A" -H state time-wait | awk '{ print $1, $5 }')" = "TIME-WAIT 192.0.2.2:7003"
ktap_check "ss.state_listening" test \
	"$(xss "$NS_B" -H state listening sport = :7001 | awk '{ print $2 "/" $3 }')" = "3/5"
ktap_check "ss.state_none_match" test \
	"$(xss "$NS_A" -H state syn-sent state fin-wait-2 | wc -l)" -eq 0
ktap_check "ss.dport_eq" test \
	"$(xss "$NS_A" -H dport = :7001 | awk '$5 == "192.0.2.2:7001"' | wc -l)" -eq 3
ktap_check "ss.dport_bare" test \
	"$(xss "$NS_A" -H dport :7002 | awk '{ print $5 }')" = "192.0.2.2:7002"
ktap_check "ss.sport_paren" test \
	"$(xss "$NS_A" -H '( sport = :'"$C2PORT"' )' | awk '{ print $4, $5 }')" = \
	"192.0.2.1:$C2PORT 192.0.2.2:7002"
ktap_check "ss.or_and_not" test \
	"$(xss "$NS_A" -Ha '( dport = :7002 or dport = :7003 ) and not dport :7003' | wc -l)" -eq 1
ktap_check "ss.dst_filter" test \
	"$(xss "$NS_B" -H dst 192.0.2.1 and sport :7002 | wc -l)" -eq 1
xss "$NS_A" state nosuchstate > /dev/null 2>&1
ktap_check "ss.bad_state_refused" test $? -eq 2
xss "$NS_A" sport = :ssh > /dev/null 2>&1
ktap_check "ss.bad_port_refused" test $? -eq 2

# ---- -e: uid, ino, cookie, timers ----
read -r pid fd cookie < "$DIR/acc"
ino=$(readlink "/proc/$pid/fd/$fd" | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
line=$(xss "$NS_B" -He state established sport = :7002)
if [ -n "$ino" ] && [[ "$line" == *" uid:65534 ino:$ino sk:$cookie"* ]]; then
	ktap_ok "ss.extended_uid_ino_cookie"
else
	ktap_fail "ss.extended_uid_ino_cookie" "ino $ino cookie $cookie" "$line"
fi
if [[ "$line" =~ timer:\(keepalive,[0-9]+min,0\) ]]; then
	ktap_ok "ss.timer_keepalive"
else
	ktap_fail "ss.timer_keepalive" "$line"
fi
line=$(xss "$NS_A" -He state time-wait)
if [[ "$line" =~ timer:\(timewait,[0-9.]+(sec|ms),0\)\ ino:0\ sk:0$ ]]; then
	ktap_ok "ss.timer_timewait"
else
	ktap_fail "ss.timer_timewait" "$line"
fi

# ---- -i ----
# Client (A, TCP_MAXSEG 1000): 3000 bytes acked (and its SYN, as Linux
# counts), 5000 received. Server (B): the mirror. Both send 988-byte
# segments: 1000 less the timestamp option. Window scales cross over.
info_is() {
	local want=$1
	shift
	[ "$(info_field "$@")" = "$want" ]
}

check_info() {
	local name=$1 ns=$2 key=$3 want=$4 got
	shift 4
	wait_for 50 info_is "$want" "$ns" "$key" "$@"
	got=$(info_field "$ns" "$key" "$@")
	if [ "$got" = "$want" ]; then
		ktap_ok "$name"
	else
		ktap_fail "$name" "$key: got '$got', want '$want'"
	fi
}
check_info "ss.info_client_bytes_acked" "$NS_A" bytes_acked 3001 dport = :7002
check_info "ss.info_client_bytes_received" "$NS_A" bytes_received 5000 dport = :7002
check_info "ss.info_server_bytes_acked" "$NS_B" bytes_acked 5000 state established sport = :7002
check_info "ss.info_server_bytes_received" "$NS_B" bytes_received 3000 state established sport = :7002
check_info "ss.info_client_mss" "$NS_A" mss 988 dport = :7002
check_info "ss.info_server_mss" "$NS_B" mss 988 state established sport = :7002
wa=$(info_field "$NS_A" wscale dport = :7002)
wb=$(info_field "$NS_B" wscale state established sport = :7002)
if [ -n "$wa" ] && [ "$wa" = "${wb#*,},${wb%,*}" ]; then
	ktap_ok "ss.info_wscale_crossed"
else
	ktap_fail "ss.info_wscale_crossed" "A wscale:$wa, B wscale:$wb"
fi
# No data on the 7001 connections: their last send and receive are the
# handshake's, seconds ago (Linux's figures), not the clock's start.
last=$(info_field "$NS_A" lastsnd dport = :7001 | sort -n | tail -1)
lastr=$(info_field "$NS_A" lastrcv dport = :7001 | sort -n | tail -1)
if [ -n "$last" ] && [ "$last" -lt 300000 ] && [ -n "$lastr" ] &&
   [ "$lastr" -lt 300000 ]; then
	ktap_ok "ss.info_last_since_handshake"
else
	ktap_fail "ss.info_last_since_handshake" "lastsnd:$last lastrcv:$lastr"
fi
line=$(xss "$NS_A" -Hi dport = :7002 | sed -n 2p)
if [[ "$line" == $'\t'" ts sack reno wscale:"* ]]; then
	ktap_ok "ss.info_line_layout"
else
	ktap_fail "ss.info_line_layout" "$line"
fi

# ---- the layout against ss on Linux's TCP ----
h1=$(xss "$NS_A" | head -1 | tr -s ' ')
h2=$(ip netns exec "$NS_A" ss -tan | head -1 | tr -s ' ')
ktap_check "ss.header_as_ss" test "${h1% Process}" = "${h2%Process}"
l1=$(ip netns exec "$NS_A" ss -Htn dport = :7100 | awk '{ print $1, $2, $3, $4 ~ /^192\.0\.2\.1:[0-9]+$/, $5 }')
l2=$(xss "$NS_A" -H dport = :7002 | awk '{ print $1, $2, $3, $4 ~ /^192\.0\.2\.1:[0-9]+$/, $5 }')
ktap_check "ss.estab_row_as_ss" test "$l1" = "${l2/7002/7100}"
# (Recv-Q differs: Linux's listener has its connection queued.)
l1=$(ip netns exec "$NS_B" ss -Htln sport = :7100 | awk '{ print $1, $3, $4, $5 }')
l2=$(xss "$NS_B" -Hl sport = :7004 | awk '{ print $1, $3, $4, $5 }')
ktap_check "ss.listen_row_as_ss" test "$l1" = "${l2/7004/7100}"

# ---- -s: the counters ----
active=$(xss "$NS_A" -s | awk '$1 == "ActiveOpens" { print $2 }')
passive=$(xss "$NS_B" -s 'Passive*' | awk '$1 == "PassiveOpens" { print $2 }')
ktap_check "ss.stat_kernel_line" test "$(xss "$NS_A" -s | head -1)" = "#kernel"
ktap_check "ss.stat_active_opens" test "$((active - active0))" -eq 5
ktap_check "ss.stat_passive_opens" test "$((passive - passive0))" -eq 5
ktap_check "ss.stat_pattern" test "$(xss "$NS_B" -sz 'Passive*' | wc -l)" -eq 2
ktap_check "ss.stat_zeros_hidden" test \
	"$(xss "$NS_A" -s ConnectNoPort | wc -l)" -eq 1

# ---- handshakes in progress ----
ip netns exec "$NS_B" nft add table inet ssdrop
ip netns exec "$NS_B" nft add chain inet ssdrop in '{ type filter hook input priority 0; }'
ip netns exec "$NS_B" nft add rule inet ssdrop in tcp dport 7005 \
	'tcp flags & (syn | ack) == ack' drop
ip netns exec "$NS_B" nft add rule inet ssdrop in tcp dport 7009 drop
ip netns exec "$NS_A" "$CONNECT" -w 600000 192.0.2.2 7005 > /dev/null &
PIDS+=($!)
ip netns exec "$NS_A" "$CONNECT" 192.0.2.2 7009 > /dev/null 2>&1 &
PIDS+=($!)
wait_for 100 lines_are 1 xss "$NS_B" -H state syn-recv
wait_for 100 lines_are 1 xss "$NS_A" -H state syn-sent
ktap_diag "$(xss "$NS_A" -ae state syn-sent)"
ktap_diag "$(xss "$NS_B" -ae state syn-recv)"

# A request: the listener's owner, no inode, the SYN-ACK timer.
line=$(xss "$NS_B" -He state syn-recv)
if [[ "$line" =~ ^SYN-RECV\ +0\ +0\ +192\.0\.2\.2:7005\ +192\.0\.2\.1:[0-9]+\ +timer:\(on,[0-9.]+(sec|ms),[0-9]+\)\ uid:65534\ ino:0\ sk:0$ ]]; then
	ktap_ok "ss.syn_recv_row"
else
	ktap_fail "ss.syn_recv_row" "$line"
fi
line=$(xss "$NS_A" -He state syn-sent)
if [[ "$line" =~ ^SYN-SENT\ .*\ 192\.0\.2\.2:7009\ +timer:\(on,[0-9.]+(sec|ms),[0-9]+\)\ ino:[1-9][0-9]*\ sk:0$ ]]; then
	ktap_ok "ss.syn_sent_row"
else
	ktap_fail "ss.syn_sent_row" "$line"
fi
# As ss: connections include SYN-SENT but not SYN-RECV.
ktap_check "ss.default_has_syn_sent" test \
	"$(xss "$NS_A" -H | awk '$1 == "SYN-SENT"' | wc -l)" -eq 1
ktap_check "ss.default_no_syn_recv" test \
	"$(xss "$NS_B" -H | awk '$1 == "SYN-RECV"' | wc -l)" -eq 0
ktap_check "ss.bucket_state" test \
	"$(xss "$NS_B" -H state bucket | awk '{ print $1 }')" = "SYN-RECV"

ktap_finish
exit $?
