// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp connect(): the client side, with Linux's TCP as the peer.
 *
 * Each test runs in two fresh network namespaces joined by a veth pair
 * (struct netpair): A (192.0.2.1 on va) holds the xtcp client, B
 * (192.0.2.2 on vb) the Linux TCP peer. The test's thread lives in A and
 * makes B's sockets by stepping into B (socket_in_netns()). A packet
 * socket on vb sees each frame B receives before tc's ingress filters
 * and each frame B sends after its qdisc, so the tests check the wire
 * itself: the SYN's headers and options, retransmission times, RSTs.
 * Where the expectation is Linux's own behaviour, a Linux TCP client in
 * A plays the scenario first and must give the same literal result.
 *
 * Teardown closes the xtcp sockets, then the others, and waits for the
 * module's reference count to come back to where it was: no connection
 * may outlive its test (a leftover would keep xtcp.ko from unloading).
 */
#include "kselftest_harness.h"
#include "xtcp_test.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <sys/time.h>

#ifndef SO_DOMAIN
#define SO_DOMAIN	39
#endif

#define A_ADDR		NETPAIR_A_ADDR
#define B_ADDR		NETPAIR_B_ADDR
#define B_ADDR2		"192.0.2.3"	/* a second address of B */
#define B_PORT		5000		/* Linux listeners in B */
#define B_PORT2		5001
#define BULK_PORT	5002
#define CLOSED_PORT	5999		/* nothing listens there */
#define XTCP_RANGE	XTCP_SYSCTL_DIR "ip_local_port_range"
#define T		-1		/* a TSval byte in an option template */

/* What every test has: the namespaces and what teardown must undo. */
struct env {
	struct netpair	np;
	int		refcnt;	/* xtcp.ko's reference count before the test */
	int		tc_a;	/* a qdisc was added on va / vb */
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
}

static void env_teardown(struct __test_metadata *_metadata, struct env *e)
{
	int refcnt;

	/* Nothing may stay queued or dropped while connections close. */
	if (e->tc_b)
		run_cmd_in_netns(e->np.b, "(tc qdisc del dev %s ingress; tc qdisc del dev %s root)",
				 NETPAIR_B_DEV, NETPAIR_B_DEV);
	if (e->tc_a)
		run_cmd("tc qdisc del dev %s root", NETPAIR_A_DEV);
	refcnt = close_sockets_wait(e->refcnt);
	/* (A TH_LOG after EXPECT would also print after a failed ASSERT.) */
	if (refcnt > e->refcnt)
		TH_LOG("xtcp sockets alive 10 s after teardown closed them: "
		       "module refcount %d, %d before the test",
		       refcnt, e->refcnt);
	EXPECT_GE(e->refcnt, refcnt);
	netpair_close(&e->np);
}

FIXTURE(connect) {
	struct env e;
};

FIXTURE_SETUP(connect)
{
	env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(connect)
{
	env_teardown(_metadata, &self->e);
}

/* ---- helpers ---- */

static int xsock(struct __test_metadata *_metadata, int flags)
{
	int fd = socket(xtcp_family(), SOCK_STREAM | flags, 0);

	ASSERT_LE(0, fd) TH_LOG("xtcp socket: %s", strerror(errno));
	return fd;
}

/* A Linux TCP listener in B on 0.0.0.0:@port. */
static int b_listen(struct __test_metadata *_metadata, struct env *e,
		    int port)
{
	int fd = socket_in_netns(e->np.b, AF_INET, SOCK_STREAM, 0);

	ASSERT_LE(0, fd) TH_LOG("socket in B: %s", strerror(-fd));
	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1));
	ASSERT_EQ(0, bind_err(fd, "0.0.0.0", port));
	ASSERT_EQ(0, listen(fd, 256));
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

static int cap_b(struct __test_metadata *_metadata, struct env *e)
{
	int fd = cap_open(e->np.b, NETPAIR_B_DEV);

	ASSERT_LE(0, fd) TH_LOG("packet socket in B: %s", strerror(-fd));
	return fd;
}

/*
 * The next segment on @port whose direction is @from_b and whose flags
 * masked by @mask are @flags, within @ms. 1 if found.
 */
static int cap_find(int cap, struct cap_seg *s, int port, int from_b,
		    unsigned int mask, unsigned int flags, int ms)
{
	long long end = now_ms() + ms;

	for (;;) {
		long long left = end - now_ms();

		if (cap_next_tcp(cap, s, port, left > 0 ? left : 0) <= 0)
			return 0;
		if (s->out == from_b && (s->flags & mask) == flags)
			return 1;
	}
}

/* tc in B: drop every TCP segment B receives, after capture. */
static void drop_tcp_at_b(struct __test_metadata *_metadata, struct env *e)
{
	e->tc_b = 1;
	ASSERT_EQ(0, run_cmd_in_netns(e->np.b,
				      "tc qdisc add dev %s ingress && tc filter add dev %s parent ffff: protocol ip prio 1 u32 match ip protocol 6 0xff action drop",
				      NETPAIR_B_DEV, NETPAIR_B_DEV))
		TH_LOG("tc ingress drop filter in B");
}

/* netem: delay what @in_b's veth end sends by @ms. */
static void delay_egress(struct __test_metadata *_metadata, struct env *e,
			 int in_b, int ms)
{
	int ret;

	ASSERT_EQ(0, netpair_static_neigh(&e->np));
	if (in_b) {
		e->tc_b = 1;
		ret = run_cmd_in_netns(e->np.b,
				       "tc qdisc add dev %s root netem delay %dms",
				       NETPAIR_B_DEV, ms);
	} else {
		e->tc_a = 1;
		ret = run_cmd("tc qdisc add dev %s root netem delay %dms",
			      NETPAIR_A_DEV, ms);
	}
	ASSERT_EQ(0, ret) TH_LOG("tc netem on %s", in_b ? "vb" : "va");
}

static const char *sin_str(const struct sockaddr_in *sin, char *buf)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
	sprintf(buf, "%s:%d", a, ntohs(sin->sin_port));
	return buf;
}

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

/*
 * Each end's getsockname() is the other's getpeername(). Returns the
 * local port of @xfd.
 */
static int check_names(struct __test_metadata *_metadata, int xfd, int kfd)
{
	struct sockaddr_in xl, xp, kl, kp;
	char b1[32], b2[32];

	get_name(_metadata, xfd, 0, &xl);
	get_name(_metadata, xfd, 1, &xp);
	get_name(_metadata, kfd, 0, &kl);
	get_name(_metadata, kfd, 1, &kp);
	EXPECT_TRUE(xl.sin_addr.s_addr == kp.sin_addr.s_addr &&
		    xl.sin_port == kp.sin_port)
		TH_LOG("xtcp getsockname %s, Linux peer sees %s",
		       sin_str(&xl, b1), sin_str(&kp, b2));
	EXPECT_TRUE(xp.sin_addr.s_addr == kl.sin_addr.s_addr &&
		    xp.sin_port == kl.sin_port)
		TH_LOG("xtcp getpeername %s, Linux end is %s",
		       sin_str(&xp, b1), sin_str(&kl, b2));
	return ntohs(xl.sin_port);
}

static int addr_is(const struct sockaddr_in *sin, const char *addr)
{
	return sin->sin_addr.s_addr == inet_addr(addr);
}

/* ---- 1. connect() to a Linux listener ---- */

TEST_F(connect, established)
{
	long long opens = xtcp_stat("ActiveOpens");
	long long est = xtcp_stat("Established");
	struct sockaddr_in peer;
	int lfd, xfd, afd, lo, hi, port;

	ASSERT_LE(0, opens) TH_LOG("no ActiveOpens in %s", XTCP_STAT_FILE);
	ASSERT_LE(0, est) TH_LOG("no Established in %s", XTCP_STAT_FILE);
	ASSERT_EQ(0, read_range(XTCP_RANGE, &lo, &hi));
	EXPECT_EQ(61000, lo);
	EXPECT_EQ(65535, hi);

	lfd = b_listen(_metadata, &self->e, B_PORT);
	xfd = xsock(_metadata, 0);
	ASSERT_EQ(0, connect_err(xfd, B_ADDR, B_PORT))
		TH_LOG("connect: %s", strerror(errno));
	afd = accept_within(lfd, 2000, &peer);
	ASSERT_LE(0, afd) TH_LOG("the server accepted nothing");
	EXPECT_TRUE(addr_is(&peer, A_ADDR));
	port = ntohs(peer.sin_port);
	EXPECT_LE(lo, port);
	EXPECT_GE(hi, port);
	EXPECT_EQ(port, check_names(_metadata, xfd, afd));
	EXPECT_EQ(opens + 1, xtcp_stat("ActiveOpens"));
	EXPECT_EQ(est + 1, xtcp_stat("Established"));
}

TEST_F(connect, narrow_range)
{
	int lfd, xfd[2], afd, i, port, seen = 0;
	struct sockaddr_in peer;

	ASSERT_EQ(0, write_file(XTCP_RANGE, "62000 62001"));
	lfd = b_listen(_metadata, &self->e, B_PORT);
	for (i = 0; i < 2; i++) {
		xfd[i] = xsock(_metadata, 0);
		ASSERT_EQ(0, connect_err(xfd[i], B_ADDR, B_PORT))
			TH_LOG("connect %d: %s", i, strerror(errno));
		afd = accept_within(lfd, 2000, &peer);
		ASSERT_LE(0, afd);
		port = ntohs(peer.sin_port);
		EXPECT_TRUE(port == 62000 || port == 62001)
			TH_LOG("source port %d outside 62000-62001", port);
		EXPECT_EQ(port, check_names(_metadata, xfd[i], afd));
		if (port == 62000 || port == 62001)
			seen |= 1 << (port - 62000);
	}
	EXPECT_EQ(3, seen) TH_LOG("both ports of the range used");
}

/* Linux listener and xtcp client in one namespace, over lo. */
TEST_F(connect, loopback)
{
	struct sockaddr_in peer;
	int lfd, xfd, afd, port;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind_err(lfd, "127.0.0.1", B_PORT));
	ASSERT_EQ(0, listen(lfd, 16));
	xfd = xsock(_metadata, 0);
	ASSERT_EQ(0, connect_err(xfd, "127.0.0.1", B_PORT))
		TH_LOG("connect: %s", strerror(errno));
	afd = accept_within(lfd, 2000, &peer);
	ASSERT_LE(0, afd);
	EXPECT_TRUE(addr_is(&peer, "127.0.0.1"));
	port = ntohs(peer.sin_port);
	EXPECT_LE(61000, port);
	EXPECT_GE(65535, port);
	EXPECT_EQ(port, check_names(_metadata, xfd, afd));
}

/* ---- 2. close ---- */

TEST_F(connect, close_sends_fin)
{
	struct cap_seg syn, synack, fin;
	int lfd, xfd, afd, cap;
	char c;

	lfd = b_listen(_metadata, &self->e, B_PORT);
	cap = cap_b(_metadata, &self->e);
	xfd = xsock(_metadata, 0);
	ASSERT_EQ(0, connect_err(xfd, B_ADDR, B_PORT));
	afd = accept_within(lfd, 2000, NULL);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, close(xfd));

	ASSERT_TRUE(poll_one(afd, POLLIN, 3000) & POLLIN)
		TH_LOG("the server saw no end of stream after close()");
	EXPECT_EQ(0, read(afd, &c, 1))
		TH_LOG("server read: %s", strerror(errno));

	/* On the wire: FIN|ACK from A right after the handshake. */
	ASSERT_TRUE(cap_find(cap, &syn, B_PORT, 0, 0xff, SEG_SYN, 1000));
	ASSERT_TRUE(cap_find(cap, &synack, B_PORT, 1, 0xff, SEG_SYN | SEG_ACK,
			     1000));
	ASSERT_TRUE(cap_find(cap, &fin, B_PORT, 0, SEG_FIN, SEG_FIN, 1000));
	EXPECT_EQ(SEG_FIN | SEG_ACK, fin.flags);
	EXPECT_EQ(syn.seq + 1, fin.seq);
	EXPECT_EQ(synack.seq + 1, fin.ack);
	EXPECT_TRUE(cap_tcp_csum_ok(&fin));
}

TEST_F(connect, peer_close_poll)
{
	int lfd, xfd, afd, ev;

	lfd = b_listen(_metadata, &self->e, B_PORT);
	xfd = xsock(_metadata, 0);
	ASSERT_EQ(0, connect_err(xfd, B_ADDR, B_PORT));
	afd = accept_within(lfd, 2000, NULL);
	ASSERT_LE(0, afd);
	/* Connected, the peer still there: nothing to read. */
	ev = poll_one(xfd, POLLIN | POLLRDHUP, 200);
	EXPECT_EQ(0, ev) TH_LOG("revents 0x%x before the peer closed", ev);

	ASSERT_EQ(0, close(afd));
	ev = poll_one(xfd, POLLIN | POLLRDHUP, 3000);
	EXPECT_EQ(POLLIN | POLLRDHUP, ev & (POLLIN | POLLRDHUP))
		TH_LOG("revents 0x%x after the peer's FIN", ev);
	EXPECT_FALSE(ev & (POLLERR | POLLHUP))
		TH_LOG("revents 0x%x after the peer's FIN", ev);
}

/* ---- 3. the SYN on the wire ---- */

/* Linux's client in A connects; its SYN as B saw it. */
static void linux_syn(struct __test_metadata *_metadata, struct env *e,
		      int cap, int lfd, int maxseg, struct cap_seg *s)
{
	int kfd = socket(AF_INET, SOCK_STREAM, 0), afd;

	ASSERT_LE(0, kfd);
	if (maxseg)
		ASSERT_EQ(0, setsockopt_int(kfd, IPPROTO_TCP, TCP_MAXSEG,
					    maxseg));
	ASSERT_EQ(0, connect_err(kfd, B_ADDR, B_PORT));
	ASSERT_TRUE(cap_find(cap, s, B_PORT, 0, 0xff, SEG_SYN, 2000))
		TH_LOG("no SYN of Linux's client captured");
	afd = accept_within(lfd, 2000, NULL);
	ASSERT_LE(0, afd);
	close(afd);
	close(kfd);
}

static void xtcp_syn(struct __test_metadata *_metadata, struct env *e,
		     int cap, int lfd, int maxseg, struct cap_seg *s)
{
	int xfd = xsock(_metadata, 0), afd;

	if (maxseg)
		ASSERT_EQ(0, setsockopt_int(xfd, IPPROTO_TCP, TCP_MAXSEG,
					    maxseg));
	ASSERT_EQ(0, connect_err(xfd, B_ADDR, B_PORT))
		TH_LOG("connect: %s", strerror(errno));
	ASSERT_TRUE(cap_find(cap, s, B_PORT, 0, 0xff, SEG_SYN, 2000))
		TH_LOG("no SYN of xtcp's client captured");
	afd = accept_within(lfd, 2000, NULL);
	ASSERT_LE(0, afd);
	close(xfd);
	close(afd);
}

static void dump_opts(struct __test_metadata *_metadata, const char *who,
		      const struct cap_seg *s)
{
	char buf[200] = "";
	unsigned int i;

	for (i = 0; i < s->optlen && i < 40; i++)
		sprintf(buf + strlen(buf), "%02x ", s->data[s->optoff + i]);
	TH_LOG("%s SYN: win %u, options %s", who, s->win, buf);
}

/*
 * @s's options match @tmpl (T: a TSval byte); TSval nonzero and TSecr 0
 * are part of the template. Returns 1 if so.
 */
static int opts_match(const struct cap_seg *s, const int *tmpl,
		      unsigned int len)
{
	const unsigned char *o = s->data + s->optoff;
	unsigned int i, tsval = 0;
	int has_ts = 0;

	if (s->optlen != len)
		return 0;
	for (i = 0; i < len; i++) {
		if (tmpl[i] == T) {
			has_ts = 1;
			tsval |= o[i];
		} else if (o[i] != tmpl[i]) {
			return 0;
		}
	}
	return !has_ts || tsval;
}

/* The header fields every xtcp SYN to B must have. */
static void check_syn_headers(struct __test_metadata *_metadata,
			      const struct cap_seg *s)
{
	const unsigned char *th = s->data + s->ihl;

	EXPECT_EQ(inet_addr(A_ADDR), s->saddr);
	EXPECT_EQ(inet_addr(B_ADDR), s->daddr);
	EXPECT_EQ(20U, s->ihl);
	EXPECT_EQ(1U, s->df) TH_LOG("IPv4 DF not set");
	EXPECT_EQ(64U, s->ttl);
	EXPECT_EQ(0, s->data[1]) TH_LOG("TOS");
	EXPECT_TRUE(cap_ip_csum_ok(s)) TH_LOG("IP header checksum wrong");
	EXPECT_TRUE(cap_tcp_csum_ok(s)) TH_LOG("TCP checksum wrong");
	EXPECT_EQ(SEG_SYN, s->flags);
	EXPECT_EQ(0, th[12] & 0x0f) TH_LOG("reserved bits");
	EXPECT_EQ(0U, s->ack);
	EXPECT_EQ(0, th[18] << 8 | th[19]) TH_LOG("urgent pointer");
	EXPECT_EQ(0U, s->paylen);
	EXPECT_EQ(20 + s->optlen, s->doff);
}

FIXTURE(syn) {
	struct env e;
};

FIXTURE_VARIANT(syn) {
	int timestamps;
	int sack;
	int window_scaling;
	unsigned int optlen;
	int opts[40];
};

FIXTURE_VARIANT_ADD(syn, defaults) {
	.timestamps = 1, .sack = 1, .window_scaling = 1, .optlen = 20,
	.opts = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, T, T, T, T, 0, 0, 0, 0,
		  1, 3, 3, 7 },
};

FIXTURE_VARIANT_ADD(syn, no_timestamps) {
	.timestamps = 0, .sack = 1, .window_scaling = 1, .optlen = 12,
	.opts = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7 },
};

FIXTURE_VARIANT_ADD(syn, no_sack) {
	.timestamps = 1, .sack = 0, .window_scaling = 1, .optlen = 20,
	.opts = { 2, 4, 0x05, 0xb4, 1, 1, 8, 10, T, T, T, T, 0, 0, 0, 0,
		  1, 3, 3, 7 },
};

FIXTURE_VARIANT_ADD(syn, no_window_scaling) {
	.timestamps = 1, .sack = 1, .window_scaling = 0, .optlen = 16,
	.opts = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, T, T, T, T, 0, 0, 0, 0 },
};

FIXTURE_VARIANT_ADD(syn, none) {
	.timestamps = 0, .sack = 0, .window_scaling = 0, .optlen = 4,
	.opts = { 2, 4, 0x05, 0xb4 },
};

FIXTURE_SETUP(syn)
{
	env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(syn)
{
	env_teardown(_metadata, &self->e);
}

static void set_both(struct __test_metadata *_metadata, const char *xname,
		     const char *kname, int val)
{
	char x[128], k[128], v[16];

	snprintf(x, sizeof(x), XTCP_SYSCTL_DIR "%s", xname);
	snprintf(k, sizeof(k), "/proc/sys/net/ipv4/%s", kname);
	snprintf(v, sizeof(v), "%d", val);
	ASSERT_EQ(0, write_file(x, v)) TH_LOG("%s", x);
	ASSERT_EQ(0, write_file(k, v)) TH_LOG("%s", k);
}

/*
 * The SYN of each option setting (net.xtcp.timestamps, sack,
 * window_scaling, and Linux's tcp_* equivalents): the option bytes of
 * the template, Linux's packing, for Linux's client and for xtcp's.
 */
TEST_F(syn, options)
{
	struct cap_seg ks, xs;
	int lfd, cap;

	set_both(_metadata, "timestamps", "tcp_timestamps",
		 variant->timestamps);
	set_both(_metadata, "sack", "tcp_sack", variant->sack);
	set_both(_metadata, "window_scaling", "tcp_window_scaling",
		 variant->window_scaling);
	lfd = b_listen(_metadata, &self->e, B_PORT);
	cap = cap_b(_metadata, &self->e);

	linux_syn(_metadata, &self->e, cap, lfd, 0, &ks);
	EXPECT_TRUE(opts_match(&ks, variant->opts, variant->optlen))
		dump_opts(_metadata, "Linux's", &ks);

	xtcp_syn(_metadata, &self->e, cap, lfd, 0, &xs);
	check_syn_headers(_metadata, &xs);
	EXPECT_TRUE(opts_match(&xs, variant->opts, variant->optlen))
		dump_opts(_metadata, "xtcp's", &xs);
	EXPECT_EQ(64240U, xs.win);
	EXPECT_EQ(ks.win, xs.win) TH_LOG("Linux's SYN offers %u", ks.win);
}

/* TCP_MAXSEG before connect() lowers the MSS the SYN offers. */
TEST_F(connect, maxseg_syn)
{
	static const int tmpl[] = { 2, 4, 0x03, 0xe8, 4, 2, 8, 10, T, T, T, T,
				    0, 0, 0, 0, 1, 3, 3, 7 };
	struct cap_seg ks, xs;
	int lfd, cap;

	lfd = b_listen(_metadata, &self->e, B_PORT);
	cap = cap_b(_metadata, &self->e);
	linux_syn(_metadata, &self->e, cap, lfd, 1000, &ks);
	EXPECT_TRUE(opts_match(&ks, tmpl, ARRAY_SIZE(tmpl)))
		dump_opts(_metadata, "Linux's", &ks);
	xtcp_syn(_metadata, &self->e, cap, lfd, 1000, &xs);
	check_syn_headers(_metadata, &xs);
	EXPECT_TRUE(opts_match(&xs, tmpl, ARRAY_SIZE(tmpl)))
		dump_opts(_metadata, "xtcp's", &xs);
	EXPECT_EQ(ks.win, xs.win) TH_LOG("Linux's SYN offers %u", ks.win);
}

/*
 * TCP_MAXSEG bounds: below 88 or above 65535 is EINVAL; in between, what
 * Linux's TCP answers.
 */
TEST_F(connect, maxseg_bounds)
{
	static const int bad[] = { 1, 87, -1, 65536, 100000, INT32_MAX };
	static const int other[] = { 0, 88, 536, 1460, 32767, 32768, 65535 };
	int xfd, kfd, xerr, kerr;
	unsigned int i;

	xfd = xsock(_metadata, 0);
	kfd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, kfd);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(EINVAL, setsockopt_int(xfd, IPPROTO_TCP, TCP_MAXSEG,
						 bad[i]))
			TH_LOG("TCP_MAXSEG %d", bad[i]);
		EXPECT_EQ(EINVAL, setsockopt_int(kfd, IPPROTO_TCP, TCP_MAXSEG,
						 bad[i]))
			TH_LOG("Linux: TCP_MAXSEG %d", bad[i]);
	}
	for (i = 0; i < ARRAY_SIZE(other); i++) {
		xerr = setsockopt_int(xfd, IPPROTO_TCP, TCP_MAXSEG, other[i]);
		kerr = setsockopt_int(kfd, IPPROTO_TCP, TCP_MAXSEG, other[i]);
		EXPECT_EQ(kerr, xerr)
			TH_LOG("TCP_MAXSEG %d: xtcp %s, Linux %s", other[i],
			       strerror(xerr), strerror(kerr));
	}
	EXPECT_EQ(0, setsockopt_int(xfd, IPPROTO_TCP, TCP_MAXSEG, 88));
}

/* ---- 4. source ports ---- */

/* @n connects to @addr:@port that must all succeed; ports into @ports. */
static void connect_n(struct __test_metadata *_metadata, int lfd,
		      const char *addr, int port, int n, int *ports)
{
	struct sockaddr_in peer;
	int i, xfd, afd;

	for (i = 0; i < n; i++) {
		xfd = xsock(_metadata, 0);
		ASSERT_EQ(0, connect_err(xfd, addr, port))
			TH_LOG("connect %d of %d to %s:%d: %s", i + 1, n, addr,
			       port, strerror(errno));
		ports[i] = local_port(xfd);
		afd = accept_within(lfd, 2000, &peer);
		ASSERT_LE(0, afd);
		EXPECT_EQ(ports[i], ntohs(peer.sin_port));
	}
}

/* Ports are distinct and in [@lo, @hi]; returns a bitmap of port - lo. */
static unsigned long long check_ports(struct __test_metadata *_metadata,
				      const int *ports, int n, int lo, int hi)
{
	unsigned long long seen = 0, bit;
	int i;

	for (i = 0; i < n; i++) {
		EXPECT_TRUE(ports[i] >= lo && ports[i] <= hi)
			TH_LOG("port %d outside %d-%d", ports[i], lo, hi);
		if (ports[i] < lo || ports[i] > hi)
			continue;
		bit = 1ULL << (ports[i] - lo);
		EXPECT_FALSE(!!(seen & bit)) TH_LOG("port %d twice", ports[i]);
		seen |= bit;
	}
	return seen;
}

TEST_F(connect, port_exhaustion)
{
	long long opens, est, noport;
	int lfd, lfd2, xfd, ports[10], ports2[10], ports3[10];
	unsigned long long set1, set2, set3;

	ASSERT_EQ(0, run_cmd_in_netns(self->e.np.b, "ip addr add %s/24 dev %s",
				      B_ADDR2, NETPAIR_B_DEV));
	ASSERT_EQ(0, write_file(XTCP_RANGE, "62000 62009"));
	lfd = b_listen(_metadata, &self->e, B_PORT);
	lfd2 = b_listen(_metadata, &self->e, B_PORT2);
	opens = xtcp_stat("ActiveOpens");
	est = xtcp_stat("Established");
	noport = xtcp_stat("ConnectNoPort");
	ASSERT_LE(0, noport) TH_LOG("no ConnectNoPort in %s", XTCP_STAT_FILE);

	connect_n(_metadata, lfd, B_ADDR, B_PORT, 10, ports);
	set1 = check_ports(_metadata, ports, 10, 62000, 62009);
	xfd = xsock(_metadata, 0);
	EXPECT_EQ(EADDRNOTAVAIL, connect_err(xfd, B_ADDR, B_PORT))
		TH_LOG("11th connect in a range of 10: %s, port %d",
		       strerror(errno), local_port(xfd));
	close(xfd);
	EXPECT_EQ(opens + 10, xtcp_stat("ActiveOpens"));
	EXPECT_EQ(est + 10, xtcp_stat("Established"));
	EXPECT_EQ(noport + 1, xtcp_stat("ConnectNoPort"));

	/* Another port of B: the same source ports again. */
	connect_n(_metadata, lfd2, B_ADDR, B_PORT2, 10, ports2);
	set2 = check_ports(_metadata, ports2, 10, 62000, 62009);
	EXPECT_EQ(set1, set2);
	xfd = xsock(_metadata, 0);
	EXPECT_EQ(EADDRNOTAVAIL, connect_err(xfd, B_ADDR, B_PORT2));
	close(xfd);

	/* Another address of B: once more. */
	connect_n(_metadata, lfd, B_ADDR2, B_PORT, 10, ports3);
	set3 = check_ports(_metadata, ports3, 10, 62000, 62009);
	EXPECT_EQ(set1, set3);
	xfd = xsock(_metadata, 0);
	EXPECT_EQ(EADDRNOTAVAIL, connect_err(xfd, B_ADDR2, B_PORT));
	close(xfd);

	EXPECT_EQ(opens + 30, xtcp_stat("ActiveOpens"));
	EXPECT_EQ(est + 30, xtcp_stat("Established"));
	EXPECT_EQ(noport + 3, xtcp_stat("ConnectNoPort"));
}

/* Ports held by xtcp bind() are never connect()'s choice. */
TEST_F(connect, skips_bound_ports)
{
	long long noport = xtcp_stat("ConnectNoPort");
	static const int dports[] = { B_PORT, B_PORT2 };
	int lfd, b1, b2, xfd, ports[8], i;
	unsigned long long seen;

	ASSERT_EQ(0, write_file(XTCP_RANGE, "62000 62009"));
	b1 = xsock(_metadata, 0);
	ASSERT_EQ(0, bind_err(b1, "0.0.0.0", 62003));
	b2 = xsock(_metadata, 0);
	ASSERT_EQ(0, bind_err(b2, A_ADDR, 62007));

	for (i = 0; i < 2; i++) {
		lfd = b_listen(_metadata, &self->e, dports[i]);
		connect_n(_metadata, lfd, B_ADDR, dports[i], 8, ports);
		seen = check_ports(_metadata, ports, 8, 62000, 62009);
		EXPECT_EQ(0x3ffULL & ~(1ULL << 3 | 1ULL << 7), seen)
			TH_LOG("ports used: 0x%llx (bit n: port 62000 + n)",
			       seen);
		xfd = xsock(_metadata, 0);
		EXPECT_EQ(EADDRNOTAVAIL, connect_err(xfd, B_ADDR, dports[i]))
			TH_LOG("9th connect with 2 of 10 ports bound: %s, port %d",
			       strerror(errno), local_port(xfd));
		close(xfd);
		EXPECT_EQ(noport + i + 1, xtcp_stat("ConnectNoPort"));
	}
}

/* ---- 5. refused ---- */

/* Linux answers the SYN with a RST; the socket can connect afterwards. */
TEST_F(connect, refused)
{
	long long refused = xtcp_stat("ConnectRefused");
	long long opens = xtcp_stat("ActiveOpens");
	long long est = xtcp_stat("Established");
	const int fams[2] = { AF_INET, xtcp_family() };
	int i, fd, err;

	ASSERT_LE(0, refused) TH_LOG("no ConnectRefused in %s",
				     XTCP_STAT_FILE);
	b_listen(_metadata, &self->e, B_PORT);
	for (i = 0; i < 2; i++) {
		fd = socket(fams[i], SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		err = connect_err(fd, B_ADDR, CLOSED_PORT);
		EXPECT_EQ(ECONNREFUSED, err)
			TH_LOG("%s: %s", fam_name(fams[i]), strerror(err));
		err = connect_err(fd, B_ADDR, B_PORT);
		EXPECT_EQ(0, err) TH_LOG("%s: connect after the refusal: %s",
					 fam_name(fams[i]), strerror(err));
		close(fd);
	}
	EXPECT_EQ(refused + 1, xtcp_stat("ConnectRefused"));
	EXPECT_EQ(opens + 2, xtcp_stat("ActiveOpens"));
	EXPECT_EQ(est + 1, xtcp_stat("Established"));
}

/* ---- 6. SYN retransmission and ETIMEDOUT ---- */

TEST_F_TIMEOUT(connect, syn_timeout, 60)
{
	static const double gap[] = { 1000, 2000, 4000 };
	long long timedout = xtcp_stat("ConnectTimedOut");
	long long retrans = xtcp_stat("SynRetrans");
	struct cap_seg syns[6];
	long long t0, ms;
	int xfd, cap, n = 0, err, i;
	double d;

	ASSERT_LE(0, timedout);
	ASSERT_LE(0, retrans);
	ASSERT_EQ(0, write_file(XTCP_SYSCTL_DIR "syn_retries", "3"));
	b_listen(_metadata, &self->e, B_PORT);
	cap = cap_b(_metadata, &self->e);
	drop_tcp_at_b(_metadata, &self->e);

	xfd = xsock(_metadata, 0);
	t0 = now_ms();
	err = connect_err(xfd, B_ADDR, B_PORT);
	ms = now_ms() - t0;
	EXPECT_EQ(ETIMEDOUT, err) TH_LOG("connect: %s", strerror(err));
	EXPECT_TRUE(ms >= 15000 * 0.65 && ms <= 15000 * 1.35)
		TH_LOG("connect gave up after %lld ms, want 15000 +-35%%", ms);

	while (n < 6 && cap_find(cap, &syns[n], B_PORT, 0, 0xff, SEG_SYN,
				 500))
		n++;
	EXPECT_EQ(4, n) TH_LOG("%d SYNs captured, want 1 + 3 retransmissions",
			       n);
	for (i = 1; i < n && i < 4; i++) {
		EXPECT_EQ(syns[0].seq, syns[i].seq) TH_LOG("SYN %d", i + 1);
		EXPECT_EQ(syns[0].sport, syns[i].sport);
		d = cap_ms_between(&syns[i - 1], &syns[i]);
		EXPECT_TRUE(d >= gap[i - 1] * 0.65 && d <= gap[i - 1] * 1.35)
			TH_LOG("SYN %d came %.0f ms after SYN %d, want %.0f +-35%%",
			       i + 1, d, i, gap[i - 1]);
	}
	EXPECT_EQ(timedout + 1, xtcp_stat("ConnectTimedOut"));
	EXPECT_EQ(retrans + 3, xtcp_stat("SynRetrans"));
}

/* ---- 7. non-blocking connect ---- */

TEST_F(connect, nonblocking)
{
	const int fams[2] = { AF_INET, xtcp_family() };
	int i, fd, ev, after[2];
	long long t0, ms;

	/* B's SYN-ACKs take 200 ms: the connect is seen in progress. */
	delay_egress(_metadata, &self->e, 1, 200);
	b_listen(_metadata, &self->e, B_PORT);
	for (i = 0; i < 2; i++) {
		const char *who = fam_name(fams[i]);

		fd = socket(fams[i], SOCK_STREAM | SOCK_NONBLOCK, 0);
		ASSERT_LE(0, fd);
		t0 = now_ms();
		EXPECT_EQ(EINPROGRESS, connect_err(fd, B_ADDR, B_PORT))
			TH_LOG("%s", who);
		EXPECT_EQ(EALREADY, connect_err(fd, B_ADDR, B_PORT))
			TH_LOG("%s", who);
		ev = poll_one(fd, POLLIN | POLLOUT, 0);
		EXPECT_EQ(0, ev) TH_LOG("%s: revents 0x%x while connecting",
					who, ev);
		ev = poll_one(fd, POLLOUT, 3000);
		ms = now_ms() - t0;
		EXPECT_TRUE(ev & POLLOUT) TH_LOG("%s: revents 0x%x", who, ev);
		EXPECT_FALSE(ev & (POLLERR | POLLHUP))
			TH_LOG("%s: revents 0x%x", who, ev);
		EXPECT_LE(150, ms) TH_LOG("%s: writable after %lld ms", who, ms);
		EXPECT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_ERROR))
			TH_LOG("%s", who);
		/* The first call after completion reports it, then EISCONN. */
		after[i] = connect_err(fd, B_ADDR, B_PORT);
		EXPECT_EQ(EISCONN, connect_err(fd, B_ADDR, B_PORT))
			TH_LOG("%s", who);
	}
	EXPECT_EQ(after[0], after[1])
		TH_LOG("connect() once connected: Linux %s, xtcp %s",
		       strerror(after[0]), strerror(after[1]));
}

TEST_F(connect, nonblocking_refused)
{
	const int fams[2] = { AF_INET, xtcp_family() };
	int i, fd, ev;

	for (i = 0; i < 2; i++) {
		const char *who = fam_name(fams[i]);

		fd = socket(fams[i], SOCK_STREAM | SOCK_NONBLOCK, 0);
		ASSERT_LE(0, fd);
		EXPECT_EQ(EINPROGRESS, connect_err(fd, B_ADDR, CLOSED_PORT))
			TH_LOG("%s", who);
		ev = poll_one(fd, POLLOUT, 3000);
		EXPECT_EQ(POLLERR | POLLHUP, ev & (POLLERR | POLLHUP))
			TH_LOG("%s: revents 0x%x", who, ev);
		EXPECT_EQ(ECONNREFUSED,
			  getsockopt_int(fd, SOL_SOCKET, SO_ERROR))
			TH_LOG("%s", who);
		/* Reading SO_ERROR cleared it. */
		EXPECT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_ERROR))
			TH_LOG("%s", who);
		close(fd);
	}
}

/* ---- 8. SO_SNDTIMEO ---- */

TEST_F(connect, sndtimeo)
{
	struct timeval tv = { .tv_usec = 500000 };
	struct cap_seg syn;
	long long t0, ms;
	int xfd, cap, err;

	b_listen(_metadata, &self->e, B_PORT);
	cap = cap_b(_metadata, &self->e);
	drop_tcp_at_b(_metadata, &self->e);
	xfd = xsock(_metadata, 0);
	ASSERT_EQ(0, setsockopt(xfd, SOL_SOCKET, SO_SNDTIMEO, &tv,
				sizeof(tv)));
	t0 = now_ms();
	err = connect_err(xfd, B_ADDR, B_PORT);
	ms = now_ms() - t0;
	EXPECT_EQ(EINPROGRESS, err) TH_LOG("connect: %s", strerror(err));
	EXPECT_TRUE(ms >= 400 && ms <= 2000)
		TH_LOG("connect returned after %lld ms, want 500", ms);
	EXPECT_TRUE(cap_find(cap, &syn, B_PORT, 0, 0xff, SEG_SYN, 1000));
}

/* ---- 9. close() in SYN-SENT ---- */

TEST_F(connect, close_in_syn_sent)
{
	struct cap_seg syn, synack, s;
	int lfd, cap, xfd;

	delay_egress(_metadata, &self->e, 1, 600);
	lfd = b_listen(_metadata, &self->e, B_PORT);
	cap = cap_b(_metadata, &self->e);
	xfd = xsock(_metadata, SOCK_NONBLOCK);
	EXPECT_EQ(EINPROGRESS, connect_err(xfd, B_ADDR, B_PORT));
	usleep(100000);
	ASSERT_EQ(0, close(xfd));

	ASSERT_TRUE(cap_find(cap, &syn, B_PORT, 0, 0xff, SEG_SYN, 1000))
		TH_LOG("no SYN captured");
	/* Nothing from A until B's (delayed) SYN-ACK. */
	ASSERT_EQ(1, cap_next_tcp(cap, &synack, B_PORT, 3000))
		TH_LOG("no SYN-ACK from B");
	ASSERT_EQ(1, synack.out)
		TH_LOG("A sent flags 0x%x after close() in SYN-SENT",
		       synack.flags);
	EXPECT_EQ(SEG_SYN | SEG_ACK, synack.flags);
	EXPECT_EQ(syn.seq + 1, synack.ack);
	EXPECT_LE(500, cap_ms_between(&syn, &synack));

	/* A has nothing for it any more: a RST answers. */
	ASSERT_EQ(1, cap_next_tcp(cap, &s, B_PORT, 3000))
		TH_LOG("nothing answered the late SYN-ACK");
	EXPECT_EQ(0, s.out);
	EXPECT_EQ(SEG_RST, s.flags & (SEG_RST | SEG_SYN | SEG_FIN))
		TH_LOG("A answered with flags 0x%x", s.flags);
	EXPECT_EQ(synack.ack, s.seq);
	EXPECT_EQ(-1, accept_within(lfd, 300, NULL))
		TH_LOG("B's listener has a connection");
}

/* ---- 10. connect(AF_UNSPEC) ---- */

TEST_F(connect, disconnect)
{
	const int fams[2] = { AF_INET, xtcp_family() };
	struct sockaddr_in unspec = { .sin_family = AF_UNSPEC };
	struct sockaddr_in sin;
	socklen_t len;
	struct cap_seg syn, rst;
	int lfd, cap, i, fd, afd, port;
	char c;

	lfd = b_listen(_metadata, &self->e, B_PORT);
	cap = cap_b(_metadata, &self->e);
	for (i = 0; i < 2; i++) {
		const char *who = fam_name(fams[i]);

		fd = socket(fams[i], SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, connect_err(fd, B_ADDR, B_PORT)) TH_LOG("%s", who);
		port = local_port(fd);
		afd = accept_within(lfd, 2000, NULL);
		ASSERT_LE(0, afd);
		EXPECT_EQ(0, connect(fd, (struct sockaddr *)&unspec,
				     sizeof(unspec)))
			TH_LOG("%s: connect(AF_UNSPEC): %s", who,
			       strerror(errno));
		len = sizeof(sin);
		EXPECT_EQ(-1, getpeername(fd, (struct sockaddr *)&sin, &len));
		EXPECT_EQ(ENOTCONN, errno) TH_LOG("%s", who);

		EXPECT_TRUE(poll_one(afd, POLLIN, 2000))
			TH_LOG("%s: the server saw nothing", who);
		EXPECT_EQ(-1, read(afd, &c, 1)) TH_LOG("%s", who);
		EXPECT_EQ(ECONNRESET, errno) TH_LOG("%s", who);
		ASSERT_TRUE(cap_find(cap, &syn, port, 0, 0xff, SEG_SYN, 1000));
		EXPECT_TRUE(cap_find(cap, &rst, port, 0, SEG_RST, SEG_RST,
				     1000))
			TH_LOG("%s: no RST from A", who);
		EXPECT_EQ(SEG_RST | SEG_ACK, rst.flags) TH_LOG("%s", who);
		EXPECT_EQ(syn.seq + 1, rst.seq) TH_LOG("%s", who);
		close(afd);

		/* And the socket connects again. */
		EXPECT_EQ(0, connect_err(fd, B_ADDR, B_PORT))
			TH_LOG("%s: connect after disconnect: %s", who,
			       strerror(errno));
		afd = accept_within(lfd, 2000, NULL);
		ASSERT_LE(0, afd) TH_LOG("%s", who);
		check_names(_metadata, fd, afd);
		close(fd);
		close(afd);
	}
}

/* ---- 11. simultaneous open ---- */

#define SIM_PORT_A	40001
#define SIM_PORT_B	40002

TEST_F(connect, simultaneous_open)
{
	long long opens = xtcp_stat("ActiveOpens");
	long long est = xtcp_stat("Established");
	struct pollfd pfd[2];
	struct cap_seg s;
	int xfd, kfd, cap, got_a = 0, got_b = 0, n;
	long long end;

	/* 300 ms each way: both SYNs are on the wire before either lands. */
	delay_egress(_metadata, &self->e, 0, 300);
	delay_egress(_metadata, &self->e, 1, 300);
	cap = cap_b(_metadata, &self->e);
	kfd = socket_in_netns(self->e.np.b, AF_INET,
			      SOCK_STREAM | SOCK_NONBLOCK, 0);
	ASSERT_LE(0, kfd);
	ASSERT_EQ(0, bind_err(kfd, B_ADDR, SIM_PORT_B));
	xfd = xsock(_metadata, SOCK_NONBLOCK);
	ASSERT_EQ(0, bind_err(xfd, A_ADDR, SIM_PORT_A));

	EXPECT_EQ(EINPROGRESS, connect_err(kfd, A_ADDR, SIM_PORT_A));
	EXPECT_EQ(EINPROGRESS, connect_err(xfd, B_ADDR, SIM_PORT_B));
	pfd[0] = (struct pollfd){ .fd = xfd, .events = POLLOUT };
	pfd[1] = (struct pollfd){ .fd = kfd, .events = POLLOUT };
	end = now_ms() + 5000;
	while ((pfd[0].fd >= 0 || pfd[1].fd >= 0) && now_ms() < end) {
		n = poll(pfd, 2, 100);
		for (int i = 0; n > 0 && i < 2; i++)
			if (pfd[i].revents)
				pfd[i].fd = -1;
	}
	EXPECT_EQ(-1, pfd[0].fd) TH_LOG("xtcp did not connect in 5 s");
	EXPECT_EQ(-1, pfd[1].fd) TH_LOG("Linux did not connect in 5 s");
	EXPECT_EQ(0, getsockopt_int(xfd, SOL_SOCKET, SO_ERROR));
	EXPECT_EQ(0, getsockopt_int(kfd, SOL_SOCKET, SO_ERROR));
	EXPECT_EQ(SIM_PORT_A, check_names(_metadata, xfd, kfd));

	/* Both sides went through SYN-RECEIVED: each sent a SYN-ACK. */
	while (cap_next_tcp(cap, &s, SIM_PORT_B, 200) > 0) {
		if (s.flags != (SEG_SYN | SEG_ACK))
			continue;
		if (s.out)
			got_b = 1;
		else
			got_a = 1;
	}
	EXPECT_TRUE(got_a) TH_LOG("no SYN-ACK from xtcp: not a simultaneous open");
	EXPECT_TRUE(got_b) TH_LOG("no SYN-ACK from Linux: not a simultaneous open");
	EXPECT_EQ(opens + 1, xtcp_stat("ActiveOpens"));
	EXPECT_EQ(est + 1, xtcp_stat("Established"));
}

/* ---- 12. ICMP errors ---- */

struct icmp_job {
	int		cap;
	int		raw;
	uint32_t	seq_delta;	/* added to the quoted sequence */
	int		err;		/* 0 once sent */
};

/*
 * Wait for A's SYN in B's capture and answer it, from B, with an ICMP
 * port unreachable quoting its IP header and first 8 TCP bytes.
 */
static void *icmp_responder(void *arg)
{
	struct icmp_job *j = arg;
	struct sockaddr_in dst = sin_make(A_ADDR, 0);
	unsigned char pkt[8 + 60 + 8];
	struct cap_seg s;
	unsigned int qlen;
	uint32_t seq;
	uint16_t sum;

	j->err = ETIMEDOUT;
	if (!cap_find(j->cap, &s, B_PORT, 0, 0xff, SEG_SYN, 3000))
		return NULL;
	qlen = s.ihl + 8;
	memset(pkt, 0, 8);
	pkt[0] = ICMP_DEST_UNREACH;
	pkt[1] = ICMP_PORT_UNREACH;
	memcpy(pkt + 8, s.data, qlen);
	seq = htonl(s.seq + j->seq_delta);
	memcpy(pkt + 8 + s.ihl + 4, &seq, 4);
	sum = inet_fold(inet_sum(0, pkt, 8 + qlen));
	pkt[2] = sum >> 8;
	pkt[3] = sum & 0xff;
	if (sendto(j->raw, pkt, 8 + qlen, 0, (struct sockaddr *)&dst,
		   sizeof(dst)) < 0)
		j->err = errno;
	else
		j->err = 0;
	return NULL;
}

static void icmp_setup(struct __test_metadata *_metadata, struct env *e,
		       struct icmp_job *j)
{
	/* An ignored ICMP must not leave connect() waiting for minutes. */
	ASSERT_EQ(0, write_file(XTCP_SYSCTL_DIR "syn_retries", "2"));
	j->cap = cap_b(_metadata, e);
	j->raw = socket_in_netns(e->np.b, AF_INET, SOCK_RAW, IPPROTO_ICMP);
	ASSERT_LE(0, j->raw) TH_LOG("raw ICMP socket in B: %s",
				    strerror(-j->raw));
	drop_tcp_at_b(_metadata, e);
}

TEST_F(connect, icmp_port_unreachable)
{
	long long errors = xtcp_stat("IcmpErrors");
	long long oow = xtcp_stat("IcmpOutOfWindow");
	struct icmp_job j = { .seq_delta = 0 };
	pthread_t th;
	int xfd, err;

	ASSERT_LE(0, errors);
	ASSERT_LE(0, oow);
	icmp_setup(_metadata, &self->e, &j);
	xfd = xsock(_metadata, 0);
	ASSERT_EQ(0, pthread_create(&th, NULL, icmp_responder, &j));
	err = connect_err(xfd, B_ADDR, B_PORT);
	pthread_join(th, NULL);
	ASSERT_EQ(0, j.err) TH_LOG("sending the ICMP: %s", strerror(j.err));
	EXPECT_EQ(ECONNREFUSED, err) TH_LOG("connect: %s", strerror(err));
	EXPECT_EQ(errors + 1, xtcp_stat("IcmpErrors"));
	EXPECT_EQ(oow, xtcp_stat("IcmpOutOfWindow"));
}

TEST_F(connect, icmp_wrong_seq_ignored)
{
	long long errors = xtcp_stat("IcmpErrors");
	long long oow = xtcp_stat("IcmpOutOfWindow");
	struct icmp_job j = { .seq_delta = 1000 };
	struct timeval tv = { .tv_sec = 1, .tv_usec = 500000 };
	pthread_t th;
	int xfd, err, ev;

	icmp_setup(_metadata, &self->e, &j);
	xfd = xsock(_metadata, 0);
	ASSERT_EQ(0, setsockopt(xfd, SOL_SOCKET, SO_SNDTIMEO, &tv,
				sizeof(tv)));
	ASSERT_EQ(0, pthread_create(&th, NULL, icmp_responder, &j));
	err = connect_err(xfd, B_ADDR, B_PORT);
	pthread_join(th, NULL);
	ASSERT_EQ(0, j.err) TH_LOG("sending the ICMP: %s", strerror(j.err));
	EXPECT_EQ(EINPROGRESS, err) TH_LOG("connect: %s", strerror(err));
	EXPECT_EQ(oow + 1, xtcp_stat("IcmpOutOfWindow"));
	EXPECT_EQ(errors, xtcp_stat("IcmpErrors"));
	EXPECT_EQ(0, getsockopt_int(xfd, SOL_SOCKET, SO_ERROR));

	/* Still connecting: one quoting the right sequence ends it. */
	j.seq_delta = 0;
	icmp_responder(&j);	/* the retransmitted SYN */
	ASSERT_EQ(0, j.err) TH_LOG("sending the ICMP: %s", strerror(j.err));
	ev = poll_one(xfd, POLLOUT, 2000);
	EXPECT_TRUE(ev & POLLERR) TH_LOG("revents 0x%x", ev);
	EXPECT_EQ(ECONNREFUSED, getsockopt_int(xfd, SOL_SOCKET, SO_ERROR));
	EXPECT_EQ(errors + 1, xtcp_stat("IcmpErrors"));
}

/* ---- 13. racing connects ---- */

#define RACE_CONNECTS	40

struct racer {
	pthread_barrier_t	*start;
	int			err[RACE_CONNECTS];
	int			port[RACE_CONNECTS];
};

static void *racer_fn(void *arg)
{
	struct racer *r = arg;
	int i, fd;

	pthread_barrier_wait(r->start);
	for (i = 0; i < RACE_CONNECTS; i++) {
		fd = socket(xtcp_family(), SOCK_STREAM, 0);
		if (fd < 0) {
			r->err[i] = errno;
			continue;
		}
		r->err[i] = connect_err(fd, B_ADDR, B_PORT);
		r->port[i] = r->err[i] ? 0 : local_port(fd);
		if (r->err[i])
			close(fd);
	}
	return NULL;
}

TEST_F(connect, racing_threads)
{
	long long opens = xtcp_stat("ActiveOpens");
	long long noport = xtcp_stat("ConnectNoPort");
	int ports[2 * RACE_CONNECTS], srv[64], nok = 0, nfail = 0, i, t, lfd;
	struct sockaddr_in peer;
	struct racer r[2];
	pthread_barrier_t start;
	pthread_t th[2];
	unsigned long long seen, seen_srv;

	ASSERT_EQ(0, write_file(XTCP_RANGE, "62000 62063"));
	lfd = b_listen(_metadata, &self->e, B_PORT);
	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, 2));
	memset(r, 0, sizeof(r));
	for (t = 0; t < 2; t++) {
		r[t].start = &start;
		ASSERT_EQ(0, pthread_create(&th[t], NULL, racer_fn, &r[t]));
	}
	for (t = 0; t < 2; t++)
		pthread_join(th[t], NULL);

	for (t = 0; t < 2; t++) {
		for (i = 0; i < RACE_CONNECTS; i++) {
			if (!r[t].err[i]) {
				ports[nok++] = r[t].port[i];
				continue;
			}
			nfail++;
			EXPECT_EQ(EADDRNOTAVAIL, r[t].err[i])
				TH_LOG("thread %d, connect %d: %s", t, i,
				       strerror(r[t].err[i]));
		}
	}
	EXPECT_EQ(64, nok);
	EXPECT_EQ(16, nfail);
	seen = check_ports(_metadata, ports, nok, 62000, 62063);
	EXPECT_EQ(~0ULL, seen);

	/* The server saw the same 64 ports. */
	for (i = 0; i < 64; i++) {
		ASSERT_LE(0, accept_within(lfd, 2000, &peer))
			TH_LOG("accept %d of 64", i + 1);
		srv[i] = ntohs(peer.sin_port);
	}
	seen_srv = check_ports(_metadata, srv, 64, 62000, 62063);
	EXPECT_EQ(seen, seen_srv);
	EXPECT_EQ(opens + 64, xtcp_stat("ActiveOpens"));
	EXPECT_EQ(noport + 16, xtcp_stat("ConnectNoPort"));
}

/* ---- 14. Linux TCP traffic beside xtcp connects ---- */

#define BULK_CHUNK	(200 * 1024)
#define BULK_CHUNKS	50		/* 10 MB */

struct bulk {
	int			fd;
	sem_t			*go;		/* sender: one chunk per post */
	unsigned long long	bytes;
	uint64_t		hash;
	int			err;
};

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void *bulk_send(void *arg)
{
	struct bulk *b = arg;
	static unsigned char buf[BULK_CHUNK];
	uint32_t x = 2463534242u;
	size_t off;
	ssize_t n;
	int c, i;

	b->hash = 0xcbf29ce484222325ULL;
	for (c = 0; c < BULK_CHUNKS; c++) {
		sem_wait(b->go);
		for (i = 0; i < BULK_CHUNK; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = x;
		}
		for (off = 0; off < BULK_CHUNK; off += n) {
			n = send(b->fd, buf + off, BULK_CHUNK - off,
				 MSG_NOSIGNAL);
			if (n <= 0) {
				b->err = n < 0 ? errno : EIO;
				return NULL;
			}
		}
		b->hash = fnv1a(b->hash, buf, BULK_CHUNK);
		b->bytes += BULK_CHUNK;
	}
	shutdown(b->fd, SHUT_WR);
	return NULL;
}

static void *bulk_recv(void *arg)
{
	struct bulk *b = arg;
	unsigned char buf[65536];
	ssize_t n;

	b->hash = 0xcbf29ce484222325ULL;
	while ((n = read(b->fd, buf, sizeof(buf))) > 0) {
		b->hash = fnv1a(b->hash, buf, n);
		b->bytes += n;
	}
	if (n < 0)
		b->err = errno;
	return NULL;
}

TEST_F_TIMEOUT(connect, linux_traffic_undisturbed, 120)
{
	long long insegs = xtcp_stat("InSegs");
	long long outrsts = xtcp_stat("OutRsts");
	struct bulk tx = { 0 }, rx = { 0 };
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int lfd, blfd, kfd, xfd, afd, i, nok = 0, kport;
	pthread_t th_tx, th_rx;
	sem_t go;

	lfd = b_listen(_metadata, &self->e, B_PORT);
	blfd = b_listen(_metadata, &self->e, BULK_PORT);
	kfd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, kfd);
	ASSERT_EQ(0, connect_err(kfd, B_ADDR, BULK_PORT));
	kport = local_port(kfd);
	EXPECT_TRUE(kport < 61000) TH_LOG("Linux TCP got port %d", kport);
	rx.fd = accept_within(blfd, 2000, NULL);
	ASSERT_LE(0, rx.fd);
	tx.fd = kfd;
	tx.go = &go;
	ASSERT_EQ(0, sem_init(&go, 0, 1));
	ASSERT_EQ(0, pthread_create(&th_rx, NULL, bulk_recv, &rx));
	ASSERT_EQ(0, pthread_create(&th_tx, NULL, bulk_send, &tx));

	/* One chunk of the transfer goes out with each connect. */
	for (i = 0; i < BULK_CHUNKS; i++) {
		xfd = socket(xtcp_family(), SOCK_STREAM, 0);
		if (xfd >= 0 && !connect_err(xfd, B_ADDR, B_PORT))
			nok++;
		afd = accept_within(lfd, 2000, NULL);
		if (xfd >= 0)
			close(xfd);
		if (afd >= 0)
			close(afd);
		if (i < BULK_CHUNKS - 1)
			sem_post(&go);
	}
	pthread_join(th_tx, NULL);
	pthread_join(th_rx, NULL);
	sem_destroy(&go);

	EXPECT_EQ(BULK_CHUNKS, nok) TH_LOG("xtcp connects that succeeded");
	EXPECT_EQ(0, tx.err) TH_LOG("Linux TCP send: %s", strerror(tx.err));
	EXPECT_EQ(0, rx.err) TH_LOG("Linux TCP receive: %s",
				    strerror(rx.err));
	EXPECT_EQ((unsigned long long)BULK_CHUNK * BULK_CHUNKS, tx.bytes);
	EXPECT_EQ(tx.bytes, rx.bytes);
	EXPECT_EQ(tx.hash, rx.hash) TH_LOG("the data arrived altered");
	/*
	 * xtcp took no segment of Linux's: each of its connections gets a
	 * SYN-ACK, the peer's FIN and perhaps a separate ACK of its own FIN.
	 */
	EXPECT_GE(insegs + 3 * BULK_CHUNKS, xtcp_stat("InSegs"))
		TH_LOG("xtcp took %lld segments for %d connections",
		       xtcp_stat("InSegs") - insegs, BULK_CHUNKS);
	EXPECT_EQ(outrsts, xtcp_stat("OutRsts"));
	if (!getsockopt(kfd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		TH_LOG("Linux TCP sender: %u retransmissions",
		       ti.tcpi_total_retrans);
}

/* ---- 15. errors before any SYN ---- */

TEST_F(connect, errors)
{
	static const char * const unreach[] = {
		"198.51.100.1",		/* no route */
		"192.0.2.255",		/* broadcast of the link */
		"224.0.0.1",		/* multicast */
	};
	static const socklen_t lens[] = { 0, 1, 2, 8, 15 };
	const int fams[2] = { AF_INET, xtcp_family() };
	long long opens = xtcp_stat("ActiveOpens");
	struct sockaddr_in sin = sin_make(B_ADDR, B_PORT);
	struct sockaddr_in6 sin6;
	int i, k, fd, err, lbcast[2];
	unsigned int u;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(B_PORT);
	sin6.sin6_addr = in6addr_loopback;
	b_listen(_metadata, &self->e, B_PORT);

	for (i = 0; i < 2; i++) {
		const char *who = fam_name(fams[i]);

		fd = socket(fams[i], SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		for (u = 0; u < ARRAY_SIZE(unreach); u++) {
			err = connect_err(fd, unreach[u], B_PORT);
			EXPECT_EQ(ENETUNREACH, err)
				TH_LOG("%s: connect to %s: %s", who,
				       unreach[u], strerror(err));
		}
		lbcast[i] = connect_err(fd, "255.255.255.255", B_PORT);
		for (u = 0; u < ARRAY_SIZE(lens); u++) {
			err = connect(fd, (struct sockaddr *)&sin, lens[u]) ?
			      errno : 0;
			EXPECT_EQ(EINVAL, err)
				TH_LOG("%s: addrlen %u: %s", who, lens[u],
				       strerror(err));
		}
		sin.sin_family = AF_INET6;
		err = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ?
		      errno : 0;
		EXPECT_EQ(EAFNOSUPPORT, err)
			TH_LOG("%s: sockaddr_in with AF_INET6: %s", who,
			       strerror(err));
		sin.sin_family = AF_INET;
		err = connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)) ?
		      errno : 0;
		EXPECT_EQ(EAFNOSUPPORT, err)
			TH_LOG("%s: sockaddr_in6: %s", who, strerror(err));
		EXPECT_EQ(0, local_port(fd)) TH_LOG("%s: still unbound", who);

		/* None of that hurt: the socket connects, once. */
		err = connect_err(fd, B_ADDR, B_PORT);
		EXPECT_EQ(0, err) TH_LOG("%s: %s", who, strerror(err));
		for (k = 0; k < 2; k++) {
			err = connect_err(fd, k ? B_ADDR2 : B_ADDR, B_PORT);
			EXPECT_EQ(EISCONN, err)
				TH_LOG("%s: connect when connected: %s", who,
				       strerror(err));
		}
		close(fd);
	}
	EXPECT_EQ(lbcast[0], lbcast[1])
		TH_LOG("connect to 255.255.255.255: Linux %s, xtcp %s",
		       strerror(lbcast[0]), strerror(lbcast[1]));
	EXPECT_EQ(opens + 1, xtcp_stat("ActiveOpens"))
		TH_LOG("only the connect that sent a SYN counts");
}

/* sin_family may be the xtcp family; names come back as AF_INET. */
TEST_F(connect, family_xtcp_accepted)
{
	struct sockaddr_in sin = sin_make(B_ADDR, B_PORT);
	int lfd, xfd, afd;

	lfd = b_listen(_metadata, &self->e, B_PORT);
	xfd = xsock(_metadata, 0);
	sin.sin_family = xtcp_family();
	ASSERT_EQ(0, connect(xfd, (struct sockaddr *)&sin, sizeof(sin)))
		TH_LOG("connect: %s", strerror(errno));
	afd = accept_within(lfd, 2000, NULL);
	ASSERT_LE(0, afd);
	check_names(_metadata, xfd, afd);
}

TEST_HARNESS_MAIN
