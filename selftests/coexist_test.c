// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp beside Linux's own TCP in one network namespace:
 * - a port bound by Linux TCP cannot be bound by xtcp, on any address;
 * - a port bound explicitly by xtcp cannot be bound by Linux TCP, on any
 *   address, even with SO_REUSEADDR/SO_REUSEPORT, until xtcp lets go;
 * - xtcp's ephemeral range (net.xtcp.ip_local_port_range) is listed in
 *   net.ipv4.ip_local_reserved_ports, follows changes of the range, and
 *   Linux's own ephemeral choice (bind(0), connect()) never lands in it.
 */
#include "kselftest_harness.h"
#include "xtcp_test.h"

#define PORT		40000
#define OTHER_ADDR	"192.0.2.1"	/* added to lo as a /32 */
#define RESERVED	"/proc/sys/net/ipv4/ip_local_reserved_ports"
#define KERNEL_RANGE	"/proc/sys/net/ipv4/ip_local_port_range"
#define XTCP_RANGE	XTCP_SYSCTL_DIR "ip_local_port_range"

static const char * const all_addrs[] = { "127.0.0.1", "0.0.0.0", OTHER_ADDR };
#define NR_ADDRS	ARRAY_SIZE(all_addrs)

FIXTURE(coexist) {
	int ns;
};

FIXTURE_SETUP(coexist)
{
	self->ns = new_netns();
	ASSERT_LE(0, self->ns)
		TH_LOG("new network namespace: %s", strerror(-self->ns));
	ASSERT_EQ(0, run_cmd("ip addr add %s/32 dev lo", OTHER_ADDR));
}

FIXTURE_TEARDOWN(coexist)
{
	if (self->ns >= 0)
		close(self->ns);
}

/* Linux TCP holds the port; xtcp must not get it on any address. */
FIXTURE_VARIANT(coexist) {
	const char *kaddr;	/* the Linux TCP socket's address */
	int klisten;		/* and whether it listens */
};

FIXTURE_VARIANT_ADD(coexist, loopback_bound) { "127.0.0.1", 0 };
FIXTURE_VARIANT_ADD(coexist, loopback_listening) { "127.0.0.1", 1 };
FIXTURE_VARIANT_ADD(coexist, any_listening) { "0.0.0.0", 1 };
FIXTURE_VARIANT_ADD(coexist, other_addr_bound) { OTHER_ADDR, 0 };

/* The socket options tried on the socket that must be refused. */
static const struct {
	int reuseaddr;
	int reuseport;
	const char *name;
} reuse[] = {
	{ 0, 0, "no reuse" },
	{ 1, 0, "SO_REUSEADDR" },
	{ 0, 1, "SO_REUSEPORT" },
	{ 1, 1, "SO_REUSEADDR+SO_REUSEPORT" },
};

/*
 * Linux TCP holds PORT on variant->kaddr: xtcp sockets with the options
 * reuse[first..last] must get EADDRINUSE on every address; another port
 * works; once Linux TCP closes, xtcp gets PORT.
 */
static void check_kernel_port_blocks_xtcp(struct __test_metadata *_metadata,
					  const char *kaddr, int klisten,
					  unsigned int first, unsigned int last)
{
	unsigned int i, r;
	int kfd, xfd, err;

	kfd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, kfd);
	ASSERT_EQ(0, bind_err(kfd, kaddr, PORT));
	if (klisten)
		ASSERT_EQ(0, listen(kfd, 1));

	for (i = 0; i < NR_ADDRS; i++) {
		for (r = first; r <= last; r++) {
			xfd = stream_socket(xtcp_family(), reuse[r].reuseaddr,
					    reuse[r].reuseport);
			ASSERT_LE(0, xfd)
				TH_LOG("xtcp socket with %s: %s", reuse[r].name,
				       strerror(-xfd));
			err = bind_err(xfd, all_addrs[i], PORT);
			EXPECT_EQ(EADDRINUSE, err)
				TH_LOG("xtcp bind %s:%d (%s) beside Linux TCP on %s: %s",
				       all_addrs[i], PORT, reuse[r].name, kaddr,
				       strerror(err));
			close(xfd);
		}
	}

	/* Another port is free: the refusal is about this port only. */
	xfd = stream_socket(xtcp_family(), reuse[last].reuseaddr,
			    reuse[last].reuseport);
	ASSERT_LE(0, xfd);
	EXPECT_EQ(0, bind_err(xfd, kaddr, PORT + 1));
	close(xfd);

	/* Once Linux TCP lets go, xtcp gets the port. */
	close(kfd);
	for (i = 0; i < NR_ADDRS; i++) {
		xfd = stream_socket(xtcp_family(), reuse[last].reuseaddr,
				    reuse[last].reuseport);
		ASSERT_LE(0, xfd);
		err = bind_err(xfd, all_addrs[i], PORT);
		EXPECT_EQ(0, err)
			TH_LOG("xtcp bind %s:%d after Linux TCP closed: %s",
			       all_addrs[i], PORT, strerror(err));
		close(xfd);
	}
}

/* xtcp without options, then with SO_REUSEADDR. */
TEST_F(coexist, kernel_port_blocks_xtcp)
{
	check_kernel_port_blocks_xtcp(_metadata, variant->kaddr,
				      variant->klisten, 0, 1);
}

/*
 * xtcp holds the port (bound to variant->kaddr here); Linux TCP must not
 * get it, with or without SO_REUSEADDR / SO_REUSEPORT.
 */
TEST_F(coexist, xtcp_port_blocks_kernel)
{
	unsigned int i, r;
	int kfd, xfd, err;

	xfd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, xfd);
	ASSERT_EQ(0, bind_err(xfd, variant->kaddr, PORT));

	for (i = 0; i < NR_ADDRS; i++) {
		for (r = 0; r < ARRAY_SIZE(reuse); r++) {
			kfd = stream_socket(AF_INET, reuse[r].reuseaddr,
					    reuse[r].reuseport);
			ASSERT_LE(0, kfd);
			err = bind_err(kfd, all_addrs[i], PORT);
			EXPECT_EQ(EADDRINUSE, err)
				TH_LOG("Linux TCP bind %s:%d (%s) beside xtcp on %s: %s",
				       all_addrs[i], PORT, reuse[r].name,
				       variant->kaddr, strerror(err));
			close(kfd);
		}
	}

	/* Another port is free for Linux TCP. */
	kfd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, kfd);
	EXPECT_EQ(0, bind_err(kfd, variant->kaddr, PORT + 1));
	close(kfd);

	/* Once xtcp lets go, Linux TCP gets the port, on every address. */
	close(xfd);
	for (i = 0; i < NR_ADDRS; i++) {
		kfd = socket(AF_INET, SOCK_STREAM, 0);
		ASSERT_LE(0, kfd);
		err = bind_err(kfd, all_addrs[i], PORT);
		EXPECT_EQ(0, err)
			TH_LOG("Linux TCP bind %s:%d after xtcp closed: %s",
			       all_addrs[i], PORT, strerror(err));
		close(kfd);
	}
}

/* Two xtcp sockets that may share a port still hold it against Linux. */
TEST_F(coexist, xtcp_shared_port_blocks_kernel)
{
	int x1, x2, kfd, err;

	/* SO_REUSEADDR lets two sockets that do not listen share a port. */
	x1 = stream_socket(xtcp_family(), 1, 0);
	x2 = stream_socket(xtcp_family(), 1, 0);
	ASSERT_LE(0, x1);
	ASSERT_LE(0, x2);
	ASSERT_EQ(0, bind_err(x1, variant->kaddr, PORT));
	ASSERT_EQ(0, bind_err(x2, variant->kaddr, PORT));

	/* The first one goes; the port is still held by the second. */
	close(x1);
	kfd = stream_socket(AF_INET, 1, 1);
	ASSERT_LE(0, kfd);
	err = bind_err(kfd, variant->kaddr, PORT);
	EXPECT_EQ(EADDRINUSE, err) TH_LOG("%s", strerror(err));
	close(kfd);

	close(x2);
	kfd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, kfd);
	EXPECT_EQ(0, bind_err(kfd, variant->kaddr, PORT));
	close(kfd);
}

FIXTURE(reserved) {
	int ns;
};

FIXTURE_SETUP(reserved)
{
	self->ns = new_netns();
	ASSERT_LE(0, self->ns)
		TH_LOG("new network namespace: %s", strerror(-self->ns));
}

FIXTURE_TEARDOWN(reserved)
{
	if (self->ns >= 0)
		close(self->ns);
}

/* Every port of [lo, hi] is reserved. */
static void expect_reserved(struct __test_metadata *_metadata, int lo, int hi)
{
	int n = count_reserved(lo, hi);
	char buf[256] = "";

	read_file(RESERVED, buf, sizeof(buf));
	EXPECT_EQ(hi - lo + 1, n)
		TH_LOG("%d of ports %d-%d reserved; ip_local_reserved_ports: %s",
		       n, lo, hi, buf);
}

/* No port of [lo, hi] is reserved. */
static void expect_not_reserved(struct __test_metadata *_metadata, int lo,
				int hi)
{
	int n = count_reserved(lo, hi);
	char buf[256] = "";

	read_file(RESERVED, buf, sizeof(buf));
	EXPECT_EQ(0, n)
		TH_LOG("%d of ports %d-%d reserved; ip_local_reserved_ports: %s",
		       n, lo, hi, buf);
}

TEST(reserved__initial_namespace)
{
	int lo, hi;

	ASSERT_EQ(0, read_range(XTCP_RANGE, &lo, &hi));
	expect_reserved(_metadata, lo, hi);
}

TEST_F(reserved, defaults)
{
	char buf[256];

	ASSERT_LE(0, read_file(RESERVED, buf, sizeof(buf)));
	normalize_ws(buf);
	/* A new namespace reserves nothing else: the list is exactly ours. */
	EXPECT_STREQ("61000-65535", buf);
	expect_reserved(_metadata, 61000, 65535);
	expect_not_reserved(_metadata, 60999, 60999);
}

TEST_F(reserved, follow_range)
{
	char buf[256];

	ASSERT_EQ(0, write_file(XTCP_RANGE, "50000 50009"));
	expect_reserved(_metadata, 50000, 50009);
	expect_not_reserved(_metadata, 61000, 65535);
	expect_not_reserved(_metadata, 49999, 49999);
	expect_not_reserved(_metadata, 50010, 50010);
	ASSERT_LE(0, read_file(RESERVED, buf, sizeof(buf)));
	normalize_ws(buf);
	EXPECT_STREQ("50000-50009", buf);

	/* Overlapping move: the old ports outside the new range go. */
	ASSERT_EQ(0, write_file(XTCP_RANGE, "50005 50020"));
	expect_reserved(_metadata, 50005, 50020);
	expect_not_reserved(_metadata, 50000, 50004);

	/* A refused write changes nothing. */
	EXPECT_EQ(EINVAL, write_file(XTCP_RANGE, "50030 50025"));
	expect_reserved(_metadata, 50005, 50020);
	expect_not_reserved(_metadata, 50021, 50030);

	/* And back. */
	ASSERT_EQ(0, write_file(XTCP_RANGE, "61000 65535"));
	expect_reserved(_metadata, 61000, 65535);
	expect_not_reserved(_metadata, 50000, 50020);
}

/* Ports an administrator reserved stay reserved when xtcp's range moves. */
TEST_F(reserved, keep_admin_entries)
{
	ASSERT_EQ(0, write_file(RESERVED, "45000,61000-65535"));
	ASSERT_EQ(0, write_file(XTCP_RANGE, "50000 50009"));
	expect_reserved(_metadata, 45000, 45000);
	expect_reserved(_metadata, 50000, 50009);
}

TEST_F(reserved, kernel_bind0_avoids_xtcp_range)
{
	int fds[11], i, port, err;

	ASSERT_EQ(0, write_file(XTCP_RANGE, "50000 50009"));
	ASSERT_EQ(0, write_file(KERNEL_RANGE, "50000 50019"));

	for (i = 0; i < 10; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, bind_err(fds[i], "127.0.0.1", 0))
			TH_LOG("Linux bind(0) %d of 10: %s", i + 1,
			       strerror(errno));
		port = local_port(fds[i]);
		EXPECT_LE(50010, port) TH_LOG("Linux TCP got xtcp's port %d",
					      port);
		EXPECT_GE(50019, port);
	}
	/* 50010-50019 are all taken now: no falling back on xtcp's ports. */
	fds[10] = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, fds[10]);
	err = bind_err(fds[10], "127.0.0.1", 0);
	EXPECT_EQ(EADDRINUSE, err)
		TH_LOG("11th Linux bind(0): %s, port %d", strerror(err),
		       local_port(fds[10]));
	for (i = 0; i <= 10; i++)
		close(fds[i]);
}

TEST_F(reserved, kernel_connect_avoids_xtcp_range)
{
	struct sockaddr_in dst = sin_make("127.0.0.1", PORT);
	int lfd, fd, i, port;

	ASSERT_EQ(0, write_file(XTCP_RANGE, "50000 50009"));
	ASSERT_EQ(0, write_file(KERNEL_RANGE, "50000 50019"));

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind_err(lfd, "127.0.0.1", PORT));
	ASSERT_EQ(0, listen(lfd, 16));

	for (i = 0; i < 8; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, connect(fd, (struct sockaddr *)&dst, sizeof(dst)))
			TH_LOG("connect %d: %s", i, strerror(errno));
		port = local_port(fd);
		EXPECT_LE(50010, port) TH_LOG("Linux TCP got xtcp's port %d",
					      port);
		EXPECT_GE(50019, port);
		close(fd);
	}
	close(lfd);
}

/* xtcp's own bind(0) does use its range, reserved or not. */
TEST_F(reserved, xtcp_bind0_uses_reserved_range)
{
	int fd, port;

	ASSERT_EQ(0, write_file(XTCP_RANGE, "50000 50009"));
	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind_err(fd, "127.0.0.1", 0));
	port = local_port(fd);
	EXPECT_LE(50000, port);
	EXPECT_GE(50009, port);
	close(fd);
}

TEST_HARNESS_MAIN
