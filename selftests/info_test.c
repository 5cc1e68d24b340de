// SPDX-License-Identifier: GPL-2.0
/*
 * getsockopt(TCP_INFO) and TCP_CONGESTION on xtcp sockets, with Linux's
 * TCP as the reference: the same calls on a Linux TCP socket in the same
 * run, and the fields compared. A closed socket, a connection after a
 * transfer to a Linux server over veth, a listener with connections
 * queued, a transfer that lost one segment, and a short optlen.
 */
#define _GNU_SOURCE
#include <linux/tcp.h>
#include <poll.h>
#include <pthread.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"

/* tcpi_state values (include/net/tcp_states.h) */
#define ST_ESTABLISHED	1
#define ST_CLOSE	7
#define ST_LISTEN	10

#define SRV_PORT	7300
#define LSN_PORT	7301
#define UP_BYTES	100000
#define DOWN_BYTES	50000

FIXTURE(info) {
	struct netpair np;
};

FIXTURE_SETUP(info)
{
	const char *err = netpair_setup(&self->np);

	ASSERT_EQ(NULL, err) TH_LOG("setup: %s", err);
	ASSERT_EQ(0, netpair_static_neigh(&self->np));
}

FIXTURE_TEARDOWN(info)
{
	close_sockets(1);
	netpair_close(&self->np);
}

static int get_info(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0xa5, sizeof(*ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len))
		return -errno;
	return len;
}

/* A fresh socket reads as Linux's does (tcp_init_sock()'s values). */
TEST_F(info, closed_socket)
{
	struct tcp_info l, x;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int xfd = socket(xtcp_family(), SOCK_STREAM, 0);

	ASSERT_LE(0, lfd);
	ASSERT_LE(0, xfd);
	ASSERT_EQ((int)sizeof(l), get_info(lfd, &l));
	ASSERT_EQ((int)sizeof(x), get_info(xfd, &x));
	EXPECT_EQ(ST_CLOSE, x.tcpi_state);
	EXPECT_EQ(l.tcpi_state, x.tcpi_state);
	EXPECT_EQ(l.tcpi_rto, x.tcpi_rto);
	EXPECT_EQ(l.tcpi_snd_mss, x.tcpi_snd_mss);
	EXPECT_EQ(l.tcpi_snd_cwnd, x.tcpi_snd_cwnd);
	EXPECT_EQ(l.tcpi_snd_ssthresh, x.tcpi_snd_ssthresh);
	EXPECT_EQ(l.tcpi_reordering, x.tcpi_reordering);
	EXPECT_EQ(l.tcpi_rttvar, x.tcpi_rttvar);
	EXPECT_EQ(l.tcpi_min_rtt, x.tcpi_min_rtt);
	EXPECT_EQ(l.tcpi_options, x.tcpi_options);
	EXPECT_EQ(l.tcpi_bytes_acked, x.tcpi_bytes_acked);
	close(lfd);
	close(xfd);
}

struct server {
	int lfd;
	long long got;
	int err;
};

/* Linux's TCP in B: take one connection, read UP_BYTES, send DOWN_BYTES. */
static void *serve(void *arg)
{
	struct server *s = arg;
	static char buf[65536];
	int fd, n, left;

	fd = accept(s->lfd, NULL, NULL);
	if (fd < 0) {
		s->err = errno;
		return NULL;
	}
	while (s->got < UP_BYTES) {
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		s->got += n;
	}
	memset(buf, 's', sizeof(buf));
	for (left = DOWN_BYTES; left > 0; left -= n) {
		n = write(fd, buf, left < (int)sizeof(buf) ? left :
			  (int)sizeof(buf));
		if (n <= 0)
			break;
	}
	/* Keep it open until the client is done looking. */
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return NULL;
}

/* A client of @family sends UP_BYTES, reads DOWN_BYTES, then TCP_INFO. */
static void transfer_info(struct __test_metadata *_metadata,
			  struct netpair *np, int family, struct tcp_info *ti,
			  int drop_nth)
{
	struct sockaddr_in sin = sin_make(NETPAIR_B_ADDR, SRV_PORT);
	static char buf[65536];
	struct server s = { .lfd = -1 };
	pthread_t t;
	long long left;
	int fd, n;

	s.lfd = socket_in_netns(np->b, AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, s.lfd);
	n = 1;
	setsockopt(s.lfd, SOL_SOCKET, SO_REUSEADDR, &n, sizeof(n));
	ASSERT_EQ(0, bind_err(s.lfd, "0.0.0.0", SRV_PORT));
	ASSERT_EQ(0, listen(s.lfd, 4));
	ASSERT_EQ(0, pthread_create(&t, NULL, serve, &s));

	/*
	 * B's INPUT drops its drop_nth full-sized segment toward the server
	 * (numgen counts only what matched the port and length before it):
	 * exactly one data segment is lost.
	 */
	if (drop_nth)
		ASSERT_EQ(0, run_cmd_in_netns(np->b, "nft add table inet lose && "
					      "nft add chain inet lose in '{ type filter hook input priority 0; }' && "
					      "nft add rule inet lose in tcp dport %d meta length gt 1000 "
					      "numgen inc mod 1000000 %d counter drop",
					      SRV_PORT, drop_nth - 1));
	fd = socket(family, SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		TH_LOG("%s connect: %s", fam_name(family), strerror(errno));
	memset(buf, 'c', sizeof(buf));
	for (left = UP_BYTES; left > 0; left -= n) {
		n = write(fd, buf, left < (long long)sizeof(buf) ? left :
			  (long long)sizeof(buf));
		ASSERT_LT(0, n);
	}
	for (left = DOWN_BYTES; left > 0; left -= n) {
		n = read(fd, buf, sizeof(buf));
		ASSERT_LT(0, n);
	}
	/* Let the last ACKs land. */
	usleep(500 * 1000);
	ASSERT_EQ((int)sizeof(*ti), get_info(fd, ti));
	close(fd);
	pthread_join(t, NULL);
	close(s.lfd);
	if (drop_nth) {
		EXPECT_EQ(0, run_cmd_in_netns(np->b, "nft list chain inet lose in | "
					      "grep -q 'counter packets 1 '"))
			TH_LOG("%s: the rule did not drop exactly one segment",
			       fam_name(family));
		run_cmd_in_netns(np->b, "nft delete table inet lose");
	}
	EXPECT_EQ(UP_BYTES, s.got);
}

/*
 * After a transfer: the fields that depend only on what was agreed and
 * sent equal Linux's; the measured ones are sane.
 */
TEST_F(info, after_transfer)
{
	struct tcp_info l, x;

	int tries;

	transfer_info(_metadata, &self->np, AF_INET, &l, 0);
	/*
	 * Nothing is lost on the veth pair, but under emulation the whole VM
	 * can stall past a 200 ms RTO and the timer then fires before the
	 * ACK that was on its way. Such a transfer is tried again (its
	 * counters are still checked for consistency); three in a row with
	 * retransmissions fail.
	 */
	for (tries = 1; ; tries++) {
		transfer_info(_metadata, &self->np, xtcp_family(), &x, 0);
		EXPECT_EQ(x.tcpi_bytes_sent - UP_BYTES,
			  (unsigned long long)x.tcpi_bytes_retrans);
		if (!x.tcpi_total_retrans || tries == 3)
			break;
		TH_LOG("try %d: %u segments retransmitted, cwnd %u; again",
		       tries, x.tcpi_total_retrans, x.tcpi_snd_cwnd);
	}

	EXPECT_EQ(ST_ESTABLISHED, x.tcpi_state);
	EXPECT_EQ(l.tcpi_state, x.tcpi_state);
	EXPECT_EQ(l.tcpi_ca_state, x.tcpi_ca_state);
	EXPECT_EQ(l.tcpi_options, x.tcpi_options)
		TH_LOG("options: Linux %#x, xtcp %#x", l.tcpi_options,
		       x.tcpi_options);
	EXPECT_EQ((int)l.tcpi_snd_wscale, (int)x.tcpi_snd_wscale);
	EXPECT_EQ((int)l.tcpi_rcv_wscale, (int)x.tcpi_rcv_wscale);
	EXPECT_EQ(l.tcpi_snd_mss, x.tcpi_snd_mss);
	EXPECT_EQ(l.tcpi_advmss, x.tcpi_advmss);
	EXPECT_EQ(l.tcpi_pmtu, x.tcpi_pmtu);
	EXPECT_EQ(l.tcpi_unacked, x.tcpi_unacked);
	EXPECT_EQ(0U, x.tcpi_unacked);
	EXPECT_EQ(l.tcpi_retransmits, x.tcpi_retransmits);
	EXPECT_EQ(l.tcpi_bytes_acked, x.tcpi_bytes_acked);
	EXPECT_EQ(l.tcpi_bytes_received, x.tcpi_bytes_received);
	EXPECT_EQ(l.tcpi_notsent_bytes, x.tcpi_notsent_bytes);
	EXPECT_EQ(l.tcpi_reordering, x.tcpi_reordering);
	/* The server's window grows with its own autotuning: not equal. */
	EXPECT_LE(32768U, x.tcpi_snd_wnd)
		TH_LOG("snd_wnd: Linux %u, xtcp %u", l.tcpi_snd_wnd,
		       x.tcpi_snd_wnd);

	EXPECT_LT(0U, x.tcpi_rtt);
	EXPECT_LE(x.tcpi_min_rtt, x.tcpi_rtt);
	EXPECT_LE(10U, x.tcpi_snd_cwnd);
	EXPECT_LE((unsigned int)(UP_BYTES / 1448), x.tcpi_data_segs_out);
	EXPECT_LE(x.tcpi_data_segs_out, x.tcpi_segs_out);
	EXPECT_LE((unsigned int)(DOWN_BYTES / 1448), x.tcpi_data_segs_in);
	EXPECT_LE(x.tcpi_data_segs_in, x.tcpi_segs_in);
	EXPECT_LE((unsigned long long)UP_BYTES, x.tcpi_bytes_sent);
	EXPECT_EQ(x.tcpi_bytes_sent - UP_BYTES,
		  (unsigned long long)x.tcpi_bytes_retrans);
	EXPECT_GE(5000U, x.tcpi_last_ack_recv);
	EXPECT_EQ(0U, x.tcpi_total_retrans);
	TH_LOG("Linux rtt %u us cwnd %u segs %u/%u; xtcp rtt %u us cwnd %u segs %u/%u",
	       l.tcpi_rtt, l.tcpi_snd_cwnd, l.tcpi_segs_out, l.tcpi_segs_in,
	       x.tcpi_rtt, x.tcpi_snd_cwnd, x.tcpi_segs_out, x.tcpi_segs_in);
}

/*
 * One data segment lost on the way (the sixth full-sized one, dropped by
 * B's INPUT): the connection retransmits it once, by fast retransmit
 * with SACK, never by a timeout, on Linux's TCP as on xtcp. Segmentation
 * offload is off on A's end so that Linux's TCP sends single segments
 * too and both lose the same one.
 */
TEST_F(info, retransmits_after_drop)
{
	struct tcp_info l, x;
	int tries;

	ASSERT_EQ(0, run_cmd("ethtool -K %s tso off gso off", NETPAIR_A_DEV));
	/*
	 * A stall under emulation can add a spurious RTO, on either TCP:
	 * see above. Each side gets three tries at the one retransmission.
	 */
	for (tries = 1; ; tries++) {
		transfer_info(_metadata, &self->np, AF_INET, &l, 6);
		if (l.tcpi_total_retrans == 1 || tries == 3)
			break;
		TH_LOG("Linux try %d: %u resent; again", tries,
		       l.tcpi_total_retrans);
	}
	EXPECT_EQ(1U, l.tcpi_total_retrans);
	for (tries = 1; ; tries++) {
		long long rtos = xtcp_stat("Timeouts");
		long long fast = xtcp_stat("FastRetrans");

		transfer_info(_metadata, &self->np, xtcp_family(), &x, 6);
		if (x.tcpi_total_retrans == 1 || tries == 3)
			break;
		TH_LOG("try %d: %u resent (%lld RTOs, %lld fast retransmits)",
		       tries, x.tcpi_total_retrans, xtcp_stat("Timeouts") - rtos,
		       xtcp_stat("FastRetrans") - fast);
	}
	EXPECT_EQ(l.tcpi_total_retrans, x.tcpi_total_retrans);
	EXPECT_EQ(l.tcpi_bytes_retrans, x.tcpi_bytes_retrans);
	EXPECT_EQ((unsigned long long)l.tcpi_snd_mss, x.tcpi_bytes_retrans);
	EXPECT_EQ(x.tcpi_bytes_sent - UP_BYTES,
		  (unsigned long long)x.tcpi_bytes_retrans);
	EXPECT_EQ(0U, x.tcpi_retransmits);
	EXPECT_EQ(0U, x.tcpi_lost);
	EXPECT_EQ(0U, x.tcpi_unacked);
	EXPECT_EQ(l.tcpi_bytes_acked, x.tcpi_bytes_acked);
	EXPECT_EQ(l.tcpi_ca_state, x.tcpi_ca_state);
	/*
	 * One loss episode, CUBIC on both: ssthresh is 0.7 of the cwnd the
	 * loss found, which the same ACK clock made (within a segment).
	 */
	EXPECT_GT(0x7fffffffU, l.tcpi_snd_ssthresh);
	EXPECT_LE(l.tcpi_snd_ssthresh - 1, x.tcpi_snd_ssthresh);
	EXPECT_GE(l.tcpi_snd_ssthresh + 1, x.tcpi_snd_ssthresh);
	TH_LOG("retrans, bytes, ssthresh, cwnd: Linux %u %llu %u %u; xtcp %u %llu %u %u",
	       l.tcpi_total_retrans, l.tcpi_bytes_retrans, l.tcpi_snd_ssthresh,
	       l.tcpi_snd_cwnd, x.tcpi_total_retrans, x.tcpi_bytes_retrans,
	       x.tcpi_snd_ssthresh, x.tcpi_snd_cwnd);
}

/* Two connections queued on a listener of backlog 5. */
static void listener_info(struct __test_metadata *_metadata,
			  struct netpair *np, int family, struct tcp_info *ti)
{
	struct sockaddr_in sin = sin_make(NETPAIR_A_ADDR, LSN_PORT);
	int lfd, c[2], i;

	lfd = socket(family, SOCK_STREAM, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind_err(lfd, "0.0.0.0", LSN_PORT));
	ASSERT_EQ(0, listen(lfd, 5));
	for (i = 0; i < 2; i++) {
		c[i] = socket_in_netns(np->b, AF_INET, SOCK_STREAM, 0);
		ASSERT_LE(0, c[i]);
		ASSERT_EQ(0, connect(c[i], (struct sockaddr *)&sin,
				     sizeof(sin)));
	}
	usleep(300 * 1000);
	ASSERT_EQ((int)sizeof(*ti), get_info(lfd, ti));
	for (i = 0; i < 2; i++)
		close(c[i]);
	close(lfd);
}

TEST_F(info, listener)
{
	struct tcp_info l, x;

	listener_info(_metadata, &self->np, AF_INET, &l);
	listener_info(_metadata, &self->np, xtcp_family(), &x);
	EXPECT_EQ(ST_LISTEN, x.tcpi_state);
	EXPECT_EQ(2U, x.tcpi_unacked);
	EXPECT_EQ(5U, x.tcpi_sacked);
	EXPECT_EQ(l.tcpi_unacked, x.tcpi_unacked);
	EXPECT_EQ(l.tcpi_sacked, x.tcpi_sacked);
	EXPECT_EQ(l.tcpi_snd_cwnd, x.tcpi_snd_cwnd);
	EXPECT_EQ(l.tcpi_reordering, x.tcpi_reordering);
}

/* A short buffer gets the prefix, and the length says how much. */
TEST_F(info, short_optlen)
{
	int fd = socket(xtcp_family(), SOCK_STREAM, 0);
	unsigned char buf[8];
	socklen_t len = sizeof(buf);

	ASSERT_LE(0, fd);
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_INFO, buf, &len));
	EXPECT_EQ(8U, len);
	EXPECT_EQ(ST_CLOSE, buf[0]);
	len = 0;
	ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_INFO, buf, &len));
	EXPECT_EQ(0U, len);
	close(fd);
}

/* A socket's TCP_CONGESTION, as a string; "" if it cannot be read. */
static const char *cc_name(int fd, char *name, socklen_t size)
{
	socklen_t len = size;

	memset(name, 'x', size);
	if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len) ||
	    len != size || name[size - 1])
		return "";
	return name;
}

/*
 * TCP_CONGESTION: "cubic" by default, as Linux's, zero-padded to 16 as
 * Linux pads a name; set to "reno" and back; an unknown name gives
 * ENOENT and keeps the old one; an empty option EINVAL. On Linux's TCP
 * and xtcp alike.
 */
TEST_F(info, congestion_name)
{
	int fams[2] = { AF_INET, xtcp_family() }, i;
	char name[16];

	for (i = 0; i < 2; i++) {
		int fd = socket(fams[i], SOCK_STREAM, 0);

		ASSERT_LE(0, fd);
		EXPECT_STREQ("cubic", cc_name(fd, name, sizeof(name)))
			TH_LOG("%s", fam_name(fams[i]));
		EXPECT_EQ(0, setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION,
					"reno", 4));
		EXPECT_STREQ("reno", cc_name(fd, name, sizeof(name)));
		EXPECT_EQ(-1, setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION,
					 "nosuchcc", 8));
		EXPECT_EQ(ENOENT, errno) TH_LOG("%s", fam_name(fams[i]));
		EXPECT_STREQ("reno", cc_name(fd, name, sizeof(name)));
		EXPECT_EQ(-1, setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION,
					 "", 0));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(0, setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION,
					"cubic", 6));
		EXPECT_STREQ("cubic", cc_name(fd, name, sizeof(name)));
		close(fd);
	}
}

/*
 * net.xtcp.congestion_control: what new sockets of the namespace get;
 * a name xtcp lacks is refused with ENOENT (as net.ipv4's) and the old
 * one kept. available_congestion_control lists both.
 */
TEST_F(info, congestion_sysctl)
{
	char buf[128], name[16];
	int fd;

	ASSERT_LT(0, read_file("/proc/sys/net/xtcp/available_congestion_control",
			       buf, sizeof(buf)));
	EXPECT_STREQ("cubic reno\n", buf);
	ASSERT_LT(0, read_file("/proc/sys/net/xtcp/congestion_control", buf,
			       sizeof(buf)));
	EXPECT_STREQ("cubic\n", buf);
	EXPECT_EQ(0, write_file("/proc/sys/net/xtcp/congestion_control",
				"reno"));
	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	EXPECT_STREQ("reno", cc_name(fd, name, sizeof(name)));
	close(fd);
	EXPECT_EQ(ENOENT, write_file("/proc/sys/net/xtcp/congestion_control",
				     "bbr"));
	EXPECT_EQ(ENOENT, write_file("/proc/sys/net/ipv4/tcp_congestion_control",
				     "nosuchcc"));
	ASSERT_LT(0, read_file("/proc/sys/net/xtcp/congestion_control", buf,
			       sizeof(buf)));
	EXPECT_STREQ("reno\n", buf);
	EXPECT_EQ(0, write_file("/proc/sys/net/xtcp/congestion_control",
				"cubic"));
	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	EXPECT_STREQ("cubic", cc_name(fd, name, sizeof(name)));
	close(fd);
}

/*
 * TCP_USER_TIMEOUT: with the server gone silent (an INPUT drop rule in
 * B), a write's retransmissions give up with ETIMEDOUT once the user's
 * 2 s have passed, long before tcp_retries2 would; Linux's TCP as the
 * reference in the same run.
 */
static long long user_timeout_ms(struct __test_metadata *_metadata,
				 struct netpair *np, int family)
{
	struct sockaddr_in sin = sin_make(NETPAIR_B_ADDR, SRV_PORT);
	struct server s = { .lfd = -1 };
	int fd, ut = 2000, got = 0, err = 0;
	socklen_t len = sizeof(got);
	char buf[1000] = { 0 };
	long long start;
	pthread_t t;

	s.lfd = socket_in_netns(np->b, AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, s.lfd);
	setsockopt(s.lfd, SOL_SOCKET, SO_REUSEADDR, &ut, sizeof(ut));
	ASSERT_EQ(0, bind_err(s.lfd, "0.0.0.0", SRV_PORT));
	ASSERT_EQ(0, listen(s.lfd, 4));
	ASSERT_EQ(0, pthread_create(&t, NULL, serve, &s));
	fd = socket(family, SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut,
				sizeof(ut)));
	ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &got,
				&len));
	EXPECT_EQ(2000, got);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, run_cmd_in_netns(np->b, "nft add table inet ut && "
				      "nft add chain inet ut in '{ type filter hook input priority 0; }' && "
				      "nft add rule inet ut in tcp dport %d drop", SRV_PORT));
	start = now_ms();
	ASSERT_EQ((ssize_t)sizeof(buf), write(fd, buf, sizeof(buf)));
	while (now_ms() - start < 30000) {
		len = sizeof(err);
		if (!getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) && err)
			break;
		usleep(50 * 1000);
	}
	EXPECT_EQ(ETIMEDOUT, err)
		TH_LOG("%s: %s", fam_name(family), strerror(err));
	run_cmd_in_netns(np->b, "nft delete table inet ut");
	close(fd);
	shutdown(s.lfd, SHUT_RDWR);
	pthread_cancel(t);
	pthread_join(t, NULL);
	close(s.lfd);
	return now_ms() - start;
}

TEST_F_TIMEOUT(info, user_timeout, 90)
{
	long long l = user_timeout_ms(_metadata, &self->np, AF_INET);
	long long x = user_timeout_ms(_metadata, &self->np, xtcp_family());

	TH_LOG("ETIMEDOUT after %lld ms on Linux, %lld ms on xtcp", l, x);
	EXPECT_LE(1800, x);
	EXPECT_GE(8000, x);
}

/* TCP_QUICKACK reads 1 until set to 0; TCP_CC_INFO has nothing for cubic. */
TEST_F(info, quickack_and_cc_info)
{
	int fd = socket(xtcp_family(), SOCK_STREAM, 0);
	int val = -1, zero = 0;
	socklen_t len = sizeof(val);
	char cc[64];

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &val, &len));
	EXPECT_EQ(1, val);
	ASSERT_EQ(0, setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &zero,
				sizeof(zero)));
	len = sizeof(val);
	ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &val, &len));
	EXPECT_EQ(0, val);
	len = sizeof(cc);
	ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_CC_INFO, cc, &len));
	EXPECT_EQ(0U, len);
	close(fd);
}

TEST_HARNESS_MAIN
