// SPDX-License-Identifier: GPL-2.0
/*
 * ECN (RFC 3168) on the wire, against a scripted peer (xtcp_peer.h), on
 * xtcp and, as the reference, on Linux's TCP in the same namespace: the
 * same script, the same expectations.
 *
 * - net.ipv4.tcp_ecn 1 (xtcp's ecn follows it): the SYN asks with ECE
 *   and CWR; a SYN-ACK with ECE alone agrees; new data goes out ECT(0),
 *   bare ACKs Not-ECT; a SYN sent again asks no more;
 * - tcp_ecn 2 (the default): the SYN does not ask;
 * - a CE mark on received data: every ACK says ECE until the peer's CWR;
 * - the peer's ECE: the next new data segment carries CWR, once;
 * - a listener answers a SYN with ECE and CWR with ECE (tcp_ecn 2), and
 *   without it when tcp_ecn is 0.
 */
#define _GNU_SOURCE
#include <poll.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"
#include "xtcp_peer.h"

#define PEER_PORT	7100
#define LISTEN_PORT	7200
#define ECN_MASK	3U
#define ECN_ECT0	2U
#define ECN_CE		3U

FIXTURE(ecn) {
	struct peer p;
	struct pconn c;
};

FIXTURE_VARIANT(ecn) {
	int linux_tcp;
};

FIXTURE_VARIANT_ADD(ecn, linux_tcp) { .linux_tcp = 1 };
FIXTURE_VARIANT_ADD(ecn, xtcp) { .linux_tcp = 0 };

static int family_of(const FIXTURE_VARIANT(ecn) *v)
{
	return v->linux_tcp ? AF_INET : xtcp_family();
}

FIXTURE_SETUP(ecn)
{
	const char *err = peer_setup(&self->p);

	ASSERT_EQ(NULL, err) TH_LOG("setup: %s", err);
}

FIXTURE_TEARDOWN(ecn)
{
	EXPECT_GE(self->p.refcnt, peer_teardown(&self->p));
}

static void set_ipv4_ecn(struct __test_metadata *_metadata, const char *val)
{
	ASSERT_EQ(0, write_file("/proc/sys/net/ipv4/tcp_ecn", val));
}

/* The next SYN of a connect() to the peer's @pport. */
static int next_syn(struct peer *p, struct pseg *s, unsigned int pport,
		    int ms)
{
	long long end = now_ms() + ms;

	do {
		long long left = end - now_ms();

		if (peer_recv(p, s, left > 0 ? left : 0) != 1)
			return 0;
	} while (s->dport != pport || !(s->flags & SEG_SYN) ||
		 (s->flags & SEG_ACK));
	return 1;
}

/*
 * connect() to the peer, which answers with a SYN-ACK of @synack_flags
 * (MSS 1460 only, no timestamps); the client's ACK read. NULL or what
 * failed.
 */
static const char *ecn_open(struct pconn *c, struct peer *p, int family,
			    unsigned int synack_flags)
{
	struct sockaddr_in sin = sin_make(PEER_ADDR, PEER_PORT);
	static struct pseg s;

	memset(c, 0, sizeof(*c));
	c->pport = PEER_PORT;
	c->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return "socket";
	if (!connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    errno != EINPROGRESS)
		return "connect did not return EINPROGRESS";
	if (!next_syn(p, &c->syn, PEER_PORT, 3000))
		return "no SYN";
	c->xport = c->syn.sport;
	c->xisn = c->syn.seq;
	c->rcv_nxt = c->xisn + 1;
	c->snd_nxt = 1000000;
	pconn_seg(c, &s, synack_flags);
	s.optlen = opt_mss(s.opt, 1460);
	if (peer_send(p, &s, NULL))
		return "send SYN-ACK";
	c->snd_nxt++;
	if (pconn_recv(c, p, &s, 3000) != 1 || s.flags != SEG_ACK)
		return "no ACK of the SYN-ACK";
	if (s.tos & ECN_MASK)
		return "the ACK of the SYN-ACK is ECN-capable";
	if (!(poll_one(c->fd, POLLOUT, 3000) & POLLOUT))
		return "connect did not complete";
	return NULL;
}

/* The next segment of @c that carries data, within @ms. */
static int next_data(struct pconn *c, struct peer *p, struct pseg *s, int ms)
{
	long long end = now_ms() + ms;

	do {
		long long left = end - now_ms();

		if (pconn_recv(c, p, s, left > 0 ? left : 0) != 1)
			return 0;
	} while (!s->len);
	return 1;
}

/* The next segment of @c without data (an ACK), within @ms. */
static int next_ack(struct pconn *c, struct peer *p, struct pseg *s, int ms)
{
	long long end = now_ms() + ms;

	do {
		long long left = end - now_ms();

		if (pconn_recv(c, p, s, left > 0 ? left : 0) != 1)
			return 0;
	} while (s->len);
	return 1;
}

/* tcp_ecn 1: the SYN asks, the SYN-ACK agrees, data is ECT(0). */
TEST_F(ecn, handshake_and_ect0)
{
	static struct pseg s;
	const char *err;
	char buf[100] = { 0 };

	set_ipv4_ecn(_metadata, "1");
	err = ecn_open(&self->c, &self->p, family_of(variant),
		       SEG_SYN | SEG_ACK | SEG_ECE);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
	EXPECT_EQ(SEG_SYN | SEG_ECE | SEG_CWR, self->c.syn.flags);
	EXPECT_EQ(0U, self->c.syn.tos & ECN_MASK);

	ASSERT_EQ(100, write(self->c.fd, buf, sizeof(buf)));
	ASSERT_EQ(1, next_data(&self->c, &self->p, &s, 3000));
	EXPECT_EQ(ECN_ECT0, s.tos & ECN_MASK) TH_LOG("TOS %#x", s.tos);
	EXPECT_EQ(0U, s.flags & (SEG_ECE | SEG_CWR));
	EXPECT_EQ(SEG_ACK | SEG_PSH, s.flags);
}

/* Without ECE in the SYN-ACK, nothing is ECN-capable. */
TEST_F(ecn, refused_by_synack)
{
	static struct pseg s;
	const char *err;
	char buf[100] = { 0 };

	set_ipv4_ecn(_metadata, "1");
	err = ecn_open(&self->c, &self->p, family_of(variant),
		       SEG_SYN | SEG_ACK);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
	ASSERT_EQ(100, write(self->c.fd, buf, sizeof(buf)));
	ASSERT_EQ(1, next_data(&self->c, &self->p, &s, 3000));
	EXPECT_EQ(0U, s.tos & ECN_MASK) TH_LOG("TOS %#x", s.tos);
}

/* tcp_ecn 2, Linux's default: the SYN does not ask. */
TEST_F(ecn, default_does_not_ask)
{
	const char *err;

	set_ipv4_ecn(_metadata, "2");
	err = ecn_open(&self->c, &self->p, family_of(variant),
		       SEG_SYN | SEG_ACK | SEG_ECE);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
	EXPECT_EQ(SEG_SYN, self->c.syn.flags);
}

/* A SYN sent again (no answer to the first) no longer asks for ECN. */
TEST_F(ecn, syn_retransmission_falls_back)
{
	struct sockaddr_in sin = sin_make(PEER_ADDR, PEER_PORT);
	static struct pseg s1, s2;
	int fd;

	set_ipv4_ecn(_metadata, "1");
	fd = socket(family_of(variant), SOCK_STREAM | SOCK_NONBLOCK, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(1, next_syn(&self->p, &s1, PEER_PORT, 3000));
	ASSERT_EQ(1, next_syn(&self->p, &s2, PEER_PORT, 4000))
		TH_LOG("no second SYN");
	EXPECT_EQ(SEG_SYN | SEG_ECE | SEG_CWR, s1.flags);
	EXPECT_EQ(SEG_SYN, s2.flags);
	EXPECT_EQ(s1.seq, s2.seq);
	close(fd);
}

/*
 * Data marked CE: the ACKs say ECE, and go on saying it on later data
 * until a segment with CWR comes; after it, no more ECE.
 */
TEST_F(ecn, ce_echoed_until_cwr)
{
	static const struct pout ce = { .tos = ECN_CE };
	static const struct pout ect = { .tos = ECN_ECT0 };
	static struct pseg s;
	const char *err;
	char buf[300];

	set_ipv4_ecn(_metadata, "1");
	err = ecn_open(&self->c, &self->p, family_of(variant),
		       SEG_SYN | SEG_ACK | SEG_ECE);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
	memset(buf, 'e', sizeof(buf));

	ASSERT_EQ(0, pconn_send_data(&self->c, &self->p, self->c.snd_nxt, buf,
				     100, &ce));
	self->c.snd_nxt += 100;
	ASSERT_EQ(1, next_ack(&self->c, &self->p, &s, 3000));
	EXPECT_EQ(SEG_ACK | SEG_ECE, s.flags);
	EXPECT_EQ(self->c.snd_nxt, s.ack);

	/* More data, not marked, no CWR: still ECE. */
	ASSERT_EQ(0, pconn_send_data(&self->c, &self->p, self->c.snd_nxt, buf,
				     100, &ect));
	self->c.snd_nxt += 100;
	ASSERT_EQ(1, next_ack(&self->c, &self->p, &s, 3000));
	EXPECT_EQ(SEG_ACK | SEG_ECE, s.flags);

	/* The peer's CWR ends it. */
	pconn_seg(&self->c, &s, SEG_ACK | SEG_PSH | SEG_CWR);
	memcpy(s.data, buf, 100);
	s.len = 100;
	ASSERT_EQ(0, peer_send(&self->p, &s, &ect));
	self->c.snd_nxt += 100;
	ASSERT_EQ(1, next_ack(&self->c, &self->p, &s, 3000));
	EXPECT_EQ(SEG_ACK, s.flags);
	EXPECT_EQ(self->c.snd_nxt, s.ack);
	EXPECT_EQ(300, recv(self->c.fd, buf, sizeof(buf), MSG_WAITALL));
}

/*
 * The peer's ECE, acknowledging our data: the next new data segment
 * carries CWR, the one after does not.
 */
TEST_F(ecn, ece_answered_with_cwr)
{
	static struct pseg s;
	uint32_t end;
	const char *err;
	char buf[100] = { 0 };

	set_ipv4_ecn(_metadata, "1");
	err = ecn_open(&self->c, &self->p, family_of(variant),
		       SEG_SYN | SEG_ACK | SEG_ECE);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);

	ASSERT_EQ(100, write(self->c.fd, buf, sizeof(buf)));
	ASSERT_EQ(1, next_data(&self->c, &self->p, &s, 3000));
	end = s.seq + s.len;
	EXPECT_EQ(0U, s.flags & SEG_CWR);

	pconn_seg(&self->c, &s, SEG_ACK | SEG_ECE);
	s.ack = end;
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	self->c.rcv_nxt = end;
	usleep(200 * 1000);

	ASSERT_EQ(100, write(self->c.fd, buf, sizeof(buf)));
	ASSERT_EQ(1, next_data(&self->c, &self->p, &s, 3000));
	EXPECT_EQ(end, s.seq);
	EXPECT_EQ(SEG_CWR, s.flags & SEG_CWR) TH_LOG("flags %#x", s.flags);
	EXPECT_EQ(ECN_ECT0, s.tos & ECN_MASK);
	end = s.seq + s.len;

	pconn_seg(&self->c, &s, SEG_ACK);
	s.ack = end;
	ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
	usleep(200 * 1000);
	ASSERT_EQ(100, write(self->c.fd, buf, sizeof(buf)));
	ASSERT_EQ(1, next_data(&self->c, &self->p, &s, 3000));
	EXPECT_EQ(0U, s.flags & SEG_CWR);
}

/* The listener's SYN-ACK to a SYN asking for ECN, per tcp_ecn. */
static unsigned int synack_flags(struct __test_metadata *_metadata,
				 struct peer *p, int family, unsigned int sport)
{
	static struct pseg s;
	unsigned int flags = 0;
	int lfd;

	lfd = socket(family, SOCK_STREAM, 0);
	if (lfd < 0 || bind_err(lfd, "0.0.0.0", LISTEN_PORT) ||
	    listen(lfd, 8)) {
		TH_LOG("listener: %s", strerror(errno));
		return ~0U;
	}
	memset(&s, 0, offsetof(struct pseg, data));
	s.sport = sport;
	s.dport = LISTEN_PORT;
	s.seq = 0x12345678;
	s.flags = SEG_SYN | SEG_ECE | SEG_CWR;
	s.win = 65535;
	s.optlen = opt_mss(s.opt, 1460);
	if (!peer_send(p, &s, NULL)) {
		long long end = now_ms() + 3000;

		while (now_ms() < end && peer_recv(p, &s, 500) >= 0)
			if (s.sport == LISTEN_PORT && s.dport == sport) {
				flags = s.flags;
				break;
			}
	}
	/* The peer never completes: a RST ends the request. */
	memset(&s, 0, offsetof(struct pseg, data));
	s.sport = sport;
	s.dport = LISTEN_PORT;
	s.seq = 0x12345679;
	s.flags = SEG_RST;
	peer_send(p, &s, NULL);
	close(lfd);
	return flags;
}

TEST_F(ecn, listener_agrees)
{
	set_ipv4_ecn(_metadata, "2");
	EXPECT_EQ(SEG_SYN | SEG_ACK | SEG_ECE,
		  synack_flags(_metadata, &self->p, family_of(variant), 41000));
	set_ipv4_ecn(_metadata, "0");
	EXPECT_EQ(SEG_SYN | SEG_ACK,
		  synack_flags(_metadata, &self->p, family_of(variant), 41001));
}

TEST_HARNESS_MAIN
