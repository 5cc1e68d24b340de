#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# More unmodified programs on xtcp through build/tools/libxtcp-preload.so,
# between two namespaces over veth, each with xtcp on one side (Linux's
# TCP on the other) and on both:
#
#   iperf3    server (-s -1) and client (-t 5), both directions (-R);
#             the JSON report must show bytes received and no error
#   nginx     serving a 1 MB static file (sendfile on) to wrk for 5 s
#             with no socket errors and no non-2xx answers, then a 4 MB
#             one to curl, whose SHA-256 is compared
#   socat     copying a 4 MB file from a TCP-LISTEN server to a client,
#             SHA-256 compared
#
# The counters of each side that is xtcp's show that xtcp carried it:
# PassiveOpens for a server, ActiveOpens for a client, and InSegs.
#
# Runs only in the test VM, as root.

set -u

TOP=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)
cd "$TOP" || exit 1
# shellcheck source=selftests/_lib.sh
. "$TOP/selftests/_lib.sh"

LIB=$TOP/build/tools/libxtcp-preload.so
NS_A=xtcp_pp$$_a
NS_B=xtcp_pp$$_b
DIR=$(mktemp -d /tmp/xtcp-programs2.XXXXXX)
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

ktap_header
if [ ! -r "$LIB" ]; then
	ktap_skip "programs2" "needs $LIB (make tools)"
	ktap_finish
	exit $?
fi

veth_netpair "$NS_A" "$NS_B" ppva ppvb

mkdir -p "$DIR/www" "$DIR/nginx"
head -c 4000000 /dev/urandom > "$DIR/www/file"
head -c 1000000 /dev/urandom > "$DIR/www/small"
SUM=$(sha256sum < "$DIR/www/file" | cut -d' ' -f1)

# A counter of /proc/net/xtcp_stat in namespace $1.
stat_of() {
	ip netns exec "$1" awk -v n="$2" '$1 == n { print $2 }' /proc/net/xtcp_stat
}

# Run "$@" in namespace $1, on xtcp if $2 is "xtcp". In a subshell
# (started with &, or in $(...)) the program replaces it, so that $! is
# the program and kill reaches it.
in_ns() {
	local ns=$1 stack=$2 env=()

	shift 2
	[ "$stack" = xtcp ] && env=(env LD_PRELOAD="$LIB")
	if [ "$BASH_SUBSHELL" -gt 0 ]; then
		exec ip netns exec "$ns" "${env[@]}" "$@"
	fi
	ip netns exec "$ns" "${env[@]}" "$@"
}

# Wait for a listener on 192.0.2.2:$1 (a Linux TCP probe from B).
wait_port() {
	for _ in $(seq 150); do
		ip netns exec "$NS_B" bash -c "exec 3<>/dev/tcp/192.0.2.2/$1" \
			2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# Counters before a case: server side B, client side A.
snap() {
	P0=$(stat_of "$NS_B" PassiveOpens)
	I0=$(stat_of "$NS_B" InSegs)
	A0=$(stat_of "$NS_A" ActiveOpens)
	J0=$(stat_of "$NS_A" InSegs)
}

# After a case: WHY is set to why xtcp did not carry it ($1 server, $2
# client stack, $3 the fewest connections expected), or to "".
xtcp_why() {
	local srv=$1 cli=$2 conns=$3 p a i j

	WHY=

	p=$(($(stat_of "$NS_B" PassiveOpens) - P0))
	i=$(($(stat_of "$NS_B" InSegs) - I0))
	a=$(($(stat_of "$NS_A" ActiveOpens) - A0))
	j=$(($(stat_of "$NS_A" InSegs) - J0))
	ktap_diag "server $srv: PassiveOpens +$p InSegs +$i; client $cli: ActiveOpens +$a InSegs +$j"
	if [ "$srv" = xtcp ] && { [ "$p" -lt "$conns" ] || [ "$i" -lt 100 ]; }; then
		WHY="the server's connections were not xtcp's"
	elif [ "$cli" = xtcp ] && { [ "$a" -lt "$conns" ] || [ "$j" -lt 100 ]; }; then
		WHY="the client's connections were not xtcp's"
	elif [ "$cli" != xtcp ] && [ "$a" -ne 0 ]; then
		WHY="the client on Linux's TCP made xtcp connections"
	elif [ "$srv" != xtcp ] && [ "$p" -ne 0 ]; then
		WHY="the server on Linux's TCP took xtcp connections"
	fi
}

# iperf3: $1 name, $2 port, $3 server stack, $4 client stack, $5 "-R" or "".
# The control and the data connection: two opens on each xtcp side.
iperf_case() {
	local name=$1 port=$2 srv=$3 cli=$4 rev=$5 json=$DIR/iperf.json
	local res

	if ! command -v iperf3 >/dev/null; then
		ktap_skip "$name" "needs iperf3"
		return
	fi
	in_ns "$NS_B" "$srv" timeout 60 iperf3 -s -1 -B 192.0.2.2 -p "$port" \
		>/dev/null 2>&1 &
	PIDS+=($!)
	sleep 2
	snap
	in_ns "$NS_A" "$cli" timeout 60 iperf3 -c 192.0.2.2 -p "$port" -t 5 \
		$rev -J > "$json" 2>&1
	res=$(python3 -c '
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except ValueError:
    print("no JSON report"); sys.exit()
if "error" in r:
    print("error:", r["error"]); sys.exit()
n = r["end"]["sum_received"]["bytes"]
print("ok" if n >= 1000000 else "received", n, "bytes")
' "$json")
	xtcp_why "$srv" "$cli" 2
	ktap_diag "$name: $res"
	if [ "${res%% *}" != ok ]; then
		ktap_fail "$name" "iperf3: $res"
	elif [ -n "$WHY" ]; then
		ktap_fail "$name" "$WHY"
	else
		ktap_ok "$name"
	fi
}

iperf_case "programs2.iperf3_server_xtcp_client_linux" 5201 xtcp linux ""
iperf_case "programs2.iperf3_server_linux_client_xtcp_reverse" 5202 linux xtcp -R
iperf_case "programs2.iperf3_xtcp_both" 5203 xtcp xtcp ""
iperf_case "programs2.iperf3_xtcp_both_reverse" 5204 xtcp xtcp -R

# nginx in B on port $1, on xtcp if $2 is "xtcp"; one process, no daemon.
nginx_start() {
	local port=$1 stack=$2 d=$DIR/nginx

	cat > "$d/nginx.conf" <<EOC
daemon off;
master_process off;
user root;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 64; }
http {
	access_log $d/access.log;
	client_body_temp_path $d;
	proxy_temp_path $d;
	fastcgi_temp_path $d;
	uwsgi_temp_path $d;
	scgi_temp_path $d;
	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;
	server {
		listen 192.0.2.2:$port;
		root $DIR/www;
	}
}
EOC
	in_ns "$NS_B" "$stack" nginx -p "$d" -c "$d/nginx.conf" 2>"$d/stderr" &
	NGINX=$!
	PIDS+=($!)
	wait_port "$port"
}

# $1 name, $2 port, $3 nginx's stack, $4 the clients' (wrk, then curl).
nginx_case() {
	local name=$1 port=$2 srv=$3 cli=$4 out reqs got

	if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
		ktap_skip "$name" "needs nginx and wrk"
		return
	fi
	if ! nginx_start "$port" "$srv"; then
		ktap_fail "$name" "nginx ($srv) did not start" "$(cat "$DIR/nginx/stderr")"
		return
	fi
	snap
	# wrk's 2 s timeout is short for a shared TCG guest: 10 s.
	out=$(in_ns "$NS_A" "$cli" timeout 30 wrk -t1 -c4 -d5s --timeout 10s \
		"http://192.0.2.2:$port/small" 2>&1)
	got=$(in_ns "$NS_A" "$cli" curl -sS --max-time 60 \
		"http://192.0.2.2:$port/file" | sha256sum | cut -d' ' -f1)
	xtcp_why "$srv" "$cli" 5
	kill "$NGINX" 2>/dev/null
	wait "$NGINX" 2>/dev/null
	reqs=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' <<<"$out")
	ktap_diag "$name: wrk: ${reqs:-no} requests"
	if [ -z "$reqs" ] || [ "$reqs" -lt 1 ]; then
		ktap_fail "$name" "wrk made no requests" "$out"
	elif grep -qE 'Socket errors|Non-2xx' <<<"$out"; then
		ktap_fail "$name" "wrk saw errors" "$out"
	elif [ "$got" != "$SUM" ]; then
		ktap_fail "$name" "curl: sha256 $got, sent $SUM"
	elif [ -n "$WHY" ]; then
		ktap_fail "$name" "$WHY"
	else
		ktap_ok "$name"
	fi
}

nginx_case "programs2.nginx_xtcp_wrk_linux" 8080 xtcp linux
nginx_case "programs2.nginx_xtcp_wrk_xtcp" 8081 xtcp xtcp

# socat: $1 name, $2 port, $3 listener's stack, $4 client's. The client
# sends the file; the listener writes what it got.
socat_case() {
	local name=$1 port=$2 srv=$3 cli=$4 got pid

	if ! command -v socat >/dev/null; then
		ktap_skip "$name" "needs socat"
		return
	fi
	rm -f "$DIR/socat.out"
	in_ns "$NS_B" "$srv" timeout 60 socat -u \
		"TCP-LISTEN:$port,bind=192.0.2.2,reuseaddr" \
		"OPEN:$DIR/socat.out,creat,trunc" &
	pid=$!
	PIDS+=($!)
	sleep 1
	snap
	in_ns "$NS_A" "$cli" timeout 60 socat -u "OPEN:$DIR/www/file" \
		"TCP:192.0.2.2:$port,retry=20"
	wait "$pid"
	got=$(sha256sum < "$DIR/socat.out" | cut -d' ' -f1)
	xtcp_why "$srv" "$cli" 1
	if [ "$got" != "$SUM" ]; then
		ktap_fail "$name" "sha256 $got, sent $SUM"
	elif [ -n "$WHY" ]; then
		ktap_fail "$name" "$WHY"
	else
		ktap_ok "$name"
	fi
}

socat_case "programs2.socat_listen_linux_client_xtcp" 9001 linux xtcp
socat_case "programs2.socat_xtcp_both" 9002 xtcp xtcp

ktap_finish
exit $?
