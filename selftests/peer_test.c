// SPDX-License-Identifier: GPL-2.0
/*
 * Segments only a scripted peer sends: the test plays the remote end of
 * a connection (selftests/xtcp_peer.h) and feeds xtcp what an ordinary
 * TCP rarely produces but any host on the path can: MSS options at and
 * below the floor, payload that overlaps what was received, in page
 * fragments or as one GSO packet.
 *
 * Where Linux's behaviour is the reference, the same script is played
 * against a Linux TCP client in the same namespace and xtcp must match
 * what Linux did.
 */
#define _GNU_SOURCE
#include <linux/tcp.h>
#include <poll.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"
#include "xtcp_peer.h"

#define PEER_PORT	7000

/* ---- the MSS floor ---- */

FIXTURE(mss) {
	struct peer p;
};

/*
 * @mss: the SYN-ACK's MSS option value (-1: no option)
 * @ts: the SYN-ACK carries timestamps
 */
FIXTURE_VARIANT(mss) {
	int mss;
	int ts;
};

FIXTURE_VARIANT_ADD(mss, mss12_ts) { .mss = 12, .ts = 1 };
FIXTURE_VARIANT_ADD(mss, mss5_ts) { .mss = 5, .ts = 1 };
FIXTURE_VARIANT_ADD(mss, mss1) { .mss = 1, .ts = 0 };
FIXTURE_VARIANT_ADD(mss, mss0_ts) { .mss = 0, .ts = 1 };
FIXTURE_VARIANT_ADD(mss, mss40) { .mss = 40, .ts = 0 };
FIXTURE_VARIANT_ADD(mss, mss60_ts) { .mss = 60, .ts = 1 };
FIXTURE_VARIANT_ADD(mss, none) { .mss = -1, .ts = 0 };

FIXTURE_SETUP(mss)
{
	const char *err = peer_setup(&self->p);

	ASSERT_EQ(NULL, err) TH_LOG("setup: %s", err);
}

FIXTURE_TEARDOWN(mss)
{
	EXPECT_GE(self->p.refcnt, peer_teardown(&self->p));
}

/**
 * struct mss_result - what a client did with the peer's MSS
 * @maxseg: getsockopt(TCP_MAXSEG) once connected
 * @largest: the largest segment payload it sent
 * @segs: data segments it sent
 * @bytes: payload bytes it sent in order
 * @sent: what send() returned
 * @fin: its FIN came after the data
 */
struct mss_result {
	int		maxseg;
	unsigned int	largest;
	unsigned int	segs;
	unsigned int	bytes;
	ssize_t		sent;
	int		fin;
};

/*
 * Connect a @family client to the peer with the variant's SYN-ACK, have
 * it send 6000 bytes and a FIN, and acknowledge every segment as it
 * comes (so snd_una moves and congestion avoidance runs).
 */
static void mss_run(struct __test_metadata *_metadata, struct peer *p,
		    const FIXTURE_VARIANT(mss) *v, int family,
		    struct mss_result *r)
{
	static struct pseg s, a;
	static char buf[6000];
	struct pconn c;
	uint8_t opt[40];
	unsigned int n = 0;
	const char *err;
	long long end;

	memset(r, 0, sizeof(*r));
	if (v->mss >= 0)
		n += opt_mss(opt + n, v->mss);
	if (v->ts)
		n += opt_ts(opt + n, 0, 0);
	err = pconn_open(&c, p, family, PEER_PORT, opt, n, v->ts);
	ASSERT_EQ(NULL, err) TH_LOG("%s: %s", fam_name(family), err);
	r->maxseg = getsockopt_int(c.fd, IPPROTO_TCP, TCP_MAXSEG);

	memset(buf, 'x', sizeof(buf));
	end = now_ms() + 15000;
	while (!r->fin && now_ms() < end) {
		unsigned int segsz;

		/* What the send buffer takes now; the FIN after all of it. */
		if (r->sent < (ssize_t)sizeof(buf)) {
			ssize_t n = send(c.fd, buf + r->sent,
					 sizeof(buf) - r->sent, MSG_DONTWAIT);

			if (n > 0)
				r->sent += n;
			if (r->sent == sizeof(buf))
				shutdown(c.fd, SHUT_WR);
		}
		if (pconn_recv(&c, p, &s, 200) != 1)
			continue;
		if (s.len) {
			segsz = s.gso_size ? s.gso_size : s.len;
			if (segsz > r->largest)
				r->largest = segsz;
			r->segs += s.gso_size ?
				   (s.len + s.gso_size - 1) / s.gso_size : 1;
		}
		if (s.seq == c.rcv_nxt) {
			c.rcv_nxt += s.len;
			r->bytes += s.len;
			if (s.flags & SEG_FIN) {
				c.rcv_nxt++;
				r->fin = 1;
			}
		}
		pconn_seg(&c, &a, SEG_ACK);
		c.tsval++;
		/* A client misbehaving can fill the link: retry once. */
		if (peer_send(p, &a, NULL)) {
			usleep(10 * 1000);
			peer_send(p, &a, NULL);
		}
	}
	usleep(100 * 1000);	/* let the last ACK be processed */
}

/*
 * The send MSS has Linux's floor: net.ipv4.tcp_min_snd_mss (48) before
 * the timestamp option's 12 bytes, whatever the peer announced; an MSS
 * option of 0 is ignored (536). Before the floor, MSS 12 with timestamps
 * made a send MSS of 0 (a division by zero on the first ACK) and 1-11 a
 * wrapped one near 65535.
 */
TEST_F_TIMEOUT(mss, floor_as_linux, 60)
{
	struct mss_result lx, xt;

	mss_run(_metadata, &self->p, variant, AF_INET, &lx);
	mss_run(_metadata, &self->p, variant, xtcp_family(), &xt);
	TH_LOG("Linux: TCP_MAXSEG %d, segments up to %u bytes (%u); xtcp: %d, %u (%u)",
	       lx.maxseg, lx.largest, lx.segs, xt.maxseg, xt.largest, xt.segs);
	ASSERT_EQ(6000, lx.sent);
	ASSERT_EQ(6000U, lx.bytes);
	ASSERT_TRUE(lx.fin);
	EXPECT_EQ(6000, xt.sent);
	EXPECT_EQ(6000U, xt.bytes);
	EXPECT_TRUE(xt.fin);
	EXPECT_EQ(lx.maxseg, xt.maxseg);
	EXPECT_EQ(lx.largest, xt.largest);
	if (variant->mss > 0 && variant->mss < 48)
		EXPECT_EQ(48U - (variant->ts ? 12 : 0), xt.largest);
}

/* ---- overlapping payload, linear or not ---- */

FIXTURE(overlap) {
	struct peer p;
	struct pconn c;
};

FIXTURE_SETUP(overlap)
{
	const char *err = peer_setup(&self->p);
	uint8_t opt[40];
	unsigned int n;

	ASSERT_EQ(NULL, err) TH_LOG("setup: %s", err);
	n = peer_linux_synack_opts(opt, 8960);
	err = pconn_open(&self->c, &self->p, xtcp_family(), PEER_PORT, opt, n, 1);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
}

FIXTURE_TEARDOWN(overlap)
{
	EXPECT_GE(self->p.refcnt, peer_teardown(&self->p));
}

static uint8_t stream[65536];

static void __attribute__((constructor)) stream_init(void)
{
	unsigned int i, x = 12345;

	for (i = 0; i < sizeof(stream); i++) {
		x = x * 1103515245 + 12345;
		stream[i] = x >> 16;
	}
}

/*
 * Read exactly @len bytes from @fd within 5 s and compare them with the
 * stream at @off.
 */
static void expect_stream(struct __test_metadata *_metadata, int fd,
			  unsigned int off, unsigned int len)
{
	static uint8_t buf[65536];
	unsigned int got = 0;
	long long end = now_ms() + 5000;
	char extra;

	while (got < len && now_ms() < end) {
		ssize_t n;

		if (!(poll_one(fd, POLLIN, 500) & POLLIN))
			continue;
		n = recv(fd, buf + got, len - got, MSG_DONTWAIT);
		if (n > 0)
			got += n;
	}
	ASSERT_EQ(len, got);
	EXPECT_EQ(0, memcmp(buf, stream + off, len));
	EXPECT_EQ(-1, recv(fd, &extra, 1, MSG_DONTWAIT));
}

/*
 * The latest ACK xtcp sent within @ms (the last of a burst): its
 * acknowledgment number, or 0 if none came.
 */
static uint32_t last_ack(struct pconn *c, struct peer *p, int ms)
{
	static struct pseg s;
	uint32_t ack = 0;

	while (pconn_recv(c, p, &s, ms) == 1) {
		ack = s.ack;
		ms = 300;
	}
	return ack;
}

/*
 * An in-order segment that starts before rcv_nxt (a retransmission that
 * overlaps what arrived) with its payload in page fragments: xtcp must
 * skip what it has without touching the skb's linear part. This
 * oopsed in __skb_pull() before (BUG: the trim exceeded the linear part).
 */
TEST_F(overlap, in_order_nonlinear)
{
	struct pout nl = { .nonlinear = 1 };
	uint32_t base = self->c.snd_nxt;

	ASSERT_EQ(0, pconn_send_data(&self->c, &self->p, base, stream, 1000, NULL));
	ASSERT_EQ(base + 1000, last_ack(&self->c, &self->p, 2000));
	ASSERT_EQ(0, pconn_send_data(&self->c, &self->p, base, stream, 6000, &nl));
	EXPECT_EQ(base + 6000, last_ack(&self->c, &self->p, 2000));
	expect_stream(_metadata, self->c.fd, 0, 6000);
}

/*
 * The same trim on a segment that waited in the out-of-order queue: it
 * starts after rcv_nxt when it arrives and before it once the hole
 * fills with a longer segment.
 */
TEST_F(overlap, out_of_order_nonlinear)
{
	struct pout nl = { .nonlinear = 1 };
	uint32_t base = self->c.snd_nxt;

	ASSERT_EQ(0, pconn_send_data(&self->c, &self->p, base + 2000,
				     stream + 2000, 5000, &nl));
	ASSERT_EQ(base, last_ack(&self->c, &self->p, 2000));
	ASSERT_EQ(0, pconn_send_data(&self->c, &self->p, base, stream, 3000, NULL));
	EXPECT_EQ(base + 7000, last_ack(&self->c, &self->p, 2000));
	expect_stream(_metadata, self->c.fd, 0, 7000);
}

/*
 * A GSO packet (what GRO hands a local stack) overlapping received data,
 * and a second one overlapping it in turn.
 */
TEST_F(overlap, gso_packets)
{
	struct pout gso = { .gso_size = 1448 };
	uint32_t base = self->c.snd_nxt;

	ASSERT_EQ(0, pconn_send_data(&self->c, &self->p, base, stream, 500, NULL));
	ASSERT_EQ(base + 500, last_ack(&self->c, &self->p, 2000));
	ASSERT_EQ(0, pconn_send_data(&self->c, &self->p, base + 100,
				     stream + 100, 1448 * 5, &gso));
	ASSERT_EQ(0, pconn_send_data(&self->c, &self->p, base + 3000,
				     stream + 3000, 1448 * 6, &gso));
	EXPECT_EQ(base + 3000 + 1448 * 6, last_ack(&self->c, &self->p, 2000));
	expect_stream(_metadata, self->c.fd, 0, 3000 + 1448 * 6);
}

/* ---- the SYN, as the namespace's sysctls shape it ---- */

FIXTURE(syn) {
	struct peer p;
};

FIXTURE_SETUP(syn)
{
	const char *err = peer_setup(&self->p);

	ASSERT_EQ(NULL, err) TH_LOG("setup: %s", err);
}

FIXTURE_TEARDOWN(syn)
{
	EXPECT_GE(self->p.refcnt, peer_teardown(&self->p));
}

/* The SYN a @family client sends toward the peer. */
static void read_client_syn(struct __test_metadata *_metadata, struct peer *p,
			    int family, struct pseg *syn)
{
	struct sockaddr_in sin = sin_make(PEER_ADDR, PEER_PORT);
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);

	ASSERT_LE(0, fd);
	if (p->rcvbuf)
		ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &p->rcvbuf,
					sizeof(p->rcvbuf)));
	connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	do {
		ASSERT_EQ(1, peer_recv(p, syn, 3000)) TH_LOG("no SYN");
	} while (syn->flags != SEG_SYN);
	close(fd);
}

/* Option bytes equal, TSval aside (each stack has its own clock). */
static int same_options(struct pseg *a, struct pseg *b)
{
	unsigned int i;

	if (a->optlen != b->optlen || a->ts != b->ts)
		return 0;
	for (i = 0; i + 10 <= a->optlen; i++)
		if (a->opt[i] == 8 && a->opt[i + 1] == 10) {
			memset(a->opt + i + 2, 0, 4);
			memset(b->opt + i + 2, 0, 4);
			break;
		}
	return !memcmp(a->opt, b->opt, a->optlen);
}

/*
 * The shared knobs follow net.ipv4: with tcp_timestamps 0 and a 15 MB
 * tcp_rmem maximum, xtcp's SYN is Linux's (no timestamps, window scale
 * 8, same window); pinned under net.xtcp, timestamps come back for xtcp
 * alone.
 */
TEST_F(syn, options_follow_ipv4_knobs)
{
	static struct pseg lx, xt;

	ASSERT_EQ(0, write_file("/proc/sys/net/ipv4/tcp_timestamps", "0"));
	ASSERT_EQ(0, write_file("/proc/sys/net/ipv4/tcp_rmem",
				"4096 131072 15728640"));
	read_client_syn(_metadata, &self->p, AF_INET, &lx);
	read_client_syn(_metadata, &self->p, xtcp_family(), &xt);
	EXPECT_EQ(0, xt.ts);
	EXPECT_EQ(8, xt.wscale);
	EXPECT_EQ(lx.win, xt.win);
	EXPECT_TRUE(same_options(&lx, &xt));

	ASSERT_EQ(0, write_file(XTCP_SYSCTL_DIR "timestamps", "1"));
	read_client_syn(_metadata, &self->p, xtcp_family(), &xt);
	EXPECT_EQ(1, xt.ts);
	read_client_syn(_metadata, &self->p, AF_INET, &lx);
	EXPECT_EQ(0, lx.ts);

	ASSERT_EQ(0, write_file(XTCP_SYSCTL_DIR "follow_ipv4", "timestamps"));
	read_client_syn(_metadata, &self->p, xtcp_family(), &xt);
	EXPECT_EQ(0, xt.ts);
}

/*
 * A receive buffer locked by SO_RCVBUF is all the window there will ever
 * be, so the SYN's window scale is sized for it, not for tcp_rmem[2]
 * (tcp_connect_init() clamps window_clamp to tcp_full_space()): 65536
 * bytes give scale 1 where the defaults give 7.
 */
TEST_F(syn, wscale_of_locked_rcvbuf)
{
	static struct pseg lx, xt;

	self->p.rcvbuf = 65536;
	read_client_syn(_metadata, &self->p, AF_INET, &lx);
	read_client_syn(_metadata, &self->p, xtcp_family(), &xt);
	EXPECT_EQ(lx.wscale, xt.wscale);
	EXPECT_GT(7, xt.wscale);
	EXPECT_EQ(lx.win, xt.win);
	EXPECT_TRUE(same_options(&lx, &xt));
	TH_LOG("SO_RCVBUF 65536: Linux wscale %d window %u; xtcp %d %u",
	       lx.wscale, lx.win, xt.wscale, xt.win);
	self->p.rcvbuf = 0;
	read_client_syn(_metadata, &self->p, xtcp_family(), &xt);
	EXPECT_EQ(7, xt.wscale);
}

/* ---- RFC 5961, PAWS, probes, TIME_WAIT: Linux's TCP and xtcp alike ---- */

/*
 * Every test of this fixture runs twice, against a Linux TCP client and
 * an xtcp client in the same namespace, with the same assertions: what
 * is asserted is Linux's behaviour.
 */
FIXTURE(conn) {
	struct peer p;
	struct pconn c;
};

FIXTURE_VARIANT(conn) {
	int linux_tcp;
};

FIXTURE_VARIANT_ADD(conn, linux_tcp) { .linux_tcp = 1 };
FIXTURE_VARIANT_ADD(conn, xtcp) { .linux_tcp = 0 };

static int variant_family(const FIXTURE_VARIANT(conn) *v)
{
	return v->linux_tcp ? AF_INET : xtcp_family();
}

FIXTURE_SETUP(conn)
{
	const char *err = peer_setup(&self->p);
	uint8_t opt[40];
	unsigned int n;

	ASSERT_EQ(NULL, err) TH_LOG("setup: %s", err);
	n = peer_linux_synack_opts(opt, 1460);
	err = pconn_open(&self->c, &self->p, variant_family(variant),
			 PEER_PORT, opt, n, 1);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
}

FIXTURE_TEARDOWN(conn)
{
	EXPECT_GE(self->p.refcnt, peer_teardown(&self->p));
}

/* Segments the client sends within @ms; the last one in @last. */
static int count_segs(struct pconn *c, struct peer *p, int ms, struct pseg *last)
{
	long long end = now_ms() + ms;
	int n = 0;

	while (now_ms() < end) {
		long long left = end - now_ms();

		if (pconn_recv(c, p, last, left > 0 ? left : 0) == 1)
			n++;
	}
	return n;
}

/* A segment from the peer with @flags at @seq, acknowledging @ack. */
static int peer_seg(struct pconn *c, struct peer *p, unsigned int flags,
		    uint32_t seq, uint32_t ack, unsigned int len)
{
	static struct pseg s;

	pconn_seg(c, &s, flags);
	s.seq = seq;
	s.ack = ack;
	memcpy(s.data, stream, len);
	s.len = len;
	c->tsval++;
	return peer_send(p, &s, NULL);
}

/*
 * A counter of /proc/net/snmp or /proc/net/netstat (@file) in the
 * calling thread's namespace: the value under @name on the "@proto:"
 * lines; -1 if not listed.
 */
static long long net_counter(const char *file, const char *proto,
			     const char *name)
{
	char path[64], buf[16384], *names, *vals, *n, *v, *sn, *sv;
	size_t plen = strlen(proto);

	snprintf(path, sizeof(path), "/proc/thread-self/net/%s", file);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	for (names = buf; names; names = strchr(names, '\n')) {
		if (*names == '\n')
			names++;
		if (strncmp(names, proto, plen) || names[plen] != ':')
			continue;
		vals = strchr(names, '\n');
		if (!vals || strncmp(vals + 1, proto, plen))
			return -1;
		*vals++ = '\0';
		if (strchr(vals, '\n'))
			*strchr(vals, '\n') = '\0';
		n = strtok_r(names + plen + 1, " ", &sn);
		v = strtok_r(vals + plen + 1, " ", &sv);
		while (n && v) {
			if (!strcmp(n, name))
				return atoll(v);
			n = strtok_r(NULL, " ", &sn);
			v = strtok_r(NULL, " ", &sv);
		}
		return -1;
	}
	return -1;
}

static int still_connected(int fd)
{
	int err = -1;
	socklen_t len = sizeof(err);
	char ch;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
		return 0;
	return recv(fd, &ch, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

/*
 * Ten RSTs inside the window but not at rcv_nxt draw one challenge ACK,
 * not ten: at most one per net.ipv4.tcp_invalid_ratelimit (500 ms) per
 * connection (RFC 5961 section 7); the connection lives on.
 */
TEST_F(conn, challenge_acks_rate_limited)
{
	static struct pseg s;
	int i;

	for (i = 0; i < 10; i++)
		ASSERT_EQ(0, peer_seg(&self->c, &self->p, SEG_RST,
				      self->c.snd_nxt + 100 + i, 0, 0));
	EXPECT_EQ(1, count_segs(&self->c, &self->p, 400, &s));
	EXPECT_EQ(SEG_ACK, s.flags);
	EXPECT_EQ(self->c.snd_nxt, s.ack);
	EXPECT_TRUE(still_connected(self->c.fd));
}

/* Out-of-window pure ACKs: one duplicate ACK per 500 ms, not ten. */
TEST_F(conn, out_of_window_acks_rate_limited)
{
	static struct pseg s;
	int i;

	for (i = 0; i < 10; i++)
		ASSERT_EQ(0, peer_seg(&self->c, &self->p, SEG_ACK,
				      self->c.snd_nxt + 50000000, self->c.rcv_nxt,
				      0));
	EXPECT_EQ(1, count_segs(&self->c, &self->p, 400, &s));
	EXPECT_EQ(self->c.snd_nxt, s.ack);
}

/*
 * RFC 5961 section 5.2: data whose ACK is older than snd_una by more
 * than the data ever acknowledged is a blind injection: a challenge ACK
 * goes back and the data is not delivered. A plausible old ACK still
 * carries its data.
 */
TEST_F(conn, too_old_ack_drops_data)
{
	static struct pseg s;
	uint32_t una;
	char buf[16];

	ASSERT_EQ(3000, send(self->c.fd, stream, 3000, 0));
	while (self->c.rcv_nxt != self->c.xisn + 1 + 3000) {
		ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &s, 2000));
		if (s.seq == self->c.rcv_nxt)
			self->c.rcv_nxt += s.len;
	}
	una = self->c.rcv_nxt;
	ASSERT_EQ(0, peer_seg(&self->c, &self->p, SEG_ACK, self->c.snd_nxt,
			      una, 0));
	usleep(100 * 1000);
	peer_drain(&self->p);

	/* ACK 1 GB behind snd_una: challenged, data dropped. */
	ASSERT_EQ(0, peer_seg(&self->c, &self->p, SEG_ACK | SEG_PSH,
			      self->c.snd_nxt, una - (1U << 30), 10));
	ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &s, 2000))
		TH_LOG("no challenge ACK");
	EXPECT_EQ(self->c.snd_nxt, s.ack);
	EXPECT_EQ(-1, recv(self->c.fd, buf, sizeof(buf), MSG_DONTWAIT));

	/* 1000 bytes behind: an old ACK, its data taken. */
	usleep(600 * 1000);
	ASSERT_EQ(0, peer_seg(&self->c, &self->p, SEG_ACK | SEG_PSH,
			      self->c.snd_nxt, una - 1000, 10));
	EXPECT_TRUE(poll_one(self->c.fd, POLLIN, 2000) & POLLIN);
	EXPECT_EQ(10, recv(self->c.fd, buf, sizeof(buf), MSG_DONTWAIT));
}

/*
 * ts_recent is only taken from an acceptable segment: a segment with a
 * far-future TSval that acknowledges data never sent is dropped without
 * teaching PAWS that timestamp, so the genuine segments that follow are
 * not rejected as old.
 */
TEST_F(conn, ts_recent_after_ack_validation)
{
	static struct pseg s;
	uint32_t tsval = self->c.tsval;
	char buf[16];

	self->c.tsval = tsval + 1000000000;
	ASSERT_EQ(0, peer_seg(&self->c, &self->p, SEG_ACK | SEG_PSH,
			      self->c.snd_nxt, self->c.rcv_nxt + 100000, 10));
	usleep(100 * 1000);
	EXPECT_EQ(-1, recv(self->c.fd, buf, sizeof(buf), MSG_DONTWAIT));
	self->c.tsval = tsval + 1;
	ASSERT_EQ(0, peer_seg(&self->c, &self->p, SEG_ACK | SEG_PSH,
			      self->c.snd_nxt, self->c.rcv_nxt, 10));
	ASSERT_TRUE(poll_one(self->c.fd, POLLIN, 2000) & POLLIN);
	EXPECT_EQ(10, recv(self->c.fd, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &s, 2000));
	EXPECT_EQ(self->c.snd_nxt + 10, s.ack);
}

/*
 * A receiver that keeps answering zero-window probes is alive: with
 * net.ipv4.tcp_retries2 at 3, five answered probes do not end the
 * connection (every acceptable ACK resets the count, as Linux), and the
 * data goes once the window opens.
 */
TEST_F_TIMEOUT(conn, zero_window_probes_answered, 60)
{
	static struct pseg s;
	int probes = 0;

	ASSERT_EQ(0, write_file("/proc/sys/net/ipv4/tcp_retries2", "3"));
	pconn_seg(&self->c, &s, SEG_ACK);
	s.win = 0;
	self->c.tsval++;
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	usleep(100 * 1000);
	ASSERT_EQ(1000, send(self->c.fd, stream, 1000, MSG_DONTWAIT));
	while (probes < 5) {
		ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &s, 15000))
			TH_LOG("no probe after %d", probes);
		if (s.len || s.seq != self->c.rcv_nxt - 1)
			continue;
		probes++;
		pconn_seg(&self->c, &s, SEG_ACK);
		s.win = 0;
		self->c.tsval++;
		ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	}
	EXPECT_TRUE(still_connected(self->c.fd));
	ASSERT_EQ(0, peer_seg(&self->c, &self->p, SEG_ACK, self->c.snd_nxt,
			      self->c.rcv_nxt, 0));
	do {
		ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &s, 5000));
	} while (!s.len);
	EXPECT_EQ(self->c.rcv_nxt, s.seq);
	EXPECT_EQ(1000U, s.len);
}

/*
 * Data segments from xtcp within @ms, their payload appended to @buf at
 * its sequence offset from @c->rcv_nxt's value at the call; each must
 * start where the last ended. Returns the bytes received.
 */
static unsigned int collect_data(struct __test_metadata *_metadata,
				 struct pconn *c, struct peer *p, uint8_t *buf,
				 unsigned int want, int ms)
{
	uint32_t start = c->rcv_nxt;
	static struct pseg s;
	unsigned int got = 0;

	while (got < want && pconn_recv(c, p, &s, ms) == 1) {
		if (!s.len)
			continue;
		EXPECT_EQ(c->rcv_nxt, s.seq);
		if (s.seq != c->rcv_nxt || got + s.len > want)
			break;
		memcpy(buf + got, s.data, s.len);
		got += s.len;
		c->rcv_nxt += s.len;
		EXPECT_EQ(start + got, c->rcv_nxt);
		ASSERT_EQ(0, peer_seg(c, p, SEG_ACK, c->snd_nxt, c->rcv_nxt, 0));
	}
	return got;
}

/*
 * A window smaller than the next segment, with nothing in flight: when
 * the probe timer fires, what fits goes out (tcp_write_wakeup()), where
 * a probe or waiting for a bigger window would stall for good if the
 * peer never widens it. The window shrinks with a byte of data, which
 * moves snd_wl1: a shrinking window on a bare ACK is ignored (RFC 9293).
 */
TEST_F_TIMEOUT(conn, window_below_mss_used, 60)
{
	static uint8_t got[1000];
	static struct pseg s;
	unsigned int n;

	pconn_seg(&self->c, &s, SEG_ACK | SEG_PSH);
	s.win = 1;		/* 128 bytes: the SYN-ACK offered wscale 7 */
	s.data[0] = 'x';
	s.len = 1;
	self->c.tsval++;
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	self->c.snd_nxt++;
	usleep(100 * 1000);
	ASSERT_EQ(1000, send(self->c.fd, stream, 1000, MSG_DONTWAIT));
	do {
		ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &s, 10000))
			TH_LOG("nothing sent into the 128-byte window");
	} while (!s.len);
	EXPECT_EQ(self->c.rcv_nxt, s.seq);
	ASSERT_EQ(128U, s.len);
	EXPECT_EQ(0, memcmp(s.data, stream, 128));
	self->c.rcv_nxt += s.len;
	/* The window opens again: the rest follows, in order. */
	ASSERT_EQ(0, peer_seg(&self->c, &self->p, SEG_ACK, self->c.snd_nxt,
			      self->c.rcv_nxt, 0));
	n = collect_data(_metadata, &self->c, &self->p, got, 872, 5000);
	EXPECT_EQ(872U, n);
	EXPECT_EQ(0, memcmp(got, stream + 128, 872));
}

/*
 * TCP_CORK holds a short segment for an RTO at most: the probe timer
 * sends it (Linux's 200 ms ceiling), then the connection goes on.
 */
TEST_F_TIMEOUT(conn, cork_held_one_rto, 60)
{
	static uint8_t got[1100];
	long long t0;
	int one = 1;
	unsigned int n;

	ASSERT_EQ(0, setsockopt(self->c.fd, IPPROTO_TCP, TCP_CORK, &one,
				sizeof(one)));
	ASSERT_EQ(100, send(self->c.fd, stream, 100, MSG_DONTWAIT));
	t0 = now_ms();
	n = collect_data(_metadata, &self->c, &self->p, got, 100, 10000);
	ASSERT_EQ(100U, n) TH_LOG("the corked 100 bytes never left");
	EXPECT_EQ(0, memcmp(got, stream, 100));
	TH_LOG("corked segment sent after %lld ms", now_ms() - t0);
	/* Uncorked, the next 1000 bytes go at once. */
	one = 0;
	ASSERT_EQ(1000, send(self->c.fd, stream + 100, 1000, MSG_DONTWAIT));
	ASSERT_EQ(0, setsockopt(self->c.fd, IPPROTO_TCP, TCP_CORK, &one,
				sizeof(one)));
	n = collect_data(_metadata, &self->c, &self->p, got, 1000, 10000);
	EXPECT_EQ(1000U, n);
	EXPECT_EQ(0, memcmp(got, stream + 100, 1000));
}

/*
 * A counter of this namespace's TcpExt line in /proc/net/netstat (Linux's
 * TCP), or of /proc/net/xtcp_stat for xtcp; -1 if absent.
 */
static long long ext_stat(int linux_tcp, const char *name)
{
	static char buf[16384];
	char *names, *vals, *n, *v, *sn, *sv;

	if (!linux_tcp)
		return xtcp_stat(name);
	if (read_file("/proc/thread-self/net/netstat", buf, sizeof(buf)) < 0)
		return -1;
	names = strstr(buf, "TcpExt:");
	vals = names ? strstr(names + 1, "TcpExt:") : NULL;
	if (!vals)
		return -1;
	*strchrnul(names, '\n') = 0;
	*strchrnul(vals, '\n') = 0;
	n = strtok_r(names + 7, " ", &sn);
	v = strtok_r(vals + 7, " ", &sv);
	for (; n && v; n = strtok_r(NULL, " ", &sn), v = strtok_r(NULL, " ", &sv))
		if (!strcmp(n, name))
			return atoll(v);
	return -1;
}

static void get_info(struct __test_metadata *_metadata, int fd,
		     struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len));
}

/*
 * After an RTO, TCP_INFO counts the segment in flight as lost and sent
 * again (Linux's lost_out, retrans_out); an ACK carrying a D-SACK for it
 * (RFC 2883: the block lies below the ACK) counts one duplicate in
 * tcpi_dsack_dups and TCPDSACKRecv. A D-SACK reporting more duplicates
 * than were ever sent again is counted in tcpi_dsack_dups, as Linux, but
 * not believed (TCPDSACKIgnoredDubious).
 */
TEST_F_TIMEOUT(conn, lost_and_dsack_in_tcp_info, 60)
{
	long long dsack0 = ext_stat(variant->linux_tcp, "TCPDSACKRecv");
	long long dub0 = ext_stat(variant->linux_tcp, "TCPDSACKIgnoredDubious");
	uint32_t seq = self->c.rcv_nxt, blk[1][2];
	static struct pseg s;
	struct tcp_info ti;
	int sent = 0;

	ASSERT_LE(0, dsack0);
	ASSERT_LE(0, dub0);
	ASSERT_EQ(1000, send(self->c.fd, stream, 1000, 0));
	/* Linux probes the tail first (TLP); wait for the RTO on both. */
	do {
		ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &s, 5000))
			TH_LOG("after %d transmissions, no RTO", sent);
		if (s.len)
			sent++;
		get_info(_metadata, self->c.fd, &ti);
	} while (ti.tcpi_ca_state != TCP_CA_Loss);
	EXPECT_EQ(seq, s.seq);
	EXPECT_EQ(1U, ti.tcpi_unacked);
	EXPECT_EQ(1U, ti.tcpi_lost);
	EXPECT_EQ(1U, ti.tcpi_retrans);
	EXPECT_EQ(0U, ti.tcpi_dsack_dups);

	blk[0][0] = seq;
	blk[0][1] = seq + 1000;
	pconn_seg(&self->c, &s, SEG_ACK);
	s.ack = seq + 1000;
	s.optlen += opt_sack(s.opt + s.optlen, 1, blk);
	self->c.tsval++;
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	self->c.rcv_nxt = seq + 1000;
	usleep(100 * 1000);
	get_info(_metadata, self->c.fd, &ti);
	EXPECT_EQ(0U, ti.tcpi_unacked);
	EXPECT_EQ(0U, ti.tcpi_lost);
	EXPECT_EQ(1U, ti.tcpi_dsack_dups);
	EXPECT_EQ(dsack0 + 1, ext_stat(variant->linux_tcp, "TCPDSACKRecv"));
	EXPECT_EQ(dub0, ext_stat(variant->linux_tcp, "TCPDSACKIgnoredDubious"));

	/* Four segments' worth (of 1448 bytes), never sent four times. */
	blk[0][0] = seq + 1000 - 5000;
	blk[0][1] = seq + 1000;
	pconn_seg(&self->c, &s, SEG_ACK);
	s.optlen += opt_sack(s.opt + s.optlen, 1, blk);
	self->c.tsval++;
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	usleep(100 * 1000);
	get_info(_metadata, self->c.fd, &ti);
	EXPECT_EQ(5U, ti.tcpi_dsack_dups);
	EXPECT_EQ(dsack0 + 2, ext_stat(variant->linux_tcp, "TCPDSACKRecv"));
	EXPECT_EQ(dub0 + 1, ext_stat(variant->linux_tcp, "TCPDSACKIgnoredDubious"));
	TH_LOG("%d transmissions of the segment, total_retrans %u",
	       sent, ti.tcpi_total_retrans);
}

/*
 * TIME_WAIT, as Linux: a bare ACK at rcv_nxt gets no reply; a
 * retransmitted FIN is acknowledged again, every time; out-of-window pure
 * ACKs get at most one reply per 500 ms.
 */
TEST_F(conn, time_wait_replies)
{
	static struct pseg s;
	int i;

	close(self->c.fd);
	do {
		ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &s, 3000));
	} while (!(s.flags & SEG_FIN));
	self->c.rcv_nxt = s.seq + 1;
	ASSERT_EQ(0, peer_seg(&self->c, &self->p, SEG_FIN | SEG_ACK,
			      self->c.snd_nxt, self->c.rcv_nxt, 0));
	self->c.snd_nxt++;
	ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &s, 3000));
	EXPECT_EQ(SEG_ACK, s.flags);
	EXPECT_EQ(self->c.snd_nxt, s.ack);

	ASSERT_EQ(0, peer_seg(&self->c, &self->p, SEG_ACK, self->c.snd_nxt,
			      self->c.rcv_nxt, 0));
	EXPECT_EQ(0, count_segs(&self->c, &self->p, 300, &s));

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, peer_seg(&self->c, &self->p, SEG_FIN | SEG_ACK,
				      self->c.snd_nxt - 1, self->c.rcv_nxt, 0));
		ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &s, 1000))
			TH_LOG("FIN %d not acknowledged", i);
		EXPECT_EQ(self->c.snd_nxt, s.ack);
	}

	usleep(600 * 1000);
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, peer_seg(&self->c, &self->p, SEG_ACK,
				      self->c.snd_nxt + 50000000,
				      self->c.rcv_nxt, 0));
	EXPECT_EQ(1, count_segs(&self->c, &self->p, 300, &s));
}

/*
 * ICMP "fragmentation needed" at MTU 1000 while a full segment is in
 * flight: the segment goes out again at once, cut so that the whole
 * datagram, timestamps included, fits in 1000 bytes; TCP_MAXSEG follows.
 * A report below net.ipv4.route.min_pmtu (552) is clamped to it.
 */
TEST_F(conn, icmp_frag_needed)
{
	static struct pseg s, q;

	ASSERT_EQ(4000, send(self->c.fd, stream, 4000, 0));
	do {
		ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &q, 2000));
	} while (!q.len);
	/* Linux sends a GSO packet: its segments are gso_size long. */
	EXPECT_EQ(1448U, q.gso_size ? : q.len);
	peer_drain(&self->p);
	q.iplen = 1500;		/* the datagram the router could not pass */
	ASSERT_EQ(0, peer_send_icmp(&self->p, &q, ICMP_DEST_UNREACH,
				    ICMP_FRAG_NEEDED, 1000, 0));
	ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &s, 1000))
		TH_LOG("nothing sent again at once");
	EXPECT_EQ(q.seq, s.seq);
	EXPECT_EQ(1000U - 52, s.gso_size ? : s.len);
	EXPECT_EQ(948, getsockopt_int(self->c.fd, IPPROTO_TCP, TCP_MAXSEG));

	ASSERT_EQ(0, peer_send_icmp(&self->p, &s, ICMP_DEST_UNREACH,
				    ICMP_FRAG_NEEDED, 300, 0));
	usleep(200 * 1000);
	EXPECT_EQ(552 - 52, getsockopt_int(self->c.fd, IPPROTO_TCP, TCP_MAXSEG));
}

/*
 * SACK reneging: the peer SACKs all but the first segment, then ACKs the
 * first (the SACKed ones now head the queue) and drops what it SACKed.
 * The retransmission timeout must send the new head again; before,
 * SACKed segments were stepped over for good and the connection could
 * only time out.
 */
TEST_F(conn, sack_reneging_resends_head)
{
	static struct pseg s;
	uint32_t seg[5], blk[1][2];
	int n = 0;

	ASSERT_EQ(4 * 1448, send(self->c.fd, stream, 4 * 1448, 0));
	while (n < 4) {
		unsigned int off, step;

		ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &s, 2000));
		/* A GSO packet from Linux: its segments, gso_size each. */
		step = s.gso_size ? s.gso_size : s.len;
		for (off = 0; off < s.len && n < 4; off += step) {
			seg[n++] = s.seq + off;
			seg[n] = s.seq + off + step;
		}
	}
	blk[0][0] = seg[1];
	blk[0][1] = seg[4];
	pconn_seg(&self->c, &s, SEG_ACK);
	s.ack = seg[1];
	s.optlen += opt_sack(s.opt + s.optlen, 1, blk);
	self->c.tsval++;
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	/* Linux may probe the tail first (TLP); the head must follow. */
	do {
		ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &s, 5000))
			TH_LOG("no retransmission of the reneged head");
	} while (!s.len || s.seq != seg[1]);
}

/*
 * The send buffer follows the flight, as Linux sizes it: twice ten
 * segments of an MSS's truesize, 87040 bytes for a 1448-byte MSS (no
 * longer wmem[2] at once).
 */
TEST_F(conn, sndbuf_at_establishment)
{
	EXPECT_EQ(87040, getsockopt_int(self->c.fd, SOL_SOCKET, SO_SNDBUF));
}

/*
 * Keepalive: idle for TCP_KEEPIDLE, a probe (an ACK at snd_una - 1);
 * answered, the connection lives; TCP_KEEPCNT probes unanswered, a RST
 * and ETIMEDOUT.
 */
TEST_F_TIMEOUT(conn, keepalive_probes, 40)
{
	static struct pseg s;
	int probes = 0;

	ASSERT_EQ(0, setsockopt_int(self->c.fd, IPPROTO_TCP, TCP_KEEPIDLE, 1));
	ASSERT_EQ(0, setsockopt_int(self->c.fd, IPPROTO_TCP, TCP_KEEPINTVL, 1));
	ASSERT_EQ(0, setsockopt_int(self->c.fd, IPPROTO_TCP, TCP_KEEPCNT, 2));
	ASSERT_EQ(0, setsockopt_int(self->c.fd, SOL_SOCKET, SO_KEEPALIVE, 1));
	EXPECT_EQ(1, getsockopt_int(self->c.fd, IPPROTO_TCP, TCP_KEEPIDLE));
	EXPECT_EQ(2, getsockopt_int(self->c.fd, IPPROTO_TCP, TCP_KEEPCNT));
	EXPECT_EQ(EINVAL, setsockopt_int(self->c.fd, IPPROTO_TCP,
					 TCP_KEEPIDLE, 0));
	EXPECT_EQ(EINVAL, setsockopt_int(self->c.fd, IPPROTO_TCP,
					 TCP_KEEPCNT, 128));

	ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &s, 5000))
		TH_LOG("no keepalive probe");
	EXPECT_EQ(self->c.rcv_nxt - 1, s.seq);
	EXPECT_EQ(0U, s.len);
	ASSERT_EQ(0, peer_seg(&self->c, &self->p, SEG_ACK, self->c.snd_nxt,
			      self->c.rcv_nxt, 0));
	/* Answered: the next probe after another idle second, then two. */
	while (pconn_recv(&self->c, &self->p, &s, 5000) == 1) {
		if (s.flags & SEG_RST)
			break;
		EXPECT_EQ(self->c.rcv_nxt - 1, s.seq);
		probes++;
	}
	EXPECT_EQ(2, probes);
	EXPECT_TRUE(!!(s.flags & SEG_RST));
	EXPECT_EQ(ETIMEDOUT, getsockopt_int(self->c.fd, SOL_SOCKET, SO_ERROR));
}

/*
 * A small receive buffer filled with tiny out-of-order segments after
 * a hole: the segment that fills the hole must still find room (the
 * queues are collapsed and the out-of-order queue pruned), so the
 * reader gets its data; before, it was dropped for good and the
 * connection stalled.
 */
TEST_F(conn, hole_filled_despite_full_ofo_queue)
{
	static struct pseg s;
	uint32_t base = self->c.snd_nxt;
	char buf[2000];
	int i, got = 0;

	peer_teardown(&self->p);
	ASSERT_EQ(NULL, peer_setup(&self->p));
	self->p.rcvbuf = 4096;		/* 8192 in effect */
	{
		uint8_t opt[40];
		unsigned int n = peer_linux_synack_opts(opt, 1460);

		ASSERT_EQ(NULL, pconn_open(&self->c, &self->p,
					   variant_family(variant), PEER_PORT,
					   opt, n, 1));
	}
	base = self->c.snd_nxt;
	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, pconn_send_data(&self->c, &self->p,
					     base + 1000 + 10 * i,
					     stream + 1000 + 10 * i, 10, NULL));
	usleep(200 * 1000);
	peer_drain(&self->p);
	ASSERT_EQ(0, pconn_send_data(&self->c, &self->p, base, stream, 1000,
				     NULL));
	while (poll_one(self->c.fd, POLLIN, 2000) & POLLIN) {
		ssize_t n = recv(self->c.fd, buf + got, sizeof(buf) - got,
				 MSG_DONTWAIT);

		if (n <= 0)
			break;
		got += n;
		if (got >= 1000)
			break;
	}
	ASSERT_LE(1000, got);
	EXPECT_EQ(0, memcmp(buf, stream, 1000));
	ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &s, 2000));
	EXPECT_LE(0, (int32_t)(s.ack - (base + 1000)));
}

/* The byte at offset @off of a long stream: the 64 KB one, varied. */
static uint8_t long_stream(unsigned int off)
{
	return stream[off % sizeof(stream)] + off / sizeof(stream);
}

/* FNV-1a over @len bytes, continuing from @h. */
static uint32_t fnv1a(uint32_t h, const uint8_t *p, size_t len)
{
	while (len--)
		h = (h ^ *p++) * 16777619U;
	return h;
}

/**
 * struct rwin - the peer as a sender that follows the window offered
 * @base: the peer's first sequence number of the stream
 * @nxt: offset of the next byte to send
 * @una: offset the client acknowledged
 * @redge: offset of the right edge of the latest window offered
 * @wscale: the client's window scale
 * @seglen: payload of each segment
 * @o: how the segments are shaped
 * @acks: ACKs read
 */
struct rwin {
	uint32_t	base;
	unsigned int	nxt, una, redge;
	int		wscale;
	unsigned int	seglen;
	const struct pout *o;
	unsigned int	acks;
};

/* Take in what the client sent within @ms; true if the window moved. */
static bool rwin_acks(struct pconn *c, struct peer *p, struct rwin *w, int ms)
{
	static struct pseg s;
	bool moved = false;

	while (pconn_recv(c, p, &s, ms) == 1) {
		unsigned int ack = s.ack - w->base;

		ms = 0;
		if (!(s.flags & SEG_ACK) || (int)(ack - w->una) < 0 ||
		    ack > w->nxt)
			continue;
		w->acks++;
		if (ack != w->una ||
		    ack + (s.win << w->wscale) != w->redge)
			moved = true;
		w->una = ack;
		w->redge = ack + (s.win << w->wscale);
	}
	return moved;
}

/* Send what the window allows, up to @total; the bytes sent. */
static unsigned int rwin_send(struct pconn *c, struct peer *p, struct rwin *w,
			      unsigned int total)
{
	static uint8_t buf[PEER_MAXFRAME];
	unsigned int sent = 0, i;

	while (w->nxt < total && w->nxt + w->seglen <= w->redge) {
		unsigned int len = total - w->nxt < w->seglen ?
				   total - w->nxt : w->seglen;

		for (i = 0; i < len; i++)
			buf[i] = long_stream(w->nxt + i);
		if (pconn_send_data(c, p, w->base + w->nxt, buf, len, w->o))
			break;
		w->nxt += len;
		sent += len;
		/* The ACKs must not overflow the packet socket meanwhile. */
		if (sent / w->seglen % 16 == 0)
			rwin_acks(c, p, w, 0);
	}
	return sent;
}

/*
 * The peer sends 200000 bytes in @seglen-byte segments shaped by @o,
 * never past the right edge of the window the client offered, and never
 * sends anything twice. The application does not read at first: the
 * window must close before the buffer is full, with every byte sent
 * inside it acknowledged (a segment dropped inside the window would
 * stall the transfer, as nothing is retransmitted). Then the
 * application reads everything: all 200000 bytes arrive, equal to what
 * was sent (and the same checksum).
 *
 * On a connection of its own, with net.ipv4.tcp_rmem "4096 131072
 * 1048576": a window scale of 5, whose 32-byte unit divides @seglen.
 * With a unit larger than the segments, the right edge that may not
 * move back, rounded up to the unit, can let one more segment in once
 * the buffer is full; Linux then grows its buffer if it may, else it
 * drops that segment too.
 */
static void rwin_run(struct __test_metadata *_metadata, struct peer *p,
		     struct pconn *c, const FIXTURE_VARIANT(conn) *v,
		     unsigned int seglen, const struct pout *o)
{
	static uint8_t buf[65536], want[65536];
	const unsigned int total = 200000;
	uint32_t hsent = 2166136261U, hgot = 2166136261U;
	unsigned int got = 0, closed_at, i, n;
	long long end, idle, pruned, qdrop;
	struct rwin w = {
		.seglen = seglen,
		.o = o,
	};
	uint8_t opt[40];

	peer_teardown(p);
	ASSERT_EQ(NULL, peer_setup(p));
	ASSERT_EQ(0, write_file("/proc/sys/net/ipv4/tcp_rmem",
				"4096 131072 1048576"));
	n = peer_linux_synack_opts(opt, 1460);
	ASSERT_EQ(NULL, pconn_open(c, p, variant_family(v), PEER_PORT, opt, n,
				   1));
	ASSERT_EQ(5, c->syn.wscale);
	w.base = c->snd_nxt;
	w.wscale = c->syn.wscale;
	/* Until an ACK says otherwise: the SYN's window, never scaled. */
	w.redge = c->syn.win;
	for (i = 0; i < total; i++) {
		uint8_t b = long_stream(i);

		hsent = fnv1a(hsent, &b, 1);
	}
	pruned = v->linux_tcp ? -1 : xtcp_stat("RcvPruned");
	qdrop = net_counter("netstat", "TcpExt", "TCPRcvQDrop");

	/* Nobody reads: the window closes, and all of it is acknowledged. */
	end = now_ms() + 30000;
	idle = now_ms();
	while (now_ms() < end) {
		if (rwin_send(c, p, &w, total) || rwin_acks(c, p, &w, 200))
			idle = now_ms();
		if (w.una == w.nxt && w.redge - w.nxt < seglen)
			break;
		if (now_ms() - idle > 3000)
			break;
	}
	closed_at = w.nxt;
	TH_LOG("%s: window closed after %u bytes (%u segments, %u ACKs), %u acknowledged",
	       v->linux_tcp ? "Linux" : "xtcp", w.nxt, w.nxt / seglen, w.acks,
	       w.una);
	TH_LOG("SO_RCVBUF now %d", getsockopt_int(c->fd, SOL_SOCKET, SO_RCVBUF));
	ASSERT_EQ(w.nxt, w.una)
		TH_LOG("bytes sent inside the window never acknowledged");
	ASSERT_GT(seglen, w.redge - w.nxt) TH_LOG("the window never closed");
	ASSERT_LT(closed_at, total);

	/* The application reads: the rest follows, the window reopening. */
	end = now_ms() + 60000;
	idle = now_ms();
	while ((got < total || w.una < total) && now_ms() < end) {
		ssize_t r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r > 0) {
			for (i = 0; i < r; i++)
				want[i] = long_stream(got + i);
			ASSERT_EQ(0, memcmp(buf, want, r))
				TH_LOG("bytes differ within [%u, %u)", got,
				       got + (unsigned int)r);
			hgot = fnv1a(hgot, buf, r);
			got += r;
			idle = now_ms();
		}
		if (rwin_send(c, p, &w, total) || rwin_acks(c, p, &w, 20))
			idle = now_ms();
		/* No window update for a while: ask with a probe. */
		if (now_ms() - idle > 600 && w.una == w.nxt &&
		    w.redge - w.nxt < seglen) {
			ASSERT_EQ(0, pconn_send_data(c, p, w.base + w.nxt - 1,
						     buf, 0, NULL));
			idle = now_ms();
		}
	}
	TH_LOG("read %u bytes; %u sent, %u acknowledged", got, w.nxt, w.una);
	EXPECT_EQ(total, got);
	EXPECT_EQ(total, w.una);
	EXPECT_EQ(hsent, hgot);
	EXPECT_EQ(qdrop, net_counter("netstat", "TcpExt", "TCPRcvQDrop"));
	if (!v->linux_tcp)
		EXPECT_EQ(pruned, xtcp_stat("RcvPruned"));
}

/*
 * Segments of 96 bytes in linear skbs: each costs over seven times its
 * payload in truesize, so a window of half the free buffer lets the
 * peer send what the buffer cannot hold as it came; the queue must be
 * collapsed (or, on Linux, the buffer grown) rather than a segment
 * dropped.
 */
TEST_F_TIMEOUT(conn, window_follows_truesize_small_segments, 120)
{
	rwin_run(_metadata, &self->p, &self->c, variant, 96, NULL);
}

/*
 * Segments of 4096 bytes in page fragments: an order-1 page each, a
 * truesize over twice the payload.
 */
TEST_F_TIMEOUT(conn, window_follows_truesize_nonlinear, 120)
{
	struct pout nl = { .nonlinear = 1 };

	rwin_run(_metadata, &self->p, &self->c, variant, 4096, &nl);
}

/* ---- ICMP errors while connecting ---- */

FIXTURE(icmp_syn_sent) {
	struct peer p;
};

/*
 * @linux_tcp: the client is Linux's TCP (the reference), else xtcp
 * @code: the destination unreachable code the peer sends
 * @err: the errno that ends connect() when the message is genuine
 */
FIXTURE_VARIANT(icmp_syn_sent) {
	int linux_tcp;
	int code;
	int err;
};

FIXTURE_VARIANT_ADD(icmp_syn_sent, linux_tcp_host_unreach) {
	.linux_tcp = 1, .code = ICMP_HOST_UNREACH, .err = EHOSTUNREACH,
};

FIXTURE_VARIANT_ADD(icmp_syn_sent, xtcp_host_unreach) {
	.linux_tcp = 0, .code = ICMP_HOST_UNREACH, .err = EHOSTUNREACH,
};

FIXTURE_VARIANT_ADD(icmp_syn_sent, linux_tcp_port_unreach) {
	.linux_tcp = 1, .code = ICMP_PORT_UNREACH, .err = ECONNREFUSED,
};

FIXTURE_VARIANT_ADD(icmp_syn_sent, xtcp_port_unreach) {
	.linux_tcp = 0, .code = ICMP_PORT_UNREACH, .err = ECONNREFUSED,
};

FIXTURE_SETUP(icmp_syn_sent)
{
	const char *err = peer_setup(&self->p);

	ASSERT_EQ(NULL, err) TH_LOG("setup: %s", err);
}

FIXTURE_TEARDOWN(icmp_syn_sent)
{
	EXPECT_GE(self->p.refcnt, peer_teardown(&self->p));
}

/* close() with SO_LINGER 0: a RST, nothing left retransmitting. */
static void abort_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* A @family socket connecting to the peer; its SYN in @syn. */
static int syn_sent_socket(struct __test_metadata *_metadata, struct peer *p,
			   int family, struct pseg *syn)
{
	struct sockaddr_in sin = sin_make(PEER_ADDR, PEER_PORT);
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);

	EXPECT_LE(0, fd);
	EXPECT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_EQ(EINPROGRESS, errno);
	do {
		if (peer_recv(p, syn, 3000) != 1) {
			syn->flags = 0;
			break;
		}
	} while (syn->flags != SEG_SYN || syn->dport != PEER_PORT);
	return fd;
}

/*
 * In SYN-SENT, a destination unreachable quoting the SYN ends the
 * attempt (tcp_v4_err()), but only once its checksum is verified: with
 * a damaged checksum the message counts in Icmp InCsumErrors (and
 * xtcp's IcmpInCsumErrors) and nothing else happens: the SYN goes again
 * at its timeout and a SYN-ACK completes the connection. The same
 * message with a good checksum makes connect() fail with the errno
 * Linux maps the code to. Before the checksum was checked, xtcp took
 * the damaged message and failed the connect.
 */
TEST_F_TIMEOUT(icmp_syn_sent, bad_checksum_ignored, 30)
{
	int family = variant->linux_tcp ? AF_INET : xtcp_family();
	long long csum = net_counter("snmp", "Icmp", "InCsumErrors");
	long long unreach = net_counter("snmp", "Icmp", "InDestUnreachs");
	long long xcsum = xtcp_stat("IcmpInCsumErrors");
	long long xerrs = xtcp_stat("IcmpErrors");
	static struct pseg syn, again, s;
	long long end;
	int fd;

	fd = syn_sent_socket(_metadata, &self->p, family, &syn);
	ASSERT_EQ(SEG_SYN, syn.flags) TH_LOG("no SYN");
	ASSERT_EQ(0, peer_send_icmp(&self->p, &syn, ICMP_DEST_UNREACH,
				    variant->code, 0, 1));
	EXPECT_EQ(0, poll_one(fd, POLLOUT, 300));
	EXPECT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_ERROR));
	EXPECT_EQ(csum + 1, net_counter("snmp", "Icmp", "InCsumErrors"));
	EXPECT_EQ(unreach, net_counter("snmp", "Icmp", "InDestUnreachs"));
	if (!variant->linux_tcp) {
		EXPECT_EQ(xcsum + 1, xtcp_stat("IcmpInCsumErrors"));
		EXPECT_EQ(xerrs, xtcp_stat("IcmpErrors"));
	}

	/* The attempt goes on: the SYN again at its timeout, answered. */
	do {
		ASSERT_EQ(1, peer_recv(&self->p, &again, 3000))
			TH_LOG("no SYN retransmitted");
	} while (again.flags != SEG_SYN || again.sport != syn.sport);
	EXPECT_EQ(syn.seq, again.seq);
	memset(&s, 0, offsetof(struct pseg, data));
	s.sport = PEER_PORT;
	s.dport = again.sport;
	s.flags = SEG_SYN | SEG_ACK;
	s.seq = 7000;
	s.ack = again.seq + 1;
	s.win = 65535;
	s.optlen = peer_linux_synack_opts(s.opt, 1460);
	put_be32(s.opt + 8, 100);
	put_be32(s.opt + 12, again.tsval);
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	EXPECT_EQ(POLLOUT, poll_one(fd, POLLOUT, 3000) & (POLLOUT | POLLERR));
	EXPECT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_ERROR));
	abort_close(fd);
	usleep(100 * 1000);
	peer_drain(&self->p);

	/* The same message, its checksum right: connect() fails. */
	fd = syn_sent_socket(_metadata, &self->p, family, &syn);
	ASSERT_EQ(SEG_SYN, syn.flags) TH_LOG("no second SYN");
	ASSERT_EQ(0, peer_send_icmp(&self->p, &syn, ICMP_DEST_UNREACH,
				    variant->code, 0, 0));
	EXPECT_TRUE(poll_one(fd, POLLOUT, 2000) & (POLLOUT | POLLERR));
	EXPECT_EQ(variant->err, getsockopt_int(fd, SOL_SOCKET, SO_ERROR));
	EXPECT_EQ(csum + 1, net_counter("snmp", "Icmp", "InCsumErrors"));
	EXPECT_EQ(unreach + 1, net_counter("snmp", "Icmp", "InDestUnreachs"));
	if (!variant->linux_tcp)
		EXPECT_EQ(xerrs + 1, xtcp_stat("IcmpErrors"));
	/* Given up: no SYN at the next timeout. */
	end = now_ms() + 1500;
	while (now_ms() < end)
		if (peer_recv(&self->p, &again, end - now_ms()) == 1)
			EXPECT_FALSE(again.flags == SEG_SYN &&
				     again.sport == syn.sport);
	close(fd);
}

/*
 * A SYN-ACK echoing a timestamp the client never sent is an old
 * duplicate or a forgery: answered with a RST at its ACK number, and the
 * connect stays pending until the real SYN-ACK.
 */
TEST(synack_bad_tsecr)
{
	int fams[2] = { AF_INET, xtcp_family() }, i;
	static struct pseg syn, s;
	struct peer p;

	ASSERT_EQ(NULL, peer_setup(&p));
	for (i = 0; i < 2; i++) {
		struct sockaddr_in sin = sin_make(PEER_ADDR, PEER_PORT);
		int fd = socket(fams[i], SOCK_STREAM | SOCK_NONBLOCK, 0);
		unsigned int n;

		ASSERT_LE(0, fd);
		connect(fd, (struct sockaddr *)&sin, sizeof(sin));
		do {
			ASSERT_EQ(1, peer_recv(&p, &syn, 3000));
		} while (syn.flags != SEG_SYN);
		memset(&s, 0, offsetof(struct pseg, data));
		s.sport = PEER_PORT;
		s.dport = syn.sport;
		s.flags = SEG_SYN | SEG_ACK;
		s.seq = 7000;
		s.ack = syn.seq + 1;
		s.win = 65535;
		n = peer_linux_synack_opts(s.opt, 1460);
		put_be32(s.opt + 8, 100);
		put_be32(s.opt + 12, syn.tsval + 100000000);
		s.optlen = n;
		ASSERT_EQ(0, peer_send(&p, &s, NULL));
		ASSERT_EQ(1, peer_recv(&p, &s, 2000))
			TH_LOG("%s: no reply", fam_name(fams[i]));
		EXPECT_EQ(SEG_RST, s.flags) TH_LOG("%s", fam_name(fams[i]));
		EXPECT_EQ(syn.seq + 1, s.seq);
		EXPECT_FALSE(poll_one(fd, POLLOUT, 100) & (POLLOUT | POLLERR));
		close(fd);
	}
	peer_teardown(&p);
}

/*
 * The send MSS grows after bytes were queued: the SYN-ACK offers a
 * window of 100 bytes, so the MSS is 100 (the largest window, as
 * tcp_bound_to_half_wnd()); 100 bytes go out and the cork holds the next
 * 50 in a segment sized for that MSS. Then the peer's window grows (the
 * MSS with it, to 1448) and 2000 more bytes are written: appended to the
 * held segment, they must not overrun its buffer (the packet fuzzer's
 * skb_over_panic in xtcp_sendmsg), and every byte arrives in order once
 * uncorked.
 */
TEST(mss_grows_after_queueing)
{
	int fams[2] = { AF_INET, xtcp_family() }, i;
	static uint8_t got[2150];
	static struct pseg s;
	struct pconn c;
	struct peer p;

	ASSERT_EQ(NULL, peer_setup(&p));
	p.synack_win = 100;
	for (i = 0; i < 2; i++) {
		uint8_t opt[40];
		unsigned int n = peer_linux_synack_opts(opt, 1460);
		uint32_t start, have = 0;
		long long end;
		int one;

		ASSERT_EQ(NULL, pconn_open(&c, &p, fams[i], PEER_PORT + i, opt,
					   n, 1));
		start = c.rcv_nxt;
		EXPECT_EQ(100, getsockopt_int(c.fd, IPPROTO_TCP, TCP_MAXSEG))
			TH_LOG("%s", fam_name(fams[i]));
		ASSERT_EQ(100, send(c.fd, stream, 100, MSG_DONTWAIT));
		do {
			ASSERT_EQ(1, pconn_recv(&c, &p, &s, 3000));
		} while (!s.len);
		EXPECT_EQ(100U, s.len);
		one = 1;
		ASSERT_EQ(0, setsockopt(c.fd, IPPROTO_TCP, TCP_CORK, &one,
					sizeof(one)));
		ASSERT_EQ(50, send(c.fd, stream + 100, 50, MSG_DONTWAIT));
		/* A byte of data moves snd_wl1: the window update counts. */
		pconn_seg(&c, &s, SEG_ACK | SEG_PSH);
		s.data[0] = 'x';
		s.len = 1;
		c.tsval++;
		ASSERT_EQ(0, peer_send(&p, &s, NULL));
		c.snd_nxt++;
		usleep(20 * 1000);
		ASSERT_EQ(2000, send(c.fd, stream + 150, 2000, MSG_DONTWAIT));
		one = 0;
		ASSERT_EQ(0, setsockopt(c.fd, IPPROTO_TCP, TCP_CORK, &one,
					sizeof(one)));
		/* Take what comes in order (retransmissions overlap), ACK it. */
		end = now_ms() + 10000;
		while (have < sizeof(got) && now_ms() < end) {
			uint32_t off;

			if (pconn_recv(&c, &p, &s, 1000) != 1 || !s.len)
				continue;
			off = s.seq - start;
			if (off > have || off + s.len <= have ||
			    off + s.len > sizeof(got))
				continue;
			memcpy(got + off, s.data, s.len);
			have = off + s.len;
			c.rcv_nxt = start + have;
			ASSERT_EQ(0, peer_seg(&c, &p, SEG_ACK, c.snd_nxt,
					      c.rcv_nxt, 0));
		}
		EXPECT_EQ(sizeof(got), have) TH_LOG("%s", fam_name(fams[i]));
		EXPECT_EQ(0, memcmp(got, stream, have));
		EXPECT_EQ(1448, getsockopt_int(c.fd, IPPROTO_TCP, TCP_MAXSEG));
		close(c.fd);
	}
	peer_teardown(&p);
}

/*
 * PAWS's 24-day rule: once ts_recent is over 24 days old, a segment
 * with an older TSval is not rejected (the peer's clock may have wrapped
 * meanwhile). The module's clock_offset_ms test hook ages it.
 */
TEST(paws_24_days)
{
	const char *param = "/sys/module/xtcp/parameters/clock_offset_ms";
	static struct pseg s;
	struct pconn c;
	struct peer p;
	uint8_t opt[40];
	char buf[16];
	unsigned int n;

	ASSERT_EQ(NULL, peer_setup(&p));
	n = peer_linux_synack_opts(opt, 1460);
	ASSERT_EQ(NULL, pconn_open(&c, &p, xtcp_family(), PEER_PORT, opt, n, 1));

	/* Older TSval now: dropped by PAWS, a dupACK back. */
	c.tsval -= 100;
	ASSERT_EQ(0, pconn_send_data(&c, &p, c.snd_nxt, stream, 10, NULL));
	ASSERT_EQ(1, pconn_recv(&c, &p, &s, 2000));
	EXPECT_EQ(c.snd_nxt, s.ack);
	EXPECT_EQ(-1, recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT));

	ASSERT_EQ(0, write_file(param, "2160000000"));	/* 25 days */
	c.tsval -= 100;
	ASSERT_EQ(0, pconn_send_data(&c, &p, c.snd_nxt, stream, 10, NULL));
	EXPECT_TRUE(poll_one(c.fd, POLLIN, 2000) & POLLIN);
	EXPECT_EQ(10, recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT));
	write_file(param, "0");
	peer_teardown(&p);
}

/* ---- while the user owns the socket ---- */

#include <pthread.h>

/*
 * The module's own_delay_ms test hook: SIOCINQ holds the socket owned
 * (lock_sock() to release_sock()) that long. Timers that fire and ICMP
 * errors that arrive meanwhile leave their work to release_sock()
 * (xtcp_release_cb()): it must neither run while the user owns the
 * socket nor wait for a timer to come round again once the user lets
 * go. The peer's packet socket stamps each frame as it reaches vb
 * (SO_TIMESTAMPNS); against the owner's clock that tells what was sent
 * while it held the socket, and what release_sock() sent before the
 * SIOCINQ returned.
 */
#define OWN_PARAM	"/sys/module/xtcp/parameters/own_delay_ms"
#define NS_PER_MS	1000000LL

/*
 * The hook's msleep() counts jiffies; under TCG the guest's clocks can
 * see a little less (a 1500 ms hold measured 1494 ms from before the
 * SIOCINQ to after it). What a test takes as sent while the socket was
 * surely held ends this much before the hold's nominal end.
 */
#define OWN_SLACK_NS	(300 * NS_PER_MS)

static long long real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/**
 * struct owner - a thread that holds an xtcp socket owned for a while
 * @fd: the socket
 * @send_len: bytes of stream[] it sends just before (0: none)
 * @c: with @peer_len, the connection on which the peer sends
 * @p: the peer
 * @peer_data: what the peer sends just before the hold
 * @peer_len: how many bytes (0: nothing)
 * @sent: what send() returned
 * @readable: the peer's data was readable before the hold began
 * @t_a: CLOCK_REALTIME ns just before the SIOCINQ that holds the socket
 * @t_b: just after it returned
 * @ret: what the SIOCINQ returned
 * @done: set after @t_b
 *
 * The socket is owned from after @t_a until release_sock(), which is at
 * least the hook's delay after @t_a and before @t_b.
 */
struct owner {
	int		fd;
	unsigned int	send_len;
	struct pconn	*c;
	struct peer	*p;
	const uint8_t	*peer_data;
	unsigned int	peer_len;
	ssize_t		sent;
	int		readable;
	long long	t_a, t_b;
	int		ret;
	int		done;
};

static void *owner_fn(void *arg)
{
	struct owner *o = arg;
	int inq;

	if (o->send_len)
		o->sent = send(o->fd, stream, o->send_len, MSG_DONTWAIT);
	if (o->peer_len &&
	    !pconn_send_data(o->c, o->p, o->c->snd_nxt, o->peer_data,
			     o->peer_len, NULL))
		o->readable = !!(poll_one(o->fd, POLLIN, 1000) & POLLIN);
	__atomic_store_n(&o->t_a, real_ns(), __ATOMIC_RELEASE);
	o->ret = ioctl(o->fd, FIONREAD, &inq);	/* SIOCINQ */
	o->t_b = real_ns();
	__atomic_store_n(&o->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The owner's @t_a, once it has one. */
static long long owner_started(struct owner *o)
{
	long long t;

	while (!(t = __atomic_load_n(&o->t_a, __ATOMIC_ACQUIRE)))
		usleep(1000);
	return t;
}

/* Milliseconds from @t0 to @t (CLOCK_REALTIME ns), for the log. */
static double rel_ms(long long t, long long t0)
{
	return (t - t0) / 1e6;
}

/*
 * SO_TIMESTAMPNS turns the kernel's receive stamps on through a work
 * item: until it has run, frames are stamped when they are read. Wait
 * until a SYN that Linux's TCP sends inside connect() carries a stamp
 * from before connect() returned. 0, or -1 after 2 s.
 */
static int owned_wait_stamps(struct peer *p)
{
	struct sockaddr_in sin = sin_make(PEER_ADDR, PEER_PORT + 100);
	static struct pseg s;
	int i;

	for (i = 0; i < 100; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		long long t1;
		int ok = 0;

		if (fd < 0)
			return -1;
		connect(fd, (struct sockaddr *)&sin, sizeof(sin));
		t1 = real_ns();
		usleep(20 * 1000);
		while (peer_recv(p, &s, 100) == 1)
			if (s.dport == PEER_PORT + 100 && s.flags == SEG_SYN) {
				ok = s.rx_ns && s.rx_ns < t1;
				break;
			}
		close(fd);
		if (ok) {
			peer_drain(p);
			return 0;
		}
	}
	return -1;
}

FIXTURE(owned) {
	struct peer p;
	struct pconn c;
};

FIXTURE_SETUP(owned)
{
	const char *err = peer_setup(&self->p);
	int one = 1;

	ASSERT_EQ(NULL, err) TH_LOG("setup: %s", err);
	ASSERT_EQ(0, access(OWN_PARAM, W_OK)) TH_LOG("no own_delay_ms hook");
	ASSERT_EQ(0, setsockopt(self->p.pfd, SOL_SOCKET, SO_TIMESTAMPNS,
				&one, sizeof(one)));
	ASSERT_EQ(0, owned_wait_stamps(&self->p))
		TH_LOG("frames are not stamped as they arrive");
}

FIXTURE_TEARDOWN(owned)
{
	write_file(OWN_PARAM, "0");
	EXPECT_GE(self->p.refcnt, peer_teardown(&self->p));
}

static const char *owned_open(struct peer *p, struct pconn *c)
{
	uint8_t opt[40];
	unsigned int n = peer_linux_synack_opts(opt, 1460);

	return pconn_open(c, p, xtcp_family(), PEER_PORT, opt, n, 1);
}

/* The connection's RTO now, microseconds. */
static unsigned int owned_rto(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return 0;
	return ti.tcpi_rto;
}

/*
 * RTO while owned: 1000 bytes go out unacknowledged and the socket is
 * held for 1.5 s, across the RTO (about 200 ms). Nothing may leave while
 * it is held; release_sock() then sends the retransmission itself
 * (before the SIOCINQ returns, not a timer tick later, as when the timer
 * re-armed itself every 50 ms), once; acknowledged, the connection goes
 * on. Timeouts counts one RTO.
 */
TEST_F_TIMEOUT(owned, rto_deferred, 60)
{
	const long long held_ns = 1500 * NS_PER_MS - OWN_SLACK_NS;
	struct owner o = { .send_len = 1000 };
	long long t_orig = 0, t_re = 0, done = 0, end, rtos;
	int orig = 0, re = 0, stray = 0;
	static uint8_t got[20000];
	static struct pseg s;
	const char *err;
	unsigned int rto;
	uint32_t start;
	pthread_t th;

	err = owned_open(&self->p, &self->c);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
	start = self->c.rcv_nxt;
	rto = owned_rto(self->c.fd);
	ASSERT_LT(rto, 1000000U) TH_LOG("RTO %u us: not within the hold", rto);
	rtos = xtcp_stat("Timeouts");
	ASSERT_LE(0, rtos);
	ASSERT_EQ(0, write_file(OWN_PARAM, "1500"));
	o.fd = self->c.fd;
	ASSERT_EQ(0, pthread_create(&th, NULL, owner_fn, &o));

	/* All it sends until 500 ms after the hold; ACK the resend. */
	end = now_ms() + 10000;
	while (now_ms() < end) {
		int r;

		if (__atomic_load_n(&o.done, __ATOMIC_ACQUIRE)) {
			if (!done)
				done = now_ms();
			else if (now_ms() > done + 500)
				break;
		}
		r = pconn_recv(&self->c, &self->p, &s, 50);
		ASSERT_LE(0, r);
		if (r == 0 || !s.len)
			continue;
		if (s.seq != start || s.len != 1000) {
			stray++;
			continue;
		}
		if (!orig) {
			orig = 1;
			t_orig = s.rx_ns;
			continue;
		}
		if (!re++) {
			t_re = s.rx_ns;
			self->c.rcv_nxt = start + 1000;
			ASSERT_EQ(0, peer_seg(&self->c, &self->p, SEG_ACK,
					      self->c.snd_nxt, self->c.rcv_nxt,
					      0));
		}
	}
	pthread_join(th, NULL);
	ASSERT_EQ(0, write_file(OWN_PARAM, "0"));
	TH_LOG("RTO %u us; ms from the hold's start: sent %.1f, resent %.1f",
	       rto, rel_ms(t_orig, o.t_a), rel_ms(t_re, o.t_a));
	TH_LOG("SIOCINQ back after %.1f ms", rel_ms(o.t_b, o.t_a));
	ASSERT_EQ(1000, o.sent);
	ASSERT_EQ(0, o.ret);
	ASSERT_EQ(1, orig) TH_LOG("the first transmission never came");
	ASSERT_NE(0, t_orig) TH_LOG("no kernel receive times");
	EXPECT_LT(t_orig, o.t_a);
	EXPECT_EQ(1, re) TH_LOG("retransmissions: %d", re);
	EXPECT_EQ(0, stray);
	ASSERT_NE(0, re);
	/* Not while held: the socket is surely held for held_ns after t_a. */
	EXPECT_GE(t_re, o.t_a + held_ns)
		TH_LOG("resent %.1f ms into the 1500 ms hold",
		       rel_ms(t_re, o.t_a));
	/* By release_sock() itself, before the SIOCINQ returned. */
	EXPECT_LE(t_re, o.t_b)
		TH_LOG("resent %.3f ms after release_sock() returned",
		       rel_ms(t_re, o.t_b));
	EXPECT_LT(t_re, o.t_b + 1000 * NS_PER_MS);
	EXPECT_EQ(rtos + 1, xtcp_stat("Timeouts"));

	/* The connection goes on: 20000 bytes, in order. */
	ASSERT_EQ((ssize_t)sizeof(got),
		  send(self->c.fd, stream, sizeof(got), MSG_DONTWAIT));
	EXPECT_EQ(sizeof(got), collect_data(_metadata, &self->c, &self->p,
					    got, sizeof(got), 3000));
	EXPECT_EQ(0, memcmp(got, stream, sizeof(got)));
}

/*
 * ICMP "fragmentation needed" (MTU 1000) while owned, for a segment in
 * flight. The work waits for release_sock(): TCP_MAXSEG (read without
 * the socket lock, as Linux's) still says 1448 while the socket is
 * held, though the message was taken (IcmpErrors); nothing is sent
 * during the hold; release_sock() sends everything in flight again at
 * the new size (948: 1000 less IP, TCP and timestamps) before the
 * SIOCINQ returns, and the 4000 bytes arrive intact. The SYN-ACK is held
 * back 800 ms, so that the RTO (about 2.4 s) does not also fire while
 * the socket is held: only the ICMP's work is deferred.
 */
TEST_F_TIMEOUT(owned, icmp_frag_needed_deferred, 60)
{
	const long long held_ns = 1000 * NS_PER_MS - OWN_SLACK_NS;
	struct owner o = { .send_len = 4000 };
	long long icmp0, icmp1, t_check, t_last = 0, end, done = 0;
	unsigned int rto, sent = 0, got = 0, during = 0, largest = 0;
	int mss_held, first = 1;
	uint32_t start, first_seq = 0;
	unsigned int first_len = 0;
	long long first_ns = 0;
	static uint8_t buf[4000];
	static struct pseg s, q;
	const char *err;
	pthread_t th;

	self->p.synack_delay_ms = 800;
	err = owned_open(&self->p, &self->c);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
	start = self->c.rcv_nxt;
	rto = owned_rto(self->c.fd);
	ASSERT_GT(rto, 2000000U) TH_LOG("RTO %u us: within the hold", rto);
	ASSERT_EQ(1448, getsockopt_int(self->c.fd, IPPROTO_TCP, TCP_MAXSEG));
	ASSERT_EQ(0, write_file(OWN_PARAM, "1000"));
	o.fd = self->c.fd;
	ASSERT_EQ(0, pthread_create(&th, NULL, owner_fn, &o));

	/* The first transmission, which the path drops. */
	while (sent < 4000) {
		ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &s, 2000))
			TH_LOG("%u of 4000 bytes sent", sent);
		if (!s.len)
			continue;
		if (!sent)
			q = s;
		sent += s.len;
		t_last = s.rx_ns;
	}
	while (real_ns() < owner_started(&o) + 200 * NS_PER_MS)
		usleep(10 * 1000);
	icmp0 = xtcp_stat("IcmpErrors");
	q.iplen = 1500;
	ASSERT_EQ(0, peer_send_icmp(&self->p, &q, ICMP_DEST_UNREACH,
				    ICMP_FRAG_NEEDED, 1000, 0));
	usleep(100 * 1000);
	icmp1 = xtcp_stat("IcmpErrors");
	mss_held = getsockopt_int(self->c.fd, IPPROTO_TCP, TCP_MAXSEG);
	t_check = real_ns();

	/* What follows, taken in order and acknowledged. */
	end = now_ms() + 10000;
	while (got < sizeof(buf) && now_ms() < end) {
		int r;

		if (__atomic_load_n(&o.done, __ATOMIC_ACQUIRE)) {
			if (!done)
				done = now_ms();
			else if (now_ms() > done + 5000)
				break;
		}
		r = pconn_recv(&self->c, &self->p, &s, 50);
		ASSERT_LE(0, r);
		if (r == 0 || !s.len)
			continue;
		if (s.rx_ns < o.t_a + held_ns) {
			during++;
			continue;
		}
		if (first) {
			first = 0;
			first_seq = s.seq;
			first_len = s.gso_size ? : s.len;
			first_ns = s.rx_ns;
		}
		if ((s.gso_size ? : s.len) > largest)
			largest = s.gso_size ? : s.len;
		if (s.seq != start + got || got + s.len > sizeof(buf))
			continue;
		memcpy(buf + got, s.data, s.len);
		got += s.len;
		self->c.rcv_nxt = start + got;
		ASSERT_EQ(0, peer_seg(&self->c, &self->p, SEG_ACK,
				      self->c.snd_nxt, self->c.rcv_nxt, 0));
	}
	pthread_join(th, NULL);
	ASSERT_EQ(0, write_file(OWN_PARAM, "0"));
	TH_LOG("RTO %u us; ms from the hold's start: sent by %.1f, ICMP checked %.1f",
	       rto, rel_ms(t_last, o.t_a), rel_ms(t_check, o.t_a));
	TH_LOG("resent %.1f, SIOCINQ back %.1f", rel_ms(first_ns, o.t_a),
	       rel_ms(o.t_b, o.t_a));
	ASSERT_EQ(4000, o.sent);
	ASSERT_EQ(0, o.ret);
	ASSERT_NE(0, t_last) TH_LOG("no kernel receive times");
	EXPECT_LT(t_last, o.t_a);
	/* The checks ran while the socket was held... */
	ASSERT_LT(t_check, o.t_a + held_ns) TH_LOG("checked too late");
	/* ...the ICMP was taken, and the MSS left alone. */
	EXPECT_EQ(icmp0 + 1, icmp1);
	EXPECT_EQ(1448, mss_held);
	EXPECT_EQ(0U, during) TH_LOG("%u data segments sent while held",
				     during);
	/* At release: from snd_una, at the new size, by release_sock(). */
	ASSERT_FALSE(first) TH_LOG("nothing sent again");
	EXPECT_EQ(q.seq, first_seq);
	EXPECT_EQ(1000U - 52, first_len);
	EXPECT_LE(first_ns, o.t_b)
		TH_LOG("resent %.3f ms after release_sock() returned",
		       rel_ms(first_ns, o.t_b));
	EXPECT_GE(1000U - 52, largest);
	EXPECT_EQ(948, getsockopt_int(self->c.fd, IPPROTO_TCP, TCP_MAXSEG));
	EXPECT_EQ(sizeof(buf), got);
	EXPECT_EQ(0, memcmp(buf, stream, got));
}

/*
 * A delayed ACK while owned: with quick-ACK mode off, 100 bytes from the
 * peer arm the 40 ms delayed-ACK timer, and the socket is held for 1 s
 * at once. The ACK must not leave while it is held; release_sock()
 * sends it (before the SIOCINQ returns, not a timer tick later, as when
 * the timer re-armed itself every 20 ms), once. If the owner thread was
 * too slow and the timer fired before the hold began, try again.
 */
TEST_F_TIMEOUT(owned, delack_deferred, 60)
{
	const long long held_ns = 1000 * NS_PER_MS - OWN_SLACK_NS;
	long long t0, t_ack = 0, end, done;
	static uint8_t got[400];
	static struct pseg s;
	struct owner o;
	unsigned int off = 0;
	int attempt, acks = 0, zero = 0;
	const char *err;
	pthread_t th;

	err = owned_open(&self->p, &self->c);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
	ASSERT_EQ(0, setsockopt(self->c.fd, IPPROTO_TCP, TCP_QUICKACK, &zero,
				sizeof(zero)));
	/* The ACK is delayed indeed, or this would prove nothing. */
	t0 = real_ns();
	ASSERT_EQ(0, pconn_send_data(&self->c, &self->p, self->c.snd_nxt,
				     stream, 100, NULL));
	self->c.snd_nxt += 100;
	off = 100;
	do {
		ASSERT_EQ(1, pconn_recv(&self->c, &self->p, &s, 2000));
	} while (s.ack != self->c.snd_nxt);
	TH_LOG("delayed ACK after %.1f ms", rel_ms(s.rx_ns, t0));
	ASSERT_GE(s.rx_ns, t0 + 20 * NS_PER_MS);

	ASSERT_EQ(0, write_file(OWN_PARAM, "1000"));
	for (attempt = 0; attempt < 3; attempt++) {
		memset(&o, 0, sizeof(o));
		o.fd = self->c.fd;
		o.c = &self->c;
		o.p = &self->p;
		o.peer_data = stream + off;
		o.peer_len = 100;
		acks = 0;
		t_ack = 0;
		ASSERT_EQ(0, pthread_create(&th, NULL, owner_fn, &o));
		owner_started(&o);
		/* Its ACKs until 500 ms after the hold. */
		end = now_ms() + 10000;
		done = 0;
		while (now_ms() < end) {
			int r;

			if (__atomic_load_n(&o.done, __ATOMIC_ACQUIRE)) {
				if (!done)
					done = now_ms();
				else if (now_ms() > done + 500)
					break;
			}
			r = pconn_recv(&self->c, &self->p, &s, 50);
			ASSERT_LE(0, r);
			if (r == 1 && s.ack == self->c.snd_nxt + 100 &&
			    !acks++)
				t_ack = s.rx_ns;
		}
		pthread_join(th, NULL);
		self->c.snd_nxt += 100;
		off += 100;
		ASSERT_TRUE(o.readable) TH_LOG("the peer's data never came");
		ASSERT_EQ(0, o.ret);
		TH_LOG("attempt %d: %d ACKs; ms from the hold's start: ACK %.1f, SIOCINQ back %.1f",
		       attempt, acks, rel_ms(t_ack, o.t_a),
		       rel_ms(o.t_b, o.t_a));
		if (!acks || t_ack >= o.t_a)
			break;
	}
	ASSERT_EQ(0, write_file(OWN_PARAM, "0"));
	ASSERT_LT(attempt, 3) TH_LOG("the timer always fired before the hold");
	EXPECT_EQ(1, acks);
	ASSERT_NE(0, acks);
	EXPECT_GE(t_ack, o.t_a + held_ns)
		TH_LOG("ACK %.1f ms into the 1000 ms hold",
		       rel_ms(t_ack, o.t_a));
	EXPECT_LE(t_ack, o.t_b)
		TH_LOG("ACK %.3f ms after release_sock() returned",
		       rel_ms(t_ack, o.t_b));
	EXPECT_LT(t_ack, o.t_b + 1000 * NS_PER_MS);
	/* Everything the peer sent, in order. */
	ASSERT_EQ((ssize_t)off, recv(self->c.fd, got, sizeof(got),
				     MSG_DONTWAIT));
	EXPECT_EQ(0, memcmp(got, stream, off));
}

TEST_HARNESS_MAIN
