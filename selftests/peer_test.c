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
#include <netinet/tcp.h>
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
	r->sent = send(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
	shutdown(c.fd, SHUT_WR);
	end = now_ms() + 15000;
	while (!r->fin && now_ms() < end) {
		unsigned int segsz;

		if (pconn_recv(&c, p, &s, 1000) != 1)
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

TEST_HARNESS_MAIN
