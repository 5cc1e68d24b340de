// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp passive open under load: one xtcp listener against much data,
 * many clients, a slow accept() loop, a SYN flood, and a SYN without
 * any option.
 *
 * The namespaces are listen_test.c's (struct netpair): A (192.0.2.1 on
 * va) holds the clients and the test's thread, B (192.0.2.2 on vb) the
 * xtcp listener on port 5000, made by stepping into B
 * (socket_in_netns()); B's counters (/proc/net/xtcp_stat), its
 * /proc/net/xtcp and /proc/net/xtcp_sockstat are read the same way. The
 * scripted test uses xtcp_peer.h's pair instead: the listener in A, the
 * test playing the peer through a packet socket in B.
 *
 * Covered:
 * - bulk_100mb: 100,000,000 bytes each way at once between an accepted
 *   xtcp socket and a Linux TCP client, then an xtcp client; each end
 *   hashes what it sends and what it receives (FNV-1a over the 64-bit
 *   words of a pseudo-random stream) and checks it byte by byte: counts,
 *   contents and hashes must agree, and each side reads the end of the
 *   stream;
 * - thousand_connections: 1000 connections one after the other, Linux
 *   TCP and xtcp clients in turn, each exchanging a request and a
 *   response, half closed by the server first and half by the client:
 *   PassiveOpens +1000; once they have settled, the namespace's sockets
 *   (xtcp_sockstat inuse), the host's (alloc, orphan) and xtcp.ko's
 *   reference count are back to the listener alone, which is listed
 *   once, and the TIME_WAIT entries are exactly the active closes of
 *   each side;
 * - backlog8_200_clients: listen(fd, 8), 200 Linux clients at once (with
 *   TCP_THIN_LINEAR_TIMEOUTS, see the test) and a server that sleeps a
 *   second before it accepts: every client connects
 *   and exchanges a byte each way with its own accepted socket, exactly
 *   200 are accepted, and the counters account for the drops
 *   (ListenOverflows, ListenDrops, SyncookiesSent);
 * - syn_flood_with_cookies: a raw socket in A floods a listener with
 *   backlog 16 with SYNs from spoofed addresses of 192.0.2.0/24, whose
 *   SYN-ACKs leave B toward a MAC address nobody has; with SYN cookies at
 *   their default (1), 20 Linux clients connect and exchange data during
 *   the flood, cookies are sent, and the listener's request count, as
 *   /proc/net/xtcp shows it, never exceeds the backlog;
 * - syn_without_options: a scripted peer's SYN without any TCP option is
 *   answered with a SYN-ACK carrying the MSS alone (as Linux's), its
 *   window unscaled (the same as for a SYN offering window scaling); the
 *   accepted socket's 3000 bytes come in segments of at most 536 bytes
 *   (the default MSS), without options, their window not scaled either;
 *   the peer's RST resets the socket.
 *
 * Teardown closes the xtcp sockets, then the others, and waits for
 * xtcp.ko's reference count to come back to where it was.
 */
#include "kselftest_harness.h"
#include "xtcp_test.h"
#include "xtcp_peer.h"
#include "xtcp_netns.h"

#include <endian.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/time.h>

#define A_ADDR		NETPAIR_A_ADDR
#define B_ADDR		NETPAIR_B_ADDR
#define XPORT		5000	/* the xtcp listener */
#define KPORT		5001	/* Linux's listener: the scripted reference */
#define SYNCOOKIES	XTCP_SYSCTL_DIR "syncookies"
#define MAX_TW		XTCP_SYSCTL_DIR "max_tw_buckets"
#define TW_TIMEOUT	XTCP_SYSCTL_DIR "tw_timeout"
#define IO_TIMEO_MS	20000	/* a stalled send/recv fails, not hangs */
#define CHUNK		65536	/* bytes per send()/recv() call */
#define PAT_LEN		(1024 * 1024 + 4093)	/* no multiple of an MSS */
#define FNV_INIT	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL
#define LIST_SIZE	(256 * 1024)

/* ---- the stream: byte i is pat[i % PAT_LEN] ---- */

static unsigned char pat[PAT_LEN + CHUNK];

static void __attribute__((constructor)) pat_init(void)
{
	uint64_t x = 0x2545f4914f6cdd1dULL;
	size_t i;

	for (i = 0; i < PAT_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		pat[i] = x >> 32;
	}
	memcpy(pat + PAT_LEN, pat, CHUNK);
}

static const unsigned char *pat_at(long long off)
{
	return pat + off % PAT_LEN;
}

/**
 * struct hash - FNV-1a over the 64-bit little-endian words of a stream
 * @h: the hash of the whole words so far
 * @tail: the bytes of the word not yet complete
 * @ntail: how many
 *
 * A word at a time rather than a byte, so that the receivers keep up with
 * 100 MB under emulation; where the stream was cut into send() or recv()
 * calls does not change the result.
 */
struct hash {
	uint64_t	h;
	uint64_t	tail;
	unsigned int	ntail;
};

static void hash_init(struct hash *x)
{
	x->h = FNV_INIT;
	x->tail = 0;
	x->ntail = 0;
}

static void hash_add(struct hash *x, const unsigned char *p, size_t n)
{
	uint64_t h = x->h, w;

	for (; n && x->ntail; p++, n--) {
		x->tail |= (uint64_t)*p << (8 * x->ntail++);
		if (x->ntail == 8) {
			h = (h ^ x->tail) * FNV_PRIME;
			x->tail = 0;
			x->ntail = 0;
		}
	}
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ le64toh(w)) * FNV_PRIME;
	}
	for (; n; p++, n--)
		x->tail |= (uint64_t)*p << (8 * x->ntail++);
	x->h = h;
}

static uint64_t hash_end(const struct hash *x)
{
	if (!x->ntail)
		return x->h;
	return ((x->h ^ x->tail) * FNV_PRIME) ^ x->ntail;
}

/* ---- environment ---- */

/* What every test of the netpair fixtures has. */
struct env {
	struct netpair	np;
	int		refcnt;	/* xtcp.ko's reference count before the test */
};

static void env_setup(struct __test_metadata *_metadata, struct env *e)
{
	const char *step;

	e->np.a = -1;
	e->np.b = -1;
	e->refcnt = xtcp_module_refcnt();
	ASSERT_LE(0, e->refcnt) TH_LOG("%s unreadable", XTCP_REFCNT_FILE);
	step = netpair_setup(&e->np);
	ASSERT_EQ(NULL, step) TH_LOG("namespaces and veth: %s failed", step);
	ASSERT_EQ(0, netpair_static_neigh(&e->np));
}

static void env_teardown(struct __test_metadata *_metadata, struct env *e)
{
	int refcnt = close_sockets_wait(e->refcnt);

	if (refcnt > e->refcnt)
		TH_LOG("xtcp sockets alive 10 s after teardown closed them: "
		       "module refcount %d, %d before the test",
		       refcnt, e->refcnt);
	EXPECT_GE(e->refcnt, refcnt);
	netpair_close(&e->np);
}

/* ---- namespaces: counters, sysctls and /proc files of B ---- */

/**
 * struct lline - what /proc/net/xtcp lists on one local port
 * @lines: LISTEN lines
 * @acceptq: the first listener's queued connections ("acceptq Q/B")
 * @backlog: its backlog
 * @requests: its requests ("requests N")
 * @syn_recv: SYN_RECV lines (requests)
 * @estab: ESTABLISHED lines
 * @tw: TIME_WAIT lines
 * @other: lines in any other state
 */
struct lline {
	int	lines;
	int	acceptq;
	int	backlog;
	int	requests;
	int	syn_recv;
	int	estab;
	int	tw;
	int	other;
};

/*
 * Parse /proc/net/xtcp of @nsfd (read into @buf) for local port @port.
 * 0, or -1 if the file could not be read.
 */
static int list_port(int nsfd, int port, char *buf, size_t size,
		     struct lline *l)
{
	char local[64], remote[64], st[32], *line, *colon;

	memset(l, 0, sizeof(*l));
	l->acceptq = -1;
	l->requests = -1;
	if (list_read(nsfd, buf, size) < 0)
		return -1;
	for (line = buf; *line; line = next_line(line)) {
		if (sscanf(line, "%63s %63s %31s", local, remote, st) != 3)
			continue;
		colon = strrchr(local, ':');
		if (!colon || atoi(colon + 1) != port)
			continue;
		if (!strcmp(st, "LISTEN")) {
			if (!l->lines++ &&
			    sscanf(line, "%*s %*s LISTEN acceptq %d/%d requests %d",
				   &l->acceptq, &l->backlog, &l->requests) != 3)
				l->acceptq = -2;
		} else if (!strcmp(st, "SYN_RECV")) {
			l->syn_recv++;
		} else if (!strcmp(st, "ESTABLISHED")) {
			l->estab++;
		} else if (!strcmp(st, "TIME_WAIT")) {
			l->tw++;
		} else {
			l->other++;
		}
	}
	return 0;
}

/* Wait up to @ms for the tuple to be gone; 1 if it went. */
static int wait_gone(int nsfd, const char *local, const char *remote, int ms,
		     char *state, size_t size)
{
	long long end = now_ms() + ms;

	for (;;) {
		if (!tuple_state(nsfd, local, remote, state, size))
			return 1;
		if (now_ms() >= end)
			return 0;
		usleep(20000);
	}
}

/* ---- sockets ---- */

static void set_timeo(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* An xtcp listener in B on 0.0.0.0:XPORT (@flags: SOCK_NONBLOCK...). */
static int b_listener(struct __test_metadata *_metadata, struct env *e,
		      int backlog, int flags)
{
	int fd, err;

	fd = socket_in_netns(e->np.b, xtcp_family(),
			     SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	ASSERT_LE(0, fd) TH_LOG("xtcp socket in B: %s", strerror(-fd));
	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1));
	err = bind_err(fd, "0.0.0.0", XPORT);
	ASSERT_EQ(0, err) TH_LOG("bind 0.0.0.0:%d: %s", XPORT, strerror(err));
	ASSERT_EQ(0, listen(fd, backlog)) TH_LOG("listen: %s", strerror(errno));
	return fd;
}

/* A @family client in A (the test's thread), connected to B:XPORT. */
static int a_client(struct __test_metadata *_metadata, int family)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	ASSERT_LE(0, fd) TH_LOG("%s socket: %s", fam_name(family),
				strerror(errno));
	err = connect_err(fd, B_ADDR, XPORT);
	ASSERT_EQ(0, err) TH_LOG("%s client: connect to %s:%d: %s",
				 fam_name(family), B_ADDR, XPORT, strerror(err));
	return fd;
}

/* accept() within @ms; the fd, or -1. @peer may be NULL. */
static int accept_within(int lfd, int ms, struct sockaddr_in *peer)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	if (!(poll_one(lfd, POLLIN, ms) & POLLIN))
		return -1;
	fd = accept4(lfd, (struct sockaddr *)&sin, &len, SOCK_CLOEXEC);
	if (fd >= 0 && peer)
		*peer = sin;
	return fd;
}

/* Read exactly @n bytes; @n, or what arrived before EOF, or -errno. */
static ssize_t recv_exact(int fd, void *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = recv(fd, (char *)buf + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			break;
		got += r;
	}
	return got;
}

/* ---- 1. bulk ---- */

/**
 * struct xfer - one direction of a stream, as its sender or receiver sees it
 * @fd: the socket
 * @len: sender: bytes to send, then shutdown(SHUT_WR); receiver: 0 (to EOF)
 * @bytes: bytes sent or received
 * @hash: of those bytes
 * @bad_at: receiver: offset of the first byte not as sent, or -1
 * @err: the errno that stopped it, or 0
 * @eof: receiver: recv() returned 0
 * @th: its thread
 */
struct xfer {
	int		fd;
	long long	len;
	long long	bytes;
	struct hash	hash;
	long long	bad_at;
	int		err;
	int		eof;
	pthread_t	th;
};

static void xfer_init(struct xfer *x, int fd, long long len)
{
	memset(x, 0, sizeof(*x));
	x->fd = fd;
	x->len = len;
	hash_init(&x->hash);
	x->bad_at = -1;
}

static void *xfer_send(void *arg)
{
	struct xfer *x = arg;

	while (x->bytes < x->len) {
		const unsigned char *p = pat_at(x->bytes);
		size_t n = x->len - x->bytes < CHUNK ? x->len - x->bytes : CHUNK;
		ssize_t r = send(x->fd, p, n, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			x->err = r < 0 ? errno : EIO;
			return NULL;
		}
		hash_add(&x->hash, p, r);
		x->bytes += r;
	}
	if (shutdown(x->fd, SHUT_WR))
		x->err = errno;
	return NULL;
}

static void *xfer_recv(void *arg)
{
	static __thread unsigned char buf[CHUNK];
	struct xfer *x = arg;

	for (;;) {
		ssize_t r = recv(x->fd, buf, CHUNK, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			x->err = errno;
			break;
		}
		if (!r) {
			x->eof = 1;
			break;
		}
		if (x->bad_at < 0 && memcmp(buf, pat_at(x->bytes), r)) {
			const unsigned char *p = pat_at(x->bytes);
			ssize_t i;

			for (i = 0; buf[i] == p[i]; i++)
				;
			x->bad_at = x->bytes + i;
		}
		hash_add(&x->hash, buf, r);
		x->bytes += r;
	}
	return NULL;
}

static void xfer_check(struct __test_metadata *_metadata, const char *what,
		       const struct xfer *tx, const struct xfer *rx,
		       long long len)
{
	EXPECT_EQ(0, tx->err) TH_LOG("%s: send failed after %lld bytes: %s",
				     what, tx->bytes, strerror(tx->err));
	EXPECT_EQ(0, rx->err) TH_LOG("%s: recv failed after %lld bytes: %s",
				     what, rx->bytes, strerror(rx->err));
	EXPECT_EQ(len, tx->bytes) TH_LOG("%s: bytes sent", what);
	EXPECT_EQ(len, rx->bytes) TH_LOG("%s: bytes received", what);
	EXPECT_EQ(-1, rx->bad_at) TH_LOG("%s: byte %lld arrived wrong", what,
					 rx->bad_at);
	EXPECT_EQ(hash_end(&tx->hash), hash_end(&rx->hash))
		TH_LOG("%s: hash sent %016llx, received %016llx", what,
		       (unsigned long long)hash_end(&tx->hash),
		       (unsigned long long)hash_end(&rx->hash));
	EXPECT_TRUE(rx->eof) TH_LOG("%s: no end of stream", what);
}

FIXTURE(bulk) {
	struct env e;
};

/* @xtcp_client: the client is xtcp (else Linux's TCP) */
FIXTURE_VARIANT(bulk) {
	int xtcp_client;
};

FIXTURE_VARIANT_ADD(bulk, linux_client) { .xtcp_client = 0 };
FIXTURE_VARIANT_ADD(bulk, xtcp_client) { .xtcp_client = 1 };

FIXTURE_SETUP(bulk)
{
	env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(bulk)
{
	env_teardown(_metadata, &self->e);
}

#define BULK_LEN	100000000LL

/*
 * 100,000,000 bytes from the client to the accepted socket and as many
 * back, at once (four threads); each sender shuts its side down after its
 * last byte, each receiver reads to the end. Counts, contents and hashes
 * agree both ways.
 */
TEST_F_TIMEOUT(bulk, bulk_100mb, 90)
{
	static struct xfer ctx, srx, stx, crx;
	int cfam = variant->xtcp_client ? xtcp_family() : AF_INET;
	int nsb = self->e.np.b, lfd, cfd, afd;
	long long passive0, t0, ms;

	passive0 = stat_in(nsb, "PassiveOpens");
	ASSERT_LE(0, passive0) TH_LOG("no PassiveOpens in %s", XTCP_STAT_FILE);
	lfd = b_listener(_metadata, &self->e, 8, 0);
	cfd = a_client(_metadata, cfam);
	afd = accept_within(lfd, 5000, NULL);
	ASSERT_LE(0, afd) TH_LOG("nothing accepted");
	EXPECT_EQ(xtcp_family(), getsockopt_int(afd, SOL_SOCKET, SO_DOMAIN));
	EXPECT_EQ(passive0 + 1, stat_in(nsb, "PassiveOpens"));

	set_timeo(cfd, IO_TIMEO_MS);
	set_timeo(afd, IO_TIMEO_MS);
	xfer_init(&ctx, cfd, BULK_LEN);
	xfer_init(&srx, afd, 0);
	xfer_init(&stx, afd, BULK_LEN);
	xfer_init(&crx, cfd, 0);
	t0 = now_ms();
	ASSERT_EQ(0, pthread_create(&srx.th, NULL, xfer_recv, &srx));
	ASSERT_EQ(0, pthread_create(&crx.th, NULL, xfer_recv, &crx));
	ASSERT_EQ(0, pthread_create(&ctx.th, NULL, xfer_send, &ctx));
	ASSERT_EQ(0, pthread_create(&stx.th, NULL, xfer_send, &stx));
	pthread_join(ctx.th, NULL);
	pthread_join(stx.th, NULL);
	pthread_join(srx.th, NULL);
	pthread_join(crx.th, NULL);
	ms = now_ms() - t0;
	xfer_check(_metadata, "client to server", &ctx, &srx, BULK_LEN);
	xfer_check(_metadata, "server to client", &stx, &crx, BULK_LEN);
	TH_LOG("%s client: %lld bytes each way in %lld ms (%.1f MB/s each way)",
	       fam_name(cfam), BULK_LEN, ms, ms ? BULK_LEN / 1e3 / ms : 0.0);
}

/* ---- fixture of the load tests ---- */

FIXTURE(load) {
	struct env e;
};

FIXTURE_SETUP(load)
{
	env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(load)
{
	env_teardown(_metadata, &self->e);
}

/* ---- 2. a thousand connections ---- */

#define CONNS		1000
#define CPORT0		20000	/* connection i's client binds CPORT0 + i */

/* Connection i: an xtcp client if i is odd, else a Linux one. */
static int conn_family(int i)
{
	return i & 1 ? xtcp_family() : AF_INET;
}

/* Connection i: the server closes first if bit 1 of i is set. */
static int conn_server_first(int i)
{
	return (i >> 1) & 1;
}

/*
 * Connection @i: a client on port CPORT0 + @i (each connection its own
 * 4-tuple, so that no SYN meets an earlier connection's TIME_WAIT entry
 * and every count below is exact) connects, is accepted, sends a request
 * and reads the response; then one side closes, the other reads the end
 * of the stream and closes too.
 */
static void one_conn(struct __test_metadata *_metadata, int lfd, int i)
{
	int fam = conn_family(i), cfd, afd, first, second, err;
	char req[32], resp[32], buf[32];
	struct sockaddr_in peer;
	ssize_t n, m;

	cfd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, cfd) TH_LOG("connection %d: %s socket: %s", i,
				 fam_name(fam), strerror(errno));
	set_timeo(cfd, IO_TIMEO_MS);
	err = bind_err(cfd, "0.0.0.0", CPORT0 + i);
	ASSERT_EQ(0, err) TH_LOG("connection %d: %s bind to port %d: %s", i,
				 fam_name(fam), CPORT0 + i, strerror(err));
	err = connect_err(cfd, B_ADDR, XPORT);
	ASSERT_EQ(0, err) TH_LOG("connection %d: %s connect: %s", i,
				 fam_name(fam), strerror(err));
	afd = accept_within(lfd, 5000, &peer);
	ASSERT_LE(0, afd) TH_LOG("connection %d (%s client) not accepted", i,
				 fam_name(fam));
	EXPECT_EQ(CPORT0 + i, ntohs(peer.sin_port))
		TH_LOG("connection %d: accept() says port %d", i,
		       ntohs(peer.sin_port));
	set_timeo(afd, IO_TIMEO_MS);

	n = snprintf(req, sizeof(req), "request %d", i);
	m = snprintf(resp, sizeof(resp), "response %d, longer", i);
	ASSERT_EQ(n, send(cfd, req, n, MSG_NOSIGNAL))
		TH_LOG("connection %d: client send: %s", i, strerror(errno));
	ASSERT_EQ(n, recv_exact(afd, buf, n)) TH_LOG("connection %d", i);
	EXPECT_EQ(0, memcmp(buf, req, n)) TH_LOG("connection %d", i);
	ASSERT_EQ(m, send(afd, resp, m, MSG_NOSIGNAL))
		TH_LOG("connection %d: server send: %s", i, strerror(errno));
	ASSERT_EQ(m, recv_exact(cfd, buf, m)) TH_LOG("connection %d", i);
	EXPECT_EQ(0, memcmp(buf, resp, m)) TH_LOG("connection %d", i);

	first = conn_server_first(i) ? afd : cfd;
	second = first == afd ? cfd : afd;
	ASSERT_EQ(0, close(first));
	ASSERT_EQ(0, recv_exact(second, buf, 1))
		TH_LOG("connection %d: no end of stream after the %s's close",
		       i, first == afd ? "server" : "client");
	ASSERT_EQ(0, close(second));
}

/*
 * 1000 connections, one at a time, against one listener: Linux and xtcp
 * clients in turn, the server closing first for half of each. All are
 * accepted and counted (PassiveOpens +1000, ActiveOpens +500 in A). Once
 * they have settled, B's tables hold the listener alone (inuse 1, one
 * LISTEN line, nothing queued) beside exactly 500 TIME_WAIT entries (the
 * server's active closes), A's none but 250 (the xtcp clients' active
 * closes; net.xtcp.tw_timeout is 600 s in both, so that none expires
 * before the count however slow the loop); no xtcp socket is left
 * allocated or orphaned on the host and xtcp.ko's reference count is
 * what the listener alone holds. The listener still serves a connection
 * afterwards.
 */
TEST_F_TIMEOUT(load, thousand_connections, 120)
{
	int nsa = self->e.np.a, nsb = self->e.np.b, lfd, i, settled, refcnt;
	int refcnt_l, want_tw_b = CONNS / 2, want_tw_a = CONNS / 4;
	long long passive0, active0, twb0, twa0, t0, ms, end;
	struct xtcp_sockstat sb0, sa0, sbl, sb, sa;
	static char buf[LIST_SIZE];
	struct lline l;
	char val[32];

	ASSERT_LT(0, read_in(nsb, MAX_TW, val, sizeof(val)));
	ASSERT_LE(2 * CONNS, atoi(val))
		TH_LOG("net.xtcp.max_tw_buckets %d: too few for the test",
		       atoi(val));
	/* However slow the loop, no entry may expire before the count. */
	ASSERT_EQ(0, write_in(nsb, TW_TIMEOUT, "600"));
	ASSERT_EQ(0, write_in(nsa, TW_TIMEOUT, "600"));
	passive0 = stat_in(nsb, "PassiveOpens");
	active0 = stat_in(nsa, "ActiveOpens");
	twb0 = stat_in(nsb, "TimeWait");
	twa0 = stat_in(nsa, "TimeWait");
	ASSERT_LE(0, passive0) TH_LOG("no PassiveOpens in %s", XTCP_STAT_FILE);
	ASSERT_LE(0, active0) TH_LOG("no ActiveOpens in %s", XTCP_STAT_FILE);
	ASSERT_LE(0, twb0) TH_LOG("no TimeWait in %s", XTCP_STAT_FILE);
	ASSERT_EQ(0, sockstat_in(nsb, &sb0)) TH_LOG("%s of B", XTCP_SOCKSTAT);
	ASSERT_EQ(0, sockstat_in(nsa, &sa0)) TH_LOG("%s of A", XTCP_SOCKSTAT);
	TH_LOG("before: B inuse %d tw %d, A inuse %d tw %d, alloc %lld, "
	       "orphan %d, refcount %d", sb0.inuse, sb0.tw, sa0.inuse, sa0.tw,
	       sb0.alloc, sb0.orphan, xtcp_module_refcnt());

	lfd = b_listener(_metadata, &self->e, 64, 0);
	refcnt_l = xtcp_module_refcnt();
	ASSERT_EQ(0, sockstat_in(nsb, &sbl));
	EXPECT_EQ(sb0.inuse + 1, sbl.inuse) TH_LOG("the listener is not counted once");
	EXPECT_EQ(sb0.alloc + 1, sbl.alloc);
	EXPECT_LT(self->e.refcnt, refcnt_l);

	t0 = now_ms();
	for (i = 0; i < CONNS; i++)
		one_conn(_metadata, lfd, i);
	ms = now_ms() - t0;
	TH_LOG("%d connections in %lld ms (%.1f per second)", CONNS, ms,
	       ms ? CONNS * 1000.0 / ms : 0.0);
	EXPECT_EQ(passive0 + CONNS, stat_in(nsb, "PassiveOpens"));
	EXPECT_EQ(active0 + CONNS / 2, stat_in(nsa, "ActiveOpens"));

	/* The last FINs and ACKs are on their way: let them settle. */
	end = now_ms() + 20000;
	do {
		ASSERT_EQ(0, sockstat_in(nsb, &sb));
		ASSERT_EQ(0, sockstat_in(nsa, &sa));
		refcnt = xtcp_module_refcnt();
		settled = sb.inuse == sbl.inuse && sa.inuse == sa0.inuse &&
			  sb.tw == sb0.tw + want_tw_b &&
			  sa.tw == sa0.tw + want_tw_a && sb.alloc == sbl.alloc &&
			  sb.orphan == sb0.orphan && refcnt == refcnt_l;
		if (!settled)
			usleep(100000);
	} while (!settled && now_ms() < end);
	TH_LOG("settled %lld ms after the last close: B inuse %d tw %d, "
	       "A inuse %d tw %d, alloc %lld, orphan %d, refcount %d",
	       now_ms() - t0 - ms, sb.inuse, sb.tw, sa.inuse, sa.tw, sb.alloc,
	       sb.orphan, refcnt);
	EXPECT_EQ(sbl.inuse, sb.inuse) TH_LOG("B's xtcp sockets: the listener and?");
	EXPECT_EQ(sa0.inuse, sa.inuse) TH_LOG("xtcp sockets left in A");
	EXPECT_EQ(sbl.alloc, sb.alloc) TH_LOG("xtcp sockets still allocated");
	EXPECT_EQ(sb0.orphan, sb.orphan) TH_LOG("orphans left");
	EXPECT_EQ(refcnt_l, refcnt) TH_LOG("xtcp.ko's reference count");
	EXPECT_EQ(sb0.tw + want_tw_b, sb.tw)
		TH_LOG("TIME_WAIT entries in B: the server closed %d first",
		       want_tw_b);
	EXPECT_EQ(sa0.tw + want_tw_a, sa.tw)
		TH_LOG("TIME_WAIT entries in A: %d xtcp clients closed first",
		       want_tw_a);
	EXPECT_EQ(twb0 + want_tw_b, stat_in(nsb, "TimeWait"));
	EXPECT_EQ(twa0 + want_tw_a, stat_in(nsa, "TimeWait"));

	ASSERT_EQ(0, list_port(nsb, XPORT, buf, sizeof(buf), &l));
	EXPECT_EQ(1, l.lines) TH_LOG("LISTEN lines for port %d", XPORT);
	EXPECT_EQ(0, l.acceptq);
	EXPECT_EQ(64, l.backlog);
	EXPECT_EQ(0, l.requests);
	EXPECT_EQ(0, l.syn_recv);
	EXPECT_EQ(0, l.estab);
	EXPECT_EQ(0, l.other) TH_LOG("entries of port %d in other states",
				     XPORT);
	EXPECT_EQ(want_tw_b, l.tw) TH_LOG("TIME_WAIT lines of port %d", XPORT);

	/* The listener still works. */
	one_conn(_metadata, lfd, CONNS);
	EXPECT_EQ(passive0 + CONNS + 1, stat_in(nsb, "PassiveOpens"));
}

/* ---- 3. backlog 8, 200 clients ---- */

#define NCLIENTS	200
#define SLOW_BACKLOG	8
#define SLOW_DELAY_MS	1000	/* before the server starts to accept */
#define CLIENT_WAIT_MS	90000

/**
 * struct acceptor - a server thread: sleeps, then accepts fast
 * @lfd: the listener (non-blocking)
 * @delay_ms: how long it sleeps first
 * @stop: set by the test
 * @n: connections accepted
 * @fds: the first of them
 * @ports: their peers' ports
 * @err: errno of an accept() that failed otherwise than EAGAIN
 * @send_err: errno of a send() of the server's byte that failed
 * @th: the thread
 */
struct acceptor {
	int		lfd;
	int		delay_ms;
	int		stop;
	int		n;
	int		fds[NCLIENTS + 16];
	int		ports[NCLIENTS + 16];
	int		err;
	int		send_err;
	pthread_t	th;
};

static void *acceptor_fn(void *arg)
{
	struct acceptor *a = arg;

	usleep(a->delay_ms * 1000);
	while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		int fd;

		fd = accept4(a->lfd, (struct sockaddr *)&peer, &len,
			     SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				a->err = errno;
				break;
			}
			poll_one(a->lfd, POLLIN, 100);
			continue;
		}
		if (send(fd, "s", 1, MSG_NOSIGNAL) != 1 && !a->send_err)
			a->send_err = errno;
		if (a->n < (int)ARRAY_SIZE(a->fds)) {
			a->fds[a->n] = fd;
			a->ports[a->n] = ntohs(peer.sin_port);
		} else {
			close(fd);
		}
		a->n++;
	}
	return NULL;
}

/*
 * listen(fd, 8) and 200 non-blocking Linux clients at once; the server
 * sleeps a second, then accepts as fast as it can and sends each
 * connection a byte. Every client connects, sends a byte and reads the
 * server's (a client whose handshake's ACK met a full accept queue gets
 * in with its data's retransmission); exactly 200 are accepted, one per
 * client, each reading its client's byte; PassiveOpens +200. What did not
 * fit at first shows in ListenOverflows, ListenDrops or SyncookiesSent.
 *
 * The clients' retransmissions come in bursts, of which a queue of 9
 * takes 9 at a time, and the longer a client's timeout the more exactly
 * it fires with the others' (the timer wheel's coarser levels): with
 * Linux's default exponential backoff the last clients get in only
 * after 30 s to two minutes, from Linux's own listener as from xtcp's
 * (which keeps the test's time unbounded in principle). The clients set
 * TCP_THIN_LINEAR_TIMEOUTS, so that their first six retransmissions come
 * one RTO apart, spread as their first sends were, and the queue drains
 * within seconds; the server's side is the same (a full accept queue
 * drops the cookie's ACK, and the retransmitted data brings the cookie
 * back).
 */
TEST_F_TIMEOUT(load, backlog8_200_clients, 150)
{
	static const char * const names[] = {
		"ListenOverflows", "ListenDrops", "SyncookiesSent",
		"SyncookiesRecv", "SyncookiesFailed", "TCPReqQFullDoCookies",
		"TCPReqQFullDrop", "SynAckRetrans", "PassiveOpens",
	};
	static const long long bounds[] = {
		1000, 2000, 5000, 10000, 20000, 40000,
	};
	static struct acceptor acc;
	static int cfd[NCLIENTS], state[NCLIENTS], cerr[NCLIENTS];
	int hist[ARRAY_SIZE(bounds)];
	static long long done_ms[NCLIENTS];
	long long c0[ARRAY_SIZE(names)], c[ARRAY_SIZE(names)];
	int nsb = self->e.np.b, lfd, i, k, err, done = 0, failed = 0, got;
	struct pollfd pfd[NCLIENTS];
	int idx[NCLIENTS], np, seen, reported = 0;
	long long t0, end, slowest = 0;
	static char buf[LIST_SIZE];
	struct lline l;
	ssize_t r;
	char ch;

	for (k = 0; k < (int)ARRAY_SIZE(names); k++) {
		c0[k] = stat_in(nsb, names[k]);
		ASSERT_LE(0, c0[k]) TH_LOG("no %s in %s", names[k],
					   XTCP_STAT_FILE);
	}
	lfd = b_listener(_metadata, &self->e, SLOW_BACKLOG, SOCK_NONBLOCK);
	memset(&acc, 0, sizeof(acc));
	acc.lfd = lfd;
	acc.delay_ms = SLOW_DELAY_MS;
	ASSERT_EQ(0, pthread_create(&acc.th, NULL, acceptor_fn, &acc));

	t0 = now_ms();
	for (i = 0; i < NCLIENTS; i++) {
		cfd[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
				SOCK_CLOEXEC, 0);
		state[i] = cfd[i] < 0 ? -1 : 0;
		cerr[i] = cfd[i] < 0 ? errno : 0;
		if (cfd[i] < 0)
			continue;
		err = setsockopt_int(cfd[i], IPPROTO_TCP,
				     TCP_THIN_LINEAR_TIMEOUTS, 1);
		if (err) {
			state[i] = -1;
			cerr[i] = err;
			continue;
		}
		err = connect_err(cfd[i], B_ADDR, XPORT);
		if (err && err != EINPROGRESS) {
			state[i] = -1;
			cerr[i] = err;
		}
	}

	/* 0: connecting; 1: connected, byte sent; 2: server's byte read. */
	end = t0 + CLIENT_WAIT_MS;
	for (;;) {
		for (i = 0, np = 0; i < NCLIENTS; i++) {
			if (state[i] != 0 && state[i] != 1)
				continue;
			pfd[np].fd = cfd[i];
			pfd[np].events = state[i] ? POLLIN : POLLOUT;
			pfd[np].revents = 0;
			idx[np++] = i;
		}
		if (!np || now_ms() >= end)
			break;
		poll(pfd, np, 200);
		for (k = 0; k < np; k++) {
			i = idx[k];
			if (!pfd[k].revents)
				continue;
			if (state[i] == 0) {
				err = getsockopt_int(cfd[i], SOL_SOCKET,
						     SO_ERROR);
				if (err || !(pfd[k].revents & POLLOUT)) {
					state[i] = -1;
					cerr[i] = err > 0 ? err : EIO;
				} else if (send(cfd[i], "c", 1,
						MSG_NOSIGNAL) != 1) {
					state[i] = -1;
					cerr[i] = errno;
				} else {
					state[i] = 1;
				}
				continue;
			}
			r = recv(cfd[i], &ch, 1, MSG_DONTWAIT);
			if (r == 1 && ch == 's') {
				state[i] = 2;
				done_ms[i] = now_ms() - t0;
				if (done_ms[i] > slowest)
					slowest = done_ms[i];
			} else if (r >= 0 || errno != EAGAIN) {
				state[i] = -1;
				cerr[i] = r < 0 ? errno : r ? EBADMSG : EPIPE;
			}
		}
	}
	__atomic_store_n(&acc.stop, 1, __ATOMIC_RELEASE);
	pthread_join(acc.th, NULL);

	for (i = 0; i < NCLIENTS; i++) {
		if (state[i] == 2) {
			done++;
			continue;
		}
		failed++;
		if (reported++ < 10)
			TH_LOG("client %d (port %d): %s: %s", i,
			       local_port(cfd[i]),
			       state[i] < 0 ? "failed" :
			       state[i] ? "no byte from the server" :
			       "still connecting", strerror(cerr[i]));
	}
	for (k = 0; k < (int)ARRAY_SIZE(names); k++)
		c[k] = stat_in(nsb, names[k]) - c0[k];
	TH_LOG("%d of %d clients done, the slowest after %lld ms; "
	       "%d accepted", done, NCLIENTS, slowest, acc.n);
	for (k = 0; k < (int)ARRAY_SIZE(bounds); k++)
		for (i = 0, hist[k] = 0; i < NCLIENTS; i++)
			hist[k] += state[i] == 2 && done_ms[i] <= bounds[k];
	TH_LOG("done within 1 s: %d, 2 s: %d, 5 s: %d, 10 s: %d, 20 s: %d, "
	       "40 s: %d", hist[0], hist[1], hist[2], hist[3], hist[4],
	       hist[5]);
	TH_LOG("ListenOverflows +%lld, ListenDrops +%lld, SyncookiesSent +%lld, "
	       "SyncookiesRecv +%lld, SyncookiesFailed +%lld",
	       c[0], c[1], c[2], c[3], c[4]);
	TH_LOG("TCPReqQFullDoCookies +%lld, TCPReqQFullDrop +%lld, "
	       "SynAckRetrans +%lld, PassiveOpens +%lld",
	       c[5], c[6], c[7], c[8]);

	EXPECT_EQ(NCLIENTS, done) TH_LOG("%d clients did not make it", failed);
	EXPECT_EQ(NCLIENTS, acc.n) TH_LOG("connections accepted");
	EXPECT_EQ(0, acc.err) TH_LOG("accept: %s", strerror(acc.err));
	EXPECT_EQ(0, acc.send_err) TH_LOG("server send: %s",
					  strerror(acc.send_err));
	EXPECT_EQ(NCLIENTS, c[8]) TH_LOG("PassiveOpens");
	EXPECT_LT(0, c[0] + c[1] + c[2])
		TH_LOG("200 clients on a backlog of 8 and no drop counted");

	/* One accepted socket per client, each with its client's byte. */
	for (i = 0; i < NCLIENTS; i++) {
		int port = local_port(cfd[i]);

		for (k = 0, seen = 0; k < acc.n && k < (int)ARRAY_SIZE(acc.fds);
		     k++)
			seen += acc.ports[k] == port;
		EXPECT_EQ(1, seen) TH_LOG("client %d (port %d) accepted %d times",
					  i, port, seen);
	}
	for (k = 0, got = 0; k < acc.n && k < (int)ARRAY_SIZE(acc.fds); k++) {
		if ((poll_one(acc.fds[k], POLLIN, 5000) & POLLIN) &&
		    recv(acc.fds[k], &ch, 1, MSG_DONTWAIT) == 1 && ch == 'c')
			got++;
	}
	EXPECT_EQ(NCLIENTS, got) TH_LOG("accepted sockets that read their client's byte");

	/* Nobody else waits. */
	r = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	err = errno;
	EXPECT_EQ(-1, r) TH_LOG("a connection more than the clients");
	EXPECT_EQ(EAGAIN, err);
	ASSERT_EQ(0, list_port(nsb, XPORT, buf, sizeof(buf), &l));
	EXPECT_EQ(1, l.lines);
	EXPECT_EQ(0, l.acceptq);
	EXPECT_EQ(SLOW_BACKLOG, l.backlog);
	EXPECT_EQ(0, l.requests);
}

/* ---- 4. a SYN flood with SYN cookies ---- */

#define FLOOD_MAX	20000	/* SYNs: at least these, or ... */
#define FLOOD_MIN_MS	10000	/* ... for at least this long */
#define FLOOD_MAX_MS	60000
#define FLOOD_HOST0	100	/* spoofed sources: 192.0.2.100 to .199 */
#define FLOOD_HOSTS	100
#define FLOOD_PORT0	10000	/* and ports 10000 to 10999 */
#define FLOOD_PORTS	1000
#define FLOOD_ISN	0x5eed1000U
#define FLOOD_MAC	"02:00:00:00:00:ee"	/* no such station on the link */
#define FLOOD_BACKLOG	16
#define FLOOD_CLIENTS	20
#define FLOOD_CLIENT_GAP_MS	200
#define ECHO_LEN	4000

static uint32_t flood_saddr(unsigned int n)
{
	return htonl(0xc0000200U | (FLOOD_HOST0 + n % FLOOD_HOSTS));
}

static unsigned int flood_sport(unsigned int n)
{
	return FLOOD_PORT0 + (n / FLOOD_HOSTS) % FLOOD_PORTS;
}

/*
 * The IPv4 datagram of a TCP segment from @saddr:@sport to B:XPORT with
 * @flags at @seq, no ACK (a SYN carries an MSS option, 1460); its length.
 */
static size_t raw_tcp(unsigned char *pkt, uint32_t saddr, unsigned int sport,
		      uint32_t seq, unsigned int flags)
{
	unsigned int optlen = flags & SEG_SYN ? 4 : 0, thlen = 20 + optlen;
	unsigned int len = 20 + thlen;
	uint32_t daddr = inet_addr(B_ADDR), sum;
	unsigned char *th = pkt + 20;

	memset(pkt, 0, len);
	pkt[0] = 0x45;
	pkt[2] = len >> 8;
	pkt[3] = len;
	pkt[6] = 0x40;		/* DF */
	pkt[8] = 64;
	pkt[9] = IPPROTO_TCP;
	memcpy(pkt + 12, &saddr, 4);
	memcpy(pkt + 16, &daddr, 4);
	sum = inet_fold(inet_sum(0, pkt, 20));
	pkt[10] = sum >> 8;
	pkt[11] = sum;

	th[0] = sport >> 8;
	th[1] = sport;
	th[2] = XPORT >> 8;
	th[3] = XPORT & 0xff;
	put_be32(th + 4, seq);
	th[12] = (thlen / 4) << 4;
	th[13] = flags;
	th[14] = 64240 >> 8;
	th[15] = 64240 & 0xff;
	if (optlen)
		opt_mss(th + 20, 1460);
	sum = inet_sum(0, pkt + 12, 8);
	sum += IPPROTO_TCP + thlen;
	sum = inet_fold(inet_sum(sum, th, thlen));
	th[16] = sum >> 8;
	th[17] = sum;
	return len;
}

/* Send one segment of raw_tcp() on the raw socket @fd; 0 or errno. */
static int raw_send(int fd, uint32_t saddr, unsigned int sport, uint32_t seq,
		    unsigned int flags)
{
	struct sockaddr_in dst = sin_make(B_ADDR, 0);
	unsigned char pkt[64];
	size_t len = raw_tcp(pkt, saddr, sport, seq, flags);

	if (sendto(fd, pkt, len, 0, (struct sockaddr *)&dst,
		   sizeof(dst)) != (ssize_t)len)
		return errno ? errno : EIO;
	return 0;
}

/**
 * struct flooder - the thread sending the SYNs
 * @fd: raw socket in A (IPPROTO_RAW: the test writes the IP header)
 * @clients_done: set by the test once every client has finished
 * @sent: SYNs sent
 * @errors: sendto() failures
 * @last_err: the last one's errno
 * @t0: when it started
 * @t_end: when it stopped
 * @th: the thread
 *
 * It stops once the clients are done and it has sent FLOOD_MAX SYNs or
 * run FLOOD_MIN_MS, or after FLOOD_MAX_MS in any case.
 */
struct flooder {
	int		fd;
	int		clients_done;
	long long	sent;
	long long	errors;
	int		last_err;
	long long	t0;
	long long	t_end;
	pthread_t	th;
};

static void *flood_fn(void *arg)
{
	struct flooder *f = arg;
	unsigned int n;
	long long el;
	int err;

	for (n = 0;; n++) {
		if (!(n & 63)) {
			el = now_ms() - f->t0;
			if (el >= FLOOD_MAX_MS)
				break;
			if (__atomic_load_n(&f->clients_done, __ATOMIC_ACQUIRE) &&
			    (f->sent >= FLOOD_MAX || el >= FLOOD_MIN_MS))
				break;
		}
		err = raw_send(f->fd, flood_saddr(n), flood_sport(n), FLOOD_ISN,
			       SEG_SYN);
		if (!err) {
			f->sent++;
		} else {
			f->errors++;
			f->last_err = err;
			usleep(1000);
		}
	}
	f->t_end = now_ms();
	return NULL;
}

/**
 * struct fclient - a Linux client connecting during the flood
 * @idx: its number
 * @what: the step that failed, or NULL
 * @err: its errno
 * @ms: how long it took, connect to close
 * @done_at: when it finished (now_ms())
 * @th: its thread
 */
struct fclient {
	int		idx;
	const char	*what;
	int		err;
	long long	ms;
	long long	done_at;
	pthread_t	th;
};

/*
 * Connect, send ECHO_LEN bytes, read them back, then the end of the
 * stream (the server closes after its echo). NULL, or the step that
 * failed with its errno in @c->err.
 */
static const char *fclient_run(struct fclient *c, int fd)
{
	static __thread unsigned char buf[ECHO_LEN];
	const unsigned char *msg = pat_at((long long)c->idx * ECHO_LEN);
	ssize_t n;

	set_timeo(fd, 60000);
	c->err = connect_err(fd, B_ADDR, XPORT);
	if (c->err)
		return "connect";
	if (send(fd, msg, ECHO_LEN, MSG_NOSIGNAL) != ECHO_LEN) {
		c->err = errno;
		return "send";
	}
	n = recv_exact(fd, buf, ECHO_LEN);
	if (n != ECHO_LEN) {
		c->err = n < 0 ? -n : EPIPE;
		return "recv of the echo";
	}
	if (memcmp(buf, msg, ECHO_LEN)) {
		c->err = EBADMSG;
		return "the echo differs";
	}
	n = recv_exact(fd, buf, 1);
	if (n) {
		c->err = n < 0 ? -n : EBADMSG;
		return "the end of the stream";
	}
	return NULL;
}

static void *fclient_fn(void *arg)
{
	struct fclient *c = arg;
	long long t0 = now_ms();
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		c->what = "socket";
		c->err = errno;
	} else {
		c->what = fclient_run(c, fd);
		close(fd);
	}
	c->ms = now_ms() - t0;
	c->done_at = now_ms();
	return NULL;
}

#define ECHO_MAX	(FLOOD_CLIENTS + 8)

/**
 * struct echo_srv - the server thread: accepts and echoes ECHO_LEN bytes
 * @lfd: the listener (non-blocking)
 * @stop: set by the test
 * @n: connections accepted
 * @echoed: connections that got their echo (then closed)
 * @err: errno of the first failure
 * @fds: the connections (-1 once closed)
 * @got: bytes read from each
 * @buf: what was read
 * @th: the thread
 */
struct echo_srv {
	int		lfd;
	int		stop;
	int		n;
	int		echoed;
	int		err;
	int		fds[ECHO_MAX];
	int		got[ECHO_MAX];
	unsigned char	buf[ECHO_MAX][ECHO_LEN];
	pthread_t	th;
};

static void echo_accept(struct echo_srv *s)
{
	int fd;

	for (;;) {
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && !s->err)
				s->err = errno;
			return;
		}
		if (s->n >= ECHO_MAX) {
			close(fd);
			s->n++;
			continue;
		}
		s->fds[s->n] = fd;
		s->got[s->n++] = 0;
	}
}

static void echo_read(struct echo_srv *s, int k)
{
	ssize_t r = recv(s->fds[k], s->buf[k] + s->got[k],
			 ECHO_LEN - s->got[k], 0);

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		if (!s->err)
			s->err = r ? errno : EPIPE;
		close(s->fds[k]);
		s->fds[k] = -1;
		return;
	}
	s->got[k] += r;
	if (s->got[k] < ECHO_LEN)
		return;
	if (send(s->fds[k], s->buf[k], ECHO_LEN, MSG_NOSIGNAL) == ECHO_LEN)
		s->echoed++;
	else if (!s->err)
		s->err = errno;
	close(s->fds[k]);
	s->fds[k] = -1;
}

static void *echo_fn(void *arg)
{
	struct echo_srv *s = arg;
	struct pollfd pfd[1 + ECHO_MAX];
	int map[1 + ECHO_MAX], np, k;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		pfd[0].fd = s->lfd;
		pfd[0].events = POLLIN;
		for (k = 0, np = 1; k < s->n && k < ECHO_MAX; k++) {
			if (s->fds[k] < 0)
				continue;
			pfd[np].fd = s->fds[k];
			pfd[np].events = POLLIN;
			map[np++] = k;
		}
		if (poll(pfd, np, 100) <= 0)
			continue;
		if (pfd[0].revents)
			echo_accept(s);
		for (k = 1; k < np; k++)
			if (pfd[k].revents)
				echo_read(s, map[k]);
	}
	return NULL;
}

/**
 * struct monitor - samples the listener's line in /proc/net/xtcp
 * @nsfd: B
 * @stop: set by the test
 * @samples: lines read
 * @max_req: the most requests seen
 * @max_acceptq: the longest accept queue seen
 * @max_syn_recv: the most SYN_RECV lines seen
 * @th: the thread
 * @buf: the file
 */
struct monitor {
	int		nsfd;
	int		stop;
	int		samples;
	int		max_req;
	int		max_acceptq;
	int		max_syn_recv;
	pthread_t	th;
	char		buf[LIST_SIZE];
};

static void *monitor_fn(void *arg)
{
	struct monitor *m = arg;
	struct lline l;

	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		if (!list_port(m->nsfd, XPORT, m->buf, sizeof(m->buf), &l) &&
		    l.lines == 1 && l.requests >= 0) {
			m->samples++;
			if (l.requests > m->max_req)
				m->max_req = l.requests;
			if (l.acceptq > m->max_acceptq)
				m->max_acceptq = l.acceptq;
			if (l.syn_recv > m->max_syn_recv)
				m->max_syn_recv = l.syn_recv;
		}
		usleep(10000);
	}
	return NULL;
}

/*
 * RST every request of the flood still listed in B (at the flood's
 * ISN + 1, in their window): they would otherwise hold the listener, and
 * xtcp.ko, for up to a minute of SYN-ACK retransmissions. Returns how
 * many were sent, or -1.
 */
static int flood_reset(int raw, int nsfd, char *buf, size_t size)
{
	char local[64], remote[64], st[32], *line, *colon;
	struct in_addr in;
	int n = 0;

	if (list_read(nsfd, buf, size) < 0)
		return -1;
	for (line = buf; *line; line = next_line(line)) {
		unsigned int host;

		if (sscanf(line, "%63s %63s %31s", local, remote, st) != 3 ||
		    strcmp(st, "SYN_RECV"))
			continue;
		colon = strrchr(remote, ':');
		if (!colon)
			continue;
		*colon = '\0';
		if (inet_pton(AF_INET, remote, &in) != 1)
			continue;
		host = ntohl(in.s_addr);
		if ((host & 0xffffff00U) != 0xc0000200U ||
		    (host & 0xff) < FLOOD_HOST0 ||
		    (host & 0xff) >= FLOOD_HOST0 + FLOOD_HOSTS)
			continue;
		if (!raw_send(raw, in.s_addr, atoi(colon + 1), FLOOD_ISN + 1,
			      SEG_RST))
			n++;
	}
	return n;
}

/*
 * SYN cookies at their default (1) in B, a listener with backlog 16. A
 * raw socket in A sends SYNs from 192.0.2.100-199, ports 10000-10999,
 * for at least 10 s or 20,000 SYNs, and until the clients are done. B
 * has a permanent neighbour entry for each of those addresses with a MAC
 * address nobody has, so its SYN-ACKs leave vb and are dropped on
 * arrival in A (another host's frames), never answered, and the requests
 * stay until their timers give up. Once the first cookie has been sent
 * (the request queue is full), 20 Linux clients connect, 200 ms apart,
 * each sending 4000 bytes and reading them back from the server. All 20
 * succeed while the flood is still running; SyncookiesSent grew, clients
 * came in with cookies (SyncookiesRecv) and none failed; PassiveOpens
 * grew by 20 (no spoofed SYN made a connection); and the listener's
 * request count, sampled every 10 ms, never went over the backlog, nor
 * its accept queue over backlog + 1. Afterwards a RST for each request
 * left ends them all.
 */
TEST_F_TIMEOUT(load, syn_flood_with_cookies, 120)
{
	static const char * const names[] = {
		"SyncookiesSent", "TCPReqQFullDoCookies", "SyncookiesRecv",
		"SyncookiesFailed", "ListenOverflows", "ListenDrops",
		"SynAckRetrans", "EmbryonicRsts", "PassiveOpens",
	};
	static struct fclient cl[FLOOD_CLIENTS];
	static struct echo_srv srv;
	static struct monitor mon;
	static struct flooder fl;
	static char buf[LIST_SIZE];
	long long c0[ARRAY_SIZE(names)], c[ARRAY_SIZE(names)];
	long long end, last_done = 0, slowest = 0;
	int nsb = self->e.np.b, lfd, raw, i, k, ok = 0, rst = 0, pass;
	struct lline l;
	char val[32];

	ASSERT_LT(0, read_in(nsb, SYNCOOKIES, val, sizeof(val)));
	ASSERT_EQ(1, atoi(val)) TH_LOG("net.xtcp.syncookies in B: %s", val);
	ASSERT_EQ(0, run_cmd_in_netns(nsb,
				      "printf 'neigh replace 192.0.2.%%d lladdr %s dev %s nud permanent\\n' $(seq %d %d) | ip -batch -",
				      FLOOD_MAC, NETPAIR_B_DEV, FLOOD_HOST0,
				      FLOOD_HOST0 + FLOOD_HOSTS - 1))
		TH_LOG("neighbour entries for the spoofed addresses in B");
	ASSERT_EQ(0, run_cmd_in_netns(nsb, "ip neigh show 192.0.2.%d dev %s | grep -q %s",
				      FLOOD_HOST0 + FLOOD_HOSTS - 1,
				      NETPAIR_B_DEV, FLOOD_MAC));
	for (k = 0; k < (int)ARRAY_SIZE(names); k++) {
		c0[k] = stat_in(nsb, names[k]);
		ASSERT_LE(0, c0[k]) TH_LOG("no %s in %s", names[k],
					   XTCP_STAT_FILE);
	}
	raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	ASSERT_LE(0, raw) TH_LOG("raw socket: %s", strerror(errno));
	lfd = b_listener(_metadata, &self->e, FLOOD_BACKLOG, SOCK_NONBLOCK);

	memset(&srv, 0, sizeof(srv));
	srv.lfd = lfd;
	memset(&mon, 0, sizeof(mon));
	mon.nsfd = nsb;
	memset(&fl, 0, sizeof(fl));
	fl.fd = raw;
	fl.t0 = now_ms();
	ASSERT_EQ(0, pthread_create(&srv.th, NULL, echo_fn, &srv));
	ASSERT_EQ(0, pthread_create(&mon.th, NULL, monitor_fn, &mon));
	ASSERT_EQ(0, pthread_create(&fl.th, NULL, flood_fn, &fl));

	/* The first cookie: the request queue is full. */
	end = now_ms() + 10000;
	while (stat_in(nsb, "SyncookiesSent") == c0[0] && now_ms() < end)
		usleep(20000);
	EXPECT_LT(c0[0], stat_in(nsb, "SyncookiesSent"))
		TH_LOG("no cookie 10 s into the flood (%lld SYNs sent)",
		       fl.sent);
	TH_LOG("first cookie after %lld ms, %lld SYNs", now_ms() - fl.t0,
	       fl.sent);

	for (i = 0; i < FLOOD_CLIENTS; i++) {
		memset(&cl[i], 0, sizeof(cl[i]));
		cl[i].idx = i;
		if (pthread_create(&cl[i].th, NULL, fclient_fn, &cl[i])) {
			cl[i].what = "pthread_create";
			cl[i].err = EAGAIN;
			cl[i].done_at = -1;
		}
		usleep(FLOOD_CLIENT_GAP_MS * 1000);
	}
	for (i = 0; i < FLOOD_CLIENTS; i++) {
		if (cl[i].done_at < 0)
			continue;
		pthread_join(cl[i].th, NULL);
		if (!cl[i].what)
			ok++;
		else
			TH_LOG("client %d: %s: %s (after %lld ms)", i,
			       cl[i].what, strerror(cl[i].err), cl[i].ms);
		if (cl[i].done_at > last_done)
			last_done = cl[i].done_at;
		if (cl[i].ms > slowest)
			slowest = cl[i].ms;
	}
	__atomic_store_n(&fl.clients_done, 1, __ATOMIC_RELEASE);
	pthread_join(fl.th, NULL);
	usleep(500 * 1000);	/* the last echoes and closes */
	__atomic_store_n(&srv.stop, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&mon.stop, 1, __ATOMIC_RELEASE);
	pthread_join(srv.th, NULL);
	pthread_join(mon.th, NULL);

	for (k = 0; k < (int)ARRAY_SIZE(names); k++)
		c[k] = stat_in(nsb, names[k]) - c0[k];
	TH_LOG("flood: %lld SYNs in %lld ms (%.0f/s), %lld send errors%s%s",
	       fl.sent, fl.t_end - fl.t0,
	       fl.t_end > fl.t0 ? fl.sent * 1000.0 / (fl.t_end - fl.t0) : 0.0,
	       fl.errors, fl.errors ? ", the last: " : "",
	       fl.errors ? strerror(fl.last_err) : "");
	TH_LOG("clients: %d of %d done, the slowest in %lld ms, the last %lld ms "
	       "before the flood ended", ok, FLOOD_CLIENTS, slowest,
	       fl.t_end - last_done);
	TH_LOG("listener: %d samples, at most %d requests (%d SYN_RECV lines), "
	       "accept queue at most %d", mon.samples, mon.max_req,
	       mon.max_syn_recv, mon.max_acceptq);
	TH_LOG("SyncookiesSent +%lld, TCPReqQFullDoCookies +%lld, "
	       "SyncookiesRecv +%lld, SyncookiesFailed +%lld",
	       c[0], c[1], c[2], c[3]);
	TH_LOG("ListenOverflows +%lld, ListenDrops +%lld, SynAckRetrans +%lld, "
	       "PassiveOpens +%lld", c[4], c[5], c[6], c[8]);

	EXPECT_EQ(FLOOD_CLIENTS, ok) TH_LOG("clients that failed during the flood");
	EXPECT_LE(last_done, fl.t_end)
		TH_LOG("the flood ended before the last client finished");
	EXPECT_EQ(FLOOD_CLIENTS, srv.n) TH_LOG("connections accepted");
	EXPECT_EQ(FLOOD_CLIENTS, srv.echoed) TH_LOG("connections echoed");
	EXPECT_EQ(0, srv.err) TH_LOG("server: %s", strerror(srv.err));
	EXPECT_LE(1000, fl.sent) TH_LOG("hardly a flood");
	EXPECT_LT(0, c[0]) TH_LOG("no SYN cookie sent");
	EXPECT_LT(0, c[2]) TH_LOG("no client came in with a cookie");
	EXPECT_EQ(0, c[3]) TH_LOG("cookies that failed");
	EXPECT_EQ(FLOOD_CLIENTS, c[8]) TH_LOG("PassiveOpens");
	EXPECT_LT(0, mon.samples) TH_LOG("no LISTEN line read during the flood");
	EXPECT_GE(FLOOD_BACKLOG, mon.max_req)
		TH_LOG("the request queue went over the backlog");
	EXPECT_GE(FLOOD_BACKLOG + 1, mon.max_acceptq);

	/* Clean up: RST what the flood left (and B answers nothing). */
	for (pass = 0; pass < 3; pass++) {
		k = flood_reset(raw, nsb, buf, sizeof(buf));
		if (k > 0)
			rst += k;
		end = now_ms() + 3000;
		do {
			ASSERT_EQ(0, list_port(nsb, XPORT, buf, sizeof(buf), &l));
			if (!l.requests && !l.syn_recv)
				break;
			usleep(50000);
		} while (now_ms() < end);
		if (!l.requests && !l.syn_recv)
			break;
	}
	TH_LOG("%d requests reset after the flood, EmbryonicRsts +%lld", rst,
	       stat_in(nsb, "EmbryonicRsts") - c0[7]);
	EXPECT_EQ(0, l.requests) TH_LOG("requests left after the RSTs");
	EXPECT_EQ(0, l.syn_recv);
	EXPECT_EQ(1, l.lines);
}

/* ---- 5. a SYN without options, from a scripted peer ---- */

FIXTURE(scripted) {
	struct peer p;
};

FIXTURE_SETUP(scripted)
{
	const char *err = peer_setup(&self->p);

	ASSERT_EQ(NULL, err) TH_LOG("setup: %s", err);
}

FIXTURE_TEARDOWN(scripted)
{
	EXPECT_GE(self->p.refcnt, peer_teardown(&self->p));
}

#define PEER_SPORT	40000	/* the SYN without options */
#define PEER_SPORT_WS	40001	/* a SYN with MSS and window scale */
#define PEER_SPORT_K	40002	/* the SYN without options to Linux */
#define PEER_ISN	0x1a2b3c4dU
#define DEFAULT_MSS	536U	/* RFC 9293 3.7.1: no MSS option */
#define PEER_ADV_MSS	(PEER_MTU - 40U)
#define DATA_LEN	3000

/* A segment from the peer's @sport to @dport, window 65535, no options. */
static void peer_seg(struct pseg *s, unsigned int sport, unsigned int dport,
		     uint32_t seq, uint32_t ack, unsigned int flags)
{
	memset(s, 0, offsetof(struct pseg, data));
	s->sport = sport;
	s->dport = dport;
	s->seq = seq;
	s->ack = ack;
	s->flags = flags;
	s->win = 65535;
}

/* The next segment from @lport to the peer's @pport, within @ms. */
static int peer_next(struct peer *p, struct pseg *s, unsigned int lport,
		     unsigned int pport, int ms)
{
	long long end = now_ms() + ms;
	int ret;

	do {
		long long left = end - now_ms();

		ret = peer_recv(p, s, left > 0 ? left : 0);
		if (ret <= 0)
			return ret;
	} while (s->sport != lport || s->dport != pport);
	return 1;
}

static void dump_opts(struct __test_metadata *_metadata, const char *who,
		      const struct pseg *s)
{
	char hex[128] = "";
	unsigned int i;

	for (i = 0; i < s->optlen; i++)
		sprintf(hex + strlen(hex), "%02x ", s->opt[i]);
	TH_LOG("%s: flags 0x%x win %u, %u option bytes: %s", who, s->flags,
	       s->win, s->optlen, hex);
}

/* A listener of @family in A (the test's thread) on 0.0.0.0:@port. */
static int a_listener(struct __test_metadata *_metadata, int family, int port)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	ASSERT_LE(0, fd) TH_LOG("%s socket: %s", fam_name(family),
				strerror(errno));
	err = bind_err(fd, "0.0.0.0", port);
	ASSERT_EQ(0, err) TH_LOG("%s bind %d: %s", fam_name(family), port,
				 strerror(err));
	ASSERT_EQ(0, listen(fd, 8)) TH_LOG("listen: %s", strerror(errno));
	return fd;
}

/*
 * A SYN with no TCP option at all. Linux's listener (the reference)
 * answers with the MSS option alone. xtcp's SYN-ACK has exactly the same
 * 4 option bytes, MSS 8960 (the 9000-byte link), no SACK-permitted,
 * timestamps or window scale, and the same window field as for a SYN that
 * offered window scaling (the field of a SYN-ACK is never scaled). After
 * the peer's ACK the accepted socket's send MSS is 536; the 3000 bytes it
 * writes come in segments of at most (and at best) 536 bytes of payload,
 * without any option, each with a window no smaller than the SYN-ACK's
 * (with nothing received, an unscaled window cannot have shrunk). The
 * peer's RST then resets the socket and its entry goes.
 */
TEST_F(scripted, syn_without_options)
{
	static struct pseg syn, ksa, wsa, sa, s, d;
	static unsigned char out[DATA_LEN], got[DATA_LEN];
	const char *local = PEER_XTCP_ADDR ":5000";
	const char *remote = PEER_ADDR ":40000";
	unsigned int maxlen = 0, minwin = 65535, nseg = 0, withopt = 0;
	unsigned int badack = 0, off;
	int lfd, klfd, afd, n, err, ev;
	struct sockaddr_in peer;
	uint32_t rcv_nxt, base;
	char state[32], c;
	long long end;
	uint8_t o[8];

	klfd = a_listener(_metadata, AF_INET, KPORT);
	lfd = a_listener(_metadata, xtcp_family(), XPORT);

	/* Linux's SYN-ACK, the reference: the MSS alone. */
	peer_seg(&syn, PEER_SPORT_K, KPORT, PEER_ISN, 0, SEG_SYN);
	ASSERT_EQ(0, peer_send(&self->p, &syn, NULL));
	ASSERT_EQ(1, peer_next(&self->p, &ksa, KPORT, PEER_SPORT_K, 3000))
		TH_LOG("no SYN-ACK from Linux's listener");
	EXPECT_EQ(SEG_SYN | SEG_ACK, ksa.flags);
	EXPECT_EQ(4U, ksa.optlen) dump_opts(_metadata, "Linux's SYN-ACK", &ksa);
	EXPECT_EQ(PEER_ADV_MSS, ksa.mss);
	peer_seg(&s, PEER_SPORT_K, KPORT, PEER_ISN + 1, 0, SEG_RST);
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));

	/* xtcp's SYN-ACK to a SYN offering window scale: its window field. */
	n = opt_mss(o, 1460);
	n += opt_wscale(o + n, 7);
	peer_seg(&syn, PEER_SPORT_WS, XPORT, PEER_ISN, 0, SEG_SYN);
	memcpy(syn.opt, o, n);
	syn.optlen = n;
	ASSERT_EQ(0, peer_send(&self->p, &syn, NULL));
	ASSERT_EQ(1, peer_next(&self->p, &wsa, XPORT, PEER_SPORT_WS, 3000))
		TH_LOG("no SYN-ACK to the SYN with window scale");
	EXPECT_EQ(SEG_SYN | SEG_ACK, wsa.flags);
	EXPECT_LE(0, wsa.wscale) dump_opts(_metadata, "xtcp's SYN-ACK (wscale)",
					   &wsa);
	peer_seg(&s, PEER_SPORT_WS, XPORT, PEER_ISN + 1, 0, SEG_RST);
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	EXPECT_TRUE(wait_gone(self->p.ns_a, local, PEER_ADDR ":40001", 3000,
			      state, sizeof(state)))
		TH_LOG("the request is still '%s' after the RST", state);

	/* The SYN without options. */
	peer_seg(&syn, PEER_SPORT, XPORT, PEER_ISN, 0, SEG_SYN);
	ASSERT_EQ(0, peer_send(&self->p, &syn, NULL));
	ASSERT_EQ(1, peer_next(&self->p, &sa, XPORT, PEER_SPORT, 3000))
		TH_LOG("no SYN-ACK to the SYN without options");
	EXPECT_EQ(SEG_SYN | SEG_ACK, sa.flags);
	EXPECT_EQ(PEER_ISN + 1, sa.ack);
	EXPECT_EQ(4U, sa.optlen) dump_opts(_metadata, "xtcp's SYN-ACK", &sa);
	EXPECT_EQ(2, sa.opt[0]) dump_opts(_metadata, "xtcp's SYN-ACK", &sa);
	EXPECT_EQ(4, sa.opt[1]);
	EXPECT_EQ(PEER_ADV_MSS, sa.mss);
	EXPECT_FALSE(sa.sackok);
	EXPECT_FALSE(sa.ts);
	EXPECT_EQ(-1, sa.wscale);
	EXPECT_EQ(0, memcmp(ksa.opt, sa.opt, 4))
		dump_opts(_metadata, "Linux's SYN-ACK", &ksa);
	EXPECT_LT(0U, sa.win);
	EXPECT_EQ(wsa.win, sa.win)
		TH_LOG("SYN-ACK window %u, %u when the SYN offered scaling",
		       sa.win, wsa.win);
	TH_LOG("SYN-ACK windows: xtcp %u (%u with window scale offered), "
	       "Linux %u", sa.win, wsa.win, ksa.win);

	/* The handshake's ACK, then 3000 bytes from the accepted socket. */
	base = sa.seq + 1;
	peer_seg(&s, PEER_SPORT, XPORT, PEER_ISN + 1, base, SEG_ACK);
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	afd = accept_within(lfd, 5000, &peer);
	ASSERT_LE(0, afd) TH_LOG("the peer's ACK completed nothing");
	EXPECT_EQ(PEER_SPORT, ntohs(peer.sin_port));
	EXPECT_EQ((int)DEFAULT_MSS, getsockopt_int(afd, IPPROTO_TCP, TCP_MAXSEG))
		TH_LOG("TCP_MAXSEG of the accepted socket");
	set_timeo(afd, 5000);
	memcpy(out, pat_at(12345), DATA_LEN);
	ASSERT_EQ(DATA_LEN, send(afd, out, DATA_LEN, MSG_NOSIGNAL))
		TH_LOG("send: %s", strerror(errno));

	/* The peer reads and acknowledges each segment. */
	rcv_nxt = base;
	end = now_ms() + 10000;
	while (rcv_nxt != base + DATA_LEN && now_ms() < end) {
		if (peer_next(&self->p, &d, XPORT, PEER_SPORT,
			      end - now_ms()) != 1)
			break;
		if (!d.len)
			continue;
		nseg++;
		if (d.len > maxlen)
			maxlen = d.len;
		if (d.win < minwin)
			minwin = d.win;
		withopt += d.optlen != 0;
		badack += !(d.flags & SEG_ACK) || d.ack != PEER_ISN + 1;
		off = d.seq - base;
		if (off < DATA_LEN && d.len <= DATA_LEN - off) {
			memcpy(got + off, d.data, d.len);
			if (off <= rcv_nxt - base && off + d.len > rcv_nxt - base)
				rcv_nxt = d.seq + d.len;
		}
		peer_seg(&s, PEER_SPORT, XPORT, PEER_ISN + 1, rcv_nxt, SEG_ACK);
		ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	}
	TH_LOG("%u data segments, the largest %u bytes, windows from %u",
	       nseg, maxlen, minwin);
	EXPECT_EQ(base + DATA_LEN, rcv_nxt)
		TH_LOG("%u of %d bytes arrived in order", rcv_nxt - base,
		       DATA_LEN);
	EXPECT_EQ(0, memcmp(out, got, DATA_LEN));
	EXPECT_GE(DEFAULT_MSS, maxlen) TH_LOG("a segment over the default MSS");
	EXPECT_EQ(DEFAULT_MSS, maxlen) TH_LOG("no full-sized segment");
	EXPECT_LE((DATA_LEN + DEFAULT_MSS - 1) / DEFAULT_MSS, nseg);
	EXPECT_EQ(0U, withopt) TH_LOG("data segments with options");
	EXPECT_EQ(0U, badack) TH_LOG("data segments not acknowledging the SYN");
	EXPECT_LE(sa.win, minwin)
		TH_LOG("a data segment's window %u below the SYN-ACK's %u",
		       minwin, sa.win);

	/* The peer's RST at the socket's rcv_nxt resets it. */
	peer_seg(&s, PEER_SPORT, XPORT, PEER_ISN + 1, 0, SEG_RST);
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	ev = poll_one(afd, POLLIN, 3000);
	EXPECT_TRUE(ev & (POLLIN | POLLERR | POLLHUP))
		TH_LOG("revents 0x%x 3 s after the RST", ev);
	n = recv(afd, &c, 1, MSG_DONTWAIT);
	err = errno;
	EXPECT_EQ(-1, n);
	EXPECT_EQ(ECONNRESET, err) TH_LOG("recv after the RST: %s",
					  strerror(err));
	EXPECT_TRUE(wait_gone(self->p.ns_a, local, remote, 3000, state,
			      sizeof(state)))
		TH_LOG("still listed as '%s' after the RST", state);
	close(afd);
	close(lfd);
	close(klfd);
}

TEST_HARNESS_MAIN
