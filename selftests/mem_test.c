// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp's memory is accounted and bounded as Linux's TCP's: socket
 * buffers against net.xtcp.mem (and /proc/net/xtcp_sockstat shows
 * them), orphans against net.xtcp.max_orphans, TIME_WAIT entries
 * against max_tw_buckets (following net.ipv4.tcp_max_tw_buckets); an
 * accepted connection is charged to the accepting task's memory cgroup,
 * as Linux's are.
 *
 * Namespace A (192.0.2.1) holds xtcp clients, namespace B (192.0.2.2) a
 * Linux TCP server. The host-wide sysctls (mem, max_orphans) live in
 * the initial namespace; the tests set them there and put them back.
 */
#define _GNU_SOURCE
#include <netinet/tcp.h>
#include <limits.h>
#include <pthread.h>
#include <sys/mount.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"

#define B_ADDR		NETPAIR_B_ADDR
#define PORT		5000

FIXTURE(mem) {
	struct netpair np;
	int refcnt;
	int init_ns;
	int lfd;
	char saved_mem[64];
	char saved_orphans[32];
};

/* Write a host-wide sysctl from the initial namespace. */
static int write_init(int init_ns, const char *path, const char *val)
{
	int cur = netns_current(), err;

	if (cur < 0 || setns(init_ns, CLONE_NEWNET))
		return -1;
	err = write_file(path, val);
	if (setns(cur, CLONE_NEWNET))
		abort();
	close(cur);
	return err;
}

static int read_init(int init_ns, const char *path, char *buf, size_t size)
{
	int cur = netns_current(), n;

	if (cur < 0 || setns(init_ns, CLONE_NEWNET))
		return -1;
	n = read_file(path, buf, size);
	if (setns(cur, CLONE_NEWNET))
		abort();
	close(cur);
	return n;
}

FIXTURE_SETUP(mem)
{
	const char *err;

	self->refcnt = xtcp_module_refcnt();
	self->init_ns = open("/proc/1/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->init_ns);
	/*
	 * What teardown restores: the module's defaults (mem is Linux's
	 * tcp_mem at load), not the values found, so that a test killed
	 * by the harness's timeout (whose teardown never ran) does not
	 * leave its limits to the tests after it.
	 */
	ASSERT_LT(0, read_init(self->init_ns, "/proc/sys/net/ipv4/tcp_mem",
			       self->saved_mem, sizeof(self->saved_mem)));
	snprintf(self->saved_orphans, sizeof(self->saved_orphans), "16384");
	ASSERT_EQ(0, write_init(self->init_ns, XTCP_SYSCTL_DIR "mem",
				self->saved_mem));
	ASSERT_EQ(0, write_init(self->init_ns, XTCP_SYSCTL_DIR "max_orphans",
				self->saved_orphans));
	err = netpair_setup(&self->np);
	ASSERT_EQ(NULL, err) TH_LOG("setup: %s", err);
	ASSERT_EQ(0, netpair_static_neigh(&self->np));
	self->lfd = socket_in_netns(self->np.b, AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, setsockopt_int(self->lfd, SOL_SOCKET, SO_REUSEADDR, 1));
	ASSERT_EQ(0, bind_err(self->lfd, "0.0.0.0", PORT));
	ASSERT_EQ(0, listen(self->lfd, 16));
}

FIXTURE_TEARDOWN(mem)
{
	int refcnt;

	write_init(self->init_ns, XTCP_SYSCTL_DIR "mem", self->saved_mem);
	write_init(self->init_ns, XTCP_SYSCTL_DIR "max_orphans",
		   self->saved_orphans);
	refcnt = close_sockets_wait(self->refcnt);
	EXPECT_GE(self->refcnt, refcnt);
	netpair_close(&self->np);
	close(self->init_ns);
}

/* A field of /proc/net/xtcp_sockstat ("XTCP: inuse N ..."), or -1. */
static long long sockstat(const char *field)
{
	char buf[256], key[32], *p;

	if (read_file("/proc/thread-self/net/xtcp_sockstat", buf, sizeof(buf)) < 0)
		return -1;
	snprintf(key, sizeof(key), " %s ", field);
	p = strstr(buf, key);
	return p ? atoll(p + strlen(key)) : -1;
}

/* An xtcp client connected to B; *@kfd: B's accepted socket. */
static int xconnect(struct __test_metadata *_metadata, int lfd, int *kfd)
{
	int fd = socket(xtcp_family(), SOCK_STREAM, 0);

	EXPECT_LE(0, fd);
	EXPECT_EQ(0, connect_err(fd, B_ADDR, PORT));
	*kfd = accept(lfd, NULL, NULL);
	EXPECT_LE(0, *kfd);
	return fd;
}

static void fill(char *buf, size_t len, size_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)((off + i) * 131 + 7);
}

/* Read @total bytes from @fd, @chunk at a time with @pause_us between. */
static long long read_check(int fd, long long total, size_t chunk, int pause_us)
{
	char buf[65536], want[65536];
	struct timeval tv = { .tv_sec = 20 };
	long long got = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (got < total) {
		ssize_t n = recv(fd, buf, chunk, 0);

		if (n <= 0)
			break;
		fill(want, n, got);
		if (memcmp(buf, want, n))
			return -1;
		got += n;
		if (pause_us)
			usleep(pause_us);
	}
	return got;
}

/* B sends @total bytes in the pattern from a forked writer. */
static pid_t b_send(int kfd, long long total)
{
	pid_t pid = fork();

	if (!pid) {
		static char buf[65536];
		long long off = 0;

		while (off < total) {
			size_t n = total - off > (long long)sizeof(buf) ?
				   sizeof(buf) : (size_t)(total - off);
			ssize_t w;

			fill(buf, n, off);
			w = send(kfd, buf, n, 0);
			if (w <= 0)
				_exit(1);
			off += w;
		}
		_exit(0);
	}
	return pid;
}

/*
 * A reader that does not read: its receive buffer shows in
 * xtcp_sockstat's mem (pages), bounded by SO_RCVBUF; once read and
 * closed, the memory and the in-use count go back down.
 */
TEST_F_TIMEOUT(mem, sockstat_accounts_buffers, 60)
{
	long long inuse0 = sockstat("inuse"), mem;
	int kfd, fd = xconnect(_metadata, self->lfd, &kfd), status;
	pid_t pid;

	EXPECT_EQ(inuse0 + 1, sockstat("inuse"));
	pid = b_send(kfd, 200000);
	usleep(1500 * 1000);
	mem = sockstat("mem");
	TH_LOG("mem with 200 KB unread: %lld pages", mem);
	EXPECT_LT(4, mem);
	EXPECT_GE((getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF) + 4095) / 4096 + 8, mem);
	EXPECT_EQ(200000, read_check(fd, 200000, 65536, 0));
	waitpid(pid, &status, 0);
	close(fd);
	close(kfd);
	usleep(500 * 1000);
	EXPECT_EQ(inuse0, sockstat("inuse"));
	EXPECT_EQ(0, sockstat("mem"));
}

struct reader {
	pthread_t	thread;
	int		fd;
	long long	got;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;

	r->got = read_check(r->fd, 150000, 8192, 2000);
	return NULL;
}

/*
 * net.xtcp.mem's pressure threshold well below what 40 connections of
 * 150 KB in flight want, with readers reading slowly: the accounting
 * (whose shared counter moves in per-CPU megabyte batches) crosses it,
 * xtcp enters memory pressure and holds each socket to its share of the
 * hard limit (shrinking the windows it offers), and every transfer
 * still completes intact (Linux's sender retransmits what is refused).
 * The hard limit (6 MB) is near what is in flight: far below it, as
 * Linux's TCP, every segment but the one an empty queue must take is
 * dropped, and the senders' backed-off retransmission timers can then
 * outlast the readers' 20 s timeout on a loaded emulated host.
 */
TEST_F_TIMEOUT(mem, global_limit_pressure, 150)
{
	long long pressures = xtcp_stat("TCPMemoryPressures");
	static struct reader r[40];
	int kfd[40], i, status;
	pid_t pid[40];

	ASSERT_EQ(0, write_init(self->init_ns, XTCP_SYSCTL_DIR "mem",
				"100 150 1500"));
	EXPECT_EQ(EINVAL, write_init(self->init_ns, XTCP_SYSCTL_DIR "mem",
				     "8 4 2"));
	for (i = 0; i < 40; i++) {
		r[i].fd = xconnect(_metadata, self->lfd, &kfd[i]);
		pid[i] = b_send(kfd[i], 150000);
	}
	for (i = 0; i < 40; i++)
		ASSERT_EQ(0, pthread_create(&r[i].thread, NULL, reader_main, &r[i]));
	for (i = 0; i < 40; i++) {
		pthread_join(r[i].thread, NULL);
		EXPECT_EQ(150000, r[i].got) TH_LOG("transfer %d", i);
		waitpid(pid[i], &status, 0);
		EXPECT_EQ(0, WEXITSTATUS(status));
	}
	TH_LOG("TCPMemoryPressures +%lld, PruneCalled %lld, RcvPruned %lld",
	       xtcp_stat("TCPMemoryPressures") - pressures,
	       xtcp_stat("PruneCalled"), xtcp_stat("RcvPruned"));
	EXPECT_LT(pressures, xtcp_stat("TCPMemoryPressures"));
}

/*
 * Orphans beyond net.xtcp.max_orphans are reset at close() instead of
 * lingering (tcp_close()'s tcp_check_oom()): the peer gets the reset
 * after the FIN.
 */
TEST_F(mem, orphans_over_limit_reset)
{
	int kfd, fd = xconnect(_metadata, self->lfd, &kfd);
	char ch;

	ASSERT_EQ(0, write_init(self->init_ns, XTCP_SYSCTL_DIR "max_orphans",
				"0"));
	close(fd);
	/* As tcp_close(): the FIN went out, then the reset. */
	EXPECT_EQ(0, recv(kfd, &ch, 1, 0));
	usleep(200 * 1000);
	EXPECT_EQ(EPIPE, getsockopt_int(kfd, SOL_SOCKET, SO_ERROR));
	EXPECT_EQ(1, xtcp_stat("TCPAbortOnMemory"));
	EXPECT_EQ(0, sockstat("orphan"));
	close(kfd);
}

/*
 * net.ipv4.tcp_max_tw_buckets (which xtcp's max_tw_buckets follows) at
 * 2: of five active closes, two leave a TIME_WAIT entry, three count
 * TCPTimeWaitOverflow.
 */
TEST_F(mem, time_wait_bucket_limit)
{
	char ch;
	int i;

	ASSERT_EQ(0, write_file("/proc/sys/net/ipv4/tcp_max_tw_buckets", "2"));
	for (i = 0; i < 5; i++) {
		int kfd, fd = xconnect(_metadata, self->lfd, &kfd);

		close(fd);
		EXPECT_EQ(0, recv(kfd, &ch, 1, 0));	/* the FIN */
		close(kfd);
		usleep(100 * 1000);
	}
	EXPECT_EQ(2, sockstat("tw"));
	EXPECT_EQ(3, xtcp_stat("TCPTimeWaitOverflow"));
}

/* ---- the memory cgroup of an accepted connection ---- */

#define CG_ROOT		"/sys/fs/cgroup"
#define CG_TEST		CG_ROOT "/xtcp-mem-test"

FIXTURE(memcg) {
	struct netpair np;
	int refcnt;
	int mounted;
	int enabled;
};

/* @linux_tcp: the server is Linux's TCP (the reference), else xtcp */
FIXTURE_VARIANT(memcg) {
	int linux_tcp;
};

FIXTURE_VARIANT_ADD(memcg, linux_tcp) { .linux_tcp = 1 };
FIXTURE_VARIANT_ADD(memcg, xtcp) { .linux_tcp = 0 };

/* Move the calling process into the cgroup directory @dir. */
static int cg_move(const char *dir)
{
	char path[128], pid[16];

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(pid, sizeof(pid), "%d", getpid());
	return write_file(path, pid);
}

/* memory.stat's "sock" of the test cgroup, in bytes; -1 if unreadable. */
static long long cg_sock(void)
{
	char buf[8192], *line;

	if (read_file(CG_TEST "/memory.stat", buf, sizeof(buf)) < 0)
		return -1;
	for (line = buf; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (!strncmp(line, "sock ", 5))
			return atoll(line + 5);
	}
	return -1;
}

/*
 * "sock" once it lies within [@lo, @hi], or its last value after 6 s
 * (memory.stat may lag: the kernel flushes its per-CPU figures at least
 * every 2 s).
 */
static long long cg_sock_wait(long long lo, long long hi)
{
	long long end = now_ms() + 6000, v;

	for (;;) {
		v = cg_sock();
		if ((v >= lo && v <= hi) || now_ms() > end)
			return v;
		usleep(100 * 1000);
	}
}

FIXTURE_SETUP(memcg)
{
	char buf[256];
	const char *err;

	self->refcnt = xtcp_module_refcnt();
	self->mounted = 0;
	self->enabled = 0;
	self->np.a = -1;
	self->np.b = -1;
	if (access(CG_ROOT "/cgroup.controllers", F_OK)) {
		ASSERT_EQ(0, run_cmd("mount -t cgroup2 none " CG_ROOT));
		self->mounted = 1;
	}
	ASSERT_LT(0, read_file(CG_ROOT "/cgroup.controllers", buf, sizeof(buf)));
	if (!strstr(buf, "memory"))
		SKIP(return, "no memory controller on cgroup v2");
	ASSERT_LE(0, read_file(CG_ROOT "/cgroup.subtree_control", buf,
			       sizeof(buf)));
	if (!strstr(buf, "memory")) {
		ASSERT_EQ(0, write_file(CG_ROOT "/cgroup.subtree_control",
					"+memory"));
		self->enabled = 1;
	}
	rmdir(CG_TEST);
	ASSERT_EQ(0, mkdir(CG_TEST, 0755));
	err = netpair_setup(&self->np);
	ASSERT_EQ(NULL, err) TH_LOG("setup: %s", err);
	ASSERT_EQ(0, netpair_static_neigh(&self->np));
}

FIXTURE_TEARDOWN(memcg)
{
	int refcnt;

	cg_move(CG_ROOT);
	refcnt = close_sockets_wait(self->refcnt);
	EXPECT_GE(self->refcnt, refcnt);
	rmdir(CG_TEST);
	if (self->enabled)
		write_file(CG_ROOT "/cgroup.subtree_control", "-memory");
	if (self->mounted)
		umount(CG_ROOT);
	netpair_close(&self->np);
}

/* Read @len bytes of the pattern from offset @off: the count that match. */
static long long read_from(int fd, size_t len, size_t off)
{
	static char buf[65536], want[65536];
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, buf, len - got < sizeof(buf) ?
				 len - got : sizeof(buf), 0);

		if (n <= 0)
			break;
		fill(want, n, off + got);
		if (memcmp(buf, want, n))
			break;
		got += n;
	}
	return got;
}

/* Send all @len bytes of the pattern from offset @off, or fail. */
static int send_all(int fd, size_t len, size_t off)
{
	static char buf[65536];
	size_t done = 0;

	fill(buf, len, off);
	while (done < len) {
		ssize_t n = send(fd, buf + done, len - done, 0);

		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

/*
 * A server in a cgroup v2 memory cgroup: its listener made there, the
 * client (Linux's TCP) outside it. Data that came before accept() is
 * charged to the cgroup when accept() runs there (inet_csk_accept()'s
 * mem_cgroup_sk_alloc() and catch-up charge); data after it as it
 * comes; memory.stat's "sock" follows, and is back to 0 once both ends
 * are closed (the uncharges balance the charges). Before, an accepted
 * xtcp connection belonged to no cgroup: "sock" stayed 0.
 */
TEST_F_TIMEOUT(memcg, accepted_connection_charged, 90)
{
	int family = variant->linux_tcp ? AF_INET : xtcp_family();
	struct timeval tv = { .tv_sec = 10 };
	int lfd, cfd, sfd;
	long long v;
	char ch;

	ASSERT_EQ(0, cg_move(CG_TEST));
	lfd = socket_in_netns(self->np.b, family, SOCK_STREAM, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind_err(lfd, "0.0.0.0", PORT));
	ASSERT_EQ(0, listen(lfd, 4));
	ASSERT_EQ(0, cg_move(CG_ROOT));

	cfd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	ASSERT_EQ(0, connect_err(cfd, B_ADDR, PORT));
	ASSERT_EQ(0, send_all(cfd, 50000, 0));
	usleep(500 * 1000);
	v = cg_sock();
	TH_LOG("sock before accept(): %lld", v);
	EXPECT_GE(8192, v);

	/* accept() in the cgroup: what the connection holds is charged. */
	ASSERT_EQ(0, cg_move(CG_TEST));
	sfd = accept(lfd, NULL, NULL);
	ASSERT_EQ(0, cg_move(CG_ROOT));
	ASSERT_LE(0, sfd);
	v = cg_sock_wait(50000, LLONG_MAX);
	TH_LOG("sock after accept(), 50000 bytes unread: %lld", v);
	EXPECT_LE(50000, v);
	EXPECT_EQ(50000, read_check(sfd, 50000, 65536, 0));
	v = cg_sock_wait(0, 8192);
	TH_LOG("sock once read: %lld", v);
	EXPECT_GE(8192, v);

	/* What arrives later is charged as it comes. */
	ASSERT_EQ(0, send_all(cfd, 50000, 50000));
	usleep(500 * 1000);
	v = cg_sock_wait(50000, LLONG_MAX);
	TH_LOG("sock with 50000 more unread: %lld", v);
	EXPECT_LE(50000, v);
	EXPECT_EQ(50000, read_from(sfd, 50000, 50000));

	/* Both ends closed: every charge was uncharged. */
	close(cfd);
	EXPECT_EQ(0, recv(sfd, &ch, 1, 0));
	close(sfd);
	close(lfd);
	v = cg_sock_wait(0, 0);
	TH_LOG("sock once closed: %lld", v);
	EXPECT_EQ(0, v);
}

TEST_HARNESS_MAIN
