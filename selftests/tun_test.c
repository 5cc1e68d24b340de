// SPDX-License-Identifier: GPL-2.0
/*
 * The connect path over an L3 device with no link-layer header (tun):
 * the test is the peer. It reads xtcp's SYN from the tun file
 * descriptor, checks the IP and TCP headers and checksums, answers with
 * a SYN-ACK it builds itself, and reads xtcp's ACK; then the same with a
 * RST (ECONNREFUSED) and with an ACK that does not acknowledge the SYN
 * (answered with a RST, connect still pending). Connections end with the
 * full close exchange (FIN, FIN+ACK, ACK). Then TIME_WAIT's answers (a
 * retransmitted FIN re-acknowledged, a RST ending it) and RFC 5961's
 * challenge ACK for an in-window RST.
 */
#define _GNU_SOURCE
#include <linux/if_tun.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"

#define LOCAL_ADDR	"198.51.100.1"
#define PEER_ADDR	"198.51.100.2"
#define PEER_PORT	8080

FIXTURE(tun) {
	int ns;
	int tun;
};

FIXTURE_SETUP(tun)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };

	self->tun = -1;
	self->ns = new_netns();
	ASSERT_LE(0, self->ns) TH_LOG("netns: %s", strerror(-self->ns));
	self->tun = open("/dev/net/tun", O_RDWR);
	if (self->tun < 0 && errno == ENOENT) {
		run_cmd("modprobe tun");
		self->tun = open("/dev/net/tun", O_RDWR);
	}
	ASSERT_LE(0, self->tun) TH_LOG("/dev/net/tun: %s", strerror(errno));
	strcpy(ifr.ifr_name, "xtun0");
	ASSERT_EQ(0, ioctl(self->tun, TUNSETIFF, &ifr));
	ASSERT_EQ(0, run_cmd("ip addr add %s/24 dev xtun0", LOCAL_ADDR));
	ASSERT_EQ(0, run_cmd("ip link set xtun0 up"));
}

FIXTURE_TEARDOWN(tun)
{
	if (self->tun >= 0)
		close(self->tun);
	if (self->ns >= 0)
		close(self->ns);
}

static uint16_t csum_fold32(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

/* The TCP checksum of @th (@len bytes) under @iph's pseudo-header. */
static uint16_t tcp_csum(const struct iphdr *iph, const void *th, size_t len)
{
	uint32_t sum = 0;

	sum = csum_add(sum, &iph->saddr, 4);
	sum = csum_add(sum, &iph->daddr, 4);
	sum += IPPROTO_TCP + len;
	sum = csum_add(sum, th, len);
	return csum_fold32(sum);
}

/* Read one packet from the tun fd within @ms; its length or -1. */
static ssize_t tun_read(int fd, void *buf, size_t size, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (poll(&pfd, 1, ms) != 1)
		return -1;
	return read(fd, buf, size);
}

/*
 * Read packets until a TCP one from xtcp arrives (the kernel may send
 * IPv6 router solicitations and the like first); returns its length.
 */
static ssize_t read_tcp(int fd, uint8_t *buf, size_t size, int ms)
{
	ssize_t n;

	while ((n = tun_read(fd, buf, size, ms)) > 0) {
		const struct iphdr *iph = (const struct iphdr *)buf;

		if (n >= 40 && iph->version == 4 &&
		    iph->protocol == IPPROTO_TCP)
			return n;
	}
	return -1;
}

/* Write a TCP segment from the peer to xtcp: flags, seq, ack, MSS. */
static int send_peer(int fd, const struct tcphdr *syn, uint8_t flags,
		     uint32_t seq, uint32_t ack)
{
	uint8_t pkt[sizeof(struct iphdr) + sizeof(struct tcphdr) + 4] = {};
	struct iphdr *iph = (struct iphdr *)pkt;
	struct tcphdr *th = (struct tcphdr *)(iph + 1);
	uint8_t *opt = (uint8_t *)(th + 1);

	iph->version = 4;
	iph->ihl = 5;
	iph->tot_len = htons(sizeof(pkt));
	iph->ttl = 64;
	iph->protocol = IPPROTO_TCP;
	inet_pton(AF_INET, PEER_ADDR, &iph->saddr);
	inet_pton(AF_INET, LOCAL_ADDR, &iph->daddr);
	iph->check = htons(csum_fold32(csum_add(0, iph, sizeof(*iph))));

	th->source = syn->dest;
	th->dest = syn->source;
	th->seq = htonl(seq);
	th->ack_seq = htonl(ack);
	th->doff = (sizeof(*th) + 4) / 4;
	((uint8_t *)th)[13] = flags;
	th->window = htons(29200);
	opt[0] = 2;			/* MSS 1400 */
	opt[1] = 4;
	opt[2] = 1400 >> 8;
	opt[3] = 1400 & 0xff;
	th->check = htons(tcp_csum(iph, th, sizeof(*th) + 4));
	return write(fd, pkt, sizeof(pkt)) == sizeof(pkt) ? 0 : -1;
}

/* Start a non-blocking connect to the peer; returns the socket. */
static int start_connect(struct __test_metadata *_metadata)
{
	struct sockaddr_in peer = sin_make(PEER_ADDR, PEER_PORT);
	int fd = socket(xtcp_family(), SOCK_STREAM | SOCK_NONBLOCK, 0);

	EXPECT_LE(0, fd);
	EXPECT_EQ(-1, connect(fd, (struct sockaddr *)&peer, sizeof(peer)));
	EXPECT_EQ(EINPROGRESS, errno);
	return fd;
}

/* Read xtcp's SYN and check every header field we promise. */
static void read_syn(struct __test_metadata *_metadata, int tun,
		     uint8_t *buf, size_t size)
{
	const struct iphdr *iph = (const struct iphdr *)buf;
	const struct tcphdr *th = (const struct tcphdr *)(buf + 20);
	struct in_addr a;
	ssize_t n;

	n = read_tcp(tun, buf, size, 3000);
	ASSERT_LT(0, n) TH_LOG("no SYN read from the tun device");
	ASSERT_EQ(5, (int)iph->ihl);
	ASSERT_EQ(n, ntohs(iph->tot_len));
	EXPECT_EQ(0, csum_fold32(csum_add(0, iph, 20)) & 0xffff);
	EXPECT_EQ(htons(IP_DF), iph->frag_off & htons(IP_DF));
	EXPECT_EQ(64, iph->ttl);
	inet_pton(AF_INET, PEER_ADDR, &a);
	EXPECT_EQ(a.s_addr, iph->daddr);
	inet_pton(AF_INET, LOCAL_ADDR, &a);
	EXPECT_EQ(a.s_addr, iph->saddr);
	EXPECT_EQ(0, tcp_csum(iph, th, n - 20));
	EXPECT_EQ(TH_SYN, ((const uint8_t *)th)[13]);
	EXPECT_EQ(PEER_PORT, ntohs(th->dest));
	EXPECT_LE(61000, ntohs(th->source));
	/* The MSS of a tun device's 1500-byte MTU, first option. */
	EXPECT_EQ(2, buf[40]);
	EXPECT_EQ(4, buf[41]);
	EXPECT_EQ(1460, (buf[42] << 8) | buf[43]);
}

/*
 * close() the connected @fd and play the peer's part of the close: read
 * xtcp's FIN (at @isn + 1, acknowledging @peer_nxt), acknowledge it with
 * our own FIN, read xtcp's last ACK. xtcp is then in TIME_WAIT, which
 * goes with the namespace; no orphan is left retransmitting.
 */
static void finish_close(struct __test_metadata *_metadata, int tun, int fd,
			 const struct tcphdr *sth, uint32_t isn,
			 uint32_t peer_nxt)
{
	uint8_t pkt[128];
	const struct tcphdr *th = (const struct tcphdr *)(pkt + 20);
	ssize_t n;

	close(fd);
	n = read_tcp(tun, pkt, sizeof(pkt), 3000);
	ASSERT_LT(0, n) TH_LOG("no FIN after close()");
	EXPECT_EQ(TH_FIN | TH_ACK, ((const uint8_t *)th)[13]);
	EXPECT_EQ(isn + 1, ntohl(th->seq));
	EXPECT_EQ(peer_nxt, ntohl(th->ack_seq));

	ASSERT_EQ(0, send_peer(tun, sth, TH_FIN | TH_ACK, peer_nxt, isn + 2));
	n = read_tcp(tun, pkt, sizeof(pkt), 3000);
	ASSERT_LT(0, n) TH_LOG("no ACK of our FIN");
	EXPECT_EQ(TH_ACK, ((const uint8_t *)th)[13]);
	EXPECT_EQ(isn + 2, ntohl(th->seq));
	EXPECT_EQ(peer_nxt + 1, ntohl(th->ack_seq));
}

/* The handshake completes: SYN-ACK in, ACK out, connect() done. */
TEST_F(tun, handshake)
{
	uint8_t syn[128], ack[128];
	const struct tcphdr *sth = (const struct tcphdr *)(syn + 20);
	const struct tcphdr *ath = (const struct tcphdr *)(ack + 20);
	struct pollfd pfd;
	uint32_t isn;
	int fd, err = -1;
	socklen_t len = sizeof(err);
	ssize_t n;

	fd = start_connect(_metadata);
	read_syn(_metadata, self->tun, syn, sizeof(syn));
	isn = ntohl(sth->seq);

	ASSERT_EQ(0, send_peer(self->tun, sth, TH_SYN | TH_ACK, 1000, isn + 1));
	n = read_tcp(self->tun, ack, sizeof(ack), 3000);
	ASSERT_LT(0, n) TH_LOG("no ACK after the SYN-ACK");
	EXPECT_EQ(TH_ACK, ((const uint8_t *)ath)[13]);
	EXPECT_EQ(isn + 1, ntohl(ath->seq));
	EXPECT_EQ(1001U, ntohl(ath->ack_seq));
	EXPECT_EQ(0, tcp_csum((const struct iphdr *)ack, ath, n - 20));

	pfd.fd = fd;
	pfd.events = POLLOUT;
	ASSERT_EQ(1, poll(&pfd, 1, 2000));
	EXPECT_TRUE(pfd.revents & POLLOUT);
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len));
	EXPECT_EQ(0, err);
	EXPECT_EQ(1400, getsockopt_int(fd, IPPROTO_TCP, TCP_MAXSEG));
	finish_close(_metadata, self->tun, fd, sth, isn, 1001);
}

/* A RST acknowledging the SYN refuses the connection. */
TEST_F(tun, rst_refuses)
{
	uint8_t syn[128];
	const struct tcphdr *sth = (const struct tcphdr *)(syn + 20);
	struct pollfd pfd;
	int fd, err = -1;
	socklen_t len = sizeof(err);

	fd = start_connect(_metadata);
	read_syn(_metadata, self->tun, syn, sizeof(syn));
	ASSERT_EQ(0, send_peer(self->tun, sth, TH_RST | TH_ACK, 0,
			       ntohl(sth->seq) + 1));
	pfd.fd = fd;
	pfd.events = POLLOUT;
	ASSERT_EQ(1, poll(&pfd, 1, 2000));
	EXPECT_TRUE(pfd.revents & POLLERR);
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len));
	EXPECT_EQ(ECONNREFUSED, err);
	close(fd);
}

/*
 * An ACK for something else than our SYN gets a RST whose sequence is
 * that ACK (RFC 9293), and the connect stays pending: the real SYN-ACK
 * still completes it.
 */
TEST_F(tun, bad_ack_answered_with_rst)
{
	uint8_t syn[128], rst[128];
	const struct tcphdr *sth = (const struct tcphdr *)(syn + 20);
	const struct tcphdr *rth = (const struct tcphdr *)(rst + 20);
	struct pollfd pfd;
	uint32_t isn;
	int fd;
	ssize_t n;

	fd = start_connect(_metadata);
	read_syn(_metadata, self->tun, syn, sizeof(syn));
	isn = ntohl(sth->seq);

	ASSERT_EQ(0, send_peer(self->tun, sth, TH_SYN | TH_ACK, 5000,
			       isn + 77));
	n = read_tcp(self->tun, rst, sizeof(rst), 3000);
	ASSERT_LT(0, n) TH_LOG("no RST for a bad ACK");
	EXPECT_EQ(TH_RST, ((const uint8_t *)rth)[13]);
	EXPECT_EQ(isn + 77, ntohl(rth->seq));

	pfd.fd = fd;
	pfd.events = POLLOUT;
	EXPECT_EQ(0, poll(&pfd, 1, 200));	/* still connecting */

	ASSERT_EQ(0, send_peer(self->tun, sth, TH_SYN | TH_ACK, 1000, isn + 1));
	ASSERT_EQ(1, poll(&pfd, 1, 2000));
	EXPECT_TRUE(pfd.revents & POLLOUT);
	EXPECT_FALSE(pfd.revents & POLLERR);
	/* Skip the ACK of the SYN-ACK, then close. */
	ASSERT_LT(0, read_tcp(self->tun, rst, sizeof(rst), 3000));
	finish_close(_metadata, self->tun, fd, sth, isn, 1001);
}

/* Connect through the handshake; returns the socket, *@isn its ISN. */
static int establish(struct __test_metadata *_metadata, int tun, uint8_t *syn,
		     size_t size, uint32_t *isn)
{
	const struct tcphdr *sth = (const struct tcphdr *)(syn + 20);
	uint8_t ack[128];
	int fd;

	fd = start_connect(_metadata);
	read_syn(_metadata, tun, syn, size);
	*isn = ntohl(sth->seq);
	EXPECT_EQ(0, send_peer(tun, sth, TH_SYN | TH_ACK, 1000, *isn + 1));
	EXPECT_LT(0, read_tcp(tun, ack, sizeof(ack), 3000));
	EXPECT_TRUE(poll_one(fd, POLLOUT, 2000) & POLLOUT);
	return fd;
}

/* Does /proc/net/xtcp list a TIME_WAIT entry toward the peer? */
static int peer_in_time_wait(void)
{
	char buf[4096];

	if (read_file("/proc/thread-self/net/xtcp", buf, sizeof(buf)) < 0)
		return -1;
	return !!strstr(buf, PEER_ADDR ":8080 TIME_WAIT");
}

/*
 * TIME_WAIT as Linux: a retransmitted FIN is acknowledged again (same
 * acknowledgment number); a RST at rcv_nxt ends the entry.
 */
TEST_F(tun, time_wait_reacks_fin_and_dies_on_rst)
{
	uint8_t syn[128], pkt[128];
	const struct tcphdr *sth = (const struct tcphdr *)(syn + 20);
	const struct tcphdr *th = (const struct tcphdr *)(pkt + 20);
	uint32_t isn;
	int fd;

	fd = establish(_metadata, self->tun, syn, sizeof(syn), &isn);
	finish_close(_metadata, self->tun, fd, sth, isn, 1001);
	ASSERT_EQ(1, peer_in_time_wait());

	/* Our FIN again, as if the last ACK had been lost. */
	ASSERT_EQ(0, send_peer(self->tun, sth, TH_FIN | TH_ACK, 1001,
			       isn + 2));
	ASSERT_LT(0, read_tcp(self->tun, pkt, sizeof(pkt), 3000))
		TH_LOG("no ACK for the retransmitted FIN");
	EXPECT_EQ(TH_ACK, ((const uint8_t *)th)[13]);
	EXPECT_EQ(isn + 2, ntohl(th->seq));
	EXPECT_EQ(1002U, ntohl(th->ack_seq));
	EXPECT_EQ(1, peer_in_time_wait());

	/* A RST at rcv_nxt: TIME_WAIT assassination, as Linux by default. */
	ASSERT_EQ(0, send_peer(self->tun, sth, TH_RST, 1002, 0));
	usleep(200 * 1000);
	EXPECT_EQ(0, peer_in_time_wait());
}

/*
 * RFC 5961: a RST inside the window but not at rcv_nxt gets a challenge
 * ACK and the connection lives on; the exact sequence resets it.
 */
TEST_F(tun, rst_in_window_gets_challenge_ack)
{
	uint8_t syn[128], pkt[128];
	const struct tcphdr *sth = (const struct tcphdr *)(syn + 20);
	const struct tcphdr *th = (const struct tcphdr *)(pkt + 20);
	int fd, err = -1;
	socklen_t len = sizeof(err);
	uint32_t isn;
	char c;

	fd = establish(_metadata, self->tun, syn, sizeof(syn), &isn);
	ASSERT_EQ(0, send_peer(self->tun, sth, TH_RST, 1001 + 100, 0));
	ASSERT_LT(0, read_tcp(self->tun, pkt, sizeof(pkt), 3000))
		TH_LOG("no challenge ACK");
	EXPECT_EQ(TH_ACK, ((const uint8_t *)th)[13]);
	EXPECT_EQ(1001U, ntohl(th->ack_seq));
	EXPECT_EQ(-1, recv(fd, &c, 1, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);		/* still connected */

	ASSERT_EQ(0, send_peer(self->tun, sth, TH_RST, 1001, 0));
	EXPECT_TRUE(poll_one(fd, POLLIN, 2000) & POLLERR);
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len));
	EXPECT_EQ(ECONNRESET, err);
	close(fd);
}

TEST_HARNESS_MAIN
