// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp's segments obey the host's policy: nftables rules on OUTPUT and
 * INPUT, conntrack's view of the connection, socket marks, and IPsec
 * (xfrm) policies, in both directions.
 *
 * Namespace A (192.0.2.1) holds the client, xtcp or Linux's TCP as the
 * reference for the same scenario; namespace B (192.0.2.2) an echo
 * server on Linux's TCP. Rules and xfrm states live in A (and B), and
 * go with the namespaces.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <netinet/tcp.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"

#define A_ADDR		NETPAIR_A_ADDR
#define B_ADDR		NETPAIR_B_ADDR
#define PORT		5000

FIXTURE(policy) {
	struct netpair np;
	int refcnt;
	int lfd;
	pthread_t echo;
	int echo_started;
};

/* B's echo server: each connection echoes until EOF, one at a time. */
static void *echo_main(void *arg)
{
	int lfd = *(int *)arg;
	char buf[16384];

	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		ssize_t n;

		if (fd < 0)
			return NULL;
		while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
			if (send(fd, buf, n, MSG_NOSIGNAL) != n)
				break;
		close(fd);
	}
}

FIXTURE_SETUP(policy)
{
	const char *err;

	self->refcnt = xtcp_module_refcnt();
	err = netpair_setup(&self->np);
	ASSERT_EQ(NULL, err) TH_LOG("setup: %s", err);
	ASSERT_EQ(0, netpair_static_neigh(&self->np));
	/* Connects that cannot complete fail after 3 s (1 s + 2 s). */
	ASSERT_EQ(0, write_file(XTCP_SYSCTL_DIR "syn_retries", "1"));
	ASSERT_EQ(0, write_file("/proc/sys/net/ipv4/tcp_syn_retries", "1"));

	self->lfd = socket_in_netns(self->np.b, AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, setsockopt_int(self->lfd, SOL_SOCKET, SO_REUSEADDR, 1));
	ASSERT_EQ(0, bind_err(self->lfd, "0.0.0.0", PORT));
	ASSERT_EQ(0, listen(self->lfd, 16));
	ASSERT_EQ(0, pthread_create(&self->echo, NULL, echo_main, &self->lfd));
	self->echo_started = 1;
}

FIXTURE_TEARDOWN(policy)
{
	int refcnt;

	if (self->echo_started) {
		shutdown(self->lfd, SHUT_RDWR);
		pthread_join(self->echo, NULL);
	}
	refcnt = close_sockets_wait(self->refcnt);
	EXPECT_GE(self->refcnt, refcnt);
	netpair_close(&self->np);
}

/* nft in A (or B with @nsfd); a command line, 0 if it succeeded. */
static int nft_run(int nsfd, const char *cmd)
{
	if (nsfd >= 0)
		return run_cmd_in_netns(nsfd, "nft '%s'", cmd);
	return run_cmd("nft '%s'", cmd);
}

/*
 * The packet count of the first counter in chain @chain of table
 * "inet pol" in the calling thread's namespace, or -1.
 */
static long long nft_packets(const char *chain)
{
	char cmd[128], line[512];
	long long n = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "nft list chain inet pol %s 2>/dev/null", chain);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "packets ");

		if (p && n < 0)
			n = atoll(p + 8);
	}
	pclose(f);
	return n;
}

/* A blocking client of @family connecting to B's echo server: errno. */
static int client_connect(int family, int *fdp)
{
	int fd = socket(family, SOCK_STREAM, 0), err;

	if (fd < 0)
		return errno;
	err = connect_err(fd, B_ADDR, PORT);
	if (err) {
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

/* Send @len bytes through the echo server and check what comes back. */
static int echo_ok(int fd, size_t len)
{
	static char out[1 << 20], in[1 << 20];
	struct timeval tv = { .tv_sec = 10 };
	size_t i, got = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (i = 0; i < len; i++)
		out[i] = i * 7 + (i >> 8);
	if (send(fd, out, len, MSG_NOSIGNAL) != (ssize_t)len)
		return 0;
	while (got < len) {
		ssize_t n = recv(fd, in + got, len - got, 0);

		if (n <= 0)
			return 0;
		got += n;
	}
	return !memcmp(in, out, len);
}

/* An OUTPUT drop rule stops the SYN: connect() times out, as Linux. */
TEST_F_TIMEOUT(policy, output_drop_rule, 40)
{
	int fd;

	ASSERT_EQ(0, nft_run(-1, "add table inet pol"));
	ASSERT_EQ(0, nft_run(-1, "add chain inet pol out { type filter hook output priority 0; }"));
	ASSERT_EQ(0, nft_run(-1, "add rule inet pol out tcp dport 5000 counter drop"));
	EXPECT_EQ(ETIMEDOUT, client_connect(AF_INET, &fd));
	EXPECT_EQ(2, nft_packets("out"));		/* SYN + 1 retry */
	EXPECT_EQ(ETIMEDOUT, client_connect(xtcp_family(), &fd));
	EXPECT_EQ(4, nft_packets("out"));
}

/* An INPUT drop rule stops the SYN-ACK: connect() times out. */
TEST_F_TIMEOUT(policy, input_drop_rule, 40)
{
	int fd;

	ASSERT_EQ(0, nft_run(-1, "add table inet pol"));
	ASSERT_EQ(0, nft_run(-1, "add chain inet pol in { type filter hook input priority 0; }"));
	ASSERT_EQ(0, nft_run(-1, "add rule inet pol in tcp sport 5000 counter drop"));
	EXPECT_EQ(ETIMEDOUT, client_connect(xtcp_family(), &fd));
	EXPECT_LE(2, nft_packets("in"));
	EXPECT_EQ(0, xtcp_stat("Established"));
}

/* An OUTPUT reject with a TCP reset: ECONNREFUSED, as Linux. */
TEST_F_TIMEOUT(policy, output_reject_reset, 30)
{
	int fd;

	ASSERT_EQ(0, nft_run(-1, "add table inet pol"));
	ASSERT_EQ(0, nft_run(-1, "add chain inet pol out { type filter hook output priority 0; }"));
	ASSERT_EQ(0, nft_run(-1, "add rule inet pol out tcp dport 5000 counter "
			     "reject with tcp reset"));
	EXPECT_EQ(ECONNREFUSED, client_connect(AF_INET, &fd));
	EXPECT_EQ(ECONNREFUSED, client_connect(xtcp_family(), &fd));
	EXPECT_EQ(2, nft_packets("out"));
}

/*
 * A stateful INPUT policy (drop, but accept established and related):
 * xtcp's connection is tracked like any other, so its replies are
 * established and get through; /proc/net/nf_conntrack lists it, ASSURED
 * and ESTABLISHED while open.
 */
TEST_F_TIMEOUT(policy, conntrack_stateful_input, 40)
{
	char buf[8192], key[128];
	int fd, err;

	ASSERT_EQ(0, nft_run(-1, "add table inet pol"));
	ASSERT_EQ(0, nft_run(-1, "add chain inet pol in "
			     "{ type filter hook input priority 0; policy drop; }"));
	ASSERT_EQ(0, nft_run(-1, "add rule inet pol in ct state established,related "
			     "counter accept"));
	err = client_connect(xtcp_family(), &fd);
	ASSERT_EQ(0, err) TH_LOG("connect: %s", strerror(err));
	EXPECT_TRUE(echo_ok(fd, 300000));
	EXPECT_LT(10, nft_packets("in"));
	ASSERT_LE(0, read_file("/proc/thread-self/net/nf_conntrack", buf, sizeof(buf)));
	snprintf(key, sizeof(key), "tcp      6 ");
	EXPECT_NE(NULL, strstr(buf, key)) TH_LOG("%s", buf);
	EXPECT_NE(NULL, strstr(buf, "ESTABLISHED src=" A_ADDR " dst=" B_ADDR))
		TH_LOG("%s", buf);
	EXPECT_NE(NULL, strstr(buf, "[ASSURED]")) TH_LOG("%s", buf);
	close(fd);
}

/* SO_MARK on an xtcp socket marks its segments for OUTPUT rules. */
TEST_F_TIMEOUT(policy, so_mark_matches_rule, 30)
{
	int fd = socket(xtcp_family(), SOCK_STREAM, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, nft_run(-1, "add table inet pol"));
	ASSERT_EQ(0, nft_run(-1, "add chain inet pol out { type filter hook output priority 0; }"));
	ASSERT_EQ(0, nft_run(-1, "add rule inet pol out meta mark 42 counter"));
	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_MARK, 42));
	ASSERT_EQ(0, connect_err(fd, B_ADDR, PORT));
	EXPECT_TRUE(echo_ok(fd, 100000));
	EXPECT_LT(3, nft_packets("out"));
	close(fd);
}

/* ---- IPsec ---- */

#define XFRM_KEY	"0x0102030405060708090a0b0c0d0e0f1011121314"

/* ESP transport states for both directions in the calling namespace. */
static int xfrm_states(int nsfd)
{
	static const char *const cmds[] = {
		"ip xfrm state add src " A_ADDR " dst " B_ADDR
		" proto esp spi 0x1000 reqid 1 mode transport"
		" aead 'rfc4106(gcm(aes))' " XFRM_KEY " 128",
		"ip xfrm state add src " B_ADDR " dst " A_ADDR
		" proto esp spi 0x2000 reqid 1 mode transport"
		" aead 'rfc4106(gcm(aes))' " XFRM_KEY " 128",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (run_cmd_in_netns(nsfd, "%s", cmds[i]))
			return -1;
	return 0;
}

/* A TCP policy from @src to @dst, direction @dir, requiring ESP. */
static int xfrm_policy(int nsfd, const char *src, const char *dst,
		       const char *dir)
{
	return run_cmd_in_netns(nsfd, "ip xfrm policy add src %s dst %s proto tcp dir %s "
				"tmpl src %s dst %s proto esp reqid 1 mode transport",
				src, dst, dir, src, dst);
}

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/*
 * With ESP policies both ways, xtcp's segments leave encrypted: B's side
 * of the link sees ESP from A and not one plaintext TCP segment, and the
 * echoed bytes are intact (B's kernel decrypted and checked them).
 */
TEST_F_TIMEOUT(policy, ipsec_esp_encrypts, 60)
{
	int cap, fd, err, esp = 0, tcp = 0, ret;
	struct cap_seg s;

	run_cmd("modprobe -a esp4 xfrm_user");
	ASSERT_EQ(0, xfrm_states(self->np.a));
	ASSERT_EQ(0, xfrm_states(self->np.b));
	ASSERT_EQ(0, xfrm_policy(self->np.a, A_ADDR, B_ADDR, "out"));
	ASSERT_EQ(0, xfrm_policy(self->np.a, B_ADDR, A_ADDR, "in"));
	ASSERT_EQ(0, xfrm_policy(self->np.b, B_ADDR, A_ADDR, "out"));
	ASSERT_EQ(0, xfrm_policy(self->np.b, A_ADDR, B_ADDR, "in"));

	cap = cap_open(self->np.b, NETPAIR_B_DEV);
	ASSERT_LE(0, cap);
	err = client_connect(xtcp_family(), &fd);
	ASSERT_EQ(0, err) TH_LOG("connect: %s", strerror(err));
	EXPECT_TRUE(echo_ok(fd, 200000));
	close(fd);
	while ((ret = cap_next(cap, &s, 300)) == 1) {
		if (s.out)
			continue;
		if (s.proto == 50)
			esp++;
		else if (s.proto == IPPROTO_TCP)
			tcp++;
	}
	close(cap);
	TH_LOG("B received %d ESP and %d plaintext TCP datagrams", esp, tcp);
	EXPECT_LT(10, esp);
	EXPECT_EQ(0, tcp);
}

/*
 * An inbound policy requiring ESP, and a peer that sends plaintext: the
 * SYN-ACK must be dropped as for Linux's TCP (xfrm4_policy_check() in
 * tcp_v4_rcv()), so the connect times out for both.
 */
TEST_F_TIMEOUT(policy, ipsec_inbound_policy_drops_plaintext, 40)
{
	int fd;

	run_cmd("modprobe -a esp4 xfrm_user");
	ASSERT_EQ(0, xfrm_states(self->np.a));
	ASSERT_EQ(0, xfrm_policy(self->np.a, B_ADDR, A_ADDR, "in"));
	EXPECT_EQ(ETIMEDOUT, client_connect(AF_INET, &fd));
	EXPECT_EQ(ETIMEDOUT, client_connect(xtcp_family(), &fd));
	EXPECT_EQ(0, xtcp_stat("Established"));
}

TEST_HARNESS_MAIN
