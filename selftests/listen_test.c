// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp passive open: listen(), accept() and the server's side of a
 * connection, with Linux's TCP as the peer and as the reference.
 *
 * Each test runs in two fresh network namespaces joined by a veth pair
 * (struct netpair): A (192.0.2.1 on va) holds the clients and the test's
 * thread, B (192.0.2.2 on vb) the listeners, made by stepping into B
 * (socket_in_netns()); B's counters, sysctls and /proc/net/xtcp are read
 * the same way. Where the expected result is Linux's own behaviour, the
 * scenario is played first on a Linux TCP listener in B (port 5001), then
 * on an xtcp listener (port 5000), and both must give the result the test
 * writes down: the Linux run checks the expectation, the xtcp run checks
 * the module.
 *
 * Covered:
 * - listen(): unbound (an ephemeral port from net.xtcp.ip_local_port_range),
 *   again (a new backlog, one LISTEN line), on a connected socket (EINVAL);
 *   the listener's line in /proc/net/xtcp; its port against other xtcp
 *   sockets (SO_REUSEADDR shares no listener's port) and against Linux's
 *   TCP, in either order;
 * - accept()/accept4(): EINVAL unless listening, EAGAIN when non-blocking,
 *   SOCK_NONBLOCK and SOCK_CLOEXEC, the peer's address, SO_RCVTIMEO,
 *   signals (EINTR, or a restart with SA_RESTART), shutdown() of the
 *   listener from another thread (EINVAL), poll();
 * - data over accepted connections, from a Linux client over veth and
 *   from an xtcp client over veth and over loopback: requests and
 *   responses, then 20 MB each way at once, compared byte by byte and by
 *   hash; PassiveOpens;
 * - the SYN-ACK on the wire (captured in A): MSS 1460, SACK-permitted,
 *   timestamps and window scale as far as the client's SYN offers them,
 *   the same option kinds as Linux's listener sends;
 * - closing a listener resets the connections nobody accepted;
 * - the accept queue's limit, backlog + 1, and ListenOverflows,
 *   ListenDrops, SyncookiesSent;
 * - SYN cookies: net.xtcp.syncookies 2 (with and without timestamps) and 0;
 * - a retransmitted SYN, played by a scripted peer (xtcp_peer.h): both
 *   SYN-ACKs carry the same ISN, the request is listed as SYN_RECV, a RST
 *   ends it, and a new SYN completes with the peer's ACK;
 * - reuseport groups (SOL_XTCP, XTCP_REUSEPORT): who may join, connections
 *   spread over the members, the group going on when a member closes;
 * - the server's side of close: FIN_WAIT then TIME_WAIT when it closes
 *   first; CLOSE_WAIT, LAST_ACK and no TIME_WAIT when the client does;
 * - xtcp.ko's reference count: held by a listener and its connections,
 *   back where it was once all are closed.
 *
 * Teardown removes tc filters, closes the xtcp sockets, then the others,
 * and waits for xtcp.ko's reference count to come back to where it was:
 * no listener, request or connection may outlive its test.
 */
#include "kselftest_harness.h"
#include "xtcp_test.h"
#include "xtcp_peer.h"
#include "xtcp_netns.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/time.h>

#ifndef SO_DOMAIN
#define SO_DOMAIN	39
#endif

#define A_ADDR		NETPAIR_A_ADDR
#define B_ADDR		NETPAIR_B_ADDR
#define XPORT		5000	/* xtcp listeners */
#define KPORT		5001	/* Linux TCP listeners: the reference */
#define XTCP_RANGE	XTCP_SYSCTL_DIR "ip_local_port_range"
#define SYNCOOKIES	XTCP_SYSCTL_DIR "syncookies"
#define IPV4_SYSCTL	"/proc/sys/net/ipv4/"
#define IO_TIMEO_MS	20000	/* a stalled send/recv fails, not hangs */
#define MB		(1024LL * 1024)
#define BULK		(20 * MB)
#define CHUNK		65536	/* bytes per send()/recv() call */
#define PAT_LEN		(1024 * 1024 + 4093)	/* no multiple of an MSS */
#define FNV_INIT	0xcbf29ce484222325ULL
#define MSS_1500	1460
#define TC_DROP_TCP	"tc qdisc add dev %s ingress && tc filter add dev %s parent ffff: protocol ip prio 1 u32 match ip protocol 6 0xff action drop"

/* TCP option kinds, as bits of struct synopt's kinds. */
#define OPT_MSS		0x004U	/* kind 2 */
#define OPT_WS		0x008U	/* kind 3 */
#define OPT_SACKOK	0x010U	/* kind 4 */
#define OPT_TS		0x100U	/* kind 8 */
#define OPT_OTHER	0x001U	/* any kind above 31 */

/* Run the block for Linux's TCP (the reference), then for xtcp. */
#define FOR_EACH_STACK(fam) \
	for (int _k = 0; _k < 2 && (((fam) = _k ? xtcp_family() : AF_INET), 1); \
	     _k++)

/* The port of @family's listeners in B. */
static int port_of(int family)
{
	return family == AF_INET ? KPORT : XPORT;
}

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

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* ---- environment ---- */

/* What every test has: the namespaces and what teardown must undo. */
struct env {
	struct netpair	np;
	int		refcnt;	/* xtcp.ko's reference count before the test */
	int		tc_a;	/* an ingress qdisc is on va / vb */
	int		tc_b;
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
	int refcnt;

	/* Nothing may stay dropped while connections close. */
	if (e->tc_a)
		run_cmd("tc qdisc del dev %s ingress", NETPAIR_A_DEV);
	if (e->tc_b)
		run_cmd_in_netns(e->np.b, "tc qdisc del dev %s ingress",
				 NETPAIR_B_DEV);
	refcnt = close_sockets_wait(e->refcnt);
	if (refcnt > e->refcnt)
		TH_LOG("xtcp sockets alive 10 s after teardown closed them: "
		       "module refcount %d, %d before the test",
		       refcnt, e->refcnt);
	EXPECT_GE(e->refcnt, refcnt);
	netpair_close(&e->np);
}

FIXTURE(listen) {
	struct env e;
};

FIXTURE_SETUP(listen)
{
	env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(listen)
{
	env_teardown(_metadata, &self->e);
}

/* ---- namespaces: counters, sysctls and /proc/net/xtcp of B ---- */

#define LIST_SIZE	(256 * 1024)
static char list_buf[LIST_SIZE];

static char *hostport(char *buf, const char *addr, int port)
{
	sprintf(buf, "%s:%d", addr, port);
	return buf;
}

/*
 * Wait up to @ms for the tuple's state to begin with @want ("": not
 * listed). 1 if it did; the last state seen is in @state.
 */
static int wait_state(int nsfd, const char *local, const char *remote,
		      const char *want, int ms, char *state, size_t size)
{
	long long end = now_ms() + ms;
	int r;

	for (;;) {
		r = tuple_state(nsfd, local, remote, state, size);
		if (*want ? r == 1 && !strncmp(state, want, strlen(want)) :
			    r == 0)
			return 1;
		if (now_ms() >= end)
			return 0;
		usleep(20000);
	}
}

/*
 * Lines of /proc/net/xtcp in @nsfd whose local port is @lport and whose
 * state is @state (NULL: any); -1 if the file could not be read.
 */
static int count_state(int nsfd, int lport, const char *state)
{
	char local[64], remote[64], st[32], *line, *colon;
	int n = 0;

	if (list_read(nsfd, list_buf, sizeof(list_buf)) < 0)
		return -1;
	for (line = list_buf; *line; line = next_line(line)) {
		if (sscanf(line, "%63s %63s %31s", local, remote, st) != 3)
			continue;
		colon = strrchr(local, ':');
		if (!colon || atoi(colon + 1) != lport)
			continue;
		if (!state || !strcmp(st, state))
			n++;
	}
	return n;
}

/* Wait up to @ms for count_state() to be @want; the last count. */
static int wait_count(int nsfd, int lport, const char *state, int want,
		      int ms)
{
	long long end = now_ms() + ms;
	int n;

	for (;;) {
		n = count_state(nsfd, lport, state);
		if (n == want || now_ms() >= end)
			return n;
		usleep(20000);
	}
}

/* tc on va (@in_b 0) or vb: drop every TCP segment the device receives. */
static void drop_tcp(struct __test_metadata *_metadata, struct env *e,
		     int in_b)
{
	int ret;

	if (in_b) {
		e->tc_b = 1;
		ret = run_cmd_in_netns(e->np.b, TC_DROP_TCP, NETPAIR_B_DEV,
				       NETPAIR_B_DEV);
	} else {
		e->tc_a = 1;
		ret = run_cmd(TC_DROP_TCP, NETPAIR_A_DEV, NETPAIR_A_DEV);
	}
	ASSERT_EQ(0, ret) TH_LOG("tc ingress drop filter on %s",
				 in_b ? NETPAIR_B_DEV : NETPAIR_A_DEV);
}

static void undrop_tcp(struct __test_metadata *_metadata, struct env *e,
		       int in_b)
{
	int ret;

	if (in_b) {
		ret = run_cmd_in_netns(e->np.b, "tc qdisc del dev %s ingress",
				       NETPAIR_B_DEV);
		e->tc_b = 0;
	} else {
		ret = run_cmd("tc qdisc del dev %s ingress", NETPAIR_A_DEV);
		e->tc_a = 0;
	}
	ASSERT_EQ(0, ret) TH_LOG("removing the tc filter on %s",
				 in_b ? NETPAIR_B_DEV : NETPAIR_A_DEV);
}

/* ---- sockets ---- */

/* A stream socket of @family in B (@flags: SOCK_NONBLOCK...). */
static int b_sock(struct __test_metadata *_metadata, struct env *e,
		  int family, int flags)
{
	int fd = socket_in_netns(e->np.b, family, SOCK_STREAM | flags, 0);

	ASSERT_LE(0, fd) TH_LOG("%s socket in B: %s", fam_name(family),
				strerror(-fd));
	return fd;
}

/* A @family listener in B on 0.0.0.0:@port (SO_REUSEADDR set). */
static int b_listener(struct __test_metadata *_metadata, struct env *e,
		      int family, int port, int backlog)
{
	int fd = b_sock(_metadata, e, family, 0), err;

	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1));
	err = bind_err(fd, "0.0.0.0", port);
	ASSERT_EQ(0, err) TH_LOG("%s: bind 0.0.0.0:%d: %s", fam_name(family),
				 port, strerror(err));
	ASSERT_EQ(0, listen(fd, backlog))
		TH_LOG("%s: listen: %s", fam_name(family), strerror(errno));
	return fd;
}

/* A @family client in A (the test's thread), connected to B:@port. */
static int a_client(struct __test_metadata *_metadata, int family, int port)
{
	int fd = socket(family, SOCK_STREAM, 0), err;

	ASSERT_LE(0, fd) TH_LOG("%s socket: %s", fam_name(family),
				strerror(errno));
	err = connect_err(fd, B_ADDR, port);
	ASSERT_EQ(0, err) TH_LOG("%s client: connect to %s:%d: %s",
				 fam_name(family), B_ADDR, port, strerror(err));
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

/* accept4() on @fd: 0 if it returned a socket (closed here), else errno. */
static int accept_err(int fd)
{
	int r = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	if (r < 0)
		return errno;
	close(r);
	return 0;
}

static int listen_err(int fd, int backlog)
{
	return listen(fd, backlog) ? errno : 0;
}

static int set_reuseport(int fd, int family, int val)
{
	if (family == AF_INET)
		return setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, val);
	return setsockopt_int(fd, SOL_XTCP, XTCP_REUSEPORT, val);
}

static void set_timeo(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int set_rcvtimeo(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ?
	       errno : 0;
}

static const char *sin_str(const struct sockaddr_in *sin, char *buf)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
	sprintf(buf, "%s:%d", a, ntohs(sin->sin_port));
	return buf;
}

/* getsockname() (or getpeername() with @peer) of @fd, an AF_INET name. */
static void get_name(struct __test_metadata *_metadata, int fd, int peer,
		     struct sockaddr_in *sin)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int ret;

	memset(&ss, 0xff, sizeof(ss));
	ret = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) :
		     getsockname(fd, (struct sockaddr *)&ss, &len);
	ASSERT_EQ(0, ret) TH_LOG("get%sname: %s", peer ? "peer" : "sock",
				 strerror(errno));
	ASSERT_EQ(sizeof(*sin), len);
	memcpy(sin, &ss, sizeof(*sin));
	EXPECT_EQ(AF_INET, sin->sin_family);
}

static int same_name(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr &&
	       a->sin_port == b->sin_port;
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

/* A request from the client @cfd and the server's response on @sfd. */
static void req_resp(struct __test_metadata *_metadata, int cfd, int sfd,
		     int i)
{
	char req[64], resp[96], buf[96];
	ssize_t n, m;

	set_timeo(cfd, IO_TIMEO_MS);
	set_timeo(sfd, IO_TIMEO_MS);
	n = snprintf(req, sizeof(req), "request %d from the client", i);
	m = snprintf(resp, sizeof(resp),
		     "response %d from the accepted socket, a bit longer", i);
	ASSERT_EQ(n, send(cfd, req, n, MSG_NOSIGNAL))
		TH_LOG("client send: %s", strerror(errno));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(n, recv_exact(sfd, buf, n)) TH_LOG("server recv");
	EXPECT_EQ(0, memcmp(buf, req, n)) TH_LOG("server got '%.*s'",
						 (int)n, buf);
	ASSERT_EQ(m, send(sfd, resp, m, MSG_NOSIGNAL))
		TH_LOG("server send: %s", strerror(errno));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(m, recv_exact(cfd, buf, m)) TH_LOG("client recv");
	EXPECT_EQ(0, memcmp(buf, resp, m)) TH_LOG("client got '%.*s'",
						  (int)m, buf);
}

/* ---- bulk streams ---- */

/**
 * struct xfer - one direction of a stream, as its sender or receiver sees it
 * @fd: the socket
 * @len: sender: bytes to send, then shutdown(SHUT_WR); receiver: 0 (to EOF)
 * @bytes: bytes sent or received
 * @hash: FNV-1a of those bytes
 * @bad_at: receiver: offset of the first byte not as sent, or -1
 * @err: the errno that stopped it, or 0
 * @eof: receiver: recv() returned 0
 * @th: its thread
 */
struct xfer {
	int		fd;
	long long	len;
	long long	bytes;
	uint64_t	hash;
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
	x->hash = FNV_INIT;
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
		x->hash = fnv1a(x->hash, p, r);
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
		x->hash = fnv1a(x->hash, buf, r);
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
	EXPECT_EQ(tx->hash, rx->hash) TH_LOG("%s: FNV-1a differs", what);
	EXPECT_TRUE(rx->eof) TH_LOG("%s: no end of stream", what);
}

/*
 * @len bytes from @cfd to @sfd and @len from @sfd to @cfd, both at once;
 * each sender shuts its side down after its last byte, each receiver
 * reads to the end.
 */
static void bulk_both(struct __test_metadata *_metadata, int cfd, int sfd,
		      long long len)
{
	struct xfer ctx, srx, stx, crx;
	long long t0 = now_ms();

	set_timeo(cfd, IO_TIMEO_MS);
	set_timeo(sfd, IO_TIMEO_MS);
	xfer_init(&ctx, cfd, len);
	xfer_init(&srx, sfd, 0);
	xfer_init(&stx, sfd, len);
	xfer_init(&crx, cfd, 0);
	ASSERT_EQ(0, pthread_create(&srx.th, NULL, xfer_recv, &srx));
	ASSERT_EQ(0, pthread_create(&crx.th, NULL, xfer_recv, &crx));
	ASSERT_EQ(0, pthread_create(&ctx.th, NULL, xfer_send, &ctx));
	ASSERT_EQ(0, pthread_create(&stx.th, NULL, xfer_send, &stx));
	pthread_join(ctx.th, NULL);
	pthread_join(stx.th, NULL);
	pthread_join(srx.th, NULL);
	pthread_join(crx.th, NULL);
	xfer_check(_metadata, "client to server", &ctx, &srx, len);
	xfer_check(_metadata, "server to client", &stx, &crx, len);
	TH_LOG("%lld KB each way in %lld ms", len / 1024, now_ms() - t0);
}

/* ---- captures ---- */

/**
 * struct synopt - the options of a captured segment
 * @kinds: OPT_* bits: bit k for option kind k (OPT_OTHER: a kind above 31)
 * @mss: the MSS option, -1 if none
 * @wscale: the window scale shift, -1 if none
 * @tsval: the timestamp option's TSval
 * @tsecr: its TSecr
 * @bad: an option with a wrong length, or running past the header
 */
struct synopt {
	unsigned int	kinds;
	int		mss;
	int		wscale;
	uint32_t	tsval, tsecr;
	int		bad;
};

static void cap_opts(const struct cap_seg *s, struct synopt *o)
{
	const unsigned char *p = s->data + s->optoff;
	unsigned int i = 0, n = s->optlen, kind, len;

	memset(o, 0, sizeof(*o));
	o->mss = -1;
	o->wscale = -1;
	while (i < n) {
		kind = p[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n || p[i + 1] < 2 || i + p[i + 1] > n) {
			o->bad = 1;
			break;
		}
		len = p[i + 1];
		o->kinds |= kind < 32 ? 1U << kind : OPT_OTHER;
		if (kind == 2 && len == 4) {
			o->mss = p[i + 2] << 8 | p[i + 3];
		} else if (kind == 3 && len == 3) {
			o->wscale = p[i + 2];
		} else if (kind == 8 && len == 10) {
			o->tsval = cap_be32(p + i + 2);
			o->tsecr = cap_be32(p + i + 6);
		} else if (kind == 2 || kind == 3 || kind == 8 ||
			   (kind == 4 && len != 2)) {
			o->bad = 1;
		}
		i += len;
	}
}

static void dump_opts(struct __test_metadata *_metadata, const char *who,
		      const struct cap_seg *s)
{
	char buf[200] = "";
	unsigned int i;

	for (i = 0; i < s->optlen && i < 40; i++)
		sprintf(buf + strlen(buf), "%02x ", s->data[s->optoff + i]);
	TH_LOG("%s: flags 0x%x win %u, options %s", who, s->flags, s->win,
	       buf);
}

/* A capture in A on va: what the clients send and receive. */
static int cap_a(struct __test_metadata *_metadata, struct env *e)
{
	int fd = cap_open(e->np.a, NETPAIR_A_DEV);

	ASSERT_LE(0, fd) TH_LOG("packet socket on va: %s", strerror(-fd));
	return fd;
}

/*
 * The handshake of the client on A's port @cport to B's @port: its SYN
 * and the SYN-ACK it got. 2 if both were captured, 1 if only the SYN.
 */
static int cap_handshake(int cap, int port, int cport, struct cap_seg *syn,
			 struct cap_seg *sa)
{
	long long end = now_ms() + 5000;
	int got_syn = 0;

	for (;;) {
		struct cap_seg *s = got_syn ? sa : syn;
		long long left = end - now_ms();

		if (cap_next_tcp(cap, s, port, left > 0 ? left : 0) <= 0)
			return got_syn;
		if (!got_syn) {
			if (s->out && s->flags == SEG_SYN &&
			    s->sport == (unsigned int)cport)
				got_syn = 1;
		} else if (!s->out && (s->flags & SEG_SYN) &&
			   s->dport == (unsigned int)cport) {
			return 2;
		}
	}
}

/* ---- threads blocked in accept() ---- */

/**
 * struct waiter - a thread blocked in accept()
 * @lfd: the listener
 * @th: the thread
 * @ret: what accept() returned
 * @err: its errno, 0 if it returned a socket
 * @ms: how long it took
 * @done: accept() has returned
 */
struct waiter {
	int		lfd;
	pthread_t	th;
	int		ret;
	int		err;
	long long	ms;
	int		done;
};

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;
	long long t0 = now_ms();
	int ret;

	ret = accept4(w->lfd, NULL, NULL, SOCK_CLOEXEC);
	w->err = ret < 0 ? errno : 0;
	w->ret = ret;
	w->ms = now_ms() - t0;
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static int waiter_start(struct waiter *w, int lfd)
{
	memset(w, 0, sizeof(*w));
	w->lfd = lfd;
	w->ret = -1;
	return pthread_create(&w->th, NULL, waiter_fn, w);
}

static int waiter_done(struct waiter *w)
{
	return __atomic_load_n(&w->done, __ATOMIC_SEQ_CST);
}

/*
 * Wait up to @ms for accept() to return; if it does not, cancel the
 * thread (accept() is a cancellation point). 1 if it returned by itself.
 */
static int waiter_join(struct waiter *w, int ms)
{
	long long end = now_ms() + ms;

	while (!waiter_done(w) && now_ms() < end)
		usleep(10000);
	if (!waiter_done(w))
		pthread_cancel(w->th);
	pthread_join(w->th, NULL);
	return waiter_done(w);
}

static void on_sigusr1(int sig)
{
}

static int sigusr1_handler(int restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = restart ? SA_RESTART : 0;
	return sigaction(SIGUSR1, &sa, NULL) ? errno : 0;
}

/* ---- 1. listen() ---- */

/* Unbound: an ephemeral port from xtcp's range, listed, connectable. */
TEST_F(listen, unbound_ephemeral)
{
	char local[32], state[32];
	struct sockaddr_in peer;
	int nsb = self->e.np.b, cur, err, lo, hi, lfd, cfd, afd, port;

	cur = ns_enter(nsb);
	ASSERT_LE(0, cur);
	err = read_range(XTCP_RANGE, &lo, &hi);
	ns_leave(cur);
	ASSERT_EQ(0, err) TH_LOG("%s in B: %s", XTCP_RANGE, strerror(-err));

	lfd = b_sock(_metadata, &self->e, xtcp_family(), 0);
	EXPECT_EQ(0, local_port(lfd));
	ASSERT_EQ(0, listen(lfd, 4)) TH_LOG("listen: %s", strerror(errno));
	port = local_port(lfd);
	EXPECT_LE(lo, port) TH_LOG("port %d outside %d-%d", port, lo, hi);
	EXPECT_GE(hi, port) TH_LOG("port %d outside %d-%d", port, lo, hi);
	hostport(local, "0.0.0.0", port);
	EXPECT_TRUE(wait_state(nsb, local, "0.0.0.0:0", "LISTEN", 2000, state,
			       sizeof(state)))
		TH_LOG("/proc/net/xtcp lists %s as '%s'", local, state);

	cfd = a_client(_metadata, AF_INET, port);
	afd = accept_within(lfd, 5000, &peer);
	ASSERT_LE(0, afd) TH_LOG("nothing accepted on port %d", port);
	EXPECT_EQ(local_port(cfd), ntohs(peer.sin_port));
	EXPECT_EQ(port, local_port(afd));
	req_resp(_metadata, cfd, afd, 0);
	close(afd);
	close(cfd);

	close(lfd);
	EXPECT_TRUE(wait_state(nsb, local, "0.0.0.0:0", "", 3000, state,
			       sizeof(state)))
		TH_LOG("still listed as '%s' after close()", state);
}

/*
 * listen() again only changes the backlog (one LISTEN line, same port);
 * listen() on a connected or an accepted socket is EINVAL and leaves it
 * working.
 */
TEST_F(listen, again_and_connected)
{
	int fam, port, lfd, cfd, afd;

	FOR_EACH_STACK(fam) {
		port = port_of(fam);
		lfd = b_sock(_metadata, &self->e, fam, 0);
		ASSERT_EQ(0, bind_err(lfd, "0.0.0.0", port));
		EXPECT_EQ(0, listen_err(lfd, 1)) TH_LOG("%s", fam_name(fam));
		EXPECT_EQ(0, listen_err(lfd, 16))
			TH_LOG("%s: listen() again", fam_name(fam));
		EXPECT_EQ(port, local_port(lfd));
		if (fam != AF_INET)
			EXPECT_EQ(1, count_state(self->e.np.b, port, "LISTEN"))
				TH_LOG("LISTEN lines for port %d after two listen() calls",
				       port);

		cfd = a_client(_metadata, fam, port);
		afd = accept_within(lfd, 5000, NULL);
		ASSERT_LE(0, afd) TH_LOG("%s: nothing accepted",
					 fam_name(fam));
		EXPECT_EQ(EINVAL, listen_err(cfd, 4))
			TH_LOG("%s: listen() on a connected client",
			       fam_name(fam));
		EXPECT_EQ(EINVAL, listen_err(afd, 4))
			TH_LOG("%s: listen() on an accepted socket",
			       fam_name(fam));
		req_resp(_metadata, cfd, afd, 1);
		close(afd);
		close(cfd);
		close(lfd);
	}
}

/*
 * A listener's port is its own: another socket of the stack gets
 * EADDRINUSE on any address even with SO_REUSEADDR on both; once the
 * listener is closed the port is free.
 */
TEST_F(listen, bind_conflicts)
{
	static const char * const addrs[] = { "0.0.0.0", B_ADDR, "127.0.0.1" };
	int fam, port, lfd, fd, err, i;
	long long end;

	FOR_EACH_STACK(fam) {
		port = port_of(fam);
		lfd = b_listener(_metadata, &self->e, fam, port, 8);
		for (i = 0; i < (int)ARRAY_SIZE(addrs); i++) {
			fd = b_sock(_metadata, &self->e, fam, 0);
			ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET,
						    SO_REUSEADDR, 1));
			err = bind_err(fd, addrs[i], port);
			EXPECT_EQ(EADDRINUSE, err)
				TH_LOG("%s: bind %s:%d beside a listener: %s",
				       fam_name(fam), addrs[i], port,
				       strerror(err));
			close(fd);
		}
		close(lfd);

		fd = b_sock(_metadata, &self->e, fam, 0);
		ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1));
		end = now_ms() + 2000;
		do {
			err = bind_err(fd, "0.0.0.0", port);
			if (err)
				usleep(50000);
		} while (err && now_ms() < end);
		EXPECT_EQ(0, err) TH_LOG("%s: bind %d after the listener closed: %s",
					 fam_name(fam), port, strerror(err));
		close(fd);
	}
}

/*
 * An xtcp listener and a Linux TCP listener never share a port, whichever
 * came first, and each serves its own port.
 */
TEST_F(listen, coexist_linux_tcp)
{
	static const char * const addrs[] = { "0.0.0.0", B_ADDR };
	struct sockaddr_in peer;
	int xl, kl, fd, err, i, cfam, c1, a1, c2, a2;

	xl = b_listener(_metadata, &self->e, xtcp_family(), XPORT, 8);
	kl = b_listener(_metadata, &self->e, AF_INET, KPORT, 8);

	for (i = 0; i < (int)ARRAY_SIZE(addrs); i++) {
		fd = b_sock(_metadata, &self->e, AF_INET, 0);
		ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1));
		ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1));
		err = bind_err(fd, addrs[i], XPORT);
		EXPECT_EQ(EADDRINUSE, err)
			TH_LOG("Linux TCP bind %s:%d beside an xtcp listener: %s",
			       addrs[i], XPORT, strerror(err));
		close(fd);

		fd = b_sock(_metadata, &self->e, xtcp_family(), 0);
		ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1));
		err = bind_err(fd, addrs[i], KPORT);
		EXPECT_EQ(EADDRINUSE, err)
			TH_LOG("xtcp bind %s:%d beside a Linux TCP listener: %s",
			       addrs[i], KPORT, strerror(err));
		close(fd);
	}

	/* A Linux client, then an xtcp one, to each listener. */
	for (i = 0; i < 2; i++) {
		cfam = i ? xtcp_family() : AF_INET;
		c1 = a_client(_metadata, cfam, XPORT);
		a1 = accept_within(xl, 5000, &peer);
		ASSERT_LE(0, a1) TH_LOG("%s client: the xtcp listener accepted nothing",
					fam_name(cfam));
		EXPECT_EQ(local_port(c1), ntohs(peer.sin_port));
		EXPECT_EQ(xtcp_family(), getsockopt_int(a1, SOL_SOCKET,
							SO_DOMAIN));
		c2 = a_client(_metadata, cfam, KPORT);
		a2 = accept_within(kl, 5000, &peer);
		ASSERT_LE(0, a2) TH_LOG("%s client: the Linux listener accepted nothing",
					fam_name(cfam));
		EXPECT_EQ(local_port(c2), ntohs(peer.sin_port));
		EXPECT_EQ(AF_INET, getsockopt_int(a2, SOL_SOCKET, SO_DOMAIN));
		req_resp(_metadata, c1, a1, 0);
		req_resp(_metadata, c2, a2, 1);
		close(a1);
		close(c1);
		close(a2);
		close(c2);
	}
	EXPECT_EQ(0, poll_one(xl, POLLIN, 200)) TH_LOG("xtcp listener: more queued");
	EXPECT_EQ(0, poll_one(kl, POLLIN, 200)) TH_LOG("Linux listener: more queued");
}

/* ---- 2. accept() ---- */

/*
 * EINVAL unless listening (new, bound, connected, accepted); EAGAIN on a
 * non-blocking listener with nothing queued.
 */
TEST_F(listen, accept_einval_eagain)
{
	int fam, port, fd, nb, cfd, afd;

	FOR_EACH_STACK(fam) {
		port = port_of(fam);
		fd = b_sock(_metadata, &self->e, fam, 0);
		EXPECT_EQ(EINVAL, accept_err(fd))
			TH_LOG("%s: accept() on a new socket", fam_name(fam));
		ASSERT_EQ(0, bind_err(fd, "0.0.0.0", port));
		EXPECT_EQ(EINVAL, accept_err(fd))
			TH_LOG("%s: accept() on a bound socket", fam_name(fam));
		ASSERT_EQ(0, listen(fd, 8));
		ASSERT_EQ(0, fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK));
		EXPECT_EQ(EAGAIN, accept_err(fd))
			TH_LOG("%s: O_NONBLOCK listener, nothing queued",
			       fam_name(fam));

		nb = b_sock(_metadata, &self->e, fam, SOCK_NONBLOCK);
		ASSERT_EQ(0, bind_err(nb, "0.0.0.0", port + 10));
		ASSERT_EQ(0, listen(nb, 8));
		EXPECT_EQ(EAGAIN, accept_err(nb))
			TH_LOG("%s: SOCK_NONBLOCK listener, nothing queued",
			       fam_name(fam));

		cfd = a_client(_metadata, fam, port);
		afd = accept_within(fd, 5000, NULL);
		ASSERT_LE(0, afd) TH_LOG("%s: nothing accepted", fam_name(fam));
		EXPECT_EQ(EAGAIN, accept_err(fd))
			TH_LOG("%s: accepted the only connection, then",
			       fam_name(fam));
		EXPECT_EQ(EINVAL, accept_err(cfd))
			TH_LOG("%s: accept() on a connected client",
			       fam_name(fam));
		EXPECT_EQ(EINVAL, accept_err(afd))
			TH_LOG("%s: accept() on an accepted socket",
			       fam_name(fam));
		close(afd);
		close(cfd);
		close(nb);
		close(fd);
	}
}

/*
 * accept4(SOCK_NONBLOCK | SOCK_CLOEXEC) sets both on the new file (and
 * plain accept() neither); the address returned is the client's own
 * name; the new socket's names are the listener's address and the client.
 */
TEST_F(listen, accept4_flags_and_address)
{
	struct sockaddr_in cl, me, pe, *sin, want;
	struct sockaddr_storage ss;
	int fam, port, lfd, c1, a1, c2, a2, fl, err;
	socklen_t len;
	ssize_t n;
	char b1[32], b2[32], c;

	FOR_EACH_STACK(fam) {
		port = port_of(fam);
		lfd = b_listener(_metadata, &self->e, fam, port, 8);
		c1 = a_client(_metadata, AF_INET, port);
		get_name(_metadata, c1, 0, &cl);
		ASSERT_TRUE(poll_one(lfd, POLLIN, 5000) & POLLIN)
			TH_LOG("%s: nothing to accept", fam_name(fam));
		memset(&ss, 0xff, sizeof(ss));
		len = sizeof(ss);
		a1 = accept4(lfd, (struct sockaddr *)&ss, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		ASSERT_LE(0, a1) TH_LOG("%s: accept4: %s", fam_name(fam),
					strerror(errno));
		EXPECT_EQ(sizeof(struct sockaddr_in), len);
		sin = (struct sockaddr_in *)&ss;
		EXPECT_EQ(AF_INET, sin->sin_family);
		EXPECT_TRUE(same_name(sin, &cl))
			TH_LOG("%s: accept4 says %s, the client is %s",
			       fam_name(fam), sin_str(sin, b1), sin_str(&cl, b2));
		fl = fcntl(a1, F_GETFL);
		EXPECT_TRUE(fl >= 0 && (fl & O_NONBLOCK))
			TH_LOG("%s: F_GETFL 0x%x", fam_name(fam), fl);
		fl = fcntl(a1, F_GETFD);
		EXPECT_TRUE(fl >= 0 && (fl & FD_CLOEXEC))
			TH_LOG("%s: F_GETFD 0x%x", fam_name(fam), fl);
		n = recv(a1, &c, 1, 0);
		err = errno;
		EXPECT_EQ(-1, n);
		EXPECT_EQ(EAGAIN, err) TH_LOG("%s: recv on the non-blocking socket: %s",
					      fam_name(fam), strerror(err));
		EXPECT_EQ(fam, getsockopt_int(a1, SOL_SOCKET, SO_DOMAIN));
		get_name(_metadata, a1, 0, &me);
		get_name(_metadata, a1, 1, &pe);
		want = sin_make(B_ADDR, port);
		EXPECT_TRUE(same_name(&me, &want))
			TH_LOG("%s: getsockname %s", fam_name(fam),
			       sin_str(&me, b1));
		EXPECT_TRUE(same_name(&pe, &cl))
			TH_LOG("%s: getpeername %s, the client is %s",
			       fam_name(fam), sin_str(&pe, b1), sin_str(&cl, b2));
		fl = fcntl(lfd, F_GETFL);
		EXPECT_FALSE(fl & O_NONBLOCK) TH_LOG("the listener turned non-blocking");

		c2 = a_client(_metadata, AF_INET, port);
		ASSERT_TRUE(poll_one(lfd, POLLIN, 5000) & POLLIN);
		a2 = accept(lfd, NULL, NULL);
		ASSERT_LE(0, a2) TH_LOG("%s: accept: %s", fam_name(fam),
					strerror(errno));
		fl = fcntl(a2, F_GETFL);
		EXPECT_FALSE(fl & O_NONBLOCK) TH_LOG("%s: plain accept(): F_GETFL 0x%x",
						     fam_name(fam), fl);
		fl = fcntl(a2, F_GETFD);
		EXPECT_FALSE(fl & FD_CLOEXEC) TH_LOG("%s: plain accept(): F_GETFD 0x%x",
						     fam_name(fam), fl);
		req_resp(_metadata, c2, a2, 2);
		close(a1);
		close(a2);
		close(c1);
		close(c2);
		close(lfd);
	}
}

/* SO_RCVTIMEO on the listener bounds a blocking accept(): EAGAIN. */
TEST_F(listen, accept_rcvtimeo)
{
	struct waiter w;
	int fam, lfd, cfd, returned;

	FOR_EACH_STACK(fam) {
		lfd = b_listener(_metadata, &self->e, fam, port_of(fam), 8);
		ASSERT_EQ(0, set_rcvtimeo(lfd, 1000));
		ASSERT_EQ(0, waiter_start(&w, lfd));
		returned = waiter_join(&w, 10000);
		EXPECT_TRUE(returned)
			TH_LOG("%s: accept() still blocked 10 s after SO_RCVTIMEO of 1 s",
			       fam_name(fam));
		EXPECT_EQ(-1, w.ret);
		EXPECT_EQ(EAGAIN, w.err) TH_LOG("%s: %s", fam_name(fam),
						strerror(w.err));
		EXPECT_LE(800, w.ms) TH_LOG("%s: returned after %lld ms",
					    fam_name(fam), w.ms);

		/* A connection that comes within the timeout is returned. */
		ASSERT_EQ(0, set_rcvtimeo(lfd, 8000));
		ASSERT_EQ(0, waiter_start(&w, lfd));
		usleep(300 * 1000);
		cfd = a_client(_metadata, AF_INET, port_of(fam));
		returned = waiter_join(&w, 10000);
		EXPECT_TRUE(returned);
		EXPECT_LE(0, w.ret) TH_LOG("%s: accept: %s", fam_name(fam),
					   strerror(w.err));
		if (w.ret >= 0)
			close(w.ret);
		close(cfd);
		close(lfd);
	}
}

/*
 * A signal interrupts a blocking accept(): EINTR with a handler installed
 * without SA_RESTART; with SA_RESTART the call goes on and returns the
 * connection that comes next.
 */
TEST_F(listen, accept_signal)
{
	struct waiter w;
	int fam, lfd, cfd, returned;

	FOR_EACH_STACK(fam) {
		lfd = b_listener(_metadata, &self->e, fam, port_of(fam), 8);

		ASSERT_EQ(0, sigusr1_handler(0));
		ASSERT_EQ(0, waiter_start(&w, lfd));
		usleep(1000 * 1000);
		EXPECT_FALSE(waiter_done(&w))
			TH_LOG("%s: accept() returned %d (%s) before the signal",
			       fam_name(fam), w.ret, strerror(w.err));
		ASSERT_EQ(0, pthread_kill(w.th, SIGUSR1));
		returned = waiter_join(&w, 5000);
		EXPECT_TRUE(returned)
			TH_LOG("%s: accept() still blocked 5 s after the signal",
			       fam_name(fam));
		EXPECT_EQ(-1, w.ret);
		EXPECT_EQ(EINTR, w.err) TH_LOG("%s: %s", fam_name(fam),
					       strerror(w.err));

		ASSERT_EQ(0, sigusr1_handler(1));
		ASSERT_EQ(0, waiter_start(&w, lfd));
		usleep(1000 * 1000);
		ASSERT_EQ(0, pthread_kill(w.th, SIGUSR1));
		usleep(500 * 1000);
		EXPECT_FALSE(waiter_done(&w))
			TH_LOG("%s: with SA_RESTART accept() returned %d (%s)",
			       fam_name(fam), w.ret, strerror(w.err));
		cfd = a_client(_metadata, AF_INET, port_of(fam));
		returned = waiter_join(&w, 5000);
		EXPECT_TRUE(returned)
			TH_LOG("%s: the restarted accept() took no connection",
			       fam_name(fam));
		EXPECT_LE(0, w.ret) TH_LOG("%s: %s", fam_name(fam),
					   strerror(w.err));
		if (w.ret >= 0)
			close(w.ret);
		close(cfd);
		close(lfd);
	}
}

/*
 * shutdown(SHUT_RD or SHUT_RDWR) of the listener from another thread
 * wakes a blocked accept() with EINVAL; the socket listens no more.
 */
TEST_F(listen, accept_woken_by_shutdown)
{
	static const int hows[] = { SHUT_RD, SHUT_RDWR };
	struct waiter w;
	int fam, i, port, lfd, cfd, returned;

	FOR_EACH_STACK(fam) {
		for (i = 0; i < (int)ARRAY_SIZE(hows); i++) {
			port = port_of(fam) + 10 * (i + 1);
			lfd = b_listener(_metadata, &self->e, fam, port, 8);
			ASSERT_EQ(0, waiter_start(&w, lfd));
			usleep(1000 * 1000);
			EXPECT_FALSE(waiter_done(&w));
			EXPECT_EQ(0, shutdown(lfd, hows[i]))
				TH_LOG("%s: shutdown(%d): %s", fam_name(fam),
				       hows[i], strerror(errno));
			returned = waiter_join(&w, 5000);
			EXPECT_TRUE(returned)
				TH_LOG("%s: accept() still blocked 5 s after shutdown(%s)",
				       fam_name(fam),
				       hows[i] == SHUT_RD ? "SHUT_RD" : "SHUT_RDWR");
			EXPECT_EQ(-1, w.ret);
			EXPECT_EQ(EINVAL, w.err) TH_LOG("%s: %s", fam_name(fam),
							strerror(w.err));
			EXPECT_EQ(EINVAL, accept_err(lfd))
				TH_LOG("%s: accept() after shutdown()",
				       fam_name(fam));

			cfd = socket(AF_INET, SOCK_STREAM, 0);
			ASSERT_LE(0, cfd);
			EXPECT_EQ(ECONNREFUSED, connect_err(cfd, B_ADDR, port))
				TH_LOG("%s: a listener shut down still takes connections",
				       fam_name(fam));
			close(cfd);
			if (fam != AF_INET)
				EXPECT_EQ(0, count_state(self->e.np.b, port,
							 "LISTEN"));
			close(lfd);
		}
	}
}

/* poll() on a listener: POLLIN while a connection is queued, else 0. */
TEST_F(listen, poll_listener)
{
	int fam, port, lfd, c1, c2, c3, a1, a2, a3, ev;

	FOR_EACH_STACK(fam) {
		port = port_of(fam);
		lfd = b_listener(_metadata, &self->e, fam, port, 8);
		ev = poll_one(lfd, POLLIN | POLLOUT | POLLPRI | POLLRDHUP, 300);
		EXPECT_EQ(0, ev) TH_LOG("%s: revents 0x%x with nothing queued",
					fam_name(fam), ev);

		c1 = a_client(_metadata, AF_INET, port);
		ev = poll_one(lfd, POLLIN | POLLOUT | POLLPRI | POLLRDHUP, 5000);
		EXPECT_EQ(POLLIN, ev) TH_LOG("%s: revents 0x%x, one queued",
					     fam_name(fam), ev);
		a1 = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		ASSERT_LE(0, a1);
		ev = poll_one(lfd, POLLIN, 300);
		EXPECT_EQ(0, ev) TH_LOG("%s: revents 0x%x after accepting it",
					fam_name(fam), ev);

		c2 = a_client(_metadata, AF_INET, port);
		c3 = a_client(_metadata, AF_INET, port);
		usleep(300 * 1000);
		ASSERT_EQ(POLLIN, poll_one(lfd, POLLIN, 5000));
		a2 = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		ASSERT_LE(0, a2);
		ev = poll_one(lfd, POLLIN, 5000);
		EXPECT_EQ(POLLIN, ev) TH_LOG("%s: revents 0x%x, one of two left",
					     fam_name(fam), ev);
		a3 = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		EXPECT_LE(0, a3) TH_LOG("%s: %s", fam_name(fam), strerror(errno));
		ev = poll_one(lfd, POLLIN, 300);
		EXPECT_EQ(0, ev) TH_LOG("%s: revents 0x%x, all accepted",
					fam_name(fam), ev);
		close(a1);
		close(a2);
		if (a3 >= 0)
			close(a3);
		close(c1);
		close(c2);
		close(c3);
		close(lfd);
	}
}

/* ---- 5. closing a listener with connections nobody accepted ---- */

/* Each client of the closed listener gets a RST: recv() is ECONNRESET. */
TEST_F(listen, close_resets_queued)
{
	int fam, port, lfd, cfd[3], i, ev, n, err, cfam;
	char c;

	FOR_EACH_STACK(fam) {
		port = port_of(fam);
		lfd = b_listener(_metadata, &self->e, fam, port, 8);
		for (i = 0; i < 3; i++) {
			/* For xtcp's listener, the last client is xtcp too. */
			cfam = fam != AF_INET && i == 2 ? xtcp_family() : AF_INET;
			cfd[i] = a_client(_metadata, cfam, port);
		}
		ASSERT_TRUE(poll_one(lfd, POLLIN, 5000) & POLLIN);
		usleep(500 * 1000);
		if (fam != AF_INET)
			EXPECT_EQ(3, wait_count(self->e.np.b, port, "ESTABLISHED",
						3, 5000))
				TH_LOG("connections listed before the close");

		close(lfd);
		for (i = 0; i < 3; i++) {
			ev = poll_one(cfd[i], POLLIN, 5000);
			EXPECT_TRUE(ev & (POLLIN | POLLERR))
				TH_LOG("%s: client %d: revents 0x%x 5 s after the close",
				       fam_name(fam), i, ev);
			n = recv(cfd[i], &c, 1, MSG_DONTWAIT);
			err = errno;
			EXPECT_EQ(-1, n);
			EXPECT_EQ(ECONNRESET, err)
				TH_LOG("%s: client %d: recv %d: %s", fam_name(fam),
				       i, n, strerror(err));
			close(cfd[i]);
		}
		if (fam != AF_INET)
			EXPECT_EQ(0, wait_count(self->e.np.b, port, NULL, 0, 5000))
				TH_LOG("entries of port %d left after the close", port);
	}
}

/* ---- 6. the accept queue's limit ---- */

#define BACKLOG		8
#define NCLIENTS	50

/**
 * struct flood - a listener that accepts nothing while NCLIENTS connect
 * @lfd: the listener (non-blocking)
 * @cfd: the Linux clients in A
 * @afd: what was accepted after the flood
 * @accepted: how many
 * @err: the errno of the accept() that found the queue empty
 */
struct flood {
	int	lfd;
	int	cfd[NCLIENTS];
	int	afd[NCLIENTS];
	int	accepted;
	int	err;
};

/*
 * A @family listener in B, listen(1) then listen(BACKLOG); NCLIENTS
 * non-blocking Linux clients connect and nothing is accepted for 3 s.
 * Then B stops taking TCP (a tc drop filter) so that the queue can no
 * longer change, and the queue is drained.
 */
static void flood_run(struct __test_metadata *_metadata, struct env *e,
		      int family, int port, struct flood *f)
{
	int i, err, fd;

	memset(f, 0xff, sizeof(*f));
	f->accepted = 0;
	f->err = 0;
	f->lfd = b_sock(_metadata, e, family, SOCK_NONBLOCK);
	ASSERT_EQ(0, setsockopt_int(f->lfd, SOL_SOCKET, SO_REUSEADDR, 1));
	ASSERT_EQ(0, bind_err(f->lfd, "0.0.0.0", port));
	EXPECT_EQ(0, listen_err(f->lfd, 1)) TH_LOG("%s", fam_name(family));
	EXPECT_EQ(0, listen_err(f->lfd, BACKLOG))
		TH_LOG("%s: listen() again", fam_name(family));
	for (i = 0; i < NCLIENTS; i++) {
		f->cfd[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		ASSERT_LE(0, f->cfd[i]);
		err = connect_err(f->cfd[i], B_ADDR, port);
		EXPECT_TRUE(!err || err == EINPROGRESS)
			TH_LOG("client %d: connect: %s", i, strerror(err));
	}
	usleep(3000 * 1000);
	drop_tcp(_metadata, e, 1);
	usleep(300 * 1000);
	while (f->accepted < NCLIENTS) {
		fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			f->err = errno;
			break;
		}
		f->afd[f->accepted++] = fd;
	}
	undrop_tcp(_metadata, e, 1);
}

static void flood_close(struct flood *f)
{
	int i;

	for (i = 0; i < f->accepted; i++)
		close(f->afd[i]);
	for (i = 0; i < NCLIENTS; i++)
		if (f->cfd[i] >= 0)
			close(f->cfd[i]);
	close(f->lfd);
}

/*
 * listen(fd, 8) (after listen(fd, 1)), 50 clients, nothing accepted: the
 * queue holds backlog + 1 at most (Linux's sk_acceptq_is_full() is ">"),
 * more than the first backlog allowed, and what did not fit is counted.
 */
TEST_F_TIMEOUT(listen, backlog_overflow, 120)
{
	long long over0, drop0, cookie0, over, drop, cookie;
	int nsb = self->e.np.b;
	struct flood f;

	flood_run(_metadata, &self->e, AF_INET, KPORT, &f);
	TH_LOG("Linux TCP: %d of %d connections queued with backlog %d",
	       f.accepted, NCLIENTS, BACKLOG);
	EXPECT_EQ(EAGAIN, f.err) TH_LOG("Linux TCP: %s", strerror(f.err));
	EXPECT_LE(3, f.accepted);
	EXPECT_GE(BACKLOG + 1, f.accepted);
	flood_close(&f);

	over0 = stat_in(nsb, "ListenOverflows");
	drop0 = stat_in(nsb, "ListenDrops");
	cookie0 = stat_in(nsb, "SyncookiesSent");
	ASSERT_LE(0, over0) TH_LOG("no ListenOverflows in %s", XTCP_STAT_FILE);
	ASSERT_LE(0, drop0) TH_LOG("no ListenDrops in %s", XTCP_STAT_FILE);
	ASSERT_LE(0, cookie0) TH_LOG("no SyncookiesSent in %s", XTCP_STAT_FILE);
	flood_run(_metadata, &self->e, xtcp_family(), XPORT, &f);
	over = stat_in(nsb, "ListenOverflows") - over0;
	drop = stat_in(nsb, "ListenDrops") - drop0;
	cookie = stat_in(nsb, "SyncookiesSent") - cookie0;
	TH_LOG("xtcp: %d of %d queued; ListenOverflows +%lld, "
	       "ListenDrops +%lld, SyncookiesSent +%lld",
	       f.accepted, NCLIENTS, over, drop, cookie);
	EXPECT_EQ(EAGAIN, f.err) TH_LOG("xtcp: %s", strerror(f.err));
	EXPECT_LE(1, f.accepted) TH_LOG("nothing queued");
	EXPECT_LE(3, f.accepted)
		TH_LOG("did the second listen() keep the backlog of 1?");
	EXPECT_GE(BACKLOG + 1, f.accepted) TH_LOG("the queue ran over");
	EXPECT_LT(0, over + drop + cookie)
		TH_LOG("%d clients did not fit and no counter says so",
		       NCLIENTS - f.accepted);
}

/* ---- 7. SYN cookies ---- */

/*
 * net.xtcp.syncookies=2: every SYN gets a cookie, and the connections
 * work. With timestamps the SYN-ACK keeps SACK and window scale (they
 * ride in the TSval), without them it carries the MSS alone, as Linux's.
 */
TEST_F_TIMEOUT(listen, syncookies_always, 90)
{
	long long sent0, recv0, fail0, passive0;
	struct cap_seg syn, sa;
	struct synopt o;
	unsigned int want;
	int nsb = self->e.np.b, lfd, cap, cfd, afd, ts;
	char buf[16];

	ASSERT_EQ(0, write_in(nsb, SYNCOOKIES, "2"));
	ASSERT_LT(0, read_in(nsb, SYNCOOKIES, buf, sizeof(buf)));
	EXPECT_EQ(2, atoi(buf));
	sent0 = stat_in(nsb, "SyncookiesSent");
	recv0 = stat_in(nsb, "SyncookiesRecv");
	fail0 = stat_in(nsb, "SyncookiesFailed");
	passive0 = stat_in(nsb, "PassiveOpens");
	ASSERT_LE(0, sent0) TH_LOG("no SyncookiesSent in %s", XTCP_STAT_FILE);
	ASSERT_LE(0, recv0) TH_LOG("no SyncookiesRecv in %s", XTCP_STAT_FILE);
	ASSERT_LE(0, passive0) TH_LOG("no PassiveOpens in %s", XTCP_STAT_FILE);
	lfd = b_listener(_metadata, &self->e, xtcp_family(), XPORT, 16);

	for (ts = 1; ts >= 0; ts--) {
		if (!ts)
			ASSERT_EQ(0, write_file(IPV4_SYSCTL "tcp_timestamps", "0"));
		cap = cap_a(_metadata, &self->e);
		cfd = a_client(_metadata, AF_INET, XPORT);
		afd = accept_within(lfd, 5000, NULL);
		ASSERT_LE(0, afd) TH_LOG("nothing accepted (timestamps %d)", ts);
		ASSERT_EQ(2, cap_handshake(cap, XPORT, local_port(cfd), &syn,
					   &sa))
			TH_LOG("handshake not captured");
		close(cap);
		cap_opts(&sa, &o);
		want = OPT_MSS | (ts ? OPT_SACKOK | OPT_TS | OPT_WS : 0);
		EXPECT_EQ(want, o.kinds) dump_opts(_metadata, "cookie SYN-ACK", &sa);
		EXPECT_EQ(MSS_1500, o.mss);
		EXPECT_EQ(syn.seq + 1, sa.ack);
		req_resp(_metadata, cfd, afd, ts);
		bulk_both(_metadata, cfd, afd, ts ? 4 * MB : MB);
		close(afd);
		close(cfd);
	}
	EXPECT_LE(sent0 + 2, stat_in(nsb, "SyncookiesSent"));
	EXPECT_LE(recv0 + 2, stat_in(nsb, "SyncookiesRecv"));
	if (fail0 >= 0)
		EXPECT_EQ(fail0, stat_in(nsb, "SyncookiesFailed"));
	EXPECT_EQ(passive0 + 2, stat_in(nsb, "PassiveOpens"));
}

/* net.xtcp.syncookies=0: connections work and no cookie is sent. */
TEST_F_TIMEOUT(listen, syncookies_off, 60)
{
	long long sent0, passive0;
	int nsb = self->e.np.b, lfd, cfd, afd;
	char buf[16];

	ASSERT_EQ(0, write_in(nsb, SYNCOOKIES, "0"));
	ASSERT_LT(0, read_in(nsb, SYNCOOKIES, buf, sizeof(buf)));
	EXPECT_EQ(0, atoi(buf));
	sent0 = stat_in(nsb, "SyncookiesSent");
	passive0 = stat_in(nsb, "PassiveOpens");
	ASSERT_LE(0, sent0) TH_LOG("no SyncookiesSent in %s", XTCP_STAT_FILE);
	lfd = b_listener(_metadata, &self->e, xtcp_family(), XPORT, 16);
	cfd = a_client(_metadata, AF_INET, XPORT);
	afd = accept_within(lfd, 5000, NULL);
	ASSERT_LE(0, afd) TH_LOG("nothing accepted");
	req_resp(_metadata, cfd, afd, 0);
	bulk_both(_metadata, cfd, afd, 4 * MB);
	EXPECT_EQ(sent0, stat_in(nsb, "SyncookiesSent"));
	EXPECT_EQ(passive0 + 1, stat_in(nsb, "PassiveOpens"));
}

/* ---- 10. the server's side of close ---- */

/*
 * The accepted socket closes first: the client reads EOF, the server's
 * entry goes FIN_WAIT, then TIME_WAIT once the client closes too.
 */
TEST_F(listen, server_closes_first)
{
	char local[32], remote[32], state[32], c;
	int nsb = self->e.np.b, lfd, cfd, afd;
	long long tw0 = stat_in(nsb, "TimeWait");

	ASSERT_LE(0, tw0) TH_LOG("no TimeWait in %s", XTCP_STAT_FILE);
	lfd = b_listener(_metadata, &self->e, xtcp_family(), XPORT, 8);
	cfd = a_client(_metadata, AF_INET, XPORT);
	afd = accept_within(lfd, 5000, NULL);
	ASSERT_LE(0, afd);
	hostport(local, B_ADDR, XPORT);
	hostport(remote, A_ADDR, local_port(cfd));
	EXPECT_TRUE(wait_state(nsb, local, remote, "ESTABLISHED", 2000, state,
			       sizeof(state)))
		TH_LOG("%s %s listed as '%s'", local, remote, state);

	ASSERT_EQ(0, close(afd));
	ASSERT_TRUE(poll_one(cfd, POLLIN, 5000) & POLLIN)
		TH_LOG("the client saw no FIN");
	EXPECT_EQ(0, recv(cfd, &c, 1, 0)) TH_LOG("client recv: %s",
						 strerror(errno));
	EXPECT_TRUE(wait_state(nsb, local, remote, "FIN_WAIT", 5000, state,
			       sizeof(state)))
		TH_LOG("after the server's close: '%s'", state);

	ASSERT_EQ(0, close(cfd));
	EXPECT_TRUE(wait_state(nsb, local, remote, "TIME_WAIT", 5000, state,
			       sizeof(state)))
		TH_LOG("after the client's close: '%s'", state);
	EXPECT_EQ(tw0 + 1, stat_in(nsb, "TimeWait"));
}

/*
 * The client closes first: the accepted socket reads EOF (CLOSE_WAIT);
 * its close() sends a FIN, held in LAST_ACK while A drops what B sends,
 * and the entry goes when the ACK comes, without TIME_WAIT.
 */
TEST_F_TIMEOUT(listen, client_closes_first, 60)
{
	char local[32], remote[32], state[32], c;
	int nsb = self->e.np.b, lfd, cfd, afd, i;
	long long tw0 = stat_in(nsb, "TimeWait");

	ASSERT_LE(0, tw0) TH_LOG("no TimeWait in %s", XTCP_STAT_FILE);
	lfd = b_listener(_metadata, &self->e, xtcp_family(), XPORT, 8);
	cfd = a_client(_metadata, AF_INET, XPORT);
	afd = accept_within(lfd, 5000, NULL);
	ASSERT_LE(0, afd);
	hostport(local, B_ADDR, XPORT);
	hostport(remote, A_ADDR, local_port(cfd));

	ASSERT_EQ(0, close(cfd));
	ASSERT_TRUE(poll_one(afd, POLLIN, 5000) & POLLIN)
		TH_LOG("the server saw no FIN");
	EXPECT_EQ(0, recv(afd, &c, 1, 0)) TH_LOG("server recv: %s",
						 strerror(errno));
	EXPECT_TRUE(wait_state(nsb, local, remote, "CLOSE_WAIT", 3000, state,
			       sizeof(state)))
		TH_LOG("after the client's FIN: '%s'", state);
	/* Let the ACK of the client's FIN arrive before A stops listening. */
	usleep(500 * 1000);

	drop_tcp(_metadata, &self->e, 0);
	ASSERT_EQ(0, close(afd));
	EXPECT_TRUE(wait_state(nsb, local, remote, "LAST_ACK", 3000, state,
			       sizeof(state)))
		TH_LOG("after the server's close: '%s'", state);
	undrop_tcp(_metadata, &self->e, 0);
	EXPECT_TRUE(wait_state(nsb, local, remote, "", 20000, state,
			       sizeof(state)))
		TH_LOG("still '%s' 20 s after A took segments again", state);
	for (i = 0; i < 10; i++) {
		EXPECT_EQ(0, tuple_state(nsb, local, remote, state,
					 sizeof(state)))
			TH_LOG("listed again as '%s'", state);
		usleep(100 * 1000);
	}
	EXPECT_EQ(tw0, stat_in(nsb, "TimeWait"));
}

/* ---- 9. reuseport ---- */

/*
 * Who may share a port: sockets that all set the option before bind();
 * one without it is refused beside a member, and a member beside a
 * listener without it. SO_REUSEPORT reads the option back. Linux's TCP
 * (with SO_REUSEPORT) first, then xtcp (with XTCP_REUSEPORT).
 */
TEST_F(listen, reuseport_required)
{
	int fam, port, a, b, c, d, f, err;

	FOR_EACH_STACK(fam) {
		port = port_of(fam);
		a = b_sock(_metadata, &self->e, fam, 0);
		EXPECT_EQ(0, getsockopt_int(a, SOL_SOCKET, SO_REUSEPORT));
		EXPECT_EQ(0, set_reuseport(a, fam, 1)) TH_LOG("%s", fam_name(fam));
		EXPECT_EQ(1, getsockopt_int(a, SOL_SOCKET, SO_REUSEPORT))
			TH_LOG("%s: SO_REUSEPORT after setting it", fam_name(fam));
		EXPECT_EQ(0, set_reuseport(a, fam, 0));
		EXPECT_EQ(0, getsockopt_int(a, SOL_SOCKET, SO_REUSEPORT))
			TH_LOG("%s: SO_REUSEPORT after clearing it", fam_name(fam));
		EXPECT_EQ(0, set_reuseport(a, fam, 1));
		ASSERT_EQ(0, bind_err(a, "0.0.0.0", port));
		ASSERT_EQ(0, listen(a, 8));

		b = b_sock(_metadata, &self->e, fam, 0);
		err = bind_err(b, "0.0.0.0", port);
		EXPECT_EQ(EADDRINUSE, err)
			TH_LOG("%s: a socket without the option beside a member: %s",
			       fam_name(fam), strerror(err));
		c = b_sock(_metadata, &self->e, fam, 0);
		EXPECT_EQ(0, set_reuseport(c, fam, 1));
		err = bind_err(c, "0.0.0.0", port);
		EXPECT_EQ(0, err) TH_LOG("%s: a second member: %s",
					 fam_name(fam), strerror(err));
		EXPECT_EQ(0, listen_err(c, 8)) TH_LOG("%s: the second member",
						      fam_name(fam));
		if (fam != AF_INET)
			EXPECT_EQ(2, count_state(self->e.np.b, port, "LISTEN"));

		/* The other order: a listener without it keeps its port. */
		d = b_sock(_metadata, &self->e, fam, 0);
		ASSERT_EQ(0, bind_err(d, "0.0.0.0", port + 10));
		ASSERT_EQ(0, listen(d, 8));
		f = b_sock(_metadata, &self->e, fam, 0);
		EXPECT_EQ(0, set_reuseport(f, fam, 1));
		err = bind_err(f, "0.0.0.0", port + 10);
		EXPECT_EQ(EADDRINUSE, err)
			TH_LOG("%s: a member beside a listener without the option: %s",
			       fam_name(fam), strerror(err));
		close(a);
		close(b);
		close(c);
		close(d);
		close(f);
	}
}

#define RP_CLIENTS	40

/*
 * Two members of a group listen on one port: 40 connections spread over
 * both, each accepted once; when one member closes, new connections go
 * to the other.
 */
TEST_F_TIMEOUT(listen, reuseport_spreads, 90)
{
	int nsb = self->e.np.b, x[2], n[2] = { 0, 0 }, cfd[RP_CLIENTS];
	int seen[RP_CLIENTS] = { 0 }, k, i, fd, y, err, port, c, a;
	struct sockaddr_in peer;
	socklen_t len;
	long long passive0 = stat_in(nsb, "PassiveOpens"), end;

	ASSERT_LE(0, passive0) TH_LOG("no PassiveOpens in %s", XTCP_STAT_FILE);
	for (k = 0; k < 2; k++) {
		x[k] = b_sock(_metadata, &self->e, xtcp_family(), SOCK_NONBLOCK);
		ASSERT_EQ(0, setsockopt_int(x[k], SOL_XTCP, XTCP_REUSEPORT, 1));
		EXPECT_EQ(1, getsockopt_int(x[k], SOL_SOCKET, SO_REUSEPORT));
		err = bind_err(x[k], "0.0.0.0", XPORT);
		ASSERT_EQ(0, err) TH_LOG("member %d: bind: %s", k, strerror(err));
		ASSERT_EQ(0, listen(x[k], 64)) TH_LOG("member %d: listen: %s",
						      k, strerror(errno));
	}
	EXPECT_EQ(2, count_state(nsb, XPORT, "LISTEN"));
	y = b_sock(_metadata, &self->e, xtcp_family(), 0);
	EXPECT_EQ(EADDRINUSE, bind_err(y, "0.0.0.0", XPORT))
		TH_LOG("a socket without XTCP_REUSEPORT joined the group");
	close(y);

	for (i = 0; i < RP_CLIENTS; i++)
		cfd[i] = a_client(_metadata, AF_INET, XPORT);
	end = now_ms() + 20000;
	while (n[0] + n[1] < RP_CLIENTS && now_ms() < end) {
		struct pollfd pfd[2] = { { .fd = x[0], .events = POLLIN },
					 { .fd = x[1], .events = POLLIN } };

		poll(pfd, 2, 500);
		for (k = 0; k < 2; k++) {
			for (;;) {
				len = sizeof(peer);
				fd = accept(x[k], (struct sockaddr *)&peer, &len);
				if (fd < 0)
					break;
				n[k]++;
				port = ntohs(peer.sin_port);
				for (i = 0; i < RP_CLIENTS; i++)
					if (local_port(cfd[i]) == port)
						seen[i]++;
			}
		}
	}
	TH_LOG("members accepted %d and %d of %d", n[0], n[1], RP_CLIENTS);
	EXPECT_EQ(RP_CLIENTS, n[0] + n[1]);
	EXPECT_LE(1, n[0]) TH_LOG("the first member got nothing");
	EXPECT_LE(1, n[1]) TH_LOG("the second member got nothing");
	for (i = 0; i < RP_CLIENTS; i++) {
		EXPECT_EQ(1, seen[i])
			TH_LOG("client %d (port %d) accepted %d times", i,
			       local_port(cfd[i]), seen[i]);
	}
	EXPECT_EQ(passive0 + RP_CLIENTS, stat_in(nsb, "PassiveOpens"));

	/* One member goes; the other takes every new connection. */
	close(x[0]);
	EXPECT_EQ(1, wait_count(nsb, XPORT, "LISTEN", 1, 2000));
	for (i = 0; i < 5; i++) {
		c = a_client(_metadata, AF_INET, XPORT);
		a = accept_within(x[1], 5000, &peer);
		EXPECT_LE(0, a) TH_LOG("new connection %d not accepted by the member left",
				       i);
		if (a >= 0)
			EXPECT_EQ(local_port(c), ntohs(peer.sin_port));
	}
}

/* ---- 11. references ---- */

/*
 * A listener and its connections hold xtcp.ko (so rmmod must wait); once
 * all are closed, whether accepted, queued or half closed, the count is
 * back where it was.
 */
TEST_F_TIMEOUT(listen, refcnt_returns, 60)
{
	int before = self->e.refcnt, lfd, cfd[4], a1, a2, i, refcnt;

	lfd = b_listener(_metadata, &self->e, xtcp_family(), XPORT, 16);
	EXPECT_LT(before, xtcp_module_refcnt())
		TH_LOG("a listener holds no reference on the module");
	for (i = 0; i < 4; i++)
		cfd[i] = a_client(_metadata, i == 3 ? xtcp_family() : AF_INET,
				  XPORT);
	a1 = accept_within(lfd, 5000, NULL);
	a2 = accept_within(lfd, 5000, NULL);
	ASSERT_LE(0, a1);
	ASSERT_LE(0, a2);
	ASSERT_EQ(0, close(a1));	/* the server closes first */
	set_timeo(a2, IO_TIMEO_MS);
	EXPECT_EQ(1, send(a2, "x", 1, MSG_NOSIGNAL));
	usleep(500 * 1000);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0, getsockopt_int(cfd[i], SOL_SOCKET, SO_ERROR))
			TH_LOG("client %d", i);
	}
	refcnt = xtcp_module_refcnt();
	EXPECT_LT(before + 1, refcnt) TH_LOG("refcount %d with a listener and "
					     "connections, %d before",
					     refcnt, before);

	/* Two connections stay queued, one accepted, one closing. */
	refcnt = close_sockets_wait(before);
	EXPECT_GE(before, refcnt)
		TH_LOG("module refcount %d 10 s after every socket was closed, %d before",
		       refcnt, before);
}

/* ---- 3. data through accepted connections ---- */

FIXTURE(data) {
	struct env e;
};

/*
 * @xtcp_client: the clients are xtcp (else Linux's TCP)
 * @loopback: client and listener both in A, over 127.0.0.1
 */
FIXTURE_VARIANT(data) {
	int xtcp_client;
	int loopback;
};

FIXTURE_VARIANT_ADD(data, linux_client) { .xtcp_client = 0, .loopback = 0 };
FIXTURE_VARIANT_ADD(data, xtcp_client) { .xtcp_client = 1, .loopback = 0 };
FIXTURE_VARIANT_ADD(data, xtcp_loopback) { .xtcp_client = 1, .loopback = 1 };

FIXTURE_SETUP(data)
{
	env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(data)
{
	env_teardown(_metadata, &self->e);
}

#define DATA_CONNS	4

/*
 * DATA_CONNS clients connect and each exchanges a request and a response
 * with its accepted socket (the address accept() returns is the client's
 * name); PassiveOpens counts them (ActiveOpens too, for xtcp clients).
 * Then 20 MB each way at once on the first connection, and the last one
 * still answers.
 */
TEST_F_TIMEOUT(data, exchange, 120)
{
	int nsrv = variant->loopback ? self->e.np.a : self->e.np.b;
	const char *addr = variant->loopback ? "127.0.0.1" : B_ADDR;
	int cfam = variant->xtcp_client ? xtcp_family() : AF_INET;
	int lfd, cfd[DATA_CONNS], afd[DATA_CONNS], i, err;
	long long passive0, active0;
	struct sockaddr_in peer, cl;
	char b1[32], b2[32];

	passive0 = stat_in(nsrv, "PassiveOpens");
	active0 = xtcp_stat("ActiveOpens");
	ASSERT_LE(0, passive0) TH_LOG("no PassiveOpens in %s", XTCP_STAT_FILE);
	ASSERT_LE(0, active0) TH_LOG("no ActiveOpens in %s", XTCP_STAT_FILE);

	lfd = socket_in_netns(nsrv, xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, lfd) TH_LOG("xtcp socket: %s", strerror(-lfd));
	ASSERT_EQ(0, bind_err(lfd, variant->loopback ? "127.0.0.1" : "0.0.0.0",
			      XPORT));
	ASSERT_EQ(0, listen(lfd, 16)) TH_LOG("listen: %s", strerror(errno));

	for (i = 0; i < DATA_CONNS; i++) {
		cfd[i] = socket(cfam, SOCK_STREAM, 0);
		ASSERT_LE(0, cfd[i]);
		err = connect_err(cfd[i], addr, XPORT);
		ASSERT_EQ(0, err) TH_LOG("%s client %d: connect to %s:%d: %s",
					 fam_name(cfam), i, addr, XPORT,
					 strerror(err));
		afd[i] = accept_within(lfd, 5000, &peer);
		ASSERT_LE(0, afd[i]) TH_LOG("connection %d not accepted", i);
		get_name(_metadata, cfd[i], 0, &cl);
		EXPECT_TRUE(same_name(&peer, &cl))
			TH_LOG("accept() says %s, the client is %s",
			       sin_str(&peer, b1), sin_str(&cl, b2));
		req_resp(_metadata, cfd[i], afd[i], i);
	}
	EXPECT_EQ(passive0 + DATA_CONNS, stat_in(nsrv, "PassiveOpens"));
	if (variant->xtcp_client)
		EXPECT_EQ(active0 + DATA_CONNS, xtcp_stat("ActiveOpens"));

	bulk_both(_metadata, cfd[0], afd[0], BULK);
	req_resp(_metadata, cfd[DATA_CONNS - 1], afd[DATA_CONNS - 1],
		 DATA_CONNS);
}

/* ---- 4. the SYN-ACK ---- */

FIXTURE(synack) {
	struct env e;
};

/* The client's (A's) net.ipv4.tcp_sack, tcp_timestamps, tcp_window_scaling. */
FIXTURE_VARIANT(synack) {
	int sack;
	int ts;
	int ws;
};

FIXTURE_VARIANT_ADD(synack, all) { .sack = 1, .ts = 1, .ws = 1 };
FIXTURE_VARIANT_ADD(synack, no_timestamps) { .sack = 1, .ts = 0, .ws = 1 };
FIXTURE_VARIANT_ADD(synack, none) { .sack = 0, .ts = 0, .ws = 0 };

FIXTURE_SETUP(synack)
{
	env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(synack)
{
	env_teardown(_metadata, &self->e);
}

/* A Linux client in A connects to B:@port; its SYN and the SYN-ACK. */
static void handshake_seen(struct __test_metadata *_metadata, int cap, int lfd,
			   int port, struct cap_seg *syn, struct cap_seg *sa)
{
	int cfd, afd;

	cfd = a_client(_metadata, AF_INET, port);
	ASSERT_EQ(2, cap_handshake(cap, port, local_port(cfd), syn, sa))
		TH_LOG("handshake with port %d not captured", port);
	afd = accept_within(lfd, 5000, NULL);
	ASSERT_LE(0, afd);
	close(afd);
	close(cfd);
}

/* The SYN-ACK answering @syn has the headers and options @want. */
static void check_synack(struct __test_metadata *_metadata, const char *who,
			 const struct cap_seg *syn, const struct cap_seg *sa,
			 unsigned int want, int csum)
{
	struct synopt so, o;

	cap_opts(syn, &so);
	cap_opts(sa, &o);
	EXPECT_EQ(SEG_SYN | SEG_ACK, sa->flags) TH_LOG("%s", who);
	EXPECT_EQ(syn->seq + 1, sa->ack) TH_LOG("%s", who);
	EXPECT_EQ(syn->sport, sa->dport) TH_LOG("%s", who);
	EXPECT_EQ(inet_addr(B_ADDR), sa->saddr) TH_LOG("%s", who);
	EXPECT_EQ(0U, sa->paylen) TH_LOG("%s", who);
	EXPECT_LT(0U, sa->win) TH_LOG("%s", who);
	EXPECT_TRUE(cap_ip_csum_ok(sa)) TH_LOG("%s: IP checksum", who);
	if (csum)
		EXPECT_TRUE(cap_tcp_csum_ok(sa)) TH_LOG("%s: TCP checksum", who);
	EXPECT_EQ(0, o.bad) dump_opts(_metadata, who, sa);
	EXPECT_EQ(want, o.kinds) dump_opts(_metadata, who, sa);
	EXPECT_EQ(MSS_1500, o.mss) TH_LOG("%s", who);
	if (want & OPT_TS)
		EXPECT_EQ(so.tsval, o.tsecr) TH_LOG("%s: TSecr", who);
	if (want & OPT_WS)
		EXPECT_GE(14, o.wscale) TH_LOG("%s", who);
}

/*
 * The SYN-ACK offers what the client's SYN offered of SACK, timestamps
 * and window scale, and always the MSS (1460 on a 1500-byte veth): the
 * same option kinds as Linux's listener sends to the same client.
 */
TEST_F(synack, options)
{
	struct cap_seg ksyn, ksa, xsyn, xsa;
	struct synopt so;
	unsigned int want;
	int kl, xl, cap;
	char v[4];

	sprintf(v, "%d", variant->sack);
	ASSERT_EQ(0, write_file(IPV4_SYSCTL "tcp_sack", v));
	sprintf(v, "%d", variant->ts);
	ASSERT_EQ(0, write_file(IPV4_SYSCTL "tcp_timestamps", v));
	sprintf(v, "%d", variant->ws);
	ASSERT_EQ(0, write_file(IPV4_SYSCTL "tcp_window_scaling", v));
	want = OPT_MSS | (variant->sack ? OPT_SACKOK : 0) |
	       (variant->ts ? OPT_TS : 0) | (variant->ws ? OPT_WS : 0);

	kl = b_listener(_metadata, &self->e, AF_INET, KPORT, 8);
	xl = b_listener(_metadata, &self->e, xtcp_family(), XPORT, 8);
	cap = cap_a(_metadata, &self->e);
	handshake_seen(_metadata, cap, kl, KPORT, &ksyn, &ksa);
	handshake_seen(_metadata, cap, xl, XPORT, &xsyn, &xsa);

	cap_opts(&xsyn, &so);
	ASSERT_EQ(want, so.kinds) dump_opts(_metadata, "the client's SYN", &xsyn);
	check_synack(_metadata, "Linux's SYN-ACK", &ksyn, &ksa, want, 0);
	check_synack(_metadata, "xtcp's SYN-ACK", &xsyn, &xsa, want, 1);
	EXPECT_EQ(ksa.ttl, xsa.ttl);
	EXPECT_EQ(ksa.df, xsa.df);
}

/* ---- 8. a retransmitted SYN, from a scripted peer ---- */

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

#define PEER_SPORT	40000
#define PEER_ISN	0x1a2b3c4dU
#define PEER_ISN2	0x5e6f7081U

/* The peer's SYN to the listener: MSS, SACK-permitted, TS, wscale 7. */
static void peer_syn(struct pseg *s, uint32_t isn, uint32_t tsval)
{
	unsigned int n = 0;

	memset(s, 0, offsetof(struct pseg, data));
	s->sport = PEER_SPORT;
	s->dport = XPORT;
	s->seq = isn;
	s->flags = SEG_SYN;
	s->win = 65535;
	n += opt_mss(s->opt + n, 1460);
	n += opt_sackok(s->opt + n);
	n += opt_ts(s->opt + n, tsval, 0);
	n += opt_wscale(s->opt + n, 7);
	s->optlen = n;
}

/* The next segment from the listener's port to the peer's, within @ms. */
static int peer_next(struct peer *p, struct pseg *s, int ms)
{
	long long end = now_ms() + ms;
	int ret;

	do {
		long long left = end - now_ms();

		ret = peer_recv(p, s, left > 0 ? left : 0);
		if (ret <= 0)
			return ret;
	} while (s->sport != XPORT || s->dport != PEER_SPORT);
	return 1;
}

/*
 * A SYN sent twice with the same ISN: both SYN-ACKs carry the same
 * sequence number; the request is listed as SYN_RECV until the peer's
 * RST ends it. A new SYN then completes with the peer's ACK, and the
 * accepted socket reads what the peer sends.
 */
TEST_F(scripted, retransmitted_syn)
{
	static struct pseg syn, sa1, sa2, sa3, s;
	const char *local = PEER_XTCP_ADDR ":5000";
	const char *remote = PEER_ADDR ":40000";
	long long passive0, rtx0;
	struct sockaddr_in peer;
	char state[32], buf[32];
	int lfd, afd, ns = self->p.ns_a;
	static const char msg[] = "hello, listener";

	lfd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind_err(lfd, "0.0.0.0", XPORT));
	ASSERT_EQ(0, listen(lfd, 8)) TH_LOG("listen: %s", strerror(errno));
	passive0 = xtcp_stat("PassiveOpens");
	rtx0 = xtcp_stat("SynAckRetrans");

	peer_syn(&syn, PEER_ISN, 1000);
	ASSERT_EQ(0, peer_send(&self->p, &syn, NULL));
	ASSERT_EQ(1, peer_next(&self->p, &sa1, 3000)) TH_LOG("no SYN-ACK");
	EXPECT_EQ(SEG_SYN | SEG_ACK, sa1.flags);
	EXPECT_EQ(PEER_ISN + 1, sa1.ack);
	EXPECT_LT(0U, sa1.mss);
	EXPECT_TRUE(sa1.sackok);
	EXPECT_TRUE(sa1.ts);
	EXPECT_EQ(1000U, sa1.tsecr);
	EXPECT_LE(0, sa1.wscale);
	EXPECT_TRUE(wait_state(ns, local, remote, "SYN_RECV", 2000, state,
			       sizeof(state)))
		TH_LOG("the request is listed as '%s'", state);

	peer_syn(&syn, PEER_ISN, 1001);
	ASSERT_EQ(0, peer_send(&self->p, &syn, NULL));
	ASSERT_EQ(1, peer_next(&self->p, &sa2, 3000))
		TH_LOG("no SYN-ACK after the retransmitted SYN");
	EXPECT_EQ(SEG_SYN | SEG_ACK, sa2.flags);
	EXPECT_EQ(sa1.seq, sa2.seq) TH_LOG("ISN %u, then %u", sa1.seq, sa2.seq);
	EXPECT_EQ(PEER_ISN + 1, sa2.ack);
	EXPECT_EQ(rtx0 + 1, xtcp_stat("SynAckRetrans"));

	/* The peer's RST ends the request; nothing is queued. */
	memset(&s, 0, offsetof(struct pseg, data));
	s.sport = PEER_SPORT;
	s.dport = XPORT;
	s.seq = PEER_ISN + 1;
	s.flags = SEG_RST;
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	ASSERT_TRUE(wait_state(ns, local, remote, "", 3000, state,
			       sizeof(state)))
		TH_LOG("still listed as '%s' after the peer's RST", state);
	EXPECT_EQ(0, poll_one(lfd, POLLIN, 300));

	/* A new SYN, a new request: the peer's ACK completes it. */
	usleep(200 * 1000);
	peer_drain(&self->p);
	peer_syn(&syn, PEER_ISN2, 2000);
	ASSERT_EQ(0, peer_send(&self->p, &syn, NULL));
	do {
		ASSERT_EQ(1, peer_next(&self->p, &sa3, 3000))
			TH_LOG("no SYN-ACK for the new SYN");
	} while (sa3.ack != PEER_ISN2 + 1);
	EXPECT_EQ(SEG_SYN | SEG_ACK, sa3.flags);
	EXPECT_EQ(2000U, sa3.tsecr);

	memset(&s, 0, offsetof(struct pseg, data));
	s.sport = PEER_SPORT;
	s.dport = XPORT;
	s.seq = PEER_ISN2 + 1;
	s.ack = sa3.seq + 1;
	s.flags = SEG_ACK;
	s.win = 65535;
	s.optlen = opt_ts(s.opt, 2001, sa3.tsval);
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	afd = accept_within(lfd, 5000, &peer);
	ASSERT_LE(0, afd) TH_LOG("the peer's ACK completed nothing");
	EXPECT_EQ(inet_addr(PEER_ADDR), peer.sin_addr.s_addr);
	EXPECT_EQ(PEER_SPORT, ntohs(peer.sin_port));
	EXPECT_EQ(passive0 + 1, xtcp_stat("PassiveOpens"));
	EXPECT_TRUE(wait_state(ns, local, remote, "ESTABLISHED", 2000, state,
			       sizeof(state)))
		TH_LOG("the connection is listed as '%s'", state);

	s.flags = SEG_ACK | SEG_PSH;
	s.optlen = opt_ts(s.opt, 2002, sa3.tsval);
	memcpy(s.data, msg, sizeof(msg) - 1);
	s.len = sizeof(msg) - 1;
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	set_timeo(afd, 5000);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ((ssize_t)sizeof(msg) - 1, recv_exact(afd, buf, sizeof(msg) - 1));
	EXPECT_STREQ(msg, buf);
}

/* A segment of the peer's from @sport: flags, sequence, acknowledgment. */
static void peer_seg(struct pseg *s, unsigned int sport, unsigned int flags,
		     uint32_t seq, uint32_t ack)
{
	memset(s, 0, offsetof(struct pseg, data));
	s->sport = sport;
	s->dport = XPORT;
	s->seq = seq;
	s->ack = ack;
	s->flags = flags;
	s->win = 65535;
}

/* The next segment from the listener's port to @sport, within @ms. */
static int peer_next_from(struct peer *p, struct pseg *s, unsigned int sport,
			  int ms)
{
	long long end = now_ms() + ms;
	int ret;

	do {
		long long left = end - now_ms();

		ret = peer_recv(p, s, left > 0 ? left : 0);
		if (ret <= 0)
			return ret;
	} while (s->sport != XPORT || s->dport != sport);
	return 1;
}

/*
 * net.xtcp.synack_retries 2: a SYN never acknowledged gets its SYN-ACK
 * three times, all with one ISN, the gaps growing (1 s, then 2 s, as
 * Linux's backoff), and the request is gone once the last timeout ends.
 */
TEST_F_TIMEOUT(scripted, synack_retries, 60)
{
	static struct pseg syn, sa[4];
	const char *local = PEER_XTCP_ADDR ":5000";
	const char *remote = PEER_ADDR ":40000";
	long long t[4], rtx0;
	char state[32];
	int lfd, n, ns = self->p.ns_a;

	ASSERT_EQ(0, write_file("/proc/sys/net/xtcp/synack_retries", "2"));
	lfd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind_err(lfd, "0.0.0.0", XPORT));
	ASSERT_EQ(0, listen(lfd, 8));
	rtx0 = xtcp_stat("SynAckRetrans");

	peer_syn(&syn, PEER_ISN, 1000);
	ASSERT_EQ(0, peer_send(&self->p, &syn, NULL));
	for (n = 0; n < 4; n++) {
		if (peer_next(&self->p, &sa[n], 6000) != 1)
			break;
		t[n] = now_ms();
		EXPECT_EQ(SEG_SYN | SEG_ACK, sa[n].flags);
		EXPECT_EQ(sa[0].seq, sa[n].seq);
	}
	ASSERT_EQ(3, n) TH_LOG("%d SYN-ACKs for synack_retries 2", n);
	TH_LOG("SYN-ACK gaps %lld ms, %lld ms", t[1] - t[0], t[2] - t[1]);
	EXPECT_LT(t[1] - t[0] + 300, t[2] - t[1]);
	EXPECT_EQ(rtx0 + 2, xtcp_stat("SynAckRetrans"));
	EXPECT_TRUE(wait_state(ns, local, remote, "", 3000, state,
			       sizeof(state)))
		TH_LOG("the request is still listed as '%s'", state);
}

/*
 * The handshake's ACK meets a full accept queue: ignored and the request
 * kept (ListenOverflows) with net.xtcp.abort_on_overflow 0, as Linux; a
 * RST with abort_on_overflow 1, and the request ends. With backlog 2 the
 * request queue holds 2 and the accept queue 3 (Linux's limits): two
 * handshakes, then two SYNs and their ACKs, the last one too many.
 */
TEST_F(scripted, abort_on_overflow)
{
	static struct pseg syn, sa[4], s;
	const char *local = PEER_XTCP_ADDR ":5000";
	const char *remote4 = PEER_ADDR ":40003";
	long long over0;
	char state[32];
	int lfd, i, ns = self->p.ns_a;

	lfd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind_err(lfd, "0.0.0.0", XPORT));
	ASSERT_EQ(0, listen(lfd, 2));

	/* SYN 1, SYN 2, ACK 1, ACK 2, SYN 3, SYN 4, ACK 3. */
	for (i = 0; i < 4; i++) {
		peer_seg(&syn, PEER_SPORT + i, SEG_SYN, PEER_ISN + i, 0);
		syn.optlen = opt_mss(syn.opt, 1460);
		ASSERT_EQ(0, peer_send(&self->p, &syn, NULL));
		ASSERT_EQ(1, peer_next_from(&self->p, &sa[i], PEER_SPORT + i,
					    3000))
			TH_LOG("no SYN-ACK for SYN %d", i + 1);
		if (i != 1 && i != 3)
			continue;
		peer_seg(&s, PEER_SPORT + i - 1, SEG_ACK, PEER_ISN + i,
			 sa[i - 1].seq + 1);
		ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
		if (i == 3)
			break;
		peer_seg(&s, PEER_SPORT + i, SEG_ACK, PEER_ISN + i + 1,
			 sa[i].seq + 1);
		ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
		usleep(200 * 1000);
	}
	usleep(300 * 1000);

	/* The fourth ACK: the queue holds 3. No reply, the request stays. */
	over0 = xtcp_stat("ListenOverflows");
	peer_drain(&self->p);
	peer_seg(&s, PEER_SPORT + 3, SEG_ACK, PEER_ISN + 4, sa[3].seq + 1);
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	EXPECT_EQ(0, peer_next_from(&self->p, &sa[0], PEER_SPORT + 3, 500))
		TH_LOG("a reply (flags %#x) to an ACK that met a full queue",
		       sa[0].flags);
	EXPECT_EQ(over0 + 1, xtcp_stat("ListenOverflows"));
	EXPECT_TRUE(wait_state(ns, local, remote4, "SYN_RECV", 1000, state,
			       sizeof(state)))
		TH_LOG("the request is listed as '%s'", state);

	/* abort_on_overflow 1: the same ACK draws a RST, the request ends. */
	ASSERT_EQ(0, write_file("/proc/sys/net/xtcp/abort_on_overflow", "1"));
	peer_drain(&self->p);
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	do {
		ASSERT_EQ(1, peer_next_from(&self->p, &sa[0], PEER_SPORT + 3,
					    3000))
			TH_LOG("no RST with abort_on_overflow 1");
	} while (sa[0].flags & SEG_SYN);
	EXPECT_EQ(SEG_RST, sa[0].flags & SEG_RST);
	EXPECT_TRUE(wait_state(ns, local, remote4, "", 2000, state,
			       sizeof(state)))
		TH_LOG("the request is still listed as '%s'", state);
}

/*
 * A TIME_WAIT entry on the listener's port (the server closed first).
 * An old SYN (sequence below the entry's rcv_nxt, no timestamps) is
 * answered with the entry's ACK; a new one (RFC 6191: a higher
 * sequence) goes to the listener, whose SYN-ACK's ISN lies beyond the
 * old connection's sequence space, and the handshake completes.
 */
TEST_F(scripted, syn_on_time_wait)
{
	static struct pseg syn, sa, s;
	const char *local = PEER_XTCP_ADDR ":5000";
	const char *remote = PEER_ADDR ":40000";
	uint32_t snd_nxt, rcv_nxt;
	long long passive0;
	char state[32];
	int lfd, afd, ns = self->p.ns_a;

	lfd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind_err(lfd, "0.0.0.0", XPORT));
	ASSERT_EQ(0, listen(lfd, 8));

	peer_seg(&syn, PEER_SPORT, SEG_SYN, PEER_ISN, 0);
	syn.optlen = opt_mss(syn.opt, 1460);
	ASSERT_EQ(0, peer_send(&self->p, &syn, NULL));
	ASSERT_EQ(1, peer_next(&self->p, &sa, 3000));
	peer_seg(&s, PEER_SPORT, SEG_ACK, PEER_ISN + 1, sa.seq + 1);
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	afd = accept_within(lfd, 5000, NULL);
	ASSERT_LE(0, afd);

	/* The server closes first: its FIN, our ACK and FIN. */
	close(afd);
	do {
		ASSERT_EQ(1, peer_next(&self->p, &s, 3000)) TH_LOG("no FIN");
	} while (!(s.flags & SEG_FIN));
	snd_nxt = s.seq + 1;
	rcv_nxt = PEER_ISN + 1 + 1;
	peer_seg(&s, PEER_SPORT, SEG_ACK | SEG_FIN, PEER_ISN + 1, snd_nxt);
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	ASSERT_TRUE(wait_state(ns, local, remote, "TIME_WAIT", 3000, state,
			       sizeof(state)))
		TH_LOG("the server's side is listed as '%s'", state);
	usleep(300 * 1000);
	peer_drain(&self->p);

	/* An old SYN: the entry's ACK. */
	peer_seg(&syn, PEER_SPORT, SEG_SYN, PEER_ISN - 1000, 0);
	syn.optlen = opt_mss(syn.opt, 1460);
	ASSERT_EQ(0, peer_send(&self->p, &syn, NULL));
	ASSERT_EQ(1, peer_next(&self->p, &sa, 3000)) TH_LOG("no reply");
	EXPECT_EQ(SEG_ACK, sa.flags);
	EXPECT_EQ(snd_nxt, sa.seq);
	EXPECT_EQ(rcv_nxt, sa.ack);
	EXPECT_TRUE(wait_state(ns, local, remote, "TIME_WAIT", 500, state,
			       sizeof(state)));

	/* A new SYN: the listener's SYN-ACK, the entry gone. */
	passive0 = xtcp_stat("PassiveOpens");
	peer_seg(&syn, PEER_SPORT, SEG_SYN, PEER_ISN + 100000, 0);
	syn.optlen = opt_mss(syn.opt, 1460);
	ASSERT_EQ(0, peer_send(&self->p, &syn, NULL));
	ASSERT_EQ(1, peer_next(&self->p, &sa, 3000)) TH_LOG("no reply");
	EXPECT_EQ(SEG_SYN | SEG_ACK, sa.flags);
	EXPECT_EQ(PEER_ISN + 100000 + 1, sa.ack);
	EXPECT_EQ(snd_nxt + 65535 + 2, sa.seq)
		TH_LOG("ISN %u after snd_nxt %u", sa.seq, snd_nxt);
	peer_seg(&s, PEER_SPORT, SEG_ACK, PEER_ISN + 100000 + 1, sa.seq + 1);
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	afd = accept_within(lfd, 5000, NULL);
	ASSERT_LE(0, afd) TH_LOG("the new SYN made no connection");
	EXPECT_EQ(passive0 + 1, xtcp_stat("PassiveOpens"));
	EXPECT_TRUE(wait_state(ns, local, remote, "ESTABLISHED", 2000, state,
			       sizeof(state)))
		TH_LOG("listed as '%s'", state);
}

TEST_HARNESS_MAIN
