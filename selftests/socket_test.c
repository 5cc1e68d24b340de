// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp socket creation: which (type, protocol) pairs socket() accepts
 * and the errno for the others, the address a fresh socket reports, the
 * SOL_SOCKET and IPPROTO_IP options that must read back what was set
 * (compared with a Linux TCP socket where Linux defines the result),
 * and many create/close cycles.
 */
#include "kselftest_harness.h"
#include "xtcp_test.h"

#include <limits.h>
#include <stdbool.h>
#include <netinet/tcp.h>

#ifndef SO_DOMAIN
#define SO_DOMAIN	39
#endif
#ifndef SO_PROTOCOL
#define SO_PROTOCOL	38
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24
#endif

/* socket() returning the fd, or -errno. */
static int sock_err(int family, int type, int protocol)
{
	int fd = socket(family, type, protocol);

	return fd < 0 ? -errno : fd;
}

TEST(socket__stream_protocol_0)
{
	int fd = sock_err(xtcp_family(), SOCK_STREAM, 0);

	ASSERT_LE(0, fd)
		TH_LOG("socket(%d, SOCK_STREAM, 0): %s", xtcp_family(),
		       strerror(-fd));
	EXPECT_EQ(0, close(fd));
}

TEST(socket__stream_ipproto_tcp)
{
	int fd = sock_err(xtcp_family(), SOCK_STREAM, IPPROTO_TCP);

	ASSERT_LE(0, fd)
		TH_LOG("socket(%d, SOCK_STREAM, IPPROTO_TCP): %s",
		       xtcp_family(), strerror(-fd));
	EXPECT_EQ(0, close(fd));
}

TEST(socket__nonblock_cloexec)
{
	int fd = sock_err(xtcp_family(),
			  SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(SOCK_STREAM, getsockopt_int(fd, SOL_SOCKET, SO_TYPE));
	EXPECT_EQ(0, close(fd));

	/* And without the flags, neither is set. */
	fd = sock_err(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	EXPECT_FALSE(fcntl(fd, F_GETFL) & O_NONBLOCK);
	EXPECT_FALSE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, close(fd));
}

TEST(socket__unsupported_types)
{
	static const struct { int type; const char *name; } types[] = {
		{ SOCK_DGRAM, "SOCK_DGRAM" },
		{ SOCK_RAW, "SOCK_RAW" },
		{ SOCK_SEQPACKET, "SOCK_SEQPACKET" },
		{ SOCK_RDM, "SOCK_RDM" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		int fd = sock_err(xtcp_family(), types[i].type, 0);

		if (fd >= 0)
			close(fd);
		EXPECT_EQ(-ESOCKTNOSUPPORT, fd)
			TH_LOG("%s: got %s", types[i].name,
			       fd >= 0 ? "a socket" : strerror(-fd));
	}
}

/*
 * Protocols inside [0, IPPROTO_MAX) that are not TCP: EPROTONOSUPPORT, as
 * Linux's inet_create() answers for SOCK_STREAM (checked too, except for
 * SCTP, which Linux does offer as a stream socket). IPPROTO_MAX is 263
 * since IPPROTO_MPTCP (262), so 256 is in this group.
 */
TEST(socket__unsupported_protocols)
{
	static const struct {
		int proto;
		const char *name;
		bool check_linux;
	} protos[] = {
		{ IPPROTO_UDP, "IPPROTO_UDP", true },
		{ IPPROTO_SCTP, "IPPROTO_SCTP", false },
		{ IPPROTO_RAW, "IPPROTO_RAW", true },
		{ 200, "200", true },
		{ 256, "256", true },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(protos); i++) {
		int fd = sock_err(xtcp_family(), SOCK_STREAM, protos[i].proto);
		int kfd = sock_err(AF_INET, SOCK_STREAM, protos[i].proto);

		if (fd >= 0)
			close(fd);
		if (kfd >= 0)
			close(kfd);
		if (protos[i].check_linux)
			EXPECT_EQ(-EPROTONOSUPPORT, kfd)
				TH_LOG("test bug: Linux TCP gives %s for %s",
				       kfd >= 0 ? "a socket" : strerror(-kfd),
				       protos[i].name);
		EXPECT_EQ(-EPROTONOSUPPORT, fd)
			TH_LOG("%s: got %s", protos[i].name,
			       fd >= 0 ? "a socket" : strerror(-fd));
	}
}

/* protocol < 0 or >= IPPROTO_MAX: EINVAL, as inet_create() answers. */
TEST(socket__protocol_out_of_range)
{
	static const int protos[] = { -1, INT_MIN, IPPROTO_MAX, 65536,
				      INT_MAX };
	unsigned int i;

	ASSERT_EQ(263, IPPROTO_MAX);
	for (i = 0; i < ARRAY_SIZE(protos); i++) {
		int fd = sock_err(xtcp_family(), SOCK_STREAM, protos[i]);
		int kfd = sock_err(AF_INET, SOCK_STREAM, protos[i]);

		if (fd >= 0)
			close(fd);
		if (kfd >= 0)
			close(kfd);
		EXPECT_EQ(-EINVAL, kfd)
			TH_LOG("test bug: Linux TCP gives %s for %d",
			       kfd >= 0 ? "a socket" : strerror(-kfd),
			       protos[i]);
		EXPECT_EQ(-EINVAL, fd)
			TH_LOG("protocol %d: got %s", protos[i],
			       fd >= 0 ? "a socket" : strerror(-fd));
	}
}

TEST(socket__getsockname_fresh)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	socklen_t len = sizeof(ss);
	int fd;

	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	memset(&ss, 0xa5, sizeof(ss));
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&ss, &len))
		TH_LOG("getsockname: %s", strerror(errno));
	EXPECT_EQ(sizeof(struct sockaddr_in), len);
	EXPECT_EQ(AF_INET, sin->sin_family);
	EXPECT_EQ(0, sin->sin_port);
	EXPECT_EQ(htonl(INADDR_ANY), sin->sin_addr.s_addr);
	close(fd);
}

TEST(socket__getpeername_unconnected)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, getpeername(fd, (struct sockaddr *)&sin, &len));
	EXPECT_EQ(ENOTCONN, errno);
	close(fd);
}

TEST(sockopt__type_protocol_domain)
{
	int fd;

	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(SOCK_STREAM, getsockopt_int(fd, SOL_SOCKET, SO_TYPE));
	EXPECT_EQ(IPPROTO_TCP, getsockopt_int(fd, SOL_SOCKET, SO_PROTOCOL));
	EXPECT_EQ(xtcp_family(), getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN));
	close(fd);

	/* Protocol 0 and IPPROTO_TCP give the same socket. */
	fd = socket(xtcp_family(), SOCK_STREAM, IPPROTO_TCP);
	ASSERT_LE(0, fd);
	EXPECT_EQ(IPPROTO_TCP, getsockopt_int(fd, SOL_SOCKET, SO_PROTOCOL));
	close(fd);
}

TEST(sockopt__so_error)
{
	int fd;

	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, getsockopt_int(fd, SOL_SOCKET, SO_ERROR));
	close(fd);
}

/*
 * Boolean options: off on a fresh socket, then set to 1 and back to 0,
 * read back each time.
 */
static void check_bool_opt(struct __test_metadata *_metadata, int level,
			   int opt, const char *name)
{
	int fd;

	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, getsockopt_int(fd, level, opt))
		TH_LOG("%s is not off on a fresh socket", name);
	ASSERT_EQ(0, setsockopt_int(fd, level, opt, 1))
		TH_LOG("setting %s: %s", name, strerror(errno));
	EXPECT_EQ(1, getsockopt_int(fd, level, opt))
		TH_LOG("%s does not read back 1", name);
	ASSERT_EQ(0, setsockopt_int(fd, level, opt, 0));
	EXPECT_EQ(0, getsockopt_int(fd, level, opt))
		TH_LOG("%s does not read back 0", name);
	close(fd);
}

TEST(sockopt__reuseaddr)
{
	check_bool_opt(_metadata, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR");
}

/*
 * 6.1's socket core takes SO_REUSEPORT only on AF_INET/AF_INET6 sockets
 * (sk_is_inet()); xtcp documents the EOPNOTSUPP (Documentation/xtcp.rst).
 * Setting 0 is harmless and accepted; reading gives 0.
 */
TEST(sockopt__reuseport_refused)
{
	int fd = socket(xtcp_family(), SOCK_STREAM, 0);
	int one = 1, zero = 0, val = -1;
	socklen_t len = sizeof(val);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
				 sizeof(one)));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &zero,
				sizeof(zero)));
	EXPECT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &val, &len));
	EXPECT_EQ(0, val);
	close(fd);
}

TEST(sockopt__keepalive)
{
	check_bool_opt(_metadata, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE");
}

TEST(sockopt__ip_freebind)
{
	check_bool_opt(_metadata, IPPROTO_IP, IP_FREEBIND, "IP_FREEBIND");
}

TEST(sockopt__ip_bind_address_no_port)
{
	check_bool_opt(_metadata, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT,
		       "IP_BIND_ADDRESS_NO_PORT");
}

/*
 * Set @opt to @val on an xtcp and on a Linux TCP socket; both must read
 * back @want (Linux doubles buffer sizes, for instance).
 */
static void check_int_opt(struct __test_metadata *_metadata, int level,
			  int opt, const char *name, int val, int want)
{
	int xfd, kfd;

	xfd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, xfd);
	kfd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, kfd);

	ASSERT_EQ(0, setsockopt_int(kfd, level, opt, val));
	ASSERT_EQ(want, getsockopt_int(kfd, level, opt))
		TH_LOG("test bug: Linux TCP reads %s=%d back as %d", name,
		       val, getsockopt_int(kfd, level, opt));

	ASSERT_EQ(0, setsockopt_int(xfd, level, opt, val))
		TH_LOG("setting %s=%d: %s", name, val, strerror(errno));
	EXPECT_EQ(want, getsockopt_int(xfd, level, opt))
		TH_LOG("%s=%d", name, val);
	close(xfd);
	close(kfd);
}

TEST(sockopt__sndbuf)
{
	check_int_opt(_metadata, SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF",
		      65536, 2 * 65536);
	check_int_opt(_metadata, SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF",
		      20000, 2 * 20000);
}

TEST(sockopt__rcvbuf)
{
	check_int_opt(_metadata, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF",
		      65536, 2 * 65536);
	check_int_opt(_metadata, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF",
		      20000, 2 * 20000);
}

TEST(sockopt__ip_tos)
{
	check_int_opt(_metadata, IPPROTO_IP, IP_TOS, "IP_TOS", 0x10, 0x10);
	check_int_opt(_metadata, IPPROTO_IP, IP_TOS, "IP_TOS", 0xb8, 0xb8);
}

TEST(sockopt__ip_ttl)
{
	check_int_opt(_metadata, IPPROTO_IP, IP_TTL, "IP_TTL", 17, 17);
	check_int_opt(_metadata, IPPROTO_IP, IP_TTL, "IP_TTL", 255, 255);
}

TEST(sockopt__bindtodevice_lo)
{
	char name[IFNAMSIZ + 1];
	socklen_t len = sizeof(name);
	int fd;

	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3))
		TH_LOG("SO_BINDTODEVICE lo: %s", strerror(errno));
	memset(name, 'x', sizeof(name));
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &len));
	EXPECT_EQ(3, (int)len);
	EXPECT_STREQ("lo", name);

	/* An empty name unbinds: reads back empty. */
	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "", 0));
	len = sizeof(name);
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &len));
	EXPECT_EQ(0, (int)len);
	close(fd);
}

TEST(socket__create_close_1000)
{
	int i, fd, first;

	first = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, first);
	ASSERT_EQ(0, close(first));

	for (i = 0; i < 1000; i++) {
		fd = socket(xtcp_family(), SOCK_STREAM, 0);
		ASSERT_LE(0, fd) TH_LOG("cycle %d: %s", i, strerror(errno));
		/* No descriptor is left behind between cycles. */
		ASSERT_EQ(first, fd) TH_LOG("cycle %d", i);
		ASSERT_EQ(0, close(fd)) TH_LOG("cycle %d", i);
	}

	/* Still works afterwards. */
	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(SOCK_STREAM, getsockopt_int(fd, SOL_SOCKET, SO_TYPE));
	close(fd);
}

TEST_HARNESS_MAIN
