// SPDX-License-Identifier: GPL-2.0
/*
 * Lookups in the established table while it changes under them. The
 * module is reloaded with ehash_entries=1, so every connection and
 * TIME_WAIT entry shares one chain; a long-lived connection (the first
 * in, so the last of the chain) receives a stream from Linux's TCP
 * while another thread opens and actively closes connections as fast as
 * it can (each close swaps a socket for a TIME_WAIT entry on that
 * chain), and the module's lookup_delay_us test hook makes lookups
 * linger on each other socket they pass, so that they are often standing
 * on a node when it is swapped. A lookup that lost its way there would miss
 * the stream's connection: the segment would go to Linux's TCP in the
 * namespace, which answers with a RST. So: every byte arrives, the
 * sender sees no error, and Linux's TCP in xtcp's namespace sends no
 * RST. The module is reloaded with its defaults afterwards.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"

#define B_ADDR		NETPAIR_B_ADDR
#define STREAM_PORT	5000
#define CHURN_PORT	5001
#define CHURNS		600

static volatile int stop;

/* Linux's Tcp OutRsts in the calling thread's namespace, or -1. */
static long long linux_out_rsts(void)
{
	char buf[4096], *p;
	int i;

	if (read_file("/proc/thread-self/net/snmp", buf, sizeof(buf)) < 0)
		return -1;
	/* The second "Tcp:" line holds the values; OutRsts is the 15th. */
	p = strstr(buf, "Tcp:");
	if (p)
		p = strstr(p + 4, "Tcp:");
	if (!p)
		return -1;
	for (i = 0; i < 15 && p; i++)
		p = strchr(p + 1, ' ');
	return p ? atoll(p + 1) : -1;
}

static uint8_t pat(uint64_t off)
{
	return (uint8_t)(off * 2654435761U >> 13);
}

struct stream {
	int		fd;
	uint64_t	bytes;
	int		err;
};

/* B's sender: the pattern until told to stop. */
static void *send_main(void *arg)
{
	struct stream *s = arg;
	uint8_t buf[16384];
	uint64_t off = 0;

	while (!stop) {
		size_t i;
		ssize_t n;

		for (i = 0; i < sizeof(buf); i++)
			buf[i] = pat(off + i);
		n = send(s->fd, buf, sizeof(buf), MSG_NOSIGNAL);
		if (n <= 0) {
			s->err = n < 0 ? errno : EPIPE;
			break;
		}
		off += n;	/* a short send: the next round starts there */
	}
	s->bytes = off;
	shutdown(s->fd, SHUT_WR);
	return NULL;
}

/* xtcp's reader: checks every byte until EOF. */
static void *recv_main(void *arg)
{
	struct stream *s = arg;
	uint8_t buf[16384];
	uint64_t off = 0;

	for (;;) {
		ssize_t n = recv(s->fd, buf, sizeof(buf), 0), i;

		if (n <= 0) {
			if (n < 0)
				s->err = errno;
			break;
		}
		for (i = 0; i < n; i++)
			if (buf[i] != pat(off + i)) {
				s->err = EILSEQ;
				break;
			}
		if (s->err)
			break;
		off += n;
	}
	s->bytes = off;
	return NULL;
}

/* B: accept churn connections, wait for the client's FIN, close. */
static void *churn_server(void *arg)
{
	int lfd = *(int *)arg;
	char ch;

	while (!stop) {
		int fd;

		if (!(poll_one(lfd, POLLIN, 200) & POLLIN))
			continue;
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		recv(fd, &ch, 1, 0);
		close(fd);
	}
	return NULL;
}

static int reload(const char *args)
{
	const char *top = getenv("XTCP_TOP");
	int i;

	for (i = 0; i < 50 && run_cmd("rmmod xtcp"); i++)
		usleep(100 * 1000);
	return run_cmd("insmod %s/xtcp.ko %s", top, args);
}

FIXTURE(ehash) {
	int unused;
};

FIXTURE_SETUP(ehash)
{
}

FIXTURE_TEARDOWN(ehash)
{
}

TEST_F_TIMEOUT(ehash, one_chain_lookups_under_churn, 180)
{
	int before = xtcp_module_refcnt(), lfd, clfd, kfd, xfd, i, churned = 0;
	struct stream tx = {}, rx = {};
	pthread_t txt, rxt, cst;
	struct netpair np;
	long long rsts;
	const char *err;

	if (!getenv("XTCP_TOP") || getuid())
		SKIP(return, "needs root and XTCP_TOP (run_tests.sh sets it)");
	ASSERT_EQ(0, before) TH_LOG("xtcp sockets alive: cannot reload");
	ASSERT_EQ(0, reload("ehash_entries=1"));
	ASSERT_EQ(0, write_file("/sys/module/xtcp/parameters/lookup_delay_us",
				"300"));

	err = netpair_setup(&np);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
	ASSERT_EQ(0, netpair_static_neigh(&np));
	ASSERT_EQ(0, write_file(XTCP_SYSCTL_DIR "tw_reuse", "0"));
	lfd = socket_in_netns(np.b, AF_INET, SOCK_STREAM, 0);
	clfd = socket_in_netns(np.b, AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, lfd);
	ASSERT_LE(0, clfd);
	ASSERT_EQ(0, bind_err(lfd, "0.0.0.0", STREAM_PORT));
	ASSERT_EQ(0, bind_err(clfd, "0.0.0.0", CHURN_PORT));
	ASSERT_EQ(0, listen(lfd, 4));
	ASSERT_EQ(0, listen(clfd, 64));
	rsts = linux_out_rsts();
	ASSERT_LE(0, rsts);

	xfd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, xfd);
	ASSERT_EQ(0, connect_err(xfd, B_ADDR, STREAM_PORT));
	kfd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, kfd);
	tx.fd = kfd;
	rx.fd = xfd;
	ASSERT_EQ(0, pthread_create(&txt, NULL, send_main, &tx));
	ASSERT_EQ(0, pthread_create(&rxt, NULL, recv_main, &rx));
	ASSERT_EQ(0, pthread_create(&cst, NULL, churn_server, &clfd));

	for (i = 0; i < CHURNS; i++) {
		int fd = socket(xtcp_family(), SOCK_STREAM, 0);

		if (fd < 0)
			break;
		if (!connect_err(fd, B_ADDR, CHURN_PORT))
			churned++;
		close(fd);
	}
	sleep(1);
	write_file("/sys/module/xtcp/parameters/lookup_delay_us", "0");
	stop = 1;
	pthread_join(txt, NULL);
	pthread_join(rxt, NULL);
	pthread_join(cst, NULL);

	TH_LOG("%d connections churned; %llu bytes sent, %llu received; xtcp TimeWait %lld",
	       churned, (unsigned long long)tx.bytes,
	       (unsigned long long)rx.bytes, xtcp_stat("TimeWait"));
	EXPECT_LT(CHURNS / 2, churned);
	EXPECT_EQ(0, tx.err) TH_LOG("sender: %s", strerror(tx.err));
	EXPECT_EQ(0, rx.err) TH_LOG("receiver: %s", strerror(rx.err));
	EXPECT_EQ(tx.bytes, rx.bytes);
	EXPECT_EQ(rsts, linux_out_rsts()) TH_LOG("Linux's TCP in A sent RSTs");

	close(xfd);
	close(kfd);
	close(lfd);
	close(clfd);
	close_sockets_wait(0);
	netpair_close(&np);
	EXPECT_EQ(0, reload(""));
}

TEST_HARNESS_MAIN
