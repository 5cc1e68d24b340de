// SPDX-License-Identifier: GPL-2.0
/*
 * TIME_WAIT and its reuse. xtcp in namespace A connects to Linux's TCP in
 * B and closes first; when B closes too, the 4-tuple stays in TIME_WAIT
 * (listed in /proc/net/xtcp) for net.xtcp.tw_timeout. With the ephemeral
 * range narrowed to one port, reconnecting to the same destination shows
 * net.xtcp.tw_reuse: 0 never, 1 once tw_reuse_delay has passed, 2 on
 * loopback only. A reused connection's SYN starts above the old
 * connection's sequence space and carries a newer TSval.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stddef.h>
#include <time.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"

#define PORT_B		8080
#define ONE_PORT	62000

FIXTURE(tw) {
	struct netpair np;
	int lfd;	/* Linux TCP listener in B */
	int cap;	/* capture in B */
};

FIXTURE_SETUP(tw)
{
	const char *err;
	struct sockaddr_in sin = sin_make(NETPAIR_B_ADDR, PORT_B);
	int one = 1;

	self->lfd = -1;
	self->cap = -1;
	err = netpair_setup(&self->np);
	ASSERT_EQ(NULL, err) TH_LOG("setup: %s", err);
	ASSERT_EQ(0, netpair_static_neigh(&self->np));
	self->lfd = socket_in_netns(self->np.b, AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, self->lfd);
	setsockopt(self->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ASSERT_EQ(0, bind(self->lfd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(self->lfd, 16));
	self->cap = cap_open(self->np.b, NETPAIR_B_DEV);
	ASSERT_LE(0, self->cap);
	ASSERT_EQ(0, write_file(XTCP_SYSCTL_DIR "ip_local_port_range",
				"62000 62000"));
}

FIXTURE_TEARDOWN(tw)
{
	if (self->cap >= 0)
		close(self->cap);
	if (self->lfd >= 0)
		close(self->lfd);
	netpair_close(&self->np);
}

/* Does /proc/net/xtcp (namespace A) list @line? */
static int xtcp_lists(const char *line)
{
	char buf[4096];

	if (read_file("/proc/thread-self/net/xtcp", buf, sizeof(buf)) < 0)
		return 0;
	return !!strstr(buf, line);
}

static int set_sysctl(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), XTCP_SYSCTL_DIR "%s", name);
	return write_file(path, val);
}

/*
 * Connect to @addr:@port from A over xtcp, let the server accept, close
 * xtcp first, then the server: xtcp ends in TIME_WAIT. Returns the local
 * port, or -1.
 */
static int active_close(struct __test_metadata *_metadata, int lfd,
			const char *addr, int port)
{
	int fd, cfd, lport;
	char c;

	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	EXPECT_LE(0, fd);
	if (fd < 0)
		return -1;
	EXPECT_EQ(0, connect_err(fd, addr, port));
	lport = local_port(fd);
	cfd = accept(lfd, NULL, NULL);
	EXPECT_LE(0, cfd);
	close(fd);
	if (cfd >= 0) {
		EXPECT_EQ(0, read(cfd, &c, 1));	/* our FIN */
		close(cfd);			/* their FIN */
	}
	return lport;
}

/* Wait up to @ms for /proc/net/xtcp to list (or not) @line. */
static int wait_listed(const char *line, int want, int ms)
{
	long long end = now_ms() + ms;

	do {
		if (xtcp_lists(line) == want)
			return 1;
		usleep(20000);
	} while (now_ms() < end);
	return 0;
}

#define TW_LINE "192.0.2.1:62000 192.0.2.2:8080 TIME_WAIT"

/* The entry appears after an active close and goes after tw_timeout. */
TEST_F(tw, entry_lifetime)
{
	long long made = xtcp_stat("TimeWait");

	ASSERT_EQ(0, set_sysctl("tw_timeout", "2"));
	ASSERT_EQ(ONE_PORT, active_close(_metadata, self->lfd,
					 NETPAIR_B_ADDR, PORT_B));
	ASSERT_TRUE(wait_listed(TW_LINE, 1, 2000));
	EXPECT_EQ(made + 1, xtcp_stat("TimeWait"));
	usleep(1000 * 1000);
	EXPECT_TRUE(xtcp_lists(TW_LINE)) TH_LOG("gone before tw_timeout");
	EXPECT_TRUE(wait_listed(TW_LINE, 0, 2500))
		TH_LOG("still there after tw_timeout");
}

TEST_F(tw, reuse_0_never)
{
	long long noport = xtcp_stat("ConnectNoPort");
	int fd;

	ASSERT_EQ(0, set_sysctl("tw_reuse", "0"));
	ASSERT_EQ(0, set_sysctl("tw_reuse_delay", "1"));
	ASSERT_EQ(ONE_PORT, active_close(_metadata, self->lfd,
					 NETPAIR_B_ADDR, PORT_B));
	ASSERT_TRUE(wait_listed(TW_LINE, 1, 2000));
	usleep(100 * 1000);
	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(EADDRNOTAVAIL, connect_err(fd, NETPAIR_B_ADDR, PORT_B));
	EXPECT_EQ(noport + 1, xtcp_stat("ConnectNoPort"));
	close(fd);
}

/* The TSval of a captured segment (0 if it has none). */
static uint32_t cap_tsval(const struct cap_seg *s)
{
	const unsigned char *o = s->data + s->optoff;
	unsigned int i = 0;

	while (i < s->optlen) {
		if (o[i] == 0)
			break;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= s->optlen || o[i + 1] < 2)
			break;
		if (o[i] == 8 && o[i + 1] == 10 && i + 10 <= s->optlen)
			return cap_be32(o + i + 2);
		i += o[i + 1];
	}
	return 0;
}

/* The next SYN from A on the capture, or fail. */
static void next_syn(struct __test_metadata *_metadata, int cap,
		     struct cap_seg *s)
{
	do {
		ASSERT_EQ(1, cap_next_tcp(cap, s, PORT_B, 3000))
			TH_LOG("no SYN captured");
	} while (s->flags != SEG_SYN);
}

/*
 * tw_reuse=1: refused before tw_reuse_delay, taken after it; the new
 * SYN's sequence is beyond the old connection's and its TSval newer.
 */
TEST_F(tw, reuse_1_after_delay)
{
	long long reused = xtcp_stat("TimeWaitReused");
	struct cap_seg old_syn, new_syn;
	int fd, cfd;

	ASSERT_EQ(0, set_sysctl("tw_reuse", "1"));
	ASSERT_EQ(0, set_sysctl("tw_reuse_delay", "1500"));
	ASSERT_EQ(ONE_PORT, active_close(_metadata, self->lfd,
					 NETPAIR_B_ADDR, PORT_B));
	next_syn(_metadata, self->cap, &old_syn);
	ASSERT_TRUE(wait_listed(TW_LINE, 1, 2000));

	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(EADDRNOTAVAIL, connect_err(fd, NETPAIR_B_ADDR, PORT_B))
		TH_LOG("reused before tw_reuse_delay");
	close(fd);

	usleep(1700 * 1000);
	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, connect_err(fd, NETPAIR_B_ADDR, PORT_B));
	EXPECT_EQ(ONE_PORT, local_port(fd));
	EXPECT_EQ(reused + 1, xtcp_stat("TimeWaitReused"));
	EXPECT_FALSE(xtcp_lists(TW_LINE));

	next_syn(_metadata, self->cap, &new_syn);
	EXPECT_EQ(ONE_PORT, (int)new_syn.sport);
	/* Old SYN + 1 (SYN) + 1 (FIN) is the old snd_nxt; then + 65535 + 2. */
	EXPECT_EQ(old_syn.seq + 2 + 65535 + 2, new_syn.seq);
	EXPECT_TRUE((int32_t)(cap_tsval(&new_syn) - cap_tsval(&old_syn)) > 0)
		TH_LOG("TSval %u not newer than %u", cap_tsval(&new_syn),
		       cap_tsval(&old_syn));
	cfd = accept(self->lfd, NULL, NULL);
	EXPECT_LE(0, cfd);
	close(cfd);
	close(fd);
}

/* tw_reuse=2 (the default): not over veth, even after the delay. */
TEST_F(tw, reuse_2_not_veth)
{
	int fd;

	ASSERT_EQ(0, set_sysctl("tw_reuse", "2"));
	ASSERT_EQ(0, set_sysctl("tw_reuse_delay", "100"));
	ASSERT_EQ(ONE_PORT, active_close(_metadata, self->lfd,
					 NETPAIR_B_ADDR, PORT_B));
	ASSERT_TRUE(wait_listed(TW_LINE, 1, 2000));
	usleep(300 * 1000);
	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(EADDRNOTAVAIL, connect_err(fd, NETPAIR_B_ADDR, PORT_B));
	close(fd);
}

/* tw_reuse=2 on loopback: taken once the delay has passed. */
TEST_F(tw, reuse_2_loopback)
{
	long long reused = xtcp_stat("TimeWaitReused");
	struct sockaddr_in sin = sin_make("127.0.0.1", PORT_B);
	int lo, fd, cfd;

	ASSERT_EQ(0, set_sysctl("tw_reuse", "2"));
	ASSERT_EQ(0, set_sysctl("tw_reuse_delay", "100"));
	lo = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, lo);
	ASSERT_EQ(0, bind(lo, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(lo, 16));

	ASSERT_EQ(ONE_PORT, active_close(_metadata, lo, "127.0.0.1", PORT_B));
	ASSERT_TRUE(wait_listed("127.0.0.1:62000 127.0.0.1:8080 TIME_WAIT", 1,
				2000));
	usleep(300 * 1000);
	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, connect_err(fd, "127.0.0.1", PORT_B));
	EXPECT_EQ(reused + 1, xtcp_stat("TimeWaitReused"));
	cfd = accept(lo, NULL, NULL);
	EXPECT_LE(0, cfd);
	close(cfd);
	close(fd);
	close(lo);
}

TEST_HARNESS_MAIN
