// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp bind(): address checks, errno values, ephemeral ports from
 * net.xtcp.ip_local_port_range, conflicts between xtcp sockets
 * (SO_REUSEADDR, SO_REUSEPORT, SO_BINDTODEVICE) at bind() and again at
 * listen(), privileged ports and non-local addresses.
 *
 * Each test runs in two fresh network namespaces: every scenario is
 * played first against Linux's own TCP (AF_INET) in one, then against
 * xtcp in the other, and both must give the literal result written in
 * the test. The Linux run checks the test's expectation; the xtcp run
 * checks the module. Separate namespaces keep the two apart, since an
 * xtcp bind holds its port against Linux TCP (see coexist_test.c).
 */
#include "kselftest_harness.h"
#include "xtcp_test.h"

#ifndef IP_FREEBIND
#define IP_FREEBIND	15
#endif

#define PORT		40000
#define OTHER_ADDR	"192.0.2.1"	/* added to lo as a /32 */
#define NONLOCAL_ADDR	"192.0.2.99"	/* nothing has it */
#define UNPRIV_START	"/proc/sys/net/ipv4/ip_unprivileged_port_start"
#define NOBODY_FAILED	250		/* run_as_nobody(): setresuid failed */

FIXTURE(bind) {
	int ns[2];	/* [0]: Linux TCP's namespace, [1]: xtcp's */
};

FIXTURE_SETUP(bind)
{
	int i;

	self->ns[0] = -1;
	self->ns[1] = -1;
	for (i = 0; i < 2; i++) {
		self->ns[i] = new_netns();
		ASSERT_LE(0, self->ns[i])
			TH_LOG("new network namespace: %s",
			       strerror(-self->ns[i]));
	}
}

FIXTURE_TEARDOWN(bind)
{
	if (self->ns[0] >= 0)
		close(self->ns[0]);
	if (self->ns[1] >= 0)
		close(self->ns[1]);
}

/* Enter the namespace of run @i; returns the family to test there. */
static int enter(struct __test_metadata *_metadata, const int *ns, int i)
{
	ASSERT_EQ(0, setns(ns[i], CLONE_NEWNET));
	return i == 0 ? AF_INET : xtcp_family();
}

/* Run the block once for Linux TCP and once for xtcp, @fam set. */
#define FOR_BOTH(fam) \
	for (int _run = 0; _run < 2 && ((fam) = enter(_metadata, self->ns, _run)); \
	     _run++)

/* Add OTHER_ADDR to lo in both namespaces. */
static void add_other_addr(struct __test_metadata *_metadata, const int *ns)
{
	int i;

	for (i = 0; i < 2; i++) {
		enter(_metadata, ns, i);
		ASSERT_EQ(0, run_cmd("ip addr add %s/32 dev lo", OTHER_ADDR));
	}
}

static const char *range_sysctl(int fam)
{
	return fam == AF_INET ? "/proc/sys/net/ipv4/ip_local_port_range" :
				XTCP_SYSCTL_DIR "ip_local_port_range";
}

/* What to create and bind. */
struct bsk {
	const char *addr;
	int port;
	int reuseaddr;
	int reuseport;
	const char *dev;	/* SO_BINDTODEVICE, or NULL */
};

/*
 * Create a socket of @fam as @b describes and bind it. Returns the fd
 * and sets *@err to bind's errno (0 on success); returns -errno if the
 * socket or an option could not be set up.
 */
static int bind_sock(int fam, const struct bsk *b, int *err)
{
	int fd = stream_socket(fam, b->reuseaddr, b->reuseport);

	if (fd < 0)
		return fd;
	if (b->dev && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, b->dev,
				 strlen(b->dev) + 1)) {
		int e = errno;

		close(fd);
		return -e;
	}
	*err = bind_err(fd, b->addr, b->port);
	return fd;
}

/*
 * Bind @a (which must succeed), then @b; returns @b's bind errno.
 * With @listen_first, @a listens before @b binds (-1: listen failed
 * with EOPNOTSUPP, so the case cannot be tested yet).
 */
static int pair_err(struct __test_metadata *_metadata, int fam,
		    const struct bsk *a, const struct bsk *b, int listen_first)
{
	int fa, fb, ea = -1, eb = -1;

	fa = bind_sock(fam, a, &ea);
	ASSERT_LE(0, fa)
		TH_LOG("%s: socket or setsockopt: %s", fam_name(fam),
		       strerror(-fa));
	ASSERT_EQ(0, ea)
		TH_LOG("%s: first bind %s:%d: %s", fam_name(fam), a->addr,
		       a->port, strerror(ea));
	if (listen_first && listen(fa, 1)) {
		int e = errno;

		close(fa);
		if (e == EOPNOTSUPP && fam != AF_INET)
			return -1;
		ASSERT_EQ(0, e) TH_LOG("%s: listen: %s", fam_name(fam),
				       strerror(e));
	}
	fb = bind_sock(fam, b, &eb);
	ASSERT_LE(0, fb)
		TH_LOG("%s: socket or setsockopt: %s", fam_name(fam),
		       strerror(-fb));
	close(fb);
	close(fa);
	return eb;
}

/* Both runs: bind @a then @b, @b's bind must end with @want. */
static void check_pair(struct __test_metadata *_metadata,
		       const int *ns, const struct bsk *a,
		       const struct bsk *b, int want)
{
	int fam, got;

	for (int i = 0; i < 2; i++) {
		fam = enter(_metadata, ns, i);
		got = pair_err(_metadata, fam, a, b, 0);
		EXPECT_EQ(want, got)
			TH_LOG("%s: bind %s:%d after %s:%d: got %s, want %s",
			       fam_name(fam), b->addr, b->port, a->addr,
			       a->port, strerror(got), strerror(want));
	}
}

/* bind() with a raw address structure; returns 0 or errno. */
static int bind_raw(int fd, const void *addr, socklen_t len)
{
	return bind(fd, (const struct sockaddr *)addr, len) ? errno : 0;
}

static void check_sockname(struct __test_metadata *_metadata, int fam,
			   int fd, const char *addr, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in want = sin_make(addr, port);
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&ss, &len));
	EXPECT_EQ(sizeof(struct sockaddr_in), len) TH_LOG("%s", fam_name(fam));
	EXPECT_EQ(AF_INET, sin->sin_family) TH_LOG("%s", fam_name(fam));
	EXPECT_EQ(port, ntohs(sin->sin_port)) TH_LOG("%s", fam_name(fam));
	EXPECT_EQ(ntohl(want.sin_addr.s_addr), ntohl(sin->sin_addr.s_addr))
		TH_LOG("%s: want %s", fam_name(fam), addr);
}

TEST_F(bind, loopback)
{
	int fam, fd;

	FOR_BOTH(fam) {
		fd = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, bind_err(fd, "127.0.0.1", PORT))
			TH_LOG("%s: %s", fam_name(fam), strerror(errno));
		check_sockname(_metadata, fam, fd, "127.0.0.1", PORT);
		close(fd);
	}
}

TEST_F(bind, any)
{
	int fam, fd;

	FOR_BOTH(fam) {
		fd = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, bind_err(fd, "0.0.0.0", PORT))
			TH_LOG("%s: %s", fam_name(fam), strerror(errno));
		check_sockname(_metadata, fam, fd, "0.0.0.0", PORT);
		close(fd);
	}
}

TEST_F(bind, family_xtcp_accepted)
{
	struct sockaddr_in sin = sin_make("127.0.0.1", PORT);
	int fd;

	enter(_metadata, self->ns, 1);
	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	sin.sin_family = xtcp_family();
	ASSERT_EQ(0, bind_raw(fd, &sin, sizeof(sin)));
	/* Out comes AF_INET, whatever went in. */
	check_sockname(_metadata, xtcp_family(), fd, "127.0.0.1", PORT);
	close(fd);
}

TEST_F(bind, family_unspec_any)
{
	struct sockaddr_in sin = sin_make("0.0.0.0", PORT);
	int fam, fd;

	sin.sin_family = AF_UNSPEC;
	FOR_BOTH(fam) {
		fd = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		EXPECT_EQ(0, bind_raw(fd, &sin, sizeof(sin)))
			TH_LOG("%s", fam_name(fam));
		check_sockname(_metadata, fam, fd, "0.0.0.0", PORT);
		close(fd);
	}
}

TEST_F(bind, family_unspec_loopback)
{
	struct sockaddr_in sin = sin_make("127.0.0.1", PORT);
	int fam, fd;

	sin.sin_family = AF_UNSPEC;
	FOR_BOTH(fam) {
		fd = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		EXPECT_EQ(EAFNOSUPPORT, bind_raw(fd, &sin, sizeof(sin)))
			TH_LOG("%s", fam_name(fam));
		/* Still unbound: a correct bind works. */
		EXPECT_EQ(0, bind_err(fd, "127.0.0.1", PORT))
			TH_LOG("%s", fam_name(fam));
		close(fd);
	}
}

TEST_F(bind, family_inet6)
{
	struct sockaddr_in sin = sin_make("127.0.0.1", PORT);
	struct sockaddr_in6 sin6;
	int fam, fd;

	sin.sin_family = AF_INET6;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(PORT);
	sin6.sin6_addr = in6addr_loopback;
	FOR_BOTH(fam) {
		fd = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		EXPECT_EQ(EAFNOSUPPORT, bind_raw(fd, &sin, sizeof(sin)))
			TH_LOG("%s: sockaddr_in", fam_name(fam));
		EXPECT_EQ(EAFNOSUPPORT, bind_raw(fd, &sin6, sizeof(sin6)))
			TH_LOG("%s: sockaddr_in6", fam_name(fam));
		close(fd);
	}
}

TEST_F(bind, addrlen_short)
{
	static const socklen_t lens[] = {
		0, 8, sizeof(struct sockaddr_in) - 1
	};
	struct sockaddr_in sin = sin_make("127.0.0.1", PORT);
	unsigned int i;
	int fam, fd;

	FOR_BOTH(fam) {
		fd = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		for (i = 0; i < ARRAY_SIZE(lens); i++)
			EXPECT_EQ(EINVAL, bind_raw(fd, &sin, lens[i]))
				TH_LOG("%s: addrlen %u", fam_name(fam),
				       lens[i]);
		EXPECT_EQ(0, local_port(fd)) TH_LOG("%s", fam_name(fam));
		EXPECT_EQ(0, bind_raw(fd, &sin, sizeof(sin)))
			TH_LOG("%s", fam_name(fam));
		close(fd);
	}
}

TEST_F(bind, addrlen_long)
{
	struct sockaddr_storage ss;
	struct sockaddr_in sin = sin_make("127.0.0.1", PORT);
	int fam, fd;

	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, &sin, sizeof(sin));
	FOR_BOTH(fam) {
		fd = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		EXPECT_EQ(0, bind_raw(fd, &ss, sizeof(ss)))
			TH_LOG("%s", fam_name(fam));
		check_sockname(_metadata, fam, fd, "127.0.0.1", PORT);
		close(fd);
	}
}

TEST_F(bind, twice)
{
	int fam, fd;

	FOR_BOTH(fam) {
		fd = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, bind_err(fd, "127.0.0.1", PORT));
		EXPECT_EQ(EINVAL, bind_err(fd, "127.0.0.1", PORT))
			TH_LOG("%s: same port", fam_name(fam));
		EXPECT_EQ(EINVAL, bind_err(fd, "127.0.0.1", PORT + 1))
			TH_LOG("%s: another port", fam_name(fam));
		EXPECT_EQ(EINVAL, bind_err(fd, "0.0.0.0", 0))
			TH_LOG("%s: port 0", fam_name(fam));
		check_sockname(_metadata, fam, fd, "127.0.0.1", PORT);
		close(fd);
	}
}

TEST_F(bind, ephemeral_default_range)
{
	int fam, fd, lo, hi, port;

	FOR_BOTH(fam) {
		ASSERT_EQ(0, read_range(range_sysctl(fam), &lo, &hi));
		if (fam != AF_INET) {
			EXPECT_EQ(61000, lo);
			EXPECT_EQ(65535, hi);
		}
		fd = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, bind_err(fd, "127.0.0.1", 0))
			TH_LOG("%s: %s", fam_name(fam), strerror(errno));
		port = local_port(fd);
		EXPECT_LE(lo, port) TH_LOG("%s", fam_name(fam));
		EXPECT_GE(hi, port) TH_LOG("%s", fam_name(fam));
		check_sockname(_metadata, fam, fd, "127.0.0.1", port);
		close(fd);
	}
}

TEST_F(bind, ephemeral_narrow_range)
{
	int fam, fd, i, port;

	FOR_BOTH(fam) {
		ASSERT_EQ(0, write_file(range_sysctl(fam), "40000 40001"));
		for (i = 0; i < 20; i++) {
			fd = socket(fam, SOCK_STREAM, 0);
			ASSERT_LE(0, fd);
			ASSERT_EQ(0, bind_err(fd, "0.0.0.0", 0))
				TH_LOG("%s: %s", fam_name(fam),
				       strerror(errno));
			port = local_port(fd);
			EXPECT_TRUE(port == 40000 || port == 40001)
				TH_LOG("%s: port %d", fam_name(fam), port);
			close(fd);
		}
	}
}

TEST_F(bind, ephemeral_exhausted)
{
	int fam, fds[11], ports[10], i, j, port, err;

	FOR_BOTH(fam) {
		ASSERT_EQ(0, write_file(range_sysctl(fam), "40000 40009"));
		for (i = 0; i < 10; i++) {
			fds[i] = socket(fam, SOCK_STREAM, 0);
			ASSERT_LE(0, fds[i]);
			ASSERT_EQ(0, bind_err(fds[i], "127.0.0.1", 0))
				TH_LOG("%s: bind %d of 10: %s", fam_name(fam),
				       i + 1, strerror(errno));
			ports[i] = local_port(fds[i]);
			EXPECT_LE(40000, ports[i]);
			EXPECT_GE(40009, ports[i]);
			for (j = 0; j < i; j++)
				EXPECT_NE(ports[j], ports[i])
					TH_LOG("%s: port %d given twice",
					       fam_name(fam), ports[i]);
		}
		fds[10] = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, fds[10]);
		err = bind_err(fds[10], "127.0.0.1", 0);
		EXPECT_EQ(EADDRINUSE, err)
			TH_LOG("%s: 11th bind(0) in a range of 10: got %s, port %d",
			       fam_name(fam), strerror(err),
			       local_port(fds[10]));
		close(fds[10]);

		/* Freeing one port makes exactly that one available. */
		port = ports[3];
		close(fds[3]);
		fds[3] = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, fds[3]);
		ASSERT_EQ(0, bind_err(fds[3], "127.0.0.1", 0))
			TH_LOG("%s: %s", fam_name(fam), strerror(errno));
		EXPECT_EQ(port, local_port(fds[3])) TH_LOG("%s", fam_name(fam));
		for (i = 0; i < 10; i++)
			close(fds[i]);
	}
}

TEST_F(bind, ephemeral_skips_bound_port)
{
	int fam, fd, fd2, fd3, i;

	FOR_BOTH(fam) {
		ASSERT_EQ(0, write_file(range_sysctl(fam), "40000 40001"));
		fd = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, bind_err(fd, "0.0.0.0", 40000));
		for (i = 0; i < 5; i++) {
			fd2 = socket(fam, SOCK_STREAM, 0);
			ASSERT_LE(0, fd2);
			ASSERT_EQ(0, bind_err(fd2, "127.0.0.1", 0))
				TH_LOG("%s: %s", fam_name(fam),
				       strerror(errno));
			EXPECT_EQ(40001, local_port(fd2))
				TH_LOG("%s", fam_name(fam));
			fd3 = socket(fam, SOCK_STREAM, 0);
			ASSERT_LE(0, fd3);
			EXPECT_EQ(EADDRINUSE, bind_err(fd3, "127.0.0.1", 0))
				TH_LOG("%s", fam_name(fam));
			close(fd3);
			close(fd2);
		}
		close(fd);
	}
}

TEST_F(bind, same_addr_port)
{
	struct bsk a = { .addr = "127.0.0.1", .port = PORT };
	struct bsk b = { .addr = "127.0.0.1", .port = PORT };

	check_pair(_metadata, self->ns, &a, &b, EADDRINUSE);
}

TEST_F(bind, same_port_other_port_ok)
{
	struct bsk a = { .addr = "127.0.0.1", .port = PORT };
	struct bsk b = { .addr = "127.0.0.1", .port = PORT + 1 };

	check_pair(_metadata, self->ns, &a, &b, 0);
}

TEST_F(bind, specific_then_any)
{
	struct bsk a = { .addr = "127.0.0.1", .port = PORT };
	struct bsk b = { .addr = "0.0.0.0", .port = PORT };

	check_pair(_metadata, self->ns, &a, &b, EADDRINUSE);
}

TEST_F(bind, any_then_specific)
{
	struct bsk a = { .addr = "0.0.0.0", .port = PORT };
	struct bsk b = { .addr = "127.0.0.1", .port = PORT };

	check_pair(_metadata, self->ns, &a, &b, EADDRINUSE);
}

TEST_F(bind, different_addrs)
{
	struct bsk a = { .addr = "127.0.0.1", .port = PORT };
	struct bsk b = { .addr = OTHER_ADDR, .port = PORT };

	add_other_addr(_metadata, self->ns);
	check_pair(_metadata, self->ns, &a, &b, 0);
	check_pair(_metadata, self->ns, &b, &a, 0);
}

TEST_F(bind, reuseaddr_both)
{
	struct bsk a = { .addr = "127.0.0.1", .port = PORT, .reuseaddr = 1 };
	struct bsk b = { .addr = "127.0.0.1", .port = PORT, .reuseaddr = 1 };
	struct bsk any = { .addr = "0.0.0.0", .port = PORT, .reuseaddr = 1 };

	check_pair(_metadata, self->ns, &a, &b, 0);
	check_pair(_metadata, self->ns, &a, &any, 0);
	check_pair(_metadata, self->ns, &any, &a, 0);
}

TEST_F(bind, reuseaddr_both_listening)
{
	struct bsk a = { .addr = "127.0.0.1", .port = PORT, .reuseaddr = 1 };
	struct bsk b = { .addr = "127.0.0.1", .port = PORT, .reuseaddr = 1 };
	int fam, got;

	FOR_BOTH(fam) {
		got = pair_err(_metadata, fam, &a, &b, 1);
		EXPECT_EQ(EADDRINUSE, got)
			TH_LOG("%s: got %s", fam_name(fam), strerror(got));
	}
}

/*
 * Two SO_REUSEADDR sockets bound to one port, neither listening: the
 * first listen() takes the port (the other is only bound), the second
 * is EADDRINUSE and leaves its socket bound; once the listener closes,
 * it may listen. The same with a wildcard and a specific address,
 * whichever listens first. Linux's inet_csk_get_port() at listen()
 * weighs the other socket's state only.
 */
TEST_F(bind, reuseaddr_both_bound_then_listen)
{
	static const struct {
		const char *first, *second;	/* first listens first */
	} cases[] = {
		{ "127.0.0.1", "127.0.0.1" },
		{ "0.0.0.0", "127.0.0.1" },
		{ "127.0.0.1", "0.0.0.0" },
	};
	int fam, fa, fb, err, i;

	FOR_BOTH(fam) {
		for (i = 0; i < (int)ARRAY_SIZE(cases); i++) {
			fa = stream_socket(fam, 1, 0);
			fb = stream_socket(fam, 1, 0);
			ASSERT_LE(0, fa);
			ASSERT_LE(0, fb);
			ASSERT_EQ(0, bind_err(fa, cases[i].first, PORT));
			ASSERT_EQ(0, bind_err(fb, cases[i].second, PORT))
				TH_LOG("%s: bind %s beside %s", fam_name(fam),
				       cases[i].second, cases[i].first);
			err = listen(fa, 1) ? errno : 0;
			EXPECT_EQ(0, err)
				TH_LOG("%s: first listen() on %s:%d beside a bound %s: %s",
				       fam_name(fam), cases[i].first, PORT,
				       cases[i].second, strerror(err));
			err = listen(fb, 1) ? errno : 0;
			EXPECT_EQ(EADDRINUSE, err)
				TH_LOG("%s: second listen() on %s:%d beside a listening %s: %s",
				       fam_name(fam), cases[i].second, PORT,
				       cases[i].first, strerror(err));
			EXPECT_EQ(PORT, local_port(fb));
			close(fa);
			err = listen(fb, 1) ? errno : 0;
			EXPECT_EQ(0, err)
				TH_LOG("%s: listen() on %s:%d once the listener closed: %s",
				       fam_name(fam), cases[i].second, PORT,
				       strerror(err));
			close(fb);
		}
	}
}

TEST_F(bind, reuseaddr_one)
{
	struct bsk r = { .addr = "127.0.0.1", .port = PORT, .reuseaddr = 1 };
	struct bsk n = { .addr = "127.0.0.1", .port = PORT };

	check_pair(_metadata, self->ns, &r, &n, EADDRINUSE);
	check_pair(_metadata, self->ns, &n, &r, EADDRINUSE);
}

/*
 * SO_REUSEPORT cannot be set on an xtcp socket (6.1's socket core limits
 * it to AF_INET/AF_INET6; Documentation/xtcp.rst): without xtcp's own
 * XTCP_REUSEPORT (listen_test), a second bind to the port fails
 * whatever the first socket asked for.
 */
TEST_F(bind, reuseport_refused)
{
	struct bsk n = { .addr = "127.0.0.1", .port = PORT };
	int one = 1, fd;

	fd = socket(enter(_metadata, self->ns, 1), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
				 sizeof(one)));
	EXPECT_EQ(EOPNOTSUPP, errno);
	close(fd);
	EXPECT_EQ(EADDRINUSE, pair_err(_metadata, xtcp_family(), &n, &n, 0));
}

/* Create d0 (a dummy device, up) in both namespaces; 0 or skip. */
static int add_dummy(struct __test_metadata *_metadata, const int *ns)
{
	int i;

	for (i = 0; i < 2; i++) {
		enter(_metadata, ns, i);
		if (run_cmd("ip link add d0 type dummy"))
			return -1;
		ASSERT_EQ(0, link_up("d0"));
	}
	return 0;
}

TEST_F(bind, bindtodevice_different_devices)
{
	struct bsk a = { .addr = "0.0.0.0", .port = PORT, .dev = "lo" };
	struct bsk b = { .addr = "0.0.0.0", .port = PORT, .dev = "d0" };

	if (add_dummy(_metadata, self->ns))
		SKIP(return, "cannot create a dummy device");
	check_pair(_metadata, self->ns, &a, &b, 0);
	check_pair(_metadata, self->ns, &b, &a, 0);
}

TEST_F(bind, bindtodevice_one)
{
	struct bsk d = { .addr = "0.0.0.0", .port = PORT, .dev = "lo" };
	struct bsk n = { .addr = "0.0.0.0", .port = PORT };

	check_pair(_metadata, self->ns, &d, &n, EADDRINUSE);
	check_pair(_metadata, self->ns, &n, &d, EADDRINUSE);
}

TEST_F(bind, bindtodevice_same_device)
{
	struct bsk a = { .addr = "0.0.0.0", .port = PORT, .dev = "lo" };
	struct bsk b = { .addr = "0.0.0.0", .port = PORT, .dev = "lo" };

	check_pair(_metadata, self->ns, &a, &b, EADDRINUSE);
}

TEST_F(bind, privileged_port_root)
{
	int fam, fd;

	FOR_BOTH(fam) {
		fd = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		EXPECT_EQ(0, bind_err(fd, "127.0.0.1", 80))
			TH_LOG("%s: %s", fam_name(fam), strerror(errno));
		close(fd);
	}
}

struct nobody_bind {
	int fam;
	const char *addr;
	int port;
};

/* In the uid 65534 child: create and bind; exit code = errno. */
static int nobody_bind_fn(void *arg)
{
	struct nobody_bind *nb = arg;
	int fd = socket(nb->fam, SOCK_STREAM, 0);

	if (fd < 0)
		return NOBODY_FAILED + 1;
	return bind_err(fd, nb->addr, nb->port);
}

static void check_nobody_bind(struct __test_metadata *_metadata, int fam,
			      int port, int want)
{
	struct nobody_bind nb = { .fam = fam, .addr = "127.0.0.1",
				  .port = port };
	int got = run_as_nobody(nobody_bind_fn, &nb);

	EXPECT_EQ(want, got)
		TH_LOG("%s: uid 65534 bind to port %d: got %d (%s), want %s",
		       fam_name(fam), port, got,
		       got >= 0 ? strerror(got) : "?", strerror(want));
}

TEST_F(bind, privileged_port_unprivileged)
{
	int fam;

	FOR_BOTH(fam) {
		check_nobody_bind(_metadata, fam, 80, EACCES);
		check_nobody_bind(_metadata, fam, 1023, EACCES);
		check_nobody_bind(_metadata, fam, 1024, 0);
	}
}

TEST_F(bind, unprivileged_port_start_0)
{
	int fam;

	FOR_BOTH(fam) {
		ASSERT_EQ(0, write_file(UNPRIV_START, "0"));
		check_nobody_bind(_metadata, fam, 80, 0);
	}
}

TEST_F(bind, unprivileged_port_start_raised)
{
	int fam;

	FOR_BOTH(fam) {
		ASSERT_EQ(0, write_file(UNPRIV_START, "2000"));
		check_nobody_bind(_metadata, fam, 1500, EACCES);
		check_nobody_bind(_metadata, fam, 2000, 0);
	}
}

TEST_F(bind, nonlocal)
{
	int fam, fd;

	FOR_BOTH(fam) {
		fd = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		EXPECT_EQ(EADDRNOTAVAIL, bind_err(fd, NONLOCAL_ADDR, PORT))
			TH_LOG("%s", fam_name(fam));
		EXPECT_EQ(EADDRNOTAVAIL, bind_err(fd, "198.51.100.1", PORT))
			TH_LOG("%s", fam_name(fam));
		/* Still unbound. */
		EXPECT_EQ(0, local_port(fd));
		close(fd);
	}
}

TEST_F(bind, nonlocal_freebind)
{
	int fam, fd;

	FOR_BOTH(fam) {
		fd = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, setsockopt_int(fd, IPPROTO_IP, IP_FREEBIND, 1));
		EXPECT_EQ(0, bind_err(fd, NONLOCAL_ADDR, PORT))
			TH_LOG("%s", fam_name(fam));
		check_sockname(_metadata, fam, fd, NONLOCAL_ADDR, PORT);
		close(fd);
	}
}

TEST_F(bind, nonlocal_sysctl)
{
	int fam, fd;

	FOR_BOTH(fam) {
		ASSERT_EQ(0, write_file("/proc/sys/net/ipv4/ip_nonlocal_bind",
					"1"));
		fd = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		EXPECT_EQ(0, bind_err(fd, NONLOCAL_ADDR, PORT))
			TH_LOG("%s", fam_name(fam));
		check_sockname(_metadata, fam, fd, NONLOCAL_ADDR, PORT);
		close(fd);
	}
}

/* Multicast and broadcast: whatever Linux TCP does (it accepts them). */
static void check_special_addr(struct __test_metadata *_metadata,
			       const int *ns, const char *addr)
{
	int fam, fd, got, linux_got = -1;

	for (int i = 0; i < 2; i++) {
		fam = enter(_metadata, ns, i);
		fd = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		got = bind_err(fd, addr, PORT);
		if (fam == AF_INET)
			linux_got = got;
		EXPECT_EQ(0, got) TH_LOG("%s: bind %s: %s", fam_name(fam),
					 addr, strerror(got));
		EXPECT_EQ(linux_got, got) TH_LOG("%s", fam_name(fam));
		if (!got)
			check_sockname(_metadata, fam, fd, addr, PORT);
		close(fd);
	}
}

TEST_F(bind, multicast)
{
	check_special_addr(_metadata, self->ns, "224.0.0.1");
}

TEST_F(bind, broadcast)
{
	check_special_addr(_metadata, self->ns, "255.255.255.255");
}

TEST_F(bind, rebind_after_close)
{
	int fam, fd, i;

	FOR_BOTH(fam) {
		for (i = 0; i < 3; i++) {
			fd = socket(fam, SOCK_STREAM, 0);
			ASSERT_LE(0, fd);
			EXPECT_EQ(0, bind_err(fd, "127.0.0.1", PORT))
				TH_LOG("%s: round %d", fam_name(fam), i);
			close(fd);
		}
		/* Also after an ephemeral bind. */
		ASSERT_EQ(0, write_file(range_sysctl(fam), "40100 40100"));
		for (i = 0; i < 3; i++) {
			fd = socket(fam, SOCK_STREAM, 0);
			ASSERT_LE(0, fd);
			EXPECT_EQ(0, bind_err(fd, "127.0.0.1", 0))
				TH_LOG("%s: round %d", fam_name(fam), i);
			EXPECT_EQ(40100, local_port(fd));
			close(fd);
		}
	}
}

TEST_HARNESS_MAIN
