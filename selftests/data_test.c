// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp data transfer and close, with Linux's TCP as the peer.
 *
 * Each test runs in two fresh network namespaces joined by a veth pair
 * (struct netpair): A (192.0.2.1 on va) holds the xtcp socket, B
 * (192.0.2.2 on vb) Linux's TCP, whose sockets are made by stepping into
 * B (socket_in_netns()) and driven from threads of the test. Streams are
 * a fixed pseudo-random pattern: the receiver compares every byte with
 * it (reporting the first wrong offset) and both ends hash what they
 * sent and received (64-bit FNV-1a) and count the bytes.
 *
 * Captures run in a thread of their own (struct capture): a packet
 * socket in A on va sees what xtcp sends after the qdisc, one in B on vb
 * what B receives and sends; every TCP header is logged with its wire
 * length and the kernel's timestamp, and the kernel's drop count must
 * stay 0 so that counts taken from a capture are complete.
 *
 * Where the expected behaviour is Linux's own, a Linux TCP client in A
 * plays the same scenario and xtcp must give the same results.
 *
 * Teardown stops the captures and removes qdiscs, closes the xtcp
 * sockets, then the others, and waits for the module's reference count
 * to come back to where it was: no connection may outlive its test.
 */
#include "kselftest_harness.h"
#include "xtcp_test.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>

#ifndef SO_DOMAIN
#define SO_DOMAIN	39
#endif

#define A_ADDR		NETPAIR_A_ADDR
#define B_ADDR		NETPAIR_B_ADDR
#define B_PORT		5000		/* Linux listeners in B */
#define B_PORT2		5001
#define MB		(1024LL * 1024)
#define CHUNK		65536		/* bytes per send()/recv() call */
#define PAT_LEN		(1024 * 1024 + 4093)	/* no multiple of an MSS */
#define XFER_TIMEO_MS	20000		/* a stalled call fails, not hangs */
#define FNV_INIT	0xcbf29ce484222325ULL
#define MSS_1500	(1500 - 40 - 12)	/* timestamps on every segment */

/* The stream: byte i is pat[i % PAT_LEN]; CHUNK more bytes wrap around. */
static unsigned char pat[PAT_LEN + CHUNK];

static void __attribute__((constructor)) pat_init(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i < PAT_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		pat[i] = x >> 32;
	}
	memcpy(pat + PAT_LEN, pat, CHUNK);
}

static const unsigned char *pat_at(long long off)
{
	return pat + off % PAT_LEN;
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Offset of the first byte of @buf (@n <= CHUNK) not at @off, or -1. */
static long long pat_mismatch(long long off, const unsigned char *buf,
			      size_t n)
{
	const unsigned char *p = pat_at(off);
	size_t i;

	if (!memcmp(buf, p, n))
		return -1;
	for (i = 0; buf[i] == p[i]; i++)
		;
	return off + i;
}

static long long rt_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- environment ---- */

struct capture;

/* What every test has: the namespaces and what teardown must undo. */
struct env {
	struct netpair	np;
	int		refcnt;	/* xtcp.ko's reference count before the test */
	int		tc_a;	/* a qdisc was added on va / vb */
	int		tc_b;
	struct capture	*caps[4];
	int		ncaps;
};

static void cap_stop(struct capture *c);

static void env_setup(struct __test_metadata *_metadata, struct env *e)
{
	const char *step;

	e->np.a = -1;
	e->np.b = -1;
	e->refcnt = xtcp_module_refcnt();
	ASSERT_LE(0, e->refcnt) TH_LOG("%s unreadable", XTCP_REFCNT_FILE);
	step = netpair_setup(&e->np);
	ASSERT_EQ(NULL, step) TH_LOG("namespaces and veth: %s failed", step);
}

static void env_teardown(struct __test_metadata *_metadata, struct env *e)
{
	int i, refcnt;

	for (i = 0; i < e->ncaps; i++)
		cap_stop(e->caps[i]);
	/* Nothing may stay queued or dropped while connections close. */
	if (e->tc_b)
		run_cmd_in_netns(e->np.b, "tc qdisc del dev %s root",
				 NETPAIR_B_DEV);
	if (e->tc_a)
		run_cmd("tc qdisc del dev %s root", NETPAIR_A_DEV);
	refcnt = close_sockets_wait(e->refcnt);
	if (refcnt > e->refcnt)
		TH_LOG("xtcp sockets alive 10 s after teardown closed them: "
		       "module refcount %d, %d before the test",
		       refcnt, e->refcnt);
	EXPECT_GE(e->refcnt, refcnt);
	netpair_close(&e->np);
}

FIXTURE(data) {
	struct env e;
};

FIXTURE_SETUP(data)
{
	env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(data)
{
	env_teardown(_metadata, &self->e);
}

/* ---- sockets ---- */

static int xsock(struct __test_metadata *_metadata)
{
	int fd = socket(xtcp_family(), SOCK_STREAM, 0);

	ASSERT_LE(0, fd) TH_LOG("xtcp socket: %s", strerror(errno));
	return fd;
}

/* A client socket of @family in A (xtcp, or Linux's TCP as reference). */
static int csock(struct __test_metadata *_metadata, int family)
{
	int fd = socket(family, SOCK_STREAM, 0);

	ASSERT_LE(0, fd) TH_LOG("%s socket: %s", fam_name(family),
				strerror(errno));
	return fd;
}

/* A Linux TCP listener in B on 0.0.0.0:@port; @rcvbuf > 0: SO_RCVBUF. */
static int b_listen(struct __test_metadata *_metadata, struct env *e,
		    int port, int rcvbuf)
{
	int fd = socket_in_netns(e->np.b, AF_INET, SOCK_STREAM, 0);

	ASSERT_LE(0, fd) TH_LOG("socket in B: %s", strerror(-fd));
	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1));
	if (rcvbuf)
		ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf));
	ASSERT_EQ(0, bind_err(fd, "0.0.0.0", port));
	ASSERT_EQ(0, listen(fd, 16));
	return fd;
}

static int accept_within(int lfd, int ms)
{
	if (!(poll_one(lfd, POLLIN, ms) & POLLIN))
		return -1;
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

/*
 * Connect @cfd (options already set) to a fresh Linux listener in B on
 * @port (SO_RCVBUF @rcvbuf if not 0); returns Linux's accepted socket.
 */
static int connect_b(struct __test_metadata *_metadata, struct env *e,
		     int cfd, int port, int rcvbuf)
{
	int lfd = b_listen(_metadata, e, port, rcvbuf), kfd, err;

	err = connect_err(cfd, B_ADDR, port);
	ASSERT_EQ(0, err) TH_LOG("connect: %s", strerror(err));
	/* 10 s: under netem the last ACK of the handshake may be lost. */
	kfd = accept_within(lfd, 10000);
	ASSERT_LE(0, kfd) TH_LOG("the Linux server accepted nothing");
	close(lfd);
	return kfd;
}

/* An xtcp socket in A connected to Linux in B; returns both. */
static void xpair(struct __test_metadata *_metadata, struct env *e, int port,
		  int *xfd, int *kfd)
{
	*xfd = xsock(_metadata);
	*kfd = connect_b(_metadata, e, *xfd, port, 0);
}

static void set_timeo(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int ioctl_int(int fd, unsigned long req)
{
	int val = -1;

	if (ioctl(fd, req, &val))
		return -errno;
	return val;
}

/* Wait up to @ms for SIOCINQ (SIOCOUTQ) of @fd to be @want; the last. */
static int wait_ioctl(int fd, unsigned long req, int want, int ms)
{
	long long end = now_ms() + ms;
	int val;

	for (;;) {
		val = ioctl_int(fd, req);
		if (val == want || now_ms() >= end)
			return val;
		usleep(5000);
	}
}

/*
 * The state /proc/net/xtcp (namespace A) lists for 192.0.2.1:@lport
 * 192.0.2.2:@rport into @state ("" if not listed); 1 if listed.
 */
static int xtcp_state(int lport, int rport, char *state, size_t size)
{
	char buf[8192], key[64], *p;
	size_t n;

	state[0] = '\0';
	if (read_file("/proc/thread-self/net/xtcp", buf, sizeof(buf)) < 0)
		return 0;
	snprintf(key, sizeof(key), "%s:%d %s:%d ", A_ADDR, lport, B_ADDR,
		 rport);
	p = strstr(buf, key);
	if (!p)
		return 0;
	p += strlen(key);
	n = strcspn(p, "\n ");
	if (n >= size)
		n = size - 1;
	memcpy(state, p, n);
	state[n] = '\0';
	return 1;
}

/* Wait up to @ms for the tuple's state to be @want ("" = not listed). */
static int wait_state(int lport, int rport, const char *want, int ms,
		      char *state, size_t size)
{
	long long end = now_ms() + ms;

	for (;;) {
		xtcp_state(lport, rport, state, size);
		if (!strcmp(state, want))
			return 1;
		if (now_ms() >= end)
			return 0;
		usleep(5000);
	}
}

/* netem (or any qdisc) on A's or B's veth end. */
static void add_netem(struct __test_metadata *_metadata, struct env *e,
		      int in_b, const char *args)
{
	int ret;

	ASSERT_EQ(0, netpair_static_neigh(&e->np));
	if (in_b) {
		e->tc_b = 1;
		ret = run_cmd_in_netns(e->np.b, "tc qdisc add dev %s root netem %s",
				       NETPAIR_B_DEV, args);
	} else {
		e->tc_a = 1;
		ret = run_cmd("tc qdisc add dev %s root netem %s",
			      NETPAIR_A_DEV, args);
	}
	ASSERT_EQ(0, ret) TH_LOG("tc netem %s on %s", args,
				 in_b ? "vb" : "va");
}

/* ---- streams ---- */

/**
 * struct xfer - one direction of a stream, as its sender or receiver sees it
 * @fd: the socket
 * @len: sender: bytes to send; receiver: stop after this many (0: at EOF)
 * @shut: sender: shutdown(SHUT_WR) after the last byte
 * @bytes: bytes sent or received (a sender may start past 0)
 * @hash: FNV-1a of those bytes
 * @bad_at: receiver: offset of the first byte not as sent, or -1
 * @err: the errno that stopped it, or 0
 * @eof: receiver: recv() returned 0
 * @t0: now_ms() at start
 * @t1: now_ms() at the end
 * @th: its thread
 */
struct xfer {
	int		fd;
	long long	len;
	int		shut;
	long long	bytes;
	uint64_t	hash;
	long long	bad_at;
	int		err;
	int		eof;
	long long	t0, t1;
	pthread_t	th;
};

static void xfer_init(struct xfer *x, int fd, long long len, int shut)
{
	memset(x, 0, sizeof(*x));
	x->fd = fd;
	x->len = len;
	x->shut = shut;
	x->hash = FNV_INIT;
	x->bad_at = -1;
}

static void *xfer_send(void *arg)
{
	struct xfer *x = arg;

	x->t0 = now_ms();
	while (x->bytes < x->len) {
		const unsigned char *p = pat_at(x->bytes);
		size_t n = x->len - x->bytes < CHUNK ? x->len - x->bytes : CHUNK;
		ssize_t r = send(x->fd, p, n, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			x->err = r < 0 ? errno : EIO;
			break;
		}
		x->hash = fnv1a(x->hash, p, r);
		x->bytes += r;
	}
	if (!x->err && x->shut && shutdown(x->fd, SHUT_WR))
		x->err = errno;
	x->t1 = now_ms();
	return NULL;
}

static void *xfer_recv(void *arg)
{
	static __thread unsigned char buf[CHUNK];
	struct xfer *x = arg;
	long long bad;

	x->t0 = now_ms();
	for (;;) {
		size_t n = CHUNK;
		ssize_t r;

		if (x->len && x->len - x->bytes < CHUNK)
			n = x->len - x->bytes;
		if (!n)
			break;
		r = recv(x->fd, buf, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			x->err = errno;
			break;
		}
		if (!r) {
			x->eof = 1;
			break;
		}
		if (x->bad_at < 0) {
			bad = pat_mismatch(x->bytes, buf, r);
			if (bad >= 0)
				x->bad_at = bad;
		}
		x->hash = fnv1a(x->hash, buf, r);
		x->bytes += r;
	}
	x->t1 = now_ms();
	return NULL;
}

static int xfer_start(struct xfer *x, int send)
{
	return pthread_create(&x->th, NULL, send ? xfer_send : xfer_recv, x);
}

/*
 * What arrived is what was sent: @len bytes both sides, the same bytes in
 * order, and EOF when the receiver read to the end.
 */
static void xfer_check(struct __test_metadata *_metadata, const char *what,
		       const struct xfer *tx, const struct xfer *rx,
		       long long len)
{
	EXPECT_EQ(0, tx->err) TH_LOG("%s: send failed after %lld bytes: %s",
				     what, tx->bytes, strerror(tx->err));
	EXPECT_EQ(0, rx->err) TH_LOG("%s: recv failed after %lld bytes: %s",
				     what, rx->bytes, strerror(rx->err));
	EXPECT_EQ(len, tx->bytes) TH_LOG("%s: bytes sent", what);
	EXPECT_EQ(len, rx->bytes) TH_LOG("%s: bytes received", what);
	EXPECT_EQ(-1, rx->bad_at) TH_LOG("%s: byte %lld arrived wrong", what,
					 rx->bad_at);
	EXPECT_EQ(tx->hash, rx->hash) TH_LOG("%s: FNV-1a differs", what);
	if (!rx->len)
		EXPECT_TRUE(rx->eof) TH_LOG("%s: no end of stream", what);
}

static double xfer_mbps(const struct xfer *tx, const struct xfer *rx)
{
	long long ms = rx->t1 - tx->t0;

	return ms > 0 ? rx->bytes / (double)MB * 1000.0 / ms : 0;
}

/* ---- captures ---- */

/**
 * struct seg - a TCP segment seen by a capture
 * @ns: when the kernel saw it (CLOCK_REALTIME)
 * @from_a: sent by 192.0.2.1
 * @sport: source port
 * @dport: destination port
 * @seq: sequence number
 * @ack: acknowledgment number
 * @flags: SEG_* bits
 * @win: window field
 * @paylen: payload bytes (IP total length less the headers)
 * @iplen: the IP header's total length
 * @wirelen: the frame's length on the wire less the Ethernet header
 * @mss: SYN: the MSS option (0: none)
 * @wscale: SYN: the window scale option (-1: none)
 */
struct seg {
	long long	ns;
	int		from_a;
	unsigned int	sport, dport;
	uint32_t	seq, ack;
	unsigned int	flags, win, paylen, iplen, wirelen, mss;
	int		wscale;
};

/**
 * struct capture - a packet socket and the thread logging its segments
 * @fd: the packet socket
 * @th: the thread
 * @running: @th is running
 * @stop: asks @th to stop
 * @idle: polls that found nothing (cap_sync() waits for two)
 * @lock: protects @segs and @n
 * @segs: the segments, in capture order
 * @n: how many
 * @size: allocated
 * @err: what stopped the thread, or 0
 * @drops: frames the kernel dropped for want of buffer
 */
struct capture {
	int		fd;
	pthread_t	th;
	int		running;
	int		stop;
	unsigned long	idle;
	pthread_mutex_t	lock;
	struct seg	*segs;
	int		n, size;
	int		err;
	unsigned int	drops;
};

struct pkt_stats {		/* struct tpacket_stats */
	unsigned int	packets;
	unsigned int	drops;
};

/* Parse an Ethernet frame (@caplen of @wirelen bytes); 0 if TCP/IPv4. */
static int seg_parse(const unsigned char *f, size_t caplen, size_t wirelen,
		     struct seg *s)
{
	const unsigned char *ip = f + 14, *th, *o;
	unsigned int ihl, tot, doff, i;
	uint32_t src;

	if (caplen < 14 + 20 || f[12] != 0x08 || f[13] != 0x00 ||
	    (ip[0] >> 4) != 4 || ip[9] != IPPROTO_TCP)
		return -1;
	ihl = (ip[0] & 0xf) * 4;
	if (ihl < 20 || caplen < 14 + ihl + 20)
		return -1;
	th = ip + ihl;
	tot = ip[2] << 8 | ip[3];
	doff = (th[12] >> 4) * 4;
	if (doff < 20)
		return -1;
	memset(s, 0, sizeof(*s));
	memcpy(&src, ip + 12, 4);
	s->from_a = src == inet_addr(A_ADDR);
	s->sport = th[0] << 8 | th[1];
	s->dport = th[2] << 8 | th[3];
	s->seq = cap_be32(th + 4);
	s->ack = cap_be32(th + 8);
	s->flags = th[13];
	s->win = th[14] << 8 | th[15];
	s->iplen = tot;
	s->wirelen = wirelen - 14;
	s->paylen = tot > ihl + doff ? tot - ihl - doff : 0;
	s->wscale = -1;
	if (!(s->flags & SEG_SYN) || caplen < 14 + ihl + doff)
		return 0;
	o = th + 20;
	for (i = 0; i + 1 < doff - 20;) {
		if (o[i] == 0)
			break;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (o[i + 1] < 2)
			break;
		if (o[i] == 2 && o[i + 1] == 4 && i + 4 <= doff - 20)
			s->mss = o[i + 2] << 8 | o[i + 3];
		if (o[i] == 3 && o[i + 1] == 3 && i + 3 <= doff - 20)
			s->wscale = o[i + 2];
		i += o[i + 1];
	}
	return 0;
}

static void *cap_thread(void *arg)
{
	struct capture *c = arg;
	unsigned char frame[256];
	char cbuf[CMSG_SPACE(sizeof(struct timespec))];

	for (;;) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		struct iovec iov = { .iov_base = frame,
				     .iov_len = sizeof(frame) };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *cm;
		struct seg s;
		ssize_t n;
		int r;

		r = poll(&pfd, 1, 20);
		if (r < 0 && errno != EINTR) {
			c->err = errno;
			break;
		}
		if (r > 0 && (pfd.revents & (POLLERR | POLLNVAL))) {
			c->err = EBADF;
			break;
		}
		if (r <= 0) {
			__atomic_add_fetch(&c->idle, 1, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&c->stop, __ATOMIC_SEQ_CST))
				break;
			continue;
		}
		n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			c->err = errno;
			break;
		}
		if (seg_parse(frame, n < (ssize_t)sizeof(frame) ?
				     (size_t)n : sizeof(frame), n, &s))
			continue;
		s.ns = rt_ns();
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct timespec ts;

			if (cm->cmsg_level != SOL_SOCKET ||
			    cm->cmsg_type != SCM_TIMESTAMPNS)
				continue;
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			s.ns = ts.tv_sec * 1000000000LL + ts.tv_nsec;
		}
		pthread_mutex_lock(&c->lock);
		if (c->n == c->size) {
			int size = c->size ? 2 * c->size : 4096;
			struct seg *p = realloc(c->segs, size * sizeof(*p));

			if (!p) {
				pthread_mutex_unlock(&c->lock);
				c->err = ENOMEM;
				break;
			}
			c->segs = p;
			c->size = size;
		}
		c->segs[c->n++] = s;
		pthread_mutex_unlock(&c->lock);
	}
	return NULL;
}

/* Start capturing on @dev in namespace @nsfd. */
static struct capture *cap_start(struct __test_metadata *_metadata,
				 struct env *e, int nsfd, const char *dev)
{
	struct capture *c = calloc(1, sizeof(*c));

	ASSERT_NE(NULL, c);
	ASSERT_GT(4, e->ncaps);
	c->fd = cap_open(nsfd, dev);
	ASSERT_LE(0, c->fd) TH_LOG("packet socket on %s: %s", dev,
				   strerror(-c->fd));
	/* 32 MB: nothing is dropped even if the thread falls behind. */
	ASSERT_EQ(0, setsockopt_int(c->fd, SOL_SOCKET, SO_RCVBUFFORCE,
				    32 << 20));
	pthread_mutex_init(&c->lock, NULL);
	ASSERT_EQ(0, pthread_create(&c->th, NULL, cap_thread, c));
	c->running = 1;
	e->caps[e->ncaps++] = c;
	return c;
}

static void cap_stats(struct capture *c)
{
	struct pkt_stats st = { 0 };
	socklen_t len = sizeof(st);

	/* Reading the statistics resets them: add up. */
	if (!getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		c->drops += st.drops;
}

static void cap_stop(struct capture *c)
{
	if (!c->running)
		return;
	__atomic_store_n(&c->stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(c->th, NULL);
	c->running = 0;
	cap_stats(c);
}

/* Wait until the thread has logged everything captured so far. */
static void cap_sync(struct capture *c)
{
	unsigned long start = __atomic_load_n(&c->idle, __ATOMIC_SEQ_CST);
	long long end = now_ms() + 3000;

	while (c->running && now_ms() < end &&
	       __atomic_load_n(&c->idle, __ATOMIC_SEQ_CST) < start + 2)
		usleep(2000);
	cap_stats(c);
}

/* A copy of the log so far (free() it); its length in *@n. */
static struct seg *cap_copy(struct capture *c, int *n)
{
	struct seg *s;

	cap_sync(c);
	pthread_mutex_lock(&c->lock);
	*n = c->n;
	s = malloc((c->n + 1) * sizeof(*s));
	if (s)
		memcpy(s, c->segs, c->n * sizeof(*s));
	pthread_mutex_unlock(&c->lock);
	if (!s)
		abort();
	return s;
}

/* The capture is complete: the kernel dropped nothing, no error. */
static void cap_check(struct __test_metadata *_metadata, struct capture *c)
{
	cap_stats(c);
	EXPECT_EQ(0U, c->drops) TH_LOG("the capture lost frames");
	EXPECT_EQ(0, c->err) TH_LOG("capture: %s", strerror(c->err));
}

/* Does @s belong to the connection of A's port @aport? */
static int seg_of(const struct seg *s, int aport)
{
	return s->from_a ? s->sport == (unsigned int)aport :
			   s->dport == (unsigned int)aport;
}

/*
 * Index of the first segment of A's port @aport, from index @from on,
 * sent by A (@from_a) or by B, whose flags masked by @mask are @flags;
 * -1 if none.
 */
static int seg_find(const struct seg *s, int n, int from, int aport,
		    int from_a, unsigned int mask, unsigned int flags)
{
	int i;

	for (i = from; i < n; i++)
		if (seg_of(&s[i], aport) && s[i].from_a == from_a &&
		    (s[i].flags & mask) == flags)
			return i;
	return -1;
}

/* ---- 1. bulk transfer ---- */

/*
 * @a_to_b bytes from xtcp to Linux and @b_to_a from Linux to xtcp, both
 * at once; each sender shuts its side down after its last byte.
 */
static void bulk_on(struct __test_metadata *_metadata, int xfd, int kfd,
		    long long a_to_b, long long b_to_a)
{
	struct xfer xtx, krx, ktx, xrx;

	set_timeo(xfd, XFER_TIMEO_MS);
	set_timeo(kfd, XFER_TIMEO_MS);
	xfer_init(&xtx, xfd, a_to_b, 1);
	xfer_init(&krx, kfd, 0, 0);
	xfer_init(&ktx, kfd, b_to_a, 1);
	xfer_init(&xrx, xfd, 0, 0);
	if (a_to_b) {
		ASSERT_EQ(0, xfer_start(&krx, 0));
		ASSERT_EQ(0, xfer_start(&xtx, 1));
	}
	if (b_to_a) {
		ASSERT_EQ(0, xfer_start(&xrx, 0));
		ASSERT_EQ(0, xfer_start(&ktx, 1));
	}
	if (a_to_b) {
		pthread_join(xtx.th, NULL);
		pthread_join(krx.th, NULL);
		xfer_check(_metadata, "xtcp to Linux", &xtx, &krx, a_to_b);
		TH_LOG("xtcp to Linux: %lld MB in %lld ms, %.1f MB/s",
		       a_to_b / MB, krx.t1 - xtx.t0, xfer_mbps(&xtx, &krx));
	}
	if (b_to_a) {
		pthread_join(ktx.th, NULL);
		pthread_join(xrx.th, NULL);
		xfer_check(_metadata, "Linux to xtcp", &ktx, &xrx, b_to_a);
		TH_LOG("Linux to xtcp: %lld MB in %lld ms, %.1f MB/s",
		       b_to_a / MB, xrx.t1 - ktx.t0, xfer_mbps(&ktx, &xrx));
	}
	TH_LOG("xtcp: RetransSegs %lld FastRetrans %lld Timeouts %lld OfoQueue %lld",
	       xtcp_stat("RetransSegs"), xtcp_stat("FastRetrans"),
	       xtcp_stat("Timeouts"), xtcp_stat("OfoQueue"));
}

static void bulk(struct __test_metadata *_metadata, struct env *e, int port,
		 long long a_to_b, long long b_to_a)
{
	int xfd, kfd;

	xpair(_metadata, e, port, &xfd, &kfd);
	bulk_on(_metadata, xfd, kfd, a_to_b, b_to_a);
}

TEST_F_TIMEOUT(data, xtcp_to_linux, 90)
{
	bulk(_metadata, &self->e, B_PORT, 20 * MB, 0);
}

TEST_F_TIMEOUT(data, linux_to_xtcp, 90)
{
	bulk(_metadata, &self->e, B_PORT, 0, 20 * MB);
}

TEST_F_TIMEOUT(data, full_duplex, 90)
{
	bulk(_metadata, &self->e, B_PORT, 10 * MB, 10 * MB);
}

TEST_F_TIMEOUT(data, xtcp_to_linux_100mb, 120)
{
	bulk(_metadata, &self->e, B_PORT, 100 * MB, 0);
}

TEST_F_TIMEOUT(data, linux_to_xtcp_100mb, 120)
{
	bulk(_metadata, &self->e, B_PORT, 0, 100 * MB);
}

TEST_F_TIMEOUT(data, full_duplex_100mb, 180)
{
	bulk(_metadata, &self->e, B_PORT, 100 * MB, 100 * MB);
}

/* ---- 2. loss, reordering, duplication ---- */

#define NETEM_LOSSY	"delay 2ms loss 5% duplicate 1% reorder 10% 50%"

TEST_F_TIMEOUT(data, netem_loss_reorder, 150)
{
	long long retrans = xtcp_stat("RetransSegs");
	long long ofo = xtcp_stat("OfoQueue");

	ASSERT_LE(0, retrans);
	ASSERT_LE(0, ofo);
	add_netem(_metadata, &self->e, 0, NETEM_LOSSY);
	add_netem(_metadata, &self->e, 1, NETEM_LOSSY);
	bulk(_metadata, &self->e, B_PORT, 2 * MB, 0);
	bulk(_metadata, &self->e, B_PORT2, 0, 2 * MB);
	TH_LOG("RetransSegs +%lld, OfoQueue +%lld, PAWSEstab %lld, RcvPruned %lld",
	       xtcp_stat("RetransSegs") - retrans, xtcp_stat("OfoQueue") - ofo,
	       xtcp_stat("PAWSEstab"), xtcp_stat("RcvPruned"));
	EXPECT_LT(retrans, xtcp_stat("RetransSegs"))
		TH_LOG("xtcp retransmitted nothing through 5%% loss");
	EXPECT_LT(ofo, xtcp_stat("OfoQueue"))
		TH_LOG("xtcp queued nothing out of order through reordering");
}

/* ---- 3. a small MTU ---- */

#define SMALL_MTU	576U

TEST_F_TIMEOUT(data, small_mtu, 90)
{
	unsigned int maxwire = 0, maxip = 0, maxpay = 0, synmss = 0;
	int xfd, kfd, aport, n, i, mss, kmss, ndata = 0;
	struct capture *cap;
	struct seg *s;

	ASSERT_EQ(0, run_cmd("ip link set dev %s mtu %d", NETPAIR_A_DEV,
			     SMALL_MTU));
	ASSERT_EQ(0, run_cmd_in_netns(self->e.np.b, "ip link set dev %s mtu %d",
				      NETPAIR_B_DEV, SMALL_MTU));
	cap = cap_start(_metadata, &self->e, self->e.np.a, NETPAIR_A_DEV);
	xpair(_metadata, &self->e, B_PORT, &xfd, &kfd);
	aport = local_port(xfd);
	mss = getsockopt_int(xfd, IPPROTO_TCP, TCP_MAXSEG);
	kmss = getsockopt_int(kfd, IPPROTO_TCP, TCP_MAXSEG);
	EXPECT_EQ((int)SMALL_MTU - 40 - 12, mss);
	EXPECT_EQ(kmss, mss) TH_LOG("TCP_MAXSEG: Linux's end says %d", kmss);

	bulk_on(_metadata, xfd, kfd, 2 * MB, 2 * MB);

	s = cap_copy(cap, &n);
	for (i = 0; i < n; i++) {
		if (!s[i].from_a || !seg_of(&s[i], aport))
			continue;
		if (s[i].flags & SEG_SYN)
			synmss = s[i].mss;
		if (s[i].wirelen > maxwire)
			maxwire = s[i].wirelen;
		if (s[i].iplen > maxip)
			maxip = s[i].iplen;
		if (s[i].paylen > maxpay)
			maxpay = s[i].paylen;
		if (s[i].paylen)
			ndata++;
	}
	free(s);
	cap_check(_metadata, cap);
	TH_LOG("xtcp sent %d data segments, the largest %u bytes of IP (%u of payload)",
	       ndata, maxwire, maxpay);
	EXPECT_EQ(SMALL_MTU - 40U, synmss) TH_LOG("the SYN's MSS option");
	EXPECT_GE(SMALL_MTU, maxwire) TH_LOG("a frame larger than the MTU");
	EXPECT_GE(SMALL_MTU, maxip) TH_LOG("a datagram larger than the MTU");
	EXPECT_EQ((unsigned int)mss, maxpay)
		TH_LOG("full segments carry TCP_MAXSEG bytes");
	EXPECT_LE(2 * MB / mss, ndata);
}

/* ---- 4. small writes: Nagle, TCP_NODELAY, TCP_CORK, MSG_MORE ---- */

#define SMALL_WRITES	2000
#define SMALL_SIZE	10

/**
 * struct small - what the capture shows of a run of small writes
 * @segs: data segments xtcp sent
 * @bytes: their payload bytes
 * @short_unacked: short segments sent while an earlier short one was
 *	unacknowledged (Nagle, even Minshall's variant, allows none)
 */
struct small {
	int	segs;
	int	bytes;
	int	short_unacked;
};

static void small_writes(struct __test_metadata *_metadata, struct env *e,
			 struct capture *cap, int port, int nodelay,
			 struct small *res)
{
	uint32_t acked = 0, short_end = 0;
	int xfd, kfd, aport, i, n, mss, have_short = 0;
	struct xfer rx;
	struct seg *s;

	memset(res, 0, sizeof(*res));
	xfd = xsock(_metadata);
	if (nodelay)
		ASSERT_EQ(0, setsockopt_int(xfd, IPPROTO_TCP, TCP_NODELAY, 1));
	kfd = connect_b(_metadata, e, xfd, port, 0);
	set_timeo(xfd, XFER_TIMEO_MS);
	set_timeo(kfd, XFER_TIMEO_MS);
	aport = local_port(xfd);
	mss = getsockopt_int(xfd, IPPROTO_TCP, TCP_MAXSEG);
	xfer_init(&rx, kfd, SMALL_WRITES * SMALL_SIZE, 0);
	ASSERT_EQ(0, xfer_start(&rx, 0));
	for (i = 0; i < SMALL_WRITES; i++)
		if (send(xfd, pat_at(i * SMALL_SIZE), SMALL_SIZE,
			 MSG_NOSIGNAL) != SMALL_SIZE)
			break;
	pthread_join(rx.th, NULL);
	EXPECT_EQ(SMALL_WRITES, i) TH_LOG("send: %s", strerror(errno));
	EXPECT_EQ(0, rx.err) TH_LOG("recv: %s", strerror(rx.err));
	EXPECT_EQ(SMALL_WRITES * SMALL_SIZE, rx.bytes);
	EXPECT_EQ(-1, rx.bad_at) TH_LOG("byte %lld arrived wrong", rx.bad_at);
	EXPECT_EQ(0, wait_ioctl(xfd, SIOCOUTQ, 0, 3000))
		TH_LOG("data still unacknowledged");

	s = cap_copy(cap, &n);
	for (i = 0; i < n; i++) {
		if (!seg_of(&s[i], aport))
			continue;
		if (!s[i].from_a) {
			if ((s[i].flags & SEG_ACK) && (int32_t)(s[i].ack - acked) > 0)
				acked = s[i].ack;
			continue;
		}
		if (!s[i].paylen)
			continue;
		res->segs++;
		res->bytes += s[i].paylen;
		if ((int)s[i].paylen >= mss)
			continue;
		if (have_short && (int32_t)(short_end - acked) > 0)
			res->short_unacked++;
		have_short = 1;
		short_end = s[i].seq + s[i].paylen;
	}
	free(s);
}

TEST_F(data, nagle_vs_nodelay)
{
	struct small nagle, nodelay;
	struct capture *cap;

	cap = cap_start(_metadata, &self->e, self->e.np.a, NETPAIR_A_DEV);
	small_writes(_metadata, &self->e, cap, B_PORT, 0, &nagle);
	small_writes(_metadata, &self->e, cap, B_PORT2, 1, &nodelay);
	cap_check(_metadata, cap);
	TH_LOG("%d writes of %d bytes: %d data segments with Nagle, %d with TCP_NODELAY",
	       SMALL_WRITES, SMALL_SIZE, nagle.segs, nodelay.segs);
	/* Every byte was captured once: the counts are complete. */
	EXPECT_EQ(SMALL_WRITES * SMALL_SIZE, nagle.bytes);
	EXPECT_EQ(SMALL_WRITES * SMALL_SIZE, nodelay.bytes);
	EXPECT_GT(SMALL_WRITES / 2, nagle.segs);
	EXPECT_EQ(0, nagle.short_unacked)
		TH_LOG("Nagle: short segments sent with a short one unacknowledged");
	EXPECT_LT(nagle.segs, nodelay.segs);
	EXPECT_LT(SMALL_WRITES / 2, nodelay.segs)
		TH_LOG("TCP_NODELAY: small writes were held back");
}

/* Data segments of A's port @aport in the capture so far; their bytes. */
static int data_segs(struct capture *cap, int aport, int *bytes,
		     unsigned int *last_len)
{
	struct seg *s;
	int i, n, segs = 0;

	*bytes = 0;
	*last_len = 0;
	s = cap_copy(cap, &n);
	for (i = 0; i < n; i++) {
		if (!s[i].from_a || !seg_of(&s[i], aport) || !s[i].paylen)
			continue;
		segs++;
		*bytes += s[i].paylen;
		*last_len = s[i].paylen;
	}
	free(s);
	return segs;
}

/*
 * TCP_CORK holds back what does not fill a segment until it is taken
 * off; MSG_MORE does the same for one call. Each hold is kept under
 * 200 ms, the ceiling Linux puts on TCP_CORK.
 */
TEST_F(data, cork_and_msg_more)
{
	int xfd, kfd, aport, mss, i, segs, bytes, segs2, bytes2;
	long long t0, waited;
	unsigned int last;
	struct capture *cap;
	struct xfer rx;

	cap = cap_start(_metadata, &self->e, self->e.np.a, NETPAIR_A_DEV);
	xpair(_metadata, &self->e, B_PORT, &xfd, &kfd);
	set_timeo(kfd, XFER_TIMEO_MS);
	aport = local_port(xfd);
	mss = getsockopt_int(xfd, IPPROTO_TCP, TCP_MAXSEG);
	ASSERT_EQ(MSS_1500, mss);
	xfer_init(&rx, kfd, 2400, 0);
	ASSERT_EQ(0, xfer_start(&rx, 0));

	/* 20 writes of 100 bytes, corked: one full segment, 552 bytes held. */
	ASSERT_EQ(0, setsockopt_int(xfd, IPPROTO_TCP, TCP_CORK, 1));
	EXPECT_EQ(1, getsockopt_int(xfd, IPPROTO_TCP, TCP_CORK));
	t0 = now_ms();
	for (i = 0; i < 20; i++)
		ASSERT_EQ(100, send(xfd, pat_at(i * 100), 100, MSG_NOSIGNAL));
	waited = 150 - (now_ms() - t0);
	if (waited > 0)
		usleep(waited * 1000);
	segs = data_segs(cap, aport, &bytes, &last);
	EXPECT_EQ(1, segs) TH_LOG("corked: %d data segments, %d bytes", segs,
				  bytes);
	EXPECT_EQ(mss, bytes) TH_LOG("corked: only a full segment may go");
	EXPECT_EQ(2000 - mss, ioctl_int(xfd, SIOCOUTQNSD));

	t0 = now_ms();
	ASSERT_EQ(0, setsockopt_int(xfd, IPPROTO_TCP, TCP_CORK, 0));
	EXPECT_EQ(0, wait_ioctl(xfd, SIOCOUTQ, 0, 2000));
	segs = data_segs(cap, aport, &bytes, &last);
	TH_LOG("uncorked: the rest went within %lld ms", now_ms() - t0);
	EXPECT_EQ(2, segs);
	EXPECT_EQ(2000, bytes);
	EXPECT_EQ(2000U - mss, last);

	/* MSG_MORE: three writes held, the fourth sends all in one. */
	t0 = now_ms();
	for (i = 0; i < 3; i++)
		ASSERT_EQ(100, send(xfd, pat_at(2000 + i * 100), 100,
				    MSG_MORE | MSG_NOSIGNAL));
	waited = 150 - (now_ms() - t0);
	if (waited > 0)
		usleep(waited * 1000);
	segs2 = data_segs(cap, aport, &bytes2, &last);
	EXPECT_EQ(segs, segs2) TH_LOG("MSG_MORE: %d bytes sent", bytes2 - bytes);
	ASSERT_EQ(100, send(xfd, pat_at(2300), 100, MSG_NOSIGNAL));
	EXPECT_EQ(0, wait_ioctl(xfd, SIOCOUTQ, 0, 2000));
	segs2 = data_segs(cap, aport, &bytes2, &last);
	EXPECT_EQ(segs + 1, segs2);
	EXPECT_EQ(400U, last);

	pthread_join(rx.th, NULL);
	EXPECT_EQ(0, rx.err) TH_LOG("recv: %s", strerror(rx.err));
	EXPECT_EQ(2400, rx.bytes);
	EXPECT_EQ(-1, rx.bad_at) TH_LOG("byte %lld arrived wrong", rx.bad_at);
	cap_check(_metadata, cap);
}

/* ---- 5. recv() semantics ---- */

/* Linux sends stream bytes [@off, @off + @len) in one call. */
static int k_send(int kfd, long long off, int len)
{
	return send(kfd, pat_at(off), len, MSG_NOSIGNAL) == len ? 0 : -1;
}

/**
 * struct later - an action of Linux's end after a delay, from a thread
 * @fd: Linux's socket
 * @ms: the delay
 * @what: LATER_*
 * @off: LATER_SEND: stream offset
 * @len: LATER_SEND: bytes; LATER_DRAIN: bytes to read
 * @err: errno of a failure
 * @rx: LATER_DRAIN: what was read
 * @th: the thread
 */
struct later {
	int		fd;
	int		ms;
	int		what;
	long long	at;	/* now_ms() when it acted */
	long long	off;
	long long	len;
	int		err;
	struct xfer	rx;
	pthread_t	th;
};

enum { LATER_SEND, LATER_SHUT, LATER_RST, LATER_DRAIN };

/* Linux closes @fd with SO_LINGER {1, 0}: a RST, as tcp_disconnect(). */
static int close_rst(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		return errno;
	return close(fd) ? errno : 0;
}

static void *later_fn(void *arg)
{
	struct later *l = arg;

	usleep(l->ms * 1000);
	l->at = now_ms();
	switch (l->what) {
	case LATER_SEND:
		if (k_send(l->fd, l->off, l->len))
			l->err = errno;
		break;
	case LATER_SHUT:
		if (shutdown(l->fd, SHUT_WR))
			l->err = errno;
		break;
	case LATER_RST:
		l->err = close_rst(l->fd);
		break;
	case LATER_DRAIN:
		xfer_init(&l->rx, l->fd, l->len, 0);
		xfer_recv(&l->rx);
		l->err = l->rx.err;
		break;
	}
	return NULL;
}

static int later(struct later *l, int fd, int ms, int what, long long off,
		 long long len)
{
	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->ms = ms;
	l->what = what;
	l->off = off;
	l->len = len;
	return pthread_create(&l->th, NULL, later_fn, l);
}

/* @buf holds stream bytes [@off, @off + @len). */
static int is_stream(const unsigned char *buf, long long off, int len)
{
	return !memcmp(buf, pat_at(off), len);
}

TEST_F(data, recv_peek)
{
	unsigned char buf[2000];
	int xfd, kfd;

	xpair(_metadata, &self->e, B_PORT, &xfd, &kfd);
	set_timeo(xfd, 3000);
	/* Two segments of 500 bytes. */
	ASSERT_EQ(0, setsockopt_int(kfd, IPPROTO_TCP, TCP_NODELAY, 1));
	ASSERT_EQ(0, k_send(kfd, 0, 500));
	ASSERT_EQ(500, wait_ioctl(xfd, SIOCINQ, 500, 2000));
	ASSERT_EQ(0, k_send(kfd, 500, 500));
	ASSERT_EQ(1000, wait_ioctl(xfd, SIOCINQ, 1000, 2000));

	EXPECT_EQ(300, recv(xfd, buf, 300, MSG_PEEK));
	EXPECT_TRUE(is_stream(buf, 0, 300));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(1000, recv(xfd, buf, sizeof(buf), MSG_PEEK))
		TH_LOG("a peek across both segments");
	EXPECT_TRUE(is_stream(buf, 0, 1000));
	EXPECT_EQ(1000, ioctl_int(xfd, SIOCINQ)) TH_LOG("peeking consumed");

	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(400, recv(xfd, buf, 400, 0));
	EXPECT_TRUE(is_stream(buf, 0, 400));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(200, recv(xfd, buf, 200, MSG_PEEK | MSG_DONTWAIT));
	EXPECT_TRUE(is_stream(buf, 400, 200));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(200, recv(xfd, buf, 200, MSG_PEEK));
	EXPECT_TRUE(is_stream(buf, 400, 200)) TH_LOG("the second peek differs");
	EXPECT_EQ(600, ioctl_int(xfd, SIOCINQ));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(600, recv(xfd, buf, sizeof(buf), 0));
	EXPECT_TRUE(is_stream(buf, 400, 600));
	EXPECT_EQ(0, ioctl_int(xfd, SIOCINQ));
	errno = 0;
	EXPECT_EQ(-1, recv(xfd, buf, 1, MSG_PEEK | MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(data, recv_waitall)
{
	unsigned char buf[3000];
	long long t0, dt;
	struct later l;
	int xfd, kfd;

	xpair(_metadata, &self->e, B_PORT, &xfd, &kfd);
	set_timeo(xfd, 5000);

	/* Without MSG_WAITALL recv() returns what is there. */
	ASSERT_EQ(0, k_send(kfd, 0, 1000));
	EXPECT_EQ(1000, recv(xfd, buf, sizeof(buf), 0));
	EXPECT_TRUE(is_stream(buf, 0, 1000));

	/* With it, recv() waits for the second 1000 bytes, 300 ms later. */
	ASSERT_EQ(0, k_send(kfd, 1000, 1000));
	ASSERT_EQ(0, later(&l, kfd, 300, LATER_SEND, 2000, 1000));
	t0 = now_ms();
	EXPECT_EQ(2000, recv(xfd, buf, 2000, MSG_WAITALL))
		TH_LOG("recv: %s", strerror(errno));
	dt = now_ms() - t0;
	pthread_join(l.th, NULL);
	EXPECT_TRUE(is_stream(buf, 1000, 2000));
	EXPECT_LE(250, dt) TH_LOG("MSG_WAITALL returned after %lld ms", dt);
	EXPECT_GT(3000, dt);

	/* The end of the stream cuts it short. */
	ASSERT_EQ(0, k_send(kfd, 3000, 500));
	ASSERT_EQ(0, later(&l, kfd, 300, LATER_SHUT, 0, 0));
	t0 = now_ms();
	EXPECT_EQ(500, recv(xfd, buf, 2000, MSG_WAITALL));
	dt = now_ms() - t0;
	pthread_join(l.th, NULL);
	EXPECT_TRUE(is_stream(buf, 3000, 500));
	EXPECT_LE(250, dt) TH_LOG("MSG_WAITALL returned after %lld ms", dt);
	EXPECT_EQ(0, recv(xfd, buf, 1, MSG_WAITALL));
}

TEST_F(data, recv_dontwait_rcvtimeo)
{
	struct timeval tv = { .tv_usec = 300000 };
	unsigned char buf[16];
	long long t0, dt;
	struct later l;
	int xfd, kfd, fl;

	xpair(_metadata, &self->e, B_PORT, &xfd, &kfd);
	errno = 0;
	EXPECT_EQ(-1, recv(xfd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	fl = fcntl(xfd, F_GETFL);
	ASSERT_EQ(0, fcntl(xfd, F_SETFL, fl | O_NONBLOCK));
	errno = 0;
	EXPECT_EQ(-1, read(xfd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno) TH_LOG("O_NONBLOCK");
	ASSERT_EQ(0, fcntl(xfd, F_SETFL, fl));

	ASSERT_EQ(0, setsockopt(xfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	t0 = now_ms();
	errno = 0;
	EXPECT_EQ(-1, recv(xfd, buf, sizeof(buf), 0));
	dt = now_ms() - t0;
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_LE(280, dt) TH_LOG("SO_RCVTIMEO 300 ms: returned after %lld ms",
				  dt);
	EXPECT_GT(1500, dt) TH_LOG("SO_RCVTIMEO 300 ms: returned after %lld ms",
				   dt);

	/* Data within the timeout ends the wait. */
	ASSERT_EQ(0, later(&l, kfd, 100, LATER_SEND, 0, 10));
	EXPECT_EQ(10, recv(xfd, buf, sizeof(buf), 0))
		TH_LOG("recv: %s", strerror(errno));
	pthread_join(l.th, NULL);
	EXPECT_TRUE(is_stream(buf, 0, 10));
}

TEST_F(data, siocinq)
{
	unsigned char buf[3000];
	int xfd, kfd;

	xpair(_metadata, &self->e, B_PORT, &xfd, &kfd);
	set_timeo(xfd, 3000);
	EXPECT_EQ(0, ioctl_int(xfd, SIOCINQ));
	ASSERT_EQ(0, k_send(kfd, 0, 3000));
	EXPECT_EQ(3000, wait_ioctl(xfd, SIOCINQ, 3000, 2000));
	usleep(50000);
	EXPECT_EQ(3000, ioctl_int(xfd, SIOCINQ));
	EXPECT_EQ(1000, recv(xfd, buf, 1000, 0));
	EXPECT_EQ(2000, ioctl_int(xfd, SIOCINQ));

	/* The peer's FIN is no byte to read. */
	ASSERT_EQ(0, shutdown(kfd, SHUT_WR));
	EXPECT_TRUE(poll_one(xfd, POLLRDHUP, 2000) & POLLRDHUP);
	EXPECT_EQ(2000, ioctl_int(xfd, SIOCINQ));
	EXPECT_EQ(2000, recv(xfd, buf, sizeof(buf), MSG_WAITALL));
	EXPECT_TRUE(is_stream(buf, 1000, 2000));
	EXPECT_EQ(0, ioctl_int(xfd, SIOCINQ));
	EXPECT_EQ(0, recv(xfd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, ioctl_int(xfd, SIOCINQ));
}

/* ---- 6. close ---- */

#define STATE_LEN	32

/* xtcp closes first, after 100000 bytes: Linux reads them and EOF. */
TEST_F(data, close_active_time_wait)
{
	long long tw = xtcp_stat("TimeWait");
	int xfd, kfd, aport, n, syn, fin, rst, last = -1, i;
	struct capture *cap;
	char st[STATE_LEN];
	struct xfer rx;
	struct seg *s;

	cap = cap_start(_metadata, &self->e, self->e.np.b, NETPAIR_B_DEV);
	xpair(_metadata, &self->e, B_PORT, &xfd, &kfd);
	aport = local_port(xfd);
	set_timeo(kfd, 5000);
	ASSERT_EQ(100000, send(xfd, pat, 100000, MSG_NOSIGNAL));
	ASSERT_EQ(0, close(xfd));
	xfer_init(&rx, kfd, 0, 0);
	xfer_recv(&rx);
	EXPECT_EQ(0, rx.err) TH_LOG("Linux recv: %s", strerror(rx.err));
	EXPECT_EQ(100000, rx.bytes);
	EXPECT_EQ(-1, rx.bad_at);
	EXPECT_TRUE(rx.eof) TH_LOG("Linux saw no end of stream");
	EXPECT_TRUE(wait_state(aport, B_PORT, "FIN_WAIT2", 2000, st, sizeof(st)))
		TH_LOG("xtcp's state: '%s'", st);

	ASSERT_EQ(0, close(kfd));
	EXPECT_TRUE(wait_state(aport, B_PORT, "TIME_WAIT", 2000, st, sizeof(st)))
		TH_LOG("after Linux's FIN: '%s'", st);
	EXPECT_EQ(tw + 1, xtcp_stat("TimeWait"));

	/* On the wire: the FIN follows the last byte; no RST. */
	s = cap_copy(cap, &n);
	syn = seg_find(s, n, 0, aport, 1, SEG_SYN, SEG_SYN);
	fin = seg_find(s, n, 0, aport, 1, SEG_FIN, SEG_FIN);
	rst = seg_find(s, n, 0, aport, 1, SEG_RST, SEG_RST);
	ASSERT_LE(0, syn);
	ASSERT_LE(0, fin) TH_LOG("no FIN from xtcp");
	EXPECT_EQ(s[syn].seq + 1 + 100000, s[fin].seq + s[fin].paylen);
	EXPECT_EQ(-1, rst) TH_LOG("xtcp sent a RST");
	fin = seg_find(s, n, 0, aport, 0, SEG_FIN, SEG_FIN);
	for (i = 0; i < n; i++)
		if (s[i].from_a && seg_of(&s[i], aport))
			last = i;
	ASSERT_LE(0, fin) TH_LOG("no FIN from Linux");
	EXPECT_EQ(s[fin].seq + 1, s[last].ack) TH_LOG("Linux's FIN unacknowledged");
	free(s);
	cap_check(_metadata, cap);
}

/* Linux closes first; xtcp reads to the end, closes, and is gone. */
TEST_F(data, close_passive_last_ack)
{
	long long tw = xtcp_stat("TimeWait"), end;
	int xfd, kfd, aport, seen_tw = 0, seen_lastack = 0;
	char st[STATE_LEN], st0[STATE_LEN];
	struct xfer tx, rx;

	/* Linux's ACK of xtcp's FIN comes 100 ms late: LAST_ACK shows. */
	add_netem(_metadata, &self->e, 1, "delay 100ms");
	xpair(_metadata, &self->e, B_PORT, &xfd, &kfd);
	aport = local_port(xfd);
	set_timeo(xfd, 5000);
	set_timeo(kfd, 5000);
	xfer_init(&tx, kfd, 100000, 0);
	ASSERT_EQ(0, xfer_start(&tx, 1));
	xfer_init(&rx, xfd, 100000, 0);
	xfer_recv(&rx);
	pthread_join(tx.th, NULL);
	xfer_check(_metadata, "Linux to xtcp", &tx, &rx, 100000);
	EXPECT_EQ(0, close(kfd));
	EXPECT_EQ(0, recv(xfd, st, 1, 0)) TH_LOG("xtcp: %s", strerror(errno));
	EXPECT_TRUE(wait_state(aport, B_PORT, "CLOSE_WAIT", 2000, st, sizeof(st)))
		TH_LOG("after Linux's FIN: '%s'", st);

	ASSERT_EQ(0, close(xfd));
	xtcp_state(aport, B_PORT, st0, sizeof(st0));
	end = now_ms() + 3000;
	do {
		if (!xtcp_state(aport, B_PORT, st, sizeof(st)))
			break;
		seen_tw |= !strcmp(st, "TIME_WAIT");
		seen_lastack |= !strcmp(st, "LAST_ACK");
		usleep(2000);
	} while (now_ms() < end);
	EXPECT_STREQ("LAST_ACK", st0) TH_LOG("right after close()");
	EXPECT_TRUE(seen_lastack);
	EXPECT_STREQ("", st) TH_LOG("3 s after close()");
	EXPECT_FALSE(seen_tw) TH_LOG("a passive close went through TIME_WAIT");
	EXPECT_EQ(tw, xtcp_stat("TimeWait"));
}

/* Both shut down at once, 100 ms apart each way: FINs cross. */
TEST_F(data, close_simultaneous)
{
	long long tw = xtcp_stat("TimeWait"), end;
	int xfd, kfd, aport, n, afin, bfin, i, a_acked = 0, b_acked = 0;
	struct capture *cap;
	char st[STATE_LEN];
	struct seg *s;
	char c;

	add_netem(_metadata, &self->e, 0, "delay 100ms");
	add_netem(_metadata, &self->e, 1, "delay 100ms");
	cap = cap_start(_metadata, &self->e, self->e.np.b, NETPAIR_B_DEV);
	xpair(_metadata, &self->e, B_PORT, &xfd, &kfd);
	aport = local_port(xfd);
	set_timeo(xfd, 3000);
	set_timeo(kfd, 3000);
	ASSERT_EQ(0, shutdown(xfd, SHUT_WR));
	ASSERT_EQ(0, shutdown(kfd, SHUT_WR));
	EXPECT_EQ(0, recv(xfd, &c, 1, 0)) TH_LOG("xtcp: %s", strerror(errno));
	EXPECT_EQ(0, recv(kfd, &c, 1, 0)) TH_LOG("Linux: %s", strerror(errno));
	EXPECT_EQ(0, getsockopt_int(xfd, SOL_SOCKET, SO_ERROR));
	EXPECT_EQ(0, getsockopt_int(kfd, SOL_SOCKET, SO_ERROR));

	/* Both FINs acknowledged: xtcp in TIME_WAIT, or closed. */
	end = now_ms() + 2000;
	do {
		xtcp_state(aport, B_PORT, st, sizeof(st));
		if (!strcmp(st, "TIME_WAIT") || !st[0])
			break;
		usleep(5000);
	} while (now_ms() < end);
	EXPECT_TRUE(!strcmp(st, "TIME_WAIT") || !st[0])
		TH_LOG("xtcp still in '%s'", st);
	TH_LOG("xtcp ended in '%s', TimeWait +%lld", st[0] ? st : "CLOSED",
	       xtcp_stat("TimeWait") - tw);
	EXPECT_EQ(0, getsockopt_int(xfd, SOL_SOCKET, SO_ERROR));
	EXPECT_EQ(0, recv(xfd, &c, 1, 0));
	errno = 0;
	EXPECT_EQ(-1, send(xfd, &c, 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);

	s = cap_copy(cap, &n);
	afin = seg_find(s, n, 0, aport, 1, SEG_FIN, SEG_FIN);
	bfin = seg_find(s, n, 0, aport, 0, SEG_FIN, SEG_FIN);
	ASSERT_LE(0, afin) TH_LOG("no FIN from xtcp");
	ASSERT_LE(0, bfin) TH_LOG("no FIN from Linux");
	EXPECT_EQ(s[bfin].seq, s[afin].ack)
		TH_LOG("xtcp's FIN acknowledges Linux's: not simultaneous");
	EXPECT_EQ(s[afin].seq, s[bfin].ack)
		TH_LOG("Linux's FIN acknowledges xtcp's: not simultaneous");
	for (i = 0; i < n; i++) {
		if (!seg_of(&s[i], aport))
			continue;
		EXPECT_EQ(0U, s[i].flags & SEG_RST)
			TH_LOG("a RST from %s", s[i].from_a ? "xtcp" : "Linux");
		if (s[i].from_a && s[i].ack == s[bfin].seq + 1)
			a_acked = 1;
		if (!s[i].from_a && s[i].ack == s[afin].seq + 1)
			b_acked = 1;
	}
	EXPECT_TRUE(a_acked) TH_LOG("xtcp never acknowledged Linux's FIN");
	EXPECT_TRUE(b_acked) TH_LOG("Linux never acknowledged xtcp's FIN");
	free(s);
	cap_check(_metadata, cap);
}

/* xtcp shuts down its side; 1 MB still flows from Linux to xtcp. */
TEST_F_TIMEOUT(data, half_close_xtcp_shut_wr, 60)
{
	struct xfer tx, rx;
	char st[STATE_LEN];
	int xfd, kfd, aport;
	char c;

	xpair(_metadata, &self->e, B_PORT, &xfd, &kfd);
	aport = local_port(xfd);
	set_timeo(xfd, XFER_TIMEO_MS);
	set_timeo(kfd, XFER_TIMEO_MS);
	ASSERT_EQ(0, shutdown(xfd, SHUT_WR));
	EXPECT_EQ(0, recv(kfd, &c, 1, 0)) TH_LOG("Linux: %s", strerror(errno));
	EXPECT_TRUE(wait_state(aport, B_PORT, "FIN_WAIT2", 2000, st, sizeof(st)))
		TH_LOG("xtcp's state: '%s'", st);
	errno = 0;
	EXPECT_EQ(-1, send(xfd, &c, 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);

	xfer_init(&tx, kfd, MB, 1);
	xfer_init(&rx, xfd, 0, 0);
	ASSERT_EQ(0, xfer_start(&rx, 0));
	ASSERT_EQ(0, xfer_start(&tx, 1));
	pthread_join(tx.th, NULL);
	pthread_join(rx.th, NULL);
	xfer_check(_metadata, "Linux to half-closed xtcp", &tx, &rx, MB);
	EXPECT_TRUE(wait_state(aport, B_PORT, "TIME_WAIT", 2000, st, sizeof(st)))
		TH_LOG("xtcp's state: '%s'", st);
}

/* Linux shuts down its side; 1 MB still flows from xtcp to Linux. */
TEST_F_TIMEOUT(data, half_close_linux_shut_wr, 60)
{
	struct xfer tx, rx;
	char st[STATE_LEN];
	int xfd, kfd, aport;
	char c;

	xpair(_metadata, &self->e, B_PORT, &xfd, &kfd);
	aport = local_port(xfd);
	set_timeo(xfd, XFER_TIMEO_MS);
	set_timeo(kfd, XFER_TIMEO_MS);
	ASSERT_EQ(0, shutdown(kfd, SHUT_WR));
	EXPECT_EQ(0, recv(xfd, &c, 1, 0)) TH_LOG("xtcp: %s", strerror(errno));
	EXPECT_TRUE(wait_state(aport, B_PORT, "CLOSE_WAIT", 2000, st, sizeof(st)))
		TH_LOG("xtcp's state: '%s'", st);

	xfer_init(&tx, xfd, MB, 1);
	xfer_init(&rx, kfd, 0, 0);
	ASSERT_EQ(0, xfer_start(&rx, 0));
	ASSERT_EQ(0, xfer_start(&tx, 1));
	pthread_join(tx.th, NULL);
	pthread_join(rx.th, NULL);
	xfer_check(_metadata, "half-closed xtcp to Linux", &tx, &rx, MB);
	EXPECT_TRUE(wait_state(aport, B_PORT, "", 2000, st, sizeof(st)))
		TH_LOG("xtcp's state: '%s'", st);
}

/*
 * The RST that ends a connection at close(), as B sees it: from A, at
 * @seq, and no FIN from A at all. Then Linux's recv() fails with
 * ECONNRESET and xtcp's connection is gone without TIME_WAIT.
 */
static void check_close_rst(struct __test_metadata *_metadata,
			    struct capture *cap, int kfd, int aport,
			    uint32_t data_sent)
{
	int n, syn, rst, fin, r;
	char st[STATE_LEN], c;
	struct seg *s;

	set_timeo(kfd, 2000);
	errno = 0;
	r = recv(kfd, &c, 1, 0);
	EXPECT_EQ(-1, r);
	EXPECT_EQ(ECONNRESET, errno) TH_LOG("Linux recv: %d, %s", r,
					    strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, send(kfd, &c, 1, MSG_NOSIGNAL));
	EXPECT_TRUE(errno == EPIPE || errno == ECONNRESET)
		TH_LOG("Linux send: %s", strerror(errno));
	EXPECT_TRUE(wait_state(aport, B_PORT, "", 1000, st, sizeof(st)))
		TH_LOG("xtcp's state: '%s'", st);

	s = cap_copy(cap, &n);
	syn = seg_find(s, n, 0, aport, 1, SEG_SYN, SEG_SYN);
	rst = seg_find(s, n, 0, aport, 1, SEG_RST, SEG_RST);
	fin = seg_find(s, n, 0, aport, 1, SEG_FIN, SEG_FIN);
	ASSERT_LE(0, syn);
	EXPECT_LE(0, rst) TH_LOG("no RST from xtcp");
	EXPECT_EQ(-1, fin) TH_LOG("xtcp sent a FIN");
	if (rst >= 0)
		EXPECT_EQ(s[syn].seq + 1 + data_sent, s[rst].seq);
	free(s);
	cap_check(_metadata, cap);
}

/* close() with 1000 bytes unread resets the connection. */
TEST_F(data, close_unread_rst)
{
	long long rsts = xtcp_stat("OutRsts");
	struct capture *cap;
	int xfd, kfd, aport;

	cap = cap_start(_metadata, &self->e, self->e.np.b, NETPAIR_B_DEV);
	xpair(_metadata, &self->e, B_PORT, &xfd, &kfd);
	aport = local_port(xfd);
	ASSERT_EQ(0, k_send(kfd, 0, 1000));
	ASSERT_EQ(1000, wait_ioctl(xfd, SIOCINQ, 1000, 2000));
	ASSERT_EQ(0, close(xfd));
	check_close_rst(_metadata, cap, kfd, aport, 0);
	EXPECT_EQ(rsts + 1, xtcp_stat("OutRsts"));
}

/* SO_LINGER {1, 0}: close() resets, even with everything read. */
TEST_F(data, linger_zero_rst)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	long long rsts = xtcp_stat("OutRsts"), t0, dt;
	struct capture *cap;
	int xfd, kfd, aport;
	struct xfer rx;

	cap = cap_start(_metadata, &self->e, self->e.np.b, NETPAIR_B_DEV);
	xpair(_metadata, &self->e, B_PORT, &xfd, &kfd);
	aport = local_port(xfd);
	set_timeo(kfd, 3000);
	ASSERT_EQ(1000, send(xfd, pat, 1000, MSG_NOSIGNAL));
	xfer_init(&rx, kfd, 1000, 0);
	xfer_recv(&rx);
	ASSERT_EQ(1000, rx.bytes);
	ASSERT_EQ(0, wait_ioctl(xfd, SIOCOUTQ, 0, 2000));
	ASSERT_EQ(0, setsockopt(xfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	t0 = now_ms();
	ASSERT_EQ(0, close(xfd));
	dt = now_ms() - t0;
	EXPECT_GT(500, dt) TH_LOG("close() took %lld ms", dt);
	check_close_rst(_metadata, cap, kfd, aport, 1000);
	EXPECT_EQ(rsts + 1, xtcp_stat("OutRsts"));
}

/* SO_LINGER {1, 3}: close() returns once the FIN is acknowledged. */
TEST_F(data, linger_waits_for_ack)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 3 };
	int xfd, kfd, aport, n, fin, i, ack = -1;
	long long t0, dt, t_ret;
	struct capture *cap;
	struct xfer rx;
	struct seg *s;

	/* Linux's ACKs take 300 ms. */
	add_netem(_metadata, &self->e, 1, "delay 300ms");
	cap = cap_start(_metadata, &self->e, self->e.np.b, NETPAIR_B_DEV);
	xpair(_metadata, &self->e, B_PORT, &xfd, &kfd);
	aport = local_port(xfd);
	ASSERT_EQ(10000, send(xfd, pat, 10000, MSG_NOSIGNAL));
	ASSERT_EQ(0, setsockopt(xfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	t0 = now_ms();
	EXPECT_EQ(0, close(xfd));
	t_ret = rt_ns();
	dt = now_ms() - t0;
	TH_LOG("close() with SO_LINGER took %lld ms", dt);
	EXPECT_LE(250, dt) TH_LOG("close() did not wait for the ACK");
	EXPECT_GT(3000, dt);

	set_timeo(kfd, 3000);
	xfer_init(&rx, kfd, 0, 0);
	xfer_recv(&rx);
	EXPECT_EQ(10000, rx.bytes);
	EXPECT_EQ(-1, rx.bad_at);
	EXPECT_TRUE(rx.eof);

	s = cap_copy(cap, &n);
	fin = seg_find(s, n, 0, aport, 1, SEG_FIN, SEG_FIN);
	ASSERT_LE(0, fin) TH_LOG("no FIN from xtcp");
	for (i = fin; i < n && ack < 0; i++)
		if (!s[i].from_a && seg_of(&s[i], aport) &&
		    s[i].ack == s[fin].seq + s[fin].paylen + 1)
			ack = i;
	ASSERT_LE(0, ack) TH_LOG("Linux never acknowledged the FIN");
	EXPECT_GE(t_ret, s[ack].ns)
		TH_LOG("close() returned %.1f ms before the FIN's ACK left B",
		       (s[ack].ns - t_ret) / 1e6);
	free(s);
	cap_check(_metadata, cap);
}

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	sigpipes++;
}

/**
 * struct shut_res - writes after shutdown(SHUT_WR)
 * @r: send(MSG_NOSIGNAL), send(0), write(): their results
 * @e: and errnos
 * @pipes: SIGPIPEs delivered
 */
struct shut_res {
	int	r[3];
	int	e[3];
	int	pipes;
};

static void shut_run(struct __test_metadata *_metadata, struct env *e,
		     int family, int port, struct shut_res *res)
{
	int cfd = csock(_metadata, family), kfd, i;

	kfd = connect_b(_metadata, e, cfd, port, 0);
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	sigpipes = 0;
	for (i = 0; i < 3; i++) {
		errno = 0;
		if (i == 0)
			res->r[i] = send(cfd, "x", 1, MSG_NOSIGNAL);
		else if (i == 1)
			res->r[i] = send(cfd, "x", 1, 0);
		else
			res->r[i] = write(cfd, "x", 1);
		res->e[i] = res->r[i] < 0 ? errno : 0;
	}
	res->pipes = sigpipes;
	close(cfd);
	close(kfd);
}

TEST_F(data, send_after_shutdown)
{
	struct sigaction sa = { .sa_handler = on_sigpipe };
	struct shut_res k, x;
	int i;

	ASSERT_EQ(0, sigaction(SIGPIPE, &sa, NULL));
	shut_run(_metadata, &self->e, AF_INET, B_PORT, &k);
	shut_run(_metadata, &self->e, xtcp_family(), B_PORT2, &x);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(-1, x.r[i]) TH_LOG("call %d", i);
		EXPECT_EQ(EPIPE, x.e[i]) TH_LOG("call %d: %s", i,
						strerror(x.e[i]));
		EXPECT_EQ(k.r[i], x.r[i]) TH_LOG("call %d", i);
		EXPECT_EQ(k.e[i], x.e[i]) TH_LOG("call %d", i);
	}
	EXPECT_EQ(2, x.pipes) TH_LOG("SIGPIPE for send(0) and write() only");
	EXPECT_EQ(k.pipes, x.pipes);
}

/* ---- 7. a RST from the peer ---- */

#define RST_CALLS	4

/**
 * struct rst_res - what a client sees after the server's RST
 * @ev: poll() revents (POLLIN, POLLOUT, POLLRDHUP asked)
 * @r: recv() three times, then send(): results
 * @e: and errnos
 * @soerr: SO_ERROR after them
 */
struct rst_res {
	int	ev;
	int	r[RST_CALLS];
	int	e[RST_CALLS];
	int	soerr;
};

/*
 * A client of @family connects to Linux in B, which sends @pre bytes
 * (arrived, not read) and closes with SO_LINGER {1, 0}.
 */
static void rst_run(struct __test_metadata *_metadata, struct env *e,
		    int family, int port, int pre, struct rst_res *res)
{
	int cfd = csock(_metadata, family), kfd, i;
	char buf[256];

	kfd = connect_b(_metadata, e, cfd, port, 0);
	set_timeo(cfd, 2000);
	if (pre) {
		ASSERT_EQ(0, k_send(kfd, 0, pre));
		ASSERT_EQ(pre, wait_ioctl(cfd, SIOCINQ, pre, 2000));
	}
	ASSERT_EQ(0, close_rst(kfd));
	poll_one(cfd, 0, 2000);		/* POLLERR, POLLHUP */
	res->ev = poll_one(cfd, POLLIN | POLLOUT | POLLRDHUP, 0);
	for (i = 0; i < RST_CALLS; i++) {
		errno = 0;
		if (i < RST_CALLS - 1)
			res->r[i] = recv(cfd, buf, sizeof(buf), 0);
		else
			res->r[i] = send(cfd, "x", 1, MSG_NOSIGNAL);
		res->e[i] = res->r[i] < 0 ? errno : 0;
	}
	res->soerr = getsockopt_int(cfd, SOL_SOCKET, SO_ERROR);
	close(cfd);
}

static void rst_log(struct __test_metadata *_metadata, const char *who,
		    const struct rst_res *r)
{
	TH_LOG("%-5s revents 0x%x; recv %d (%s), recv %d (%s), recv %d (%s); send %d (%s)",
	       who, r->ev, r->r[0], strerror(r->e[0]), r->r[1],
	       strerror(r->e[1]), r->r[2], strerror(r->e[2]), r->r[3],
	       strerror(r->e[3]));
}

/* xtcp's client sees what Linux's sees, call by call. */
static void rst_compare(struct __test_metadata *_metadata, struct env *e,
			int pre)
{
	static const char * const call[] = { "recv 1", "recv 2", "recv 3",
					      "send" };
	struct rst_res k, x;
	int i;

	rst_run(_metadata, e, AF_INET, B_PORT, pre, &k);
	rst_run(_metadata, e, xtcp_family(), B_PORT2, pre, &x);
	rst_log(_metadata, "Linux", &k);
	rst_log(_metadata, "xtcp", &x);
	/* The reset is reported once, after the data that came before it. */
	EXPECT_EQ(pre ? pre : -1, x.r[0]);
	EXPECT_EQ(-1, x.r[pre ? 1 : 0]);
	EXPECT_EQ(ECONNRESET, x.e[pre ? 1 : 0]);
	EXPECT_EQ(k.ev, x.ev);
	for (i = 0; i < RST_CALLS; i++) {
		EXPECT_EQ(k.r[i], x.r[i]) TH_LOG("%s", call[i]);
		EXPECT_EQ(k.e[i], x.e[i]) TH_LOG("%s", call[i]);
	}
	EXPECT_EQ(k.soerr, x.soerr);
}

TEST_F(data, peer_rst)
{
	rst_compare(_metadata, &self->e, 0);
}

TEST_F(data, peer_rst_after_data)
{
	rst_compare(_metadata, &self->e, 100);
}

/* ---- 8. poll, epoll ---- */

/**
 * struct poll_res - poll() revents along a connection's life
 * @connected: connected, nothing to read
 * @data: Linux sent 10 bytes
 * @drained: they were read
 * @fin: Linux shut down its side
 * @fin_out: then, POLLOUT asked too
 * @rst: another connection, reset by Linux
 */
struct poll_res {
	int	connected, data, drained, fin, fin_out, rst;
};

#define P_ALL	(POLLIN | POLLOUT | POLLRDHUP)

static void poll_run(struct __test_metadata *_metadata, struct env *e,
		     int family, int port, struct poll_res *res)
{
	int cfd = csock(_metadata, family), kfd;
	char buf[16];

	kfd = connect_b(_metadata, e, cfd, port, 0);
	res->connected = poll_one(cfd, P_ALL, 0);
	ASSERT_EQ(0, k_send(kfd, 0, 10));
	res->data = poll_one(cfd, POLLIN | POLLRDHUP, 2000);
	EXPECT_EQ(10, recv(cfd, buf, sizeof(buf), MSG_DONTWAIT));
	res->drained = poll_one(cfd, POLLIN | POLLRDHUP, 100);
	ASSERT_EQ(0, shutdown(kfd, SHUT_WR));
	res->fin = poll_one(cfd, POLLIN | POLLRDHUP, 2000);
	res->fin_out = poll_one(cfd, P_ALL, 0);
	close(cfd);
	close(kfd);

	cfd = csock(_metadata, family);
	kfd = connect_b(_metadata, e, cfd, port + 1, 0);
	ASSERT_EQ(0, close_rst(kfd));
	poll_one(cfd, 0, 2000);
	res->rst = poll_one(cfd, P_ALL, 0);
	close(cfd);
}

TEST_F(data, poll_events)
{
	struct poll_res k, x;

	poll_run(_metadata, &self->e, AF_INET, B_PORT, &k);
	poll_run(_metadata, &self->e, xtcp_family(), B_PORT + 2, &x);
	EXPECT_EQ(POLLOUT, x.connected);
	EXPECT_EQ(POLLIN, x.data);
	EXPECT_EQ(0, x.drained);
	EXPECT_EQ(POLLIN | POLLRDHUP, x.fin);
	EXPECT_EQ(P_ALL, x.fin_out);
	EXPECT_EQ(POLLERR | POLLHUP, x.rst & (POLLERR | POLLHUP));
	EXPECT_EQ(k.connected, x.connected);
	EXPECT_EQ(k.data, x.data);
	EXPECT_EQ(k.drained, x.drained);
	EXPECT_EQ(k.fin, x.fin);
	EXPECT_EQ(k.fin_out, x.fin_out);
	EXPECT_EQ(k.rst, x.rst) TH_LOG("after a RST: Linux 0x%x, xtcp 0x%x",
				       k.rst, x.rst);
}

/* epoll_wait() of @ep for up to @ms: the events, and how long it took. */
static int ep_wait(int ep, int ms, long long *took)
{
	struct epoll_event ev = { 0 };
	long long t0 = now_ms();
	int n;

	n = epoll_wait(ep, &ev, 1, ms);
	*took = now_ms() - t0;
	return n == 1 ? (int)ev.events : n;
}

static int ep_set(int ep, int fd, unsigned int events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (!epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev))
		return 0;
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? errno : 0;
}

/* A blocked epoll_wait() wakes up for each event xtcp reports. */
TEST_F(data, epoll_wakeups)
{
	int xfd, kfd, ep, ev;
	long long sent = 0, took, woke;
	struct later l;
	char buf[16];
	ssize_t r;

	xfd = xsock(_metadata);
	ASSERT_EQ(0, setsockopt_int(xfd, SOL_SOCKET, SO_SNDBUF, 65536));
	kfd = connect_b(_metadata, &self->e, xfd, B_PORT, 4096);
	set_timeo(kfd, XFER_TIMEO_MS);
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, ep_set(ep, xfd, EPOLLIN | EPOLLRDHUP));
	EXPECT_EQ(0, ep_wait(ep, 100, &took));

	/* Data. */
	ASSERT_EQ(0, later(&l, kfd, 200, LATER_SEND, 0, 10));
	ev = ep_wait(ep, 3000, &took);
	woke = now_ms();
	pthread_join(l.th, NULL);
	EXPECT_EQ(EPOLLIN, ev) TH_LOG("data: events 0x%x after %lld ms", ev,
				      took);
	/* Woken by the action, not before it. */
	EXPECT_LE(l.at, woke);
	EXPECT_EQ(10, recv(xfd, buf, sizeof(buf), MSG_DONTWAIT));

	/* Send buffer room: full until Linux reads. */
	while ((r = send(xfd, pat_at(sent), CHUNK,
			 MSG_DONTWAIT | MSG_NOSIGNAL)) > 0)
		sent += r;
	ASSERT_EQ(EAGAIN, errno) TH_LOG("send: %s", strerror(errno));
	usleep(300000);
	ASSERT_EQ(0, ep_set(ep, xfd, EPOLLOUT));
	EXPECT_EQ(0, ep_wait(ep, 200, &took))
		TH_LOG("writable with the send buffer full (%lld bytes sent)",
		       sent);
	ASSERT_EQ(0, later(&l, kfd, 200, LATER_DRAIN, 0, sent));
	ev = ep_wait(ep, 5000, &took);
	woke = now_ms();
	EXPECT_EQ(EPOLLOUT, ev) TH_LOG("room: events 0x%x after %lld ms", ev,
				       took);
	/* Woken by the action, not before it. */
	EXPECT_LE(l.at, woke);
	pthread_join(l.th, NULL);
	EXPECT_EQ(0, l.err) TH_LOG("Linux read: %s", strerror(l.err));
	EXPECT_EQ(sent, l.rx.bytes);
	EXPECT_EQ(-1, l.rx.bad_at);

	/* The peer's FIN. */
	ASSERT_EQ(0, ep_set(ep, xfd, EPOLLIN | EPOLLRDHUP));
	ASSERT_EQ(0, later(&l, kfd, 200, LATER_SHUT, 0, 0));
	ev = ep_wait(ep, 3000, &took);
	woke = now_ms();
	pthread_join(l.th, NULL);
	EXPECT_EQ(EPOLLIN | EPOLLRDHUP, ev)
		TH_LOG("FIN: events 0x%x after %lld ms", ev, took);
	/* Woken by the action, not before it. */
	EXPECT_LE(l.at, woke);

	/* The peer's RST (EPOLLERR and EPOLLHUP need not be asked for). */
	ASSERT_EQ(0, ep_set(ep, xfd, 0));
	EXPECT_EQ(0, ep_wait(ep, 100, &took));
	ASSERT_EQ(0, later(&l, kfd, 200, LATER_RST, 0, 0));
	ev = ep_wait(ep, 3000, &took);
	woke = now_ms();
	pthread_join(l.th, NULL);
	EXPECT_EQ(0, l.err);
	EXPECT_EQ(EPOLLERR | EPOLLHUP, ev)
		TH_LOG("RST: events 0x%x after %lld ms", ev, took);
	/* Woken by the action, not before it. */
	EXPECT_LE(l.at, woke);
	close(ep);
}

/* ---- 9. zero window ---- */

static int seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/*
 * Linux's end reads nothing, its receive buffer small: its window closes,
 * xtcp probes it with backing off, never sends beyond it, and once Linux
 * reads, the whole MB arrives.
 */
TEST_F_TIMEOUT(data, zero_window_probes, 60)
{
	int xfd, kfd, aport, n, i, zw = -1, nprobes = 0, overrun = 0;
	uint32_t edge = 0, b_ack = 0;
	long long probe_ns[32];
	struct capture *cap;
	struct xfer tx, rx;
	int wscale = 0;
	struct seg *s;
	ssize_t r;

	cap = cap_start(_metadata, &self->e, self->e.np.b, NETPAIR_B_DEV);
	xfd = xsock(_metadata);
	ASSERT_EQ(0, setsockopt_int(xfd, SOL_SOCKET, SO_SNDBUF, 65536));
	kfd = connect_b(_metadata, &self->e, xfd, B_PORT, 4096);
	aport = local_port(xfd);
	set_timeo(xfd, XFER_TIMEO_MS);
	set_timeo(kfd, XFER_TIMEO_MS);
	xfer_init(&tx, xfd, MB, 1);
	for (;;) {
		const unsigned char *p = pat_at(tx.bytes);

		r = send(xfd, p, CHUNK, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r <= 0)
			break;
		tx.hash = fnv1a(tx.hash, p, r);
		tx.bytes += r;
	}
	ASSERT_EQ(EAGAIN, errno) TH_LOG("send: %s", strerror(errno));
	ASSERT_GT(MB, tx.bytes);
	TH_LOG("%lld bytes queued before EAGAIN; Linux's SO_RCVBUF %d",
	       tx.bytes, getsockopt_int(kfd, SOL_SOCKET, SO_RCVBUF));
	usleep(4000 * 1000);

	s = cap_copy(cap, &n);
	for (i = 0; i < n; i++) {
		const struct seg *g = &s[i];
		uint32_t right;

		if (!seg_of(g, aport))
			continue;
		if (!g->from_a) {
			if (!(g->flags & SEG_ACK))
				continue;
			b_ack = g->ack;
			right = g->ack + (g->flags & SEG_SYN ? g->win :
					  g->win << wscale);
			if (g->flags & SEG_SYN)
				wscale = g->wscale > 0 ? g->wscale : 0;
			if (!edge || seq_after(right, edge))
				edge = right;
			if (!g->win && zw < 0)
				zw = i;
			continue;
		}
		if (g->paylen > 1 && seq_after(g->seq + g->paylen, edge))
			overrun++;
		if (zw < 0 || g->flags != SEG_ACK)
			continue;
		/* A probe: an old sequence number, or one byte. */
		if ((!g->paylen && g->seq == b_ack - 1) ||
		    (g->paylen == 1 && g->seq == b_ack)) {
			if (nprobes < 32)
				probe_ns[nprobes] = g->ns;
			nprobes++;
		}
	}
	free(s);
	EXPECT_LE(0, zw) TH_LOG("Linux never advertised a zero window");
	EXPECT_EQ(0, overrun) TH_LOG("xtcp sent beyond Linux's window");
	EXPECT_LE(2, nprobes) TH_LOG("zero window probes in 4 s");
	for (i = 1; i < nprobes && i < 32; i++) {
		TH_LOG("probe %d: %.0f ms after the previous", i + 1,
		       (probe_ns[i] - probe_ns[i - 1]) / 1e6);
		if (i >= 2)
			EXPECT_LT(probe_ns[i - 1] - probe_ns[i - 2],
				  probe_ns[i] - probe_ns[i - 1])
				TH_LOG("probes do not back off");
	}

	/* Linux reads: the rest flows. */
	xfer_init(&rx, kfd, 0, 0);
	ASSERT_EQ(0, xfer_start(&rx, 0));
	ASSERT_EQ(0, xfer_start(&tx, 1));
	pthread_join(tx.th, NULL);
	pthread_join(rx.th, NULL);
	xfer_check(_metadata, "xtcp to Linux through a zero window", &tx, &rx,
		   MB);
	cap_check(_metadata, cap);
}

TEST_HARNESS_MAIN
