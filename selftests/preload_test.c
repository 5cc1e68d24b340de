// SPDX-License-Identifier: GPL-2.0
/*
 * build/tools/libxtcp-preload.so: which sockets it moves to xtcp, what a
 * moved socket keeps (descriptor number, options, file flags, bound
 * address), what it reports (SO_DOMAIN AF_INET), the errno of what xtcp
 * refuses, and sendfile()/splice() through its copy fallback.
 *
 * Each test runs one case of this program again (--case NAME) under
 * LD_PRELOAD with the XTCP_PRELOAD_* knobs of the test, in a fresh
 * network namespace. The case asks the kernel with raw system calls,
 * which the library does not see, what it really holds, and talks to
 * Linux TCP listeners made the same way.
 */
#include "kselftest_harness.h"
#include "xtcp_test.h"

#include <limits.h>
#include <libgen.h>
#include <stdbool.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>

#define PEER_PORT	5000	/* Linux listeners: listed in XTCP_PRELOAD_PORTS */
#define OTHER_PORT	6000	/* ... and not */
#define FILE_SIZE	200000

/* ---- the cases, run under the library ---- */

static const char *case_name;

static void check(bool ok, int line, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "# case %s, line %d: %s failed (errno: %s)\n",
		case_name, line, what, strerror(errno));
	exit(1);
}

#define CHECK(cond) check(cond, __LINE__, #cond)

/* The family of fd's socket as the kernel has it, or -errno. */
static int raw_domain(int fd)
{
	socklen_t len = sizeof(int);
	int val = -1;

	if (syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_DOMAIN, &val, &len))
		return -errno;
	return val;
}

/* A Linux TCP listener on 0.0.0.0:@port, made behind the library's back. */
static int raw_listener(int port)
{
	struct sockaddr_in sin = sin_make("0.0.0.0", port);
	int one = 1, fd;

	fd = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(!syscall(SYS_setsockopt, fd, SOL_SOCKET, SO_REUSEADDR, &one,
		       sizeof(one)));
	CHECK(!syscall(SYS_bind, fd, &sin, sizeof(sin)));
	CHECK(!syscall(SYS_listen, fd, 8));
	return fd;
}

/* A connection's Linux end, accepted on @lfd, with a 5 s receive timeout. */
static int accept_peer(int lfd)
{
	struct timeval tv = { .tv_sec = 5 };
	int fd;

	CHECK(poll_one(lfd, POLLIN, 5000) & POLLIN);
	fd = accept(lfd, NULL, NULL);
	CHECK(fd >= 0);
	CHECK(raw_domain(fd) == AF_INET);
	CHECK(!setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	return fd;
}

/* Read exactly @n bytes from @fd and compare them with @want. */
static void recv_expect(int fd, const char *want, size_t n)
{
	static char buf[FILE_SIZE];
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = recv(fd, buf + got, n - got, 0);
		CHECK(r > 0);
		got += r;
	}
	CHECK(!memcmp(buf, want, n));
}

static bool is_xtcp(int fd)
{
	return raw_domain(fd) == xtcp_family();
}

/* No knob: every AF_INET stream socket is xtcp's from socket() on. */
static void case_eager(void)
{
	int fd, other, lfd, peer;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(is_xtcp(fd));
	CHECK(getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN) == AF_INET);
	CHECK(getsockopt_int(fd, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP);
	CHECK(getsockopt_int(fd, SOL_SOCKET, SO_TYPE) == SOCK_STREAM);
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* What xtcp refuses comes back as xtcp's errno. */
	CHECK(setsockopt_int(fd, SOL_SOCKET, SO_ZEROCOPY, 1) == EOPNOTSUPP);
	/* SO_REUSEPORT becomes xtcp's XTCP_REUSEPORT, and reads back. */
	CHECK(setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) == 0);
	CHECK(getsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT) == 1);
	other = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(setsockopt_int(other, SOL_SOCKET, SO_REUSEPORT, 1) == 0);
	CHECK(bind_err(fd, "127.0.0.1", 5300) == 0 && !listen(fd, 4));
	CHECK(bind_err(other, "127.0.0.1", 5300) == 0 && !listen(other, 4));
	close(other);
	other = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(bind_err(other, "127.0.0.1", 5300) == EADDRINUSE);
	close(other);
	close(fd);

	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	CHECK(is_xtcp(fd));
	other = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(raw_domain(other) == AF_INET);
	close(other);

	lfd = raw_listener(PEER_PORT);
	CHECK(connect_err(fd, "127.0.0.1", PEER_PORT) == 0);
	peer = accept_peer(lfd);
	CHECK(send(fd, "xtcp", 4, 0) == 4);
	recv_expect(peer, "xtcp", 4);
	close(peer);
	close(fd);
	close(lfd);
}

/* XTCP_PRELOAD_PROTO=explicit: protocol 0 stays on Linux's TCP. */
static void case_explicit(void)
{
	int fd0 = socket(AF_INET, SOCK_STREAM, 0);
	int fd6 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);

	CHECK(raw_domain(fd0) == AF_INET);
	CHECK(is_xtcp(fd6));
	CHECK(fcntl(fd6, F_GETFD) & FD_CLOEXEC);
}

/* A candidate socket with options and file flags, not moved yet. */
static int candidate(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	CHECK(fd >= 0);
	CHECK(raw_domain(fd) == AF_INET);
	CHECK(!setsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 1));
	CHECK(!setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, 32768));
	CHECK(!setsockopt_int(fd, IPPROTO_IP, IP_TOS, 0x10));
	CHECK(!fcntl(fd, F_SETFL, O_NONBLOCK));
	CHECK(!fcntl(fd, F_SETFD, FD_CLOEXEC));
	return fd;
}

/* The options and flags candidate() set, on the socket fd holds now. */
static void check_kept(int fd, int rcvbuf)
{
	CHECK(getsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY) == 1);
	CHECK(getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF) == rcvbuf);
	CHECK(getsockopt_int(fd, IPPROTO_IP, IP_TOS) == 0x10);
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

/* Wait for a non-blocking connect; 0 or its SO_ERROR. */
static int connected(int fd, int err)
{
	if (err != EINPROGRESS)
		return err;
	CHECK(poll_one(fd, POLLOUT, 5000) & POLLOUT);
	return getsockopt_int(fd, SOL_SOCKET, SO_ERROR);
}

/* listen() through the library answers as on a plain xtcp socket. */
static void check_listen(int fd, int port)
{
	struct sockaddr_in sin = sin_make("127.0.0.1", port);
	int ret, err, xfd, xret, xerr, c, child;

	ret = listen(fd, 8);
	err = errno;
	xfd = syscall(SYS_socket, xtcp_family(), SOCK_STREAM, 0);
	CHECK(xfd >= 0);
	CHECK(bind_err(xfd, "127.0.0.2", port) == 0);
	xret = listen(xfd, 8);
	xerr = errno;
	close(xfd);
	CHECK(ret == xret && (!ret || err == xerr));
	if (ret)
		return;
	/* xtcp listens: a Linux client connects, accept() gives xtcp's child. */
	c = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	CHECK(!syscall(SYS_connect, c, &sin, sizeof(sin)));
	CHECK(poll_one(fd, POLLIN, 5000) & POLLIN);
	child = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	CHECK(child >= 0 && is_xtcp(child));
	CHECK(getsockopt_int(child, SOL_SOCKET, SO_DOMAIN) == AF_INET);
	close(child);
	close(c);
}

/* XTCP_PRELOAD_PORTS=5000,5100-5101: moved at bind() or connect(). */
static void case_ports(void)
{
	int lfd = raw_listener(PEER_PORT), ofd = raw_listener(OTHER_PORT);
	int fd, rcvbuf;

	/* Connecting to a port not listed: stays on Linux's TCP. */
	fd = candidate();
	CHECK(connected(fd, connect_err(fd, "127.0.0.1", OTHER_PORT)) == 0);
	CHECK(raw_domain(fd) == AF_INET);
	close(fd);

	/* To a listed port: xtcp, same fd, options and flags. */
	fd = candidate();
	rcvbuf = getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF);
	CHECK(connected(fd, connect_err(fd, "127.0.0.1", PEER_PORT)) == 0);
	CHECK(is_xtcp(fd));
	check_kept(fd, rcvbuf);
	close(fd);

	/* bind() to a listed port moves. */
	fd = candidate();
	CHECK(bind_err(fd, "127.0.0.1", 5100) == 0);
	CHECK(is_xtcp(fd));
	CHECK(local_port(fd) == 5100);
	check_kept(fd, rcvbuf);
	check_listen(fd, 5100);
	close(fd);

	/* Bound on Linux first, then connected to a listed port: same port. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(bind_err(fd, "127.0.0.1", 6001) == 0);
	CHECK(raw_domain(fd) == AF_INET);
	CHECK(connect_err(fd, "127.0.0.1", PEER_PORT) == 0);
	CHECK(is_xtcp(fd));
	CHECK(local_port(fd) == 6001);
	close(fd);

	/* An option xtcp refuses fails the move, with xtcp's errno. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(!setsockopt_int(fd, SOL_SOCKET, SO_ZEROCOPY, 1));
	CHECK(bind_err(fd, "127.0.0.1", 5101) == EOPNOTSUPP);
	CHECK(raw_domain(fd) == AF_INET);
	close(fd);

	/* SO_REUSEPORT carried over as xtcp's XTCP_REUSEPORT. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(!setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1));
	CHECK(bind_err(fd, "127.0.0.1", 5101) == 0);
	CHECK(is_xtcp(fd));
	CHECK(getsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT) == 1);
	close(fd);
	close(ofd);
	close(lfd);
}

/* XTCP_PRELOAD_HOSTS=10.0.0.0/8,127.0.0.2: moved at connect() only. */
static void case_hosts(void)
{
	int lfd = raw_listener(PEER_PORT), fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(bind_err(fd, "127.0.0.1", 7000) == 0);
	CHECK(raw_domain(fd) == AF_INET);
	close(fd);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect_err(fd, "127.0.0.1", PEER_PORT) == 0);
	CHECK(raw_domain(fd) == AF_INET);
	close(fd);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect_err(fd, "127.0.0.2", PEER_PORT) == 0);
	CHECK(is_xtcp(fd));
	close(fd);
	close(lfd);
}

/* sendfile() and splice() on an xtcp socket: copied through a buffer. */
static void case_copy(void)
{
	static char data[FILE_SIZE];
	int lfd = raw_listener(PEER_PORT), fd, peer, file, p[2], i;
	char path[] = "/tmp/xtcp-preload-XXXXXX";
	off_t off = 1000;
	ssize_t n, got;
	char buf[64];

	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(is_xtcp(fd));
	CHECK(connect_err(fd, "127.0.0.1", PEER_PORT) == 0);
	peer = accept_peer(lfd);

	for (i = 0; i < FILE_SIZE; i++)
		data[i] = i * 7 + i / 251;
	file = mkstemp(path);
	CHECK(file >= 0);
	unlink(path);
	CHECK(write(file, data, FILE_SIZE) == FILE_SIZE);

	/* With an offset: it moves, the file position does not. */
	CHECK(lseek(file, 0, SEEK_SET) == 0);
	CHECK(sendfile(fd, file, &off, 60000) == 60000);
	CHECK(off == 61000);
	CHECK(lseek(file, 0, SEEK_CUR) == 0);
	recv_expect(peer, data + 1000, 60000);
	/* Without: from the file position, which moves. */
	CHECK(lseek(file, 5, SEEK_SET) == 5);
	CHECK(sendfile(fd, file, NULL, 10) == 10);
	CHECK(lseek(file, 0, SEEK_CUR) == 15);
	recv_expect(peer, data + 5, 10);

	/* splice() from a pipe to xtcp, and from xtcp to a pipe. */
	CHECK(!pipe(p));
	CHECK(write(p[1], "pipe to xtcp", 12) == 12);
	CHECK(splice(p[0], NULL, fd, NULL, 12, 0) == 12);
	recv_expect(peer, "pipe to xtcp", 12);
	CHECK(send(peer, "xtcp to pipe", 12, 0) == 12);
	for (got = 0; got < 12; got += n) {
		n = splice(fd, NULL, p[1], NULL, sizeof(buf), 0);
		CHECK(n > 0);
	}
	CHECK(read(p[0], buf, sizeof(buf)) == 12);
	CHECK(!memcmp(buf, "xtcp to pipe", 12));
	close(p[0]);
	close(p[1]);
	close(file);
	close(peer);
	close(fd);
	close(lfd);
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "eager", case_eager },
	{ "explicit", case_explicit },
	{ "ports", case_ports },
	{ "hosts", case_hosts },
	{ "copy", case_copy },
};

static int run_case(const char *name)
{
	size_t i;

	case_name = name;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!strcmp(cases[i].name, name)) {
			cases[i].fn();
			return 0;
		}
	}
	fprintf(stderr, "# no case %s\n", name);
	return 2;
}

/* ---- the tests: each runs a case under the library ---- */

/*
 * Run case @name of this program under LD_PRELOAD, with @knob (NAME=VALUE
 * or NULL) as the only XTCP_PRELOAD_* setting, in a new network namespace.
 */
static void preloaded(struct __test_metadata *_metadata, const char *name,
		      const char *knob)
{
	char exe[PATH_MAX], lib[PATH_MAX + 64], dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int status, ns;
	pid_t pid;

	ASSERT_LT(0, n);
	exe[n] = '\0';
	strcpy(dir, exe);
	snprintf(lib, sizeof(lib), "%s/../tools/libxtcp-preload.so",
		 dirname(dir));
	if (access(lib, R_OK))
		SKIP(return, "build/tools/libxtcp-preload.so not built (make tools)");

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ns = new_netns();
		if (ns < 0)
			_exit(3);
		unsetenv("XTCP_PRELOAD_PROTO");
		unsetenv("XTCP_PRELOAD_PORTS");
		unsetenv("XTCP_PRELOAD_HOSTS");
		if ((knob && putenv((char *)knob)) || setenv("LD_PRELOAD", lib, 1))
			_exit(4);
		execl(exe, exe, "--case", name, (char *)NULL);
		_exit(5);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("case %s: killed by signal %d",
					      name, WTERMSIG(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("case %s failed", name);
}

TEST(preload__eager)
{
	preloaded(_metadata, "eager", NULL);
}

TEST(preload__explicit)
{
	preloaded(_metadata, "explicit", "XTCP_PRELOAD_PROTO=explicit");
}

TEST(preload__ports)
{
	preloaded(_metadata, "ports", "XTCP_PRELOAD_PORTS=5000,5100-5101");
}

TEST(preload__hosts)
{
	preloaded(_metadata, "hosts", "XTCP_PRELOAD_HOSTS=10.0.0.0/8,127.0.0.2");
}

TEST(preload__sendfile_splice)
{
	preloaded(_metadata, "copy", NULL);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--case"))
		return run_case(argv[2]);
	return test_harness_run(argc, argv);
}
