#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unmodified programs on xtcp through build/tools/libxtcp-preload.so,
# between two namespaces over veth: Python's http.server (threaded)
# serving a 10 MB file to curl, with xtcp on the server side, on the
# client side, and on both; and a Python asyncio echo server and client,
# the same three ways. Each transfer's SHA-256 is compared, and the counters of the
# side that is xtcp's show that xtcp carried it (PassiveOpens for a
# server, ActiveOpens for a client).
#
# Runs only in the test VM, as root.

set -u

TOP=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)
cd "$TOP" || exit 1
# shellcheck source=selftests/_lib.sh
. "$TOP/selftests/_lib.sh"

LIB=$TOP/build/tools/libxtcp-preload.so
NS_A=xtcp_pg$$_a
NS_B=xtcp_pg$$_b
DIR=$(mktemp -d /tmp/xtcp-programs.XXXXXX)
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
if [ ! -r "$LIB" ] || ! command -v curl >/dev/null; then
	ktap_skip "programs" "needs $LIB (make tools) and curl"
	ktap_finish
	exit $?
fi

veth_netpair "$NS_A" "$NS_B" pgva pgvb

head -c 10000000 /dev/urandom > "$DIR/file"
SUM=$(sha256sum < "$DIR/file" | cut -d' ' -f1)

# A counter of /proc/net/xtcp_stat in namespace $1.
stat_of() {
	ip netns exec "$1" awk -v n="$2" '$1 == n { print $2 }' /proc/net/xtcp_stat
}

# http.server in B on port $1, on xtcp if $2 is "xtcp". No name lookups
# (server_bind's getfqdn() would wait for a DNS server there is not).
serve() {
	local port=$1 stack=$2 env=()

	[ "$stack" = xtcp ] && env=(env LD_PRELOAD="$LIB")
	ip netns exec "$NS_B" "${env[@]}" python3 -c '
import functools, http.server, socketserver, sys
class S(http.server.ThreadingHTTPServer):
    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "xtcp-test", self.server_address[1]
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[2])
S(("192.0.2.2", int(sys.argv[1])), h).serve_forever()
' "$port" "$DIR" 2>/dev/null &
	PIDS+=($!)
	for _ in $(seq 150); do
		ip netns exec "$NS_B" bash -c "exec 3<>/dev/tcp/192.0.2.2/$port" \
			2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# curl from A, on xtcp if $2 is "xtcp"; prints the body's SHA-256.
fetch() {
	local port=$1 stack=$2 env=()

	[ "$stack" = xtcp ] && env=(env LD_PRELOAD="$LIB")
	ip netns exec "$NS_A" "${env[@]}" curl -sS --max-time 120 \
		"http://192.0.2.2:$port/file" | sha256sum | cut -d' ' -f1
}

# $1 name, $2 port, $3 server stack, $4 client stack.
http_case() {
	local name=$1 port=$2 srv=$3 cli=$4 p0 a0 got p1 a1

	if ! serve "$port" "$srv"; then
		ktap_fail "$name" "http.server ($srv) did not start"
		return
	fi
	p0=$(stat_of "$NS_B" PassiveOpens)
	a0=$(stat_of "$NS_A" ActiveOpens)
	got=$(fetch "$port" "$cli")
	p1=$(stat_of "$NS_B" PassiveOpens)
	a1=$(stat_of "$NS_A" ActiveOpens)
	ktap_diag "$name: server $srv, PassiveOpens +$((p1 - p0)); client $cli, ActiveOpens +$((a1 - a0))"
	if [ "$got" != "$SUM" ]; then
		ktap_fail "$name" "sha256 $got, sent $SUM"
	elif [ "$srv" = xtcp ] && [ $((p1 - p0)) -lt 1 ]; then
		ktap_fail "$name" "the server's connection was not xtcp's"
	elif [ "$cli" = xtcp ] && [ $((a1 - a0)) -lt 1 ]; then
		ktap_fail "$name" "curl's connection was not xtcp's"
	elif [ "$cli" != xtcp ] && [ $((a1 - a0)) -ne 0 ]; then
		ktap_fail "$name" "curl on Linux's TCP made xtcp connections"
	else
		ktap_ok "$name"
	fi
}

http_case "programs.http_server_xtcp_curl_linux" 8001 xtcp linux
http_case "programs.http_server_linux_curl_xtcp" 8002 linux xtcp
http_case "programs.http_server_xtcp_curl_xtcp" 8003 xtcp xtcp

# asyncio: an echo server in B on port $1, on xtcp if $2 is "xtcp".
asyncio_serve() {
	local port=$1 stack=$2 env=()

	[ "$stack" = xtcp ] && env=(env LD_PRELOAD="$LIB")
	ip netns exec "$NS_B" "${env[@]}" python3 -c '
import asyncio, sys
async def echo(r, w):
    while data := await r.read(65536):
        w.write(data)
        await w.drain()
    w.close()
async def main():
    s = await asyncio.start_server(echo, "192.0.2.2", int(sys.argv[1]))
    async with s:
        await s.serve_forever()
asyncio.run(main())
' "$port" &
	PIDS+=($!)
}

# An asyncio client in A (on xtcp if $2 is "xtcp") sends 2 MB of random
# bytes to port $1 while it reads the echo; prints both SHA-256 sums.
asyncio_client() {
	local port=$1 stack=$2 env=()

	[ "$stack" = xtcp ] && env=(env LD_PRELOAD="$LIB")
	ip netns exec "$NS_A" "${env[@]}" timeout 60 python3 -c '
import asyncio, hashlib, os, sys
async def main():
    for _ in range(100):
        try:
            r, w = await asyncio.open_connection("192.0.2.2", int(sys.argv[1]))
            break
        except OSError:
            await asyncio.sleep(0.2)
    data = os.urandom(2000000)
    async def send():
        w.write(data)
        await w.drain()
        w.write_eof()
    t = asyncio.create_task(send())
    got = bytearray()
    while chunk := await r.read(65536):
        got += chunk
    await t
    print(hashlib.sha256(data).hexdigest(), hashlib.sha256(got).hexdigest())
asyncio.run(main())
' "$port"
}

# $1 name, $2 port, $3 server stack, $4 client stack.
asyncio_case() {
	local name=$1 port=$2 srv=$3 cli=$4 p0 a0 out p1 a1

	asyncio_serve "$port" "$srv"
	p0=$(stat_of "$NS_B" PassiveOpens)
	a0=$(stat_of "$NS_A" ActiveOpens)
	out=$(asyncio_client "$port" "$cli")
	p1=$(stat_of "$NS_B" PassiveOpens)
	a1=$(stat_of "$NS_A" ActiveOpens)
	ktap_diag "$name: server $srv, PassiveOpens +$((p1 - p0)); client $cli, ActiveOpens +$((a1 - a0))"
	set -- $out
	if [ $# -ne 2 ] || [ "$1" != "$2" ]; then
		ktap_fail "$name" "sums '$out'"
	elif [ "$srv" = xtcp ] && [ $((p1 - p0)) -lt 1 ]; then
		ktap_fail "$name" "the server's connection was not xtcp's"
	elif [ "$srv" != xtcp ] && [ $((p1 - p0)) -ne 0 ]; then
		ktap_fail "$name" "the server on Linux's TCP took xtcp connections"
	elif [ "$cli" = xtcp ] && [ $((a1 - a0)) -lt 1 ]; then
		ktap_fail "$name" "the client's connection was not xtcp's"
	elif [ "$cli" != xtcp ] && [ $((a1 - a0)) -ne 0 ]; then
		ktap_fail "$name" "the client on Linux's TCP made xtcp connections"
	else
		ktap_ok "$name"
	fi
}

asyncio_case "programs.asyncio_echo_xtcp_server" 8100 xtcp linux
asyncio_case "programs.asyncio_echo_xtcp_client" 8101 linux xtcp
asyncio_case "programs.asyncio_echo_xtcp_both" 8102 xtcp xtcp

ktap_finish
exit $?
