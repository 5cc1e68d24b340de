/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the xtcp selftests: the family in use, sockaddr_in
 * builders, sysctl reads and writes with errno, and network namespace
 * setup. Include after kselftest_harness.h.
 */
#ifndef _XTCP_TEST_H
#define _XTCP_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/xtcp.h>

#define XTCP_SYSCTL_DIR		"/proc/sys/net/xtcp/"
#define XTCP_FAMILY_PARAM	"/sys/module/xtcp/parameters/family"

/* The family number xtcp is registered under, AF_XTCP if unknown. */
static inline int xtcp_family(void)
{
	static int family;
	char buf[32] = "";
	ssize_t n;
	int fd;

	if (family)
		return family;
	family = AF_XTCP;
	fd = open(XTCP_FAMILY_PARAM, O_RDONLY);
	if (fd < 0)
		return family;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0 && atoi(buf) > 0)
		family = atoi(buf);
	return family;
}

static inline const char *fam_name(int family)
{
	return family == AF_INET ? "Linux TCP" : "xtcp";
}

static inline struct sockaddr_in sin_make(const char *addr, int port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		abort();
	return sin;
}

/* bind() returning 0 or the errno it failed with. */
static inline int bind_err(int fd, const char *addr, int port)
{
	struct sockaddr_in sin = sin_make(addr, port);

	return bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ? errno : 0;
}

static inline int setsockopt_int(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val)) ? errno : 0;
}

/* getsockopt() of an int; returns the value, or -errno on failure. */
static inline int getsockopt_int(int fd, int level, int opt)
{
	socklen_t len = sizeof(int);
	int val = 0;

	if (getsockopt(fd, level, opt, &val, &len))
		return -errno;
	return val;
}

/* The local port of a bound socket, or -errno. */
static inline int local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len))
		return -errno;
	return ntohs(sin.sin_port);
}

/* A socket of @family with @opts (SO_* at SOL_SOCKET) set to 1. */
static inline int stream_socket(int family, int so_reuseaddr,
				int so_reuseport)
{
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		return -errno;
	if ((so_reuseaddr &&
	     setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)) ||
	    (so_reuseport &&
	     setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1))) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

/*
 * Read a sysctl (or any small file) into @buf, NUL terminated.
 * Returns the length read or -errno.
 */
static inline int read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		n = -errno;
		buf[0] = '\0';
	} else {
		buf[n] = '\0';
	}
	close(fd);
	return n;
}

/*
 * Write @val to a sysctl in a single write(2), the way a program would.
 * Returns 0 when the whole string was written, else the errno.
 */
static inline int write_file(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno;
	n = write(fd, val, len);
	if (n < 0)
		err = errno;
	else if ((size_t)n != len)
		err = EIO;
	if (close(fd) && !err)
		err = errno;
	return err;
}

/* Collapse runs of blanks to one space and drop the trailing newline. */
static inline void normalize_ws(char *s)
{
	char *out = s;
	int space = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n') {
			space = 1;
			continue;
		}
		if (space)
			*out++ = ' ';
		space = 0;
		*out++ = *s;
	}
	*out = '\0';
}

/* Read two ints such as a port range; returns 0 or -errno/-EINVAL. */
static inline int read_range(const char *path, int *lo, int *hi)
{
	char buf[128];
	int n = read_file(path, buf, sizeof(buf));

	if (n < 0)
		return n;
	if (sscanf(buf, "%d %d", lo, hi) != 2)
		return -EINVAL;
	return 0;
}

/*
 * Is @port listed in /proc/sys/net/ipv4/ip_local_reserved_ports (a
 * comma separated list of ports and lo-hi ranges)? 1, 0, or -errno.
 */
static inline int port_reserved(int port)
{
	static char buf[65536];
	char *tok, *save;
	int n;

	n = read_file("/proc/sys/net/ipv4/ip_local_reserved_ports", buf,
		      sizeof(buf));
	if (n < 0)
		return n;
	for (tok = strtok_r(buf, ",\n", &save); tok;
	     tok = strtok_r(NULL, ",\n", &save)) {
		int lo, hi;

		if (sscanf(tok, "%d-%d", &lo, &hi) == 2) {
			if (port >= lo && port <= hi)
				return 1;
		} else if (atoi(tok) == port) {
			return 1;
		}
	}
	return 0;
}

/* How many ports of [lo, hi] are in ip_local_reserved_ports, or -errno. */
static inline int count_reserved(int lo, int hi)
{
	int port, n = 0, r;

	for (port = lo; port <= hi; port++) {
		r = port_reserved(port);
		if (r < 0)
			return r;
		n += r;
	}
	return n;
}

/* Set IFF_UP on @ifname in the current namespace; 0 or errno. */
static inline int link_up(const char *ifname)
{
	struct ifreq ifr;
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		err = errno;
	} else {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr))
			err = errno;
	}
	close(fd);
	return err;
}

/* Run a shell command quietly; 0 when it exited 0. */
static inline int run_cmd(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " >/dev/null 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	fflush(stdout);
	fflush(stderr);
	ret = system(cmd);
	if (ret == -1 || !WIFEXITED(ret))
		return -1;
	return WEXITSTATUS(ret);
}

/*
 * Move the calling process into a new network namespace with lo up.
 * Returns an fd for the namespace (for setns()) or -errno.
 */
static inline int new_netns(void)
{
	int err, fd;

	if (unshare(CLONE_NEWNET))
		return -errno;
	err = link_up("lo");
	if (err)
		return -err;
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fd;
}

/*
 * Fork; the child drops to uid/gid 65534 (which clears every
 * capability), runs @fn(@arg) and exits with its return value (an errno
 * or 0). Returns that value, or -1 if the child did not exit normally.
 */
static inline int run_as_nobody(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(250);
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* ---- Connect path: counters, namespaces with a veth pair, captures ---- */

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <net/ethernet.h>
#include <netpacket/packet.h>

#define XTCP_STAT_FILE		"/proc/thread-self/net/xtcp_stat"
#define XTCP_REFCNT_FILE	"/sys/module/xtcp/refcnt"

/*
 * A counter of /proc/net/xtcp_stat ("Name value" lines) in the calling
 * thread's network namespace; -1 if it is not listed.
 */
static inline long long xtcp_stat(const char *name)
{
	size_t len = strlen(name);
	char buf[4096];
	char *line;

	if (read_file(XTCP_STAT_FILE, buf, sizeof(buf)) < 0)
		return -1;
	for (line = buf; line && *line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (!strncmp(line, name, len) && line[len] == ' ')
			return atoll(line + len + 1);
	}
	return -1;
}

/* The reference count of the xtcp module (live sockets hold one each). */
static inline int xtcp_module_refcnt(void)
{
	char buf[32];

	if (read_file(XTCP_REFCNT_FILE, buf, sizeof(buf)) < 0)
		return -1;
	return atoi(buf);
}

static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* An fd for the calling thread's network namespace, or -errno. */
static inline int netns_current(void)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/*
 * socket() in the namespace @nsfd: the calling thread steps in and back.
 * A socket keeps its namespace for life, whichever thread uses it.
 * Returns the fd or -errno.
 */
static inline int socket_in_netns(int nsfd, int domain, int type, int proto)
{
	int cur = netns_current(), fd;

	if (cur < 0)
		return cur;
	if (setns(nsfd, CLONE_NEWNET)) {
		fd = -errno;
	} else {
		fd = socket(domain, type, proto);
		if (fd < 0)
			fd = -errno;
		if (setns(cur, CLONE_NEWNET))
			abort();	/* the caller would be lost */
	}
	close(cur);
	return fd;
}

/* run_cmd() in the namespace @nsfd; the calling thread steps back. */
static inline int run_cmd_in_netns(int nsfd, const char *fmt, ...)
{
	int cur = netns_current(), ret = -1;
	char cmd[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (cur < 0)
		return -1;
	if (!setns(nsfd, CLONE_NEWNET)) {
		ret = run_cmd("%s", cmd);
		if (setns(cur, CLONE_NEWNET))
			abort();
	}
	close(cur);
	return ret;
}

/* connect() returning 0 or the errno it failed with. */
static inline int connect_err(int fd, const char *addr, int port)
{
	struct sockaddr_in sin = sin_make(addr, port);

	return connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ? errno : 0;
}

/* poll() one fd for up to @timeout_ms; its revents, 0 on timeout. */
static inline int poll_one(int fd, int events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return 0;
	return pfd.revents;
}

/*
 * Two network namespaces joined by a veth pair: A (NETPAIR_A_ADDR on
 * NETPAIR_A_DEV) and B (NETPAIR_B_ADDR on NETPAIR_B_DEV), both /24, with
 * fixed MAC addresses and IPv6 off (no background traffic on the link).
 */
#define NETPAIR_A_ADDR	"192.0.2.1"
#define NETPAIR_B_ADDR	"192.0.2.2"
#define NETPAIR_A_DEV	"va"
#define NETPAIR_B_DEV	"vb"
#define NETPAIR_A_MAC	"02:00:00:00:00:0a"
#define NETPAIR_B_MAC	"02:00:00:00:00:0b"

struct netpair {
	int a;		/* namespace fds */
	int b;
};

static inline void netpair_no_ipv6(void)
{
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
}

/*
 * Create both namespaces and the link; the calling thread ends up in A.
 * Returns NULL or the step that failed.
 */
static inline const char *netpair_setup(struct netpair *np)
{
	np->a = -1;
	np->b = -1;
	np->b = new_netns();
	if (np->b < 0)
		return "namespace B";
	netpair_no_ipv6();
	np->a = new_netns();
	if (np->a < 0)
		return "namespace A";
	netpair_no_ipv6();
	if (run_cmd("ip link add %s address %s type veth "
		    "peer name %s address %s netns /proc/%d/fd/%d",
		    NETPAIR_A_DEV, NETPAIR_A_MAC, NETPAIR_B_DEV,
		    NETPAIR_B_MAC, getpid(), np->b))
		return "ip link add ... type veth";
	if (run_cmd("ip addr add %s/24 dev %s", NETPAIR_A_ADDR,
		    NETPAIR_A_DEV) || link_up(NETPAIR_A_DEV))
		return "address of A";
	if (run_cmd_in_netns(np->b, "ip addr add %s/24 dev %s && ip link set %s up",
			     NETPAIR_B_ADDR, NETPAIR_B_DEV, NETPAIR_B_DEV))
		return "address of B";
	return NULL;
}

/* Permanent neighbour entries both ways: no ARP delays on the link. */
static inline int netpair_static_neigh(const struct netpair *np)
{
	if (run_cmd("ip neigh replace %s lladdr %s dev %s nud permanent",
		    NETPAIR_B_ADDR, NETPAIR_B_MAC, NETPAIR_A_DEV))
		return -1;
	return run_cmd_in_netns(np->b,
				"ip neigh replace %s lladdr %s dev %s nud permanent",
				NETPAIR_A_ADDR, NETPAIR_A_MAC, NETPAIR_B_DEV);
}

static inline void netpair_close(struct netpair *np)
{
	if (np->a >= 0)
		close(np->a);
	if (np->b >= 0)
		close(np->b);
	np->a = -1;
	np->b = -1;
}

/* TCP flag bits, as in the header's 14th byte. */
#define SEG_FIN		0x01U
#define SEG_SYN		0x02U
#define SEG_RST		0x04U
#define SEG_PSH		0x08U
#define SEG_ACK		0x10U
#define SEG_ECE		0x40U
#define SEG_CWR		0x80U

/**
 * struct cap_seg - one IPv4 datagram seen by a capture socket
 * @ts: when the kernel saw it (CLOCK_REALTIME)
 * @out: sent from the capturing namespace (else received by it)
 * @len: bytes of @data (the IP datagram; Ethernet padding removed)
 * @data: the datagram from its IP header on
 * @ihl: IP header length in bytes
 * @proto: IP protocol
 * @ttl: IP TTL
 * @df: the IP don't-fragment bit
 * @saddr: source address, network order
 * @daddr: destination address, network order
 * @sport: TCP source port (host order), TCP only as all below
 * @dport: TCP destination port
 * @seq: sequence number
 * @ack: acknowledgment number
 * @flags: SEG_* bits
 * @win: the window field
 * @doff: TCP header length in bytes
 * @optoff: offset of the TCP options in @data
 * @optlen: their length
 * @paylen: TCP payload bytes
 */
struct cap_seg {
	struct timespec		ts;
	int			out;
	int			len;
	unsigned char		data[2048];
	unsigned int		ihl, proto, ttl, df;
	uint32_t		saddr, daddr;
	unsigned int		sport, dport;
	uint32_t		seq, ack;
	unsigned int		flags, win, doff, optoff, optlen, paylen;
};

static inline uint32_t cap_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/*
 * A packet socket in namespace @nsfd on its device @ifname: it sees the
 * frames the device receives before tc ingress, and those it sends after
 * the qdisc. Returns the fd or -errno.
 */
static inline int cap_open(int nsfd, const char *ifname)
{
	struct sockaddr_ll sll;
	int fd, cur, one = 1, ifindex = 0;

	fd = socket_in_netns(nsfd, AF_PACKET, SOCK_RAW | SOCK_CLOEXEC,
			     htons(ETH_P_ALL));
	if (fd < 0)
		return fd;
	cur = netns_current();
	if (cur >= 0 && !setns(nsfd, CLONE_NEWNET)) {
		ifindex = if_nametoindex(ifname);
		if (setns(cur, CLONE_NEWNET))
			abort();
	}
	if (cur >= 0)
		close(cur);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (!ifindex ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		int err = ifindex ? errno : ENODEV;

		close(fd);
		return -err;
	}
	return fd;
}

/* Fill the parsed fields of @s from its datagram; 0, or -1 if malformed. */
static inline int cap_parse(struct cap_seg *s)
{
	const unsigned char *ip = s->data, *th;
	unsigned int totlen;

	if (s->len < 20 || (ip[0] >> 4) != 4)
		return -1;
	s->ihl = (ip[0] & 0xf) * 4;
	totlen = ip[2] << 8 | ip[3];
	if (s->ihl < 20 || totlen < s->ihl || totlen > (unsigned int)s->len)
		return -1;
	s->len = totlen;
	s->proto = ip[9];
	s->ttl = ip[8];
	s->df = !!(ip[6] & 0x40);
	memcpy(&s->saddr, ip + 12, 4);
	memcpy(&s->daddr, ip + 16, 4);
	if (s->proto != IPPROTO_TCP)
		return 0;
	th = ip + s->ihl;
	if (totlen < s->ihl + 20)
		return -1;
	s->sport = th[0] << 8 | th[1];
	s->dport = th[2] << 8 | th[3];
	s->seq = cap_be32(th + 4);
	s->ack = cap_be32(th + 8);
	s->doff = (th[12] >> 4) * 4;
	s->flags = th[13];
	s->win = th[14] << 8 | th[15];
	if (s->doff < 20 || s->ihl + s->doff > totlen)
		return -1;
	s->optoff = s->ihl + 20;
	s->optlen = s->doff - 20;
	s->paylen = totlen - s->ihl - s->doff;
	return 0;
}

/*
 * The next IPv4 datagram on capture socket @fd, waiting up to
 * @timeout_ms. Returns 1 with @s filled, 0 on timeout, -errno.
 */
static inline int cap_next(int fd, struct cap_seg *s, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	unsigned char frame[sizeof(s->data) + 14];
	char cbuf[CMSG_SPACE(sizeof(struct timespec))];

	for (;;) {
		struct iovec iov = { .iov_base = frame, .iov_len = sizeof(frame) };
		struct sockaddr_ll sll;
		struct msghdr msg = {
			.msg_name = &sll, .msg_namelen = sizeof(sll),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		long long left = end - now_ms();
		struct cmsghdr *cm;
		ssize_t n;

		if (left < 0)
			left = 0;
		if (!(poll_one(fd, POLLIN, left) & POLLIN))
			return 0;
		n = recvmsg(fd, &msg, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		if (n < 14 + 20 || frame[12] != 0x08 || frame[13] != 0x00)
			continue;
		memset(s, 0, offsetof(struct cap_seg, data));
		clock_gettime(CLOCK_REALTIME, &s->ts);
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_TIMESTAMPNS)
				memcpy(&s->ts, CMSG_DATA(cm), sizeof(s->ts));
		s->out = sll.sll_pkttype == PACKET_OUTGOING;
		s->len = n - 14;
		memcpy(s->data, frame + 14, s->len);
		if (!cap_parse(s))
			return 1;
	}
}

/*
 * The next TCP segment between @port (either end, host order; 0: any)
 * and anything, skipping other traffic. As cap_next().
 */
static inline int cap_next_tcp(int fd, struct cap_seg *s, int port,
			       int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	int ret;

	do {
		long long left = end - now_ms();

		ret = cap_next(fd, s, left > 0 ? left : 0);
		if (ret <= 0)
			return ret;
	} while (s->proto != IPPROTO_TCP ||
		 (port && s->sport != (unsigned int)port &&
		  s->dport != (unsigned int)port));
	return 1;
}

static inline double cap_ms_between(const struct cap_seg *a,
				    const struct cap_seg *b)
{
	return (b->ts.tv_sec - a->ts.tv_sec) * 1000.0 +
	       (b->ts.tv_nsec - a->ts.tv_nsec) / 1e6;
}

/* The Internet checksum's running sum over @len bytes. */
static inline uint32_t inet_sum(uint32_t sum, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	for (; len > 1; p += 2, len -= 2)
		sum += p[0] << 8 | p[1];
	if (len)
		sum += p[0] << 8;
	return sum;
}

static inline uint16_t inet_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* Is the IP header checksum of @s right? */
static inline int cap_ip_csum_ok(const struct cap_seg *s)
{
	return inet_fold(inet_sum(0, s->data, s->ihl)) == 0;
}

/* Is the TCP checksum of @s right (pseudo-header included)? */
static inline int cap_tcp_csum_ok(const struct cap_seg *s)
{
	uint32_t sum = inet_sum(0, s->data + 12, 8);	/* addresses */

	sum += IPPROTO_TCP + (s->len - s->ihl);
	sum = inet_sum(sum, s->data + s->ihl, s->len - s->ihl);
	return inet_fold(sum) == 0;
}

/*
 * Close this process's sockets, only the xtcp ones if @xtcp_only (the
 * tests' teardowns close xtcp's first, so they end before their peers).
 */
static inline void close_sockets(int xtcp_only)
{
	struct stat st;
	int fd;

	for (fd = 3; fd < 1024; fd++) {
		if (fstat(fd, &st) || !S_ISSOCK(st.st_mode))
			continue;
		if (xtcp_only &&
		    getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN) != xtcp_family())
			continue;
		close(fd);
	}
}

/*
 * Close this process's sockets, xtcp's first so they end before their
 * peers, and wait up to 10 s for xtcp.ko's reference count to fall back
 * to @before: no xtcp connection may outlive a test (module_test.sh's
 * rmmod would fail). Returns the last count read.
 */
static inline int close_sockets_wait(int before)
{
	int i, refcnt = -1;

	close_sockets(1);
	close_sockets(0);
	for (i = 0; i < 100; i++) {
		refcnt = xtcp_module_refcnt();
		if (refcnt <= before)
			break;
		usleep(100000);
	}
	return refcnt;
}

#endif /* _XTCP_TEST_H */
