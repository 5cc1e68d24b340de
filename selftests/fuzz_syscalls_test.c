// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile callers (issue 13): a syscall fuzzer and a sysctl fuzzer.
 *
 * fuzz.syscalls: four threads share a table of xtcp sockets and call
 * socket, bind, connect, listen, accept4, send/recv in all their forms
 * (random flags, odd iovecs, control messages, bad pointers), shutdown,
 * setsockopt/getsockopt (random levels, names, lengths, pointers),
 * ioctl, poll, epoll and close on them, without any lock around the
 * calls. Each failure's errno must be one Linux's TCP could give for
 * that call; anything else is logged with its arguments and fails the
 * test. Afterwards every socket is closed and xtcp.ko's reference
 * count, /proc/net/xtcp_sockstat's "alloc" and the XTCP slab cache's
 * active objects must come back to where they started.
 *
 * sysctl.fuzz: every file in /proc/sys/net/xtcp gets random strings,
 * huge and negative numbers, hex, binary bytes, several values, bad
 * pointers and writes at offsets. A refused write must fail with EINVAL
 * (EFAULT for a bad buffer) and leave the value alone; an accepted one
 * must leave a value in the entry's range. sysctl_test.c checks each
 * entry's fixed good and bad values; this adds the random ones.
 *
 * XTCP_FUZZ_SEED sets the seed (printed), XTCP_FUZZ_OPS the number of
 * operations (all threads together).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <linux/sockios.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"

#define NTHREADS	4
#define NSLOTS		16
/*
 * make check's run: the 100,000 operations from a fixed seed (the
 * threads' interleaving still varies); XTCP_FUZZ_OPS and XTCP_FUZZ_SEED
 * change them.
 */
#define DEFAULT_OPS	100000
#define DEFAULT_SEED	1796346347ULL
#define PORT_LINUX	8000		/* Linux's listener in B */
#define PORT_CLOSED	8001		/* nothing there: RST */
#define PORT_XTCP	9000		/* xtcp's listener in A */
#define PORT_FUZZ	20000		/* bind() picks from 16 from here */
#define MAX_FINDINGS	40
#define XTCP_SOCKSTAT	"/proc/thread-self/net/xtcp_sockstat"

/* ---- a deterministic PRNG: splitmix64 seeding xorshift64* ---- */

static uint64_t rnd_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t rnd_seed(uint64_t seed, int stream)
{
	uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	z ^= z >> 31;
	return z ? z : 1;
}

static unsigned int rnd(uint64_t *s, unsigned int n)
{
	return n ? (unsigned int)(rnd_next(s) >> 32) % n : 0;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

/* ---- the calls and the errnos Linux's TCP may give for each ---- */

enum op {
	OP_SOCKET, OP_BIND, OP_CONNECT, OP_LISTEN, OP_ACCEPT, OP_SEND,
	OP_RECV, OP_SENDMSG, OP_RECVMSG, OP_SHUTDOWN, OP_SETSOCKOPT,
	OP_GETSOCKOPT, OP_IOCTL, OP_POLL, OP_EPOLL, OP_CLOSE, OP_GETNAME,
	OP_MAX
};

static const char *const op_names[OP_MAX] = {
	"socket", "bind", "connect", "listen", "accept", "send", "recv",
	"sendmsg", "recvmsg", "shutdown", "setsockopt", "getsockopt",
	"ioctl", "poll", "epoll", "close", "getname",
};

/* Weights: how often each call is picked. */
static const unsigned int op_weight[OP_MAX] = {
	[OP_SOCKET] = 4, [OP_BIND] = 6, [OP_CONNECT] = 10, [OP_LISTEN] = 4,
	[OP_ACCEPT] = 5, [OP_SEND] = 10, [OP_RECV] = 10, [OP_SENDMSG] = 8,
	[OP_RECVMSG] = 8, [OP_SHUTDOWN] = 3, [OP_SETSOCKOPT] = 12,
	[OP_GETSOCKOPT] = 10, [OP_IOCTL] = 5, [OP_POLL] = 3, [OP_EPOLL] = 2,
	[OP_CLOSE] = 3, [OP_GETNAME] = 3,
};

/*
 * Any call on a table slot may meet a socket another thread closed
 * (EBADF) or a socket error of the connection (sock_error()).
 */
#define FD_ERRNOS	EBADF, ENOTSOCK, EINTR, ENOMEM, ENOBUFS
#define SK_ERRNOS	ECONNREFUSED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH, \
			ENETUNREACH, EPIPE, EPROTO, ENONET, EHOSTDOWN

static const int ok_socket[] = { EINVAL, ESOCKTNOSUPPORT, EPROTONOSUPPORT,
	EAFNOSUPPORT, EMFILE, ENFILE, ENOBUFS, ENOMEM, EACCES, 0 };
static const int ok_bind[] = { FD_ERRNOS, EINVAL, EFAULT, EAFNOSUPPORT,
	EADDRINUSE, EADDRNOTAVAIL, EACCES, 0 };
static const int ok_connect[] = { FD_ERRNOS, SK_ERRNOS, EINVAL, EFAULT,
	EAFNOSUPPORT, EADDRINUSE, EADDRNOTAVAIL, EINPROGRESS, EALREADY,
	EISCONN, EAGAIN, EACCES, EPERM, ECONNABORTED, ENODEV, 0 };
static const int ok_listen[] = { FD_ERRNOS, EINVAL, EADDRINUSE, EOPNOTSUPP,
	0 };
static const int ok_accept[] = { FD_ERRNOS, SK_ERRNOS, EINVAL, EAGAIN,
	EFAULT, ECONNABORTED, EMFILE, ENFILE, EOPNOTSUPP, EPERM, 0 };
static const int ok_send[] = { FD_ERRNOS, SK_ERRNOS, EAGAIN, ENOTCONN,
	EFAULT, EINVAL, EOPNOTSUPP, EMSGSIZE, EISCONN, EDESTADDRREQ, 0 };
static const int ok_recv[] = { FD_ERRNOS, SK_ERRNOS, EAGAIN, ENOTCONN,
	EFAULT, EINVAL, EMSGSIZE, 0 };
static const int ok_shutdown[] = { FD_ERRNOS, EINVAL, ENOTCONN, 0 };
static const int ok_sockopt[] = { FD_ERRNOS, EINVAL, EFAULT, ENOPROTOOPT,
	EOPNOTSUPP, EPERM, EACCES, EPROTO, EADDRNOTAVAIL, ENODEV, EISCONN,
	EBUSY, ENOENT, EALREADY, EDOM, ENOTCONN, ERANGE, ENOSPC, ENXIO,
	ENODATA, EMSGSIZE, 0 };
static const int ok_ioctl[] = { FD_ERRNOS, EINVAL, EFAULT, ENOTTY, ENODEV,
	ENXIO, EOPNOTSUPP, EPERM, ENOENT, EADDRNOTAVAIL, ENOTCONN, 0 };
static const int ok_poll[] = { FD_ERRNOS, EINVAL, EFAULT, EEXIST, EPERM,
	0 };
static const int ok_close[] = { EBADF, EINTR, 0 };
static const int ok_getname[] = { FD_ERRNOS, EINVAL, EFAULT, ENOTCONN, 0 };

static const int *const op_ok[OP_MAX] = {
	[OP_SOCKET] = ok_socket, [OP_BIND] = ok_bind,
	[OP_CONNECT] = ok_connect, [OP_LISTEN] = ok_listen,
	[OP_ACCEPT] = ok_accept, [OP_SEND] = ok_send, [OP_RECV] = ok_recv,
	[OP_SENDMSG] = ok_send, [OP_RECVMSG] = ok_recv,
	[OP_SHUTDOWN] = ok_shutdown, [OP_SETSOCKOPT] = ok_sockopt,
	[OP_GETSOCKOPT] = ok_sockopt, [OP_IOCTL] = ok_ioctl,
	[OP_POLL] = ok_poll, [OP_EPOLL] = ok_poll, [OP_CLOSE] = ok_close,
	[OP_GETNAME] = ok_getname,
};

/* ---- shared state ---- */

struct fuzz {
	pthread_mutex_t lock;		/* the slots' bookkeeping only */
	int slot[NSLOTS];
	int family;
	uint64_t seed;
	long ops_per_thread;
	int stop;			/* the helper thread's */
	int lfd_linux, lfd_xtcp;
	pthread_mutex_t log_lock;
	int findings;
	long count[OP_MAX];
	long fails[OP_MAX];
	long errs[OP_MAX][134];
};

struct worker {
	struct fuzz *f;
	int id;
	uint64_t rs;
	int epfd;
	long count[OP_MAX];
	long fails[OP_MAX];
	long errs[OP_MAX][134];
	char buf[65536];
	char cbuf[512];
};

static void finding(struct fuzz *f, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&f->log_lock);
	if (f->findings++ < MAX_FINDINGS) {
		fprintf(stderr, "# FINDING: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, "\n");
	}
	pthread_mutex_unlock(&f->log_lock);
}

/*
 * Account for one call's result; @ret < 0 means it failed with errno.
 * @extra: one more errno allowed for this call (0: none).
 */
static void check(struct worker *w, enum op call, long ret, int extra,
		  const char *fmt, ...)
{
	int err = errno, i;
	const int *ok = op_ok[call];
	char args[256];
	va_list ap;

	w->count[call]++;
	if (ret >= 0)
		return;
	w->fails[call]++;
	if (err > 0 && err < 134)
		w->errs[call][err]++;
	if (err == extra)
		return;
	for (i = 0; ok[i]; i++)
		if (ok[i] == err)
			return;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	finding(w->f, "%s(%s) = -1 %s (%d), not an errno of Linux's TCP",
		op_names[call], args, strerrorname_np(err) ?: "?", err);
}

/* A random slot's fd (maybe -1 or stale: that is the point). */
static int pick_fd(struct worker *w)
{
	int fd, i;

	if (!rnd(&w->rs, 64))
		return rnd(&w->rs, 3) ? -1 : 100000;	/* never open */
	i = rnd(&w->rs, NSLOTS);
	pthread_mutex_lock(&w->f->lock);
	fd = w->f->slot[i];
	pthread_mutex_unlock(&w->f->lock);
	if (fd >= 0 || !rnd(&w->rs, 4))
		return fd;
	/* Mostly a fresh socket in an empty slot: more calls that count. */
	fd = socket(w->f->family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&w->f->lock);
	if (w->f->slot[i] < 0) {
		w->f->slot[i] = fd;
		fd = -fd - 2;
	}
	pthread_mutex_unlock(&w->f->lock);
	if (fd >= 0) {
		close(fd);
		return -1;
	}
	return -fd - 2;
}

/* Nonblocking, so that nothing waits; linger never blocks close(). */
static void tame(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Put @fd in a random slot, closing what was there. */
static void put_slot(struct worker *w, int fd)
{
	int i = rnd(&w->rs, NSLOTS), old;

	pthread_mutex_lock(&w->f->lock);
	old = w->f->slot[i];
	w->f->slot[i] = fd;
	pthread_mutex_unlock(&w->f->lock);
	if (old >= 0)
		check(w, OP_CLOSE, close(old), 0, "%d", old);
}

static void *bad_ptr(struct worker *w)
{
	static void *const p[] = { NULL, (void *)1, (void *)-4096L,
				   (void *)0xffff800000000000UL };

	return p[rnd(&w->rs, 4)];
}

static const char *const addrs[] = {
	NETPAIR_A_ADDR, "0.0.0.0", "127.0.0.1", NETPAIR_B_ADDR, "192.0.2.3",
	"255.255.255.255", "224.0.0.1",
};

/* A random address for bind or connect; its length into *@len. */
static void rnd_addr(struct worker *w, struct sockaddr_storage *ss,
		     socklen_t *len, int connect)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	static const int cports[] = { PORT_LINUX, PORT_CLOSED, PORT_XTCP };
	static const socklen_t lens[] = { 0, 1, 2, 8, 15, 17, 128, 1000 };
	int port;

	memset(ss, 0, sizeof(*ss));
	if (connect && rnd(&w->rs, 2)) {
		port = cports[rnd(&w->rs, 3)];
		*sin = sin_make(port == PORT_XTCP ?
				(rnd(&w->rs, 2) ? NETPAIR_A_ADDR : "127.0.0.1") :
				NETPAIR_B_ADDR, port);
	} else {
		port = rnd(&w->rs, 8) ? PORT_FUZZ + rnd(&w->rs, 16) :
		       rnd(&w->rs, 2) ? 0 : rnd(&w->rs, 1024);
		*sin = sin_make(addrs[rnd(&w->rs, connect ? 7 : 4)], port);
	}
	*len = sizeof(*sin);
	switch (rnd(&w->rs, 12)) {
	case 0:
		sin->sin_family = AF_UNSPEC;
		break;
	case 1:
		sin->sin_family = rnd(&w->rs, 2) ? AF_INET6 : rnd(&w->rs, 64);
		break;
	case 2:
		*len = lens[rnd(&w->rs, 8)];
		break;
	}
}

static void do_socket(struct worker *w)
{
	static const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_RAW,
				     SOCK_SEQPACKET, 0, 11 };
	int type = SOCK_STREAM, proto = 0, fd;

	if (!rnd(&w->rs, 4)) {
		type = types[rnd(&w->rs, 6)];
		proto = rnd(&w->rs, 2) ? (int)rnd(&w->rs, 300) - 20 : IPPROTO_TCP;
	}
	type |= rnd(&w->rs, 2) ? SOCK_NONBLOCK : 0;
	type |= rnd(&w->rs, 2) ? SOCK_CLOEXEC : 0;
	fd = socket(w->f->family, type, proto);
	check(w, OP_SOCKET, fd, 0, "xtcp, %#x, %d", type, proto);
	if (fd >= 0) {
		tame(fd);
		put_slot(w, fd);
	}
}

static void do_bind(struct worker *w)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = pick_fd(w), ret;

	rnd_addr(w, &ss, &len, 0);
	if (!rnd(&w->rs, 20))
		ret = bind(fd, bad_ptr(w), sizeof(struct sockaddr_in));
	else
		ret = bind(fd, (struct sockaddr *)&ss, len);
	check(w, OP_BIND, ret, 0, "%d, family %d, len %u", fd, ss.ss_family,
	      len);
}

static void do_connect(struct worker *w)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = pick_fd(w), ret;

	rnd_addr(w, &ss, &len, 1);
	if (!rnd(&w->rs, 20))
		ret = connect(fd, bad_ptr(w), sizeof(struct sockaddr_in));
	else
		ret = connect(fd, (struct sockaddr *)&ss, len);
	check(w, OP_CONNECT, ret, 0, "%d, family %d, len %u", fd,
	      ss.ss_family, len);
}

static void do_listen(struct worker *w)
{
	static const int backlogs[] = { -1, 0, 1, 5, 128, 4096, INT_MAX,
					INT_MIN };
	int fd = pick_fd(w), bl = backlogs[rnd(&w->rs, 8)];

	check(w, OP_LISTEN, listen(fd, bl), 0, "%d, %d", fd, bl);
}

static void do_accept(struct worker *w)
{
	static const int fl[] = { 0, SOCK_NONBLOCK, SOCK_CLOEXEC,
				  SOCK_NONBLOCK | SOCK_CLOEXEC, 1, 0x7fffffff };
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = pick_fd(w), flags = fl[rnd(&w->rs, 6)], nfd;
	struct sockaddr *addr = (struct sockaddr *)&sin;
	socklen_t *lenp = &len;

	switch (rnd(&w->rs, 8)) {
	case 0:
		addr = NULL;
		lenp = NULL;
		break;
	case 1:
		len = rnd(&w->rs, 2) ? 0 : (socklen_t)-1;
		break;
	case 2:
		addr = bad_ptr(w);
		break;
	}
	/* accept4() of a blocking socket would wait: poll it first. */
	if (!(poll_one(fd, POLLIN, 0) & POLLIN) &&
	    !(fcntl(fd, F_GETFL) & O_NONBLOCK)) {
		w->count[OP_ACCEPT]++;
		return;
	}
	nfd = accept4(fd, addr, lenp, flags);
	check(w, OP_ACCEPT, nfd, 0, "%d, %p, %d, %#x", fd, addr,
	      lenp ? (int)len : -2, flags);
	if (nfd >= 0) {
		tame(nfd);
		put_slot(w, nfd);
	}
}

static int rnd_flags(struct worker *w, int send)
{
	static const int sflags[] = { MSG_OOB, MSG_MORE, MSG_NOSIGNAL,
				      MSG_EOR, MSG_CONFIRM, MSG_DONTROUTE,
				      MSG_ZEROCOPY, MSG_FASTOPEN };
	static const int rflags[] = { MSG_PEEK, MSG_OOB, MSG_WAITALL,
				      MSG_TRUNC, MSG_ERRQUEUE, MSG_CMSG_CLOEXEC,
				      MSG_NOSIGNAL, MSG_TRUNC | MSG_PEEK };
	int flags = MSG_DONTWAIT, i, n = rnd(&w->rs, 3);

	for (i = 0; i < n; i++)
		flags |= send ? sflags[rnd(&w->rs, 8)] : rflags[rnd(&w->rs, 8)];
	if (!rnd(&w->rs, 32))
		flags |= 1 << rnd(&w->rs, 31);
	return flags | MSG_NOSIGNAL * send;
}

static size_t rnd_len(struct worker *w)
{
	static const size_t lens[] = { 0, 1, 7, 100, 1460, 4096, 65536 };

	return lens[rnd(&w->rs, 7)];
}

static void do_send(struct worker *w)
{
	int fd = pick_fd(w), flags = rnd_flags(w, 1);
	size_t len = rnd_len(w);
	void *buf = rnd(&w->rs, 16) ? w->buf : bad_ptr(w);
	struct sockaddr_storage ss;
	socklen_t alen;
	long ret;

	if (rnd(&w->rs, 3)) {
		ret = send(fd, buf, len, flags);
		check(w, OP_SEND, ret, flags & MSG_ZEROCOPY ? ENOBUFS : 0,
		      "%d, %p, %zu, %#x", fd, buf, len, flags);
		return;
	}
	rnd_addr(w, &ss, &alen, 1);
	ret = sendto(fd, buf, len, flags, (struct sockaddr *)&ss, alen);
	check(w, OP_SEND, ret, 0, "sendto %d, %p, %zu, %#x, family %d, %u",
	      fd, buf, len, flags, ss.ss_family, alen);
}

static void do_recv(struct worker *w)
{
	int fd = pick_fd(w), flags = rnd_flags(w, 0);
	size_t len = rnd_len(w);
	void *buf = rnd(&w->rs, 16) ? w->buf : bad_ptr(w);
	struct sockaddr_in sin;
	socklen_t alen = rnd(&w->rs, 2) ? sizeof(sin) : 0;
	long ret;

	if (rnd(&w->rs, 3))
		ret = recv(fd, buf, len, flags);
	else
		ret = recvfrom(fd, buf, len, flags, (struct sockaddr *)&sin,
			       &alen);
	/* No urgent data in xtcp: MSG_OOB is EOPNOTSUPP (documented). */
	check(w, OP_RECV, ret, flags & MSG_OOB ? EOPNOTSUPP : 0,
	      "%d, %p, %zu, %#x", fd, buf, len, flags);
}

/* Odd iovecs: none, empty ones, NULL bases, bad bases, too many. */
static int rnd_iov(struct worker *w, struct iovec *iov, int max)
{
	int n, i;

	switch (rnd(&w->rs, 6)) {
	case 0:
		return 0;
	case 1:
		n = max;
		break;
	default:
		n = 1 + rnd(&w->rs, 8);
	}
	for (i = 0; i < n; i++) {
		switch (rnd(&w->rs, 8)) {
		case 0:
			iov[i].iov_base = NULL;
			iov[i].iov_len = 0;
			break;
		case 1:
			iov[i].iov_base = bad_ptr(w);
			iov[i].iov_len = rnd(&w->rs, 2) ? 0 : 1 + rnd(&w->rs, 100);
			break;
		case 2:
			iov[i].iov_base = w->buf;
			iov[i].iov_len = 0;
			break;
		default:
			iov[i].iov_base = w->buf + rnd(&w->rs, 1024);
			iov[i].iov_len = rnd(&w->rs, 4096);
		}
	}
	return n;
}

/* Random control messages: real ones, bad lengths, garbage. */
static size_t rnd_cmsg(struct worker *w)
{
	struct cmsghdr *cm = (struct cmsghdr *)w->cbuf;
	static const int levels[] = { SOL_SOCKET, IPPROTO_IP, IPPROTO_TCP,
				      SOL_XTCP, 12345 };
	size_t i, len;

	switch (rnd(&w->rs, 4)) {
	case 0:
		return 0;
	case 1:		/* garbage */
		len = rnd(&w->rs, sizeof(w->cbuf));
		for (i = 0; i < len; i++)
			w->cbuf[i] = rnd(&w->rs, 256);
		return len;
	}
	memset(w->cbuf, 0, sizeof(w->cbuf));
	cm->cmsg_level = levels[rnd(&w->rs, 5)];
	cm->cmsg_type = rnd(&w->rs, 2) ? rnd(&w->rs, 70) : SO_MARK;
	cm->cmsg_len = CMSG_LEN(rnd(&w->rs, 2) ? sizeof(int) :
				rnd(&w->rs, 64));
	if (!rnd(&w->rs, 8))
		cm->cmsg_len = rnd(&w->rs, 2) ? 0 : 1000;
	if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
		int fd = 0;

		memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	}
	return CMSG_SPACE(sizeof(int));
}

static void do_sendmsg(struct worker *w, int recv)
{
	static struct iovec iovs[NTHREADS][1100];
	struct iovec *iov = iovs[w->id];
	struct sockaddr_storage ss;
	struct msghdr msg = { 0 };
	int fd = pick_fd(w), flags = rnd_flags(w, !recv), n;
	long ret;

	n = rnd_iov(w, iov, rnd(&w->rs, 2) ? 1024 : 1025);
	msg.msg_iov = rnd(&w->rs, 20) ? iov : bad_ptr(w);
	msg.msg_iovlen = n;
	if (!rnd(&w->rs, 4)) {
		rnd_addr(w, &ss, &msg.msg_namelen, 1);
		msg.msg_name = &ss;
	}
	if (recv) {
		msg.msg_control = w->cbuf;
		msg.msg_controllen = rnd(&w->rs, 2) ? sizeof(w->cbuf) :
				     rnd(&w->rs, 20);
		if (!rnd(&w->rs, 16))
			msg.msg_control = bad_ptr(w);
		ret = recvmsg(fd, &msg, flags);
		check(w, OP_RECVMSG, ret, flags & MSG_OOB ? EOPNOTSUPP : 0,
		      "%d, iovlen %d, controllen %zu, %#x", fd, n,
		      msg.msg_controllen, flags);
		return;
	}
	msg.msg_controllen = rnd_cmsg(w);
	msg.msg_control = msg.msg_controllen ? w->cbuf : NULL;
	if (!rnd(&w->rs, 16)) {
		msg.msg_control = bad_ptr(w);
		msg.msg_controllen = 32;
	}
	ret = sendmsg(fd, &msg, flags);
	check(w, OP_SENDMSG, ret, flags & MSG_ZEROCOPY ? ENOBUFS : 0,
	      "%d, iovlen %d, controllen %zu, %#x", fd, n, msg.msg_controllen,
	      flags);
}

static void do_shutdown(struct worker *w)
{
	static const int hows[] = { SHUT_RD, SHUT_WR, SHUT_RDWR, 3, -1, 100 };
	int fd = pick_fd(w), how = hows[rnd(&w->rs, 6)];

	check(w, OP_SHUTDOWN, shutdown(fd, how), 0, "%d, %d", fd, how);
}

static const int levels[] = { SOL_SOCKET, IPPROTO_TCP, IPPROTO_IP,
			      SOL_XTCP, 0, 1234, -1 };

static int rnd_optname(struct worker *w, int level)
{
	if (!rnd(&w->rs, 16))
		return rnd(&w->rs, 2) ? -1 : (int)rnd_next(&w->rs);
	return rnd(&w->rs, 101);
}

static socklen_t rnd_optlen(struct worker *w)
{
	static const socklen_t lens[] = { 0, 1, 3, 4, 4, 4, 8, 16, 64, 256,
					  65536, (socklen_t)-1,
					  (socklen_t)INT_MIN };

	return lens[rnd(&w->rs, 13)];
}

/*
 * Options that could make a later call wait (a blocking socket, a long
 * linger, filters running random bytes) get tame values; the rest stay
 * random.
 */
static void tame_opt(struct worker *w, int level, int name, void *val,
		     socklen_t len)
{
	if (level != SOL_SOCKET || len < sizeof(int))
		return;
	if (name == SO_LINGER && len >= sizeof(struct linger))
		((struct linger *)val)->l_linger = rnd(&w->rs, 2);
	if (name == SO_RCVLOWAT)
		*(int *)val = 1 + rnd(&w->rs, 4);
}

static void do_setsockopt(struct worker *w)
{
	int fd = pick_fd(w), level = levels[rnd(&w->rs, 7)];
	int name = rnd_optname(w, level);
	socklen_t len = rnd_optlen(w);
	uint32_t val[64];
	void *p = val;
	unsigned int i;

	for (i = 0; i < 64; i++)
		val[i] = rnd(&w->rs, 4) ? rnd(&w->rs, 3) :
			 (uint32_t)rnd_next(&w->rs);
	if (!rnd(&w->rs, 12))
		p = bad_ptr(w);
	else if (len > sizeof(val))
		len = rnd(&w->rs, 2) ? len : sizeof(val);
	if (len > sizeof(val) && p == val)
		p = w->buf;	/* 64 KiB, garbage is fine */
	if (level == SOL_SOCKET &&
	    (name == SO_ATTACH_FILTER || name == SO_ATTACH_BPF ||
	     name == SO_ATTACH_REUSEPORT_CBPF ||
	     name == SO_ATTACH_REUSEPORT_EBPF))
		return;
	if (p == val)
		tame_opt(w, level, name, val, len);
	check(w, OP_SETSOCKOPT, setsockopt(fd, level, name, p, len), 0,
	      "%d, %d, %d, %p, %d", fd, level, name, p, (int)len);
}

static void do_getsockopt(struct worker *w)
{
	int fd = pick_fd(w), level = levels[rnd(&w->rs, 7)];
	int name = rnd_optname(w, level);
	socklen_t len = rnd_optlen(w), len0;
	void *p = w->buf, *lp = &len;

	if (len > sizeof(w->buf) && len < (socklen_t)INT_MAX)
		len = sizeof(w->buf);
	if (!rnd(&w->rs, 12))
		p = bad_ptr(w);
	if (!rnd(&w->rs, 16))
		lp = bad_ptr(w);
	len0 = len;
	check(w, OP_GETSOCKOPT, getsockopt(fd, level, name, p, lp), 0,
	      "%d, %d, %d, %p, %p (%d)", fd, level, name, p, lp, (int)len0);
}

static void do_ioctl(struct worker *w)
{
	static const unsigned long cmds[] = { FIONREAD, SIOCOUTQ, SIOCOUTQNSD,
					      FIONBIO, SIOCATMARK, SIOCGSTAMP,
					      SIOCGSTAMPNS, TIOCOUTQ, FIOASYNC,
					      SIOCGPGRP, 0x5401, 0 };
	unsigned long cmd = cmds[rnd(&w->rs, 12)];
	int fd = pick_fd(w), val = 1;
	void *p = rnd(&w->rs, 8) ? (void *)&val : bad_ptr(w);

	/* Random numbers, none of the device (0x89xx/0x8bxx) ranges. */
	if (!cmd) {
		cmd = (uint32_t)rnd_next(&w->rs);
		if ((cmd & 0xfe00) == 0x8800 || (cmd & 0xff00) == 0x8b00 ||
		    (cmd & 0xffff) < 0x100)
			cmd = 0x54ff;
	}
	val = 1;	/* FIONBIO: stay nonblocking */
	check(w, OP_IOCTL, ioctl(fd, cmd, p), 0, "%d, %#lx, %p", fd, cmd, p);
}

static void do_poll(struct worker *w)
{
	struct pollfd pfd[4];
	int i, n = 1 + rnd(&w->rs, 4);

	for (i = 0; i < n; i++) {
		pfd[i].fd = pick_fd(w);
		pfd[i].events = rnd(&w->rs, 0x10000);
	}
	check(w, OP_POLL, poll(pfd, n, rnd(&w->rs, 3)), 0, "%d fds", n);
}

static void do_epoll(struct worker *w)
{
	static const int ops[] = { EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL };
	struct epoll_event ev[8] = { { 0 } };
	int fd = pick_fd(w), op = ops[rnd(&w->rs, 3)];

	ev[0].events = rnd_next(&w->rs) & (EPOLLIN | EPOLLOUT | EPOLLRDHUP |
					   EPOLLPRI | EPOLLERR | EPOLLHUP |
					   EPOLLET | EPOLLONESHOT);
	check(w, OP_EPOLL, epoll_ctl(w->epfd, op, fd, ev), ENOENT,
	      "ctl %d, %d", op, fd);
	check(w, OP_EPOLL, epoll_wait(w->epfd, ev, 8, rnd(&w->rs, 3)), 0,
	      "wait");
}

static void do_close(struct worker *w)
{
	int i = rnd(&w->rs, NSLOTS), fd;

	pthread_mutex_lock(&w->f->lock);
	fd = w->f->slot[i];
	w->f->slot[i] = -1;
	pthread_mutex_unlock(&w->f->lock);
	if (fd < 0)
		return;
	check(w, OP_CLOSE, close(fd), 0, "%d", fd);
}

static void do_getname(struct worker *w)
{
	struct sockaddr_storage ss;
	socklen_t len = rnd(&w->rs, 4) ? sizeof(ss) : rnd(&w->rs, 20);
	int fd = pick_fd(w), ret;
	void *p = rnd(&w->rs, 16) ? (void *)&ss : bad_ptr(w);

	if (rnd(&w->rs, 2))
		ret = getsockname(fd, p, &len);
	else
		ret = getpeername(fd, p, &len);
	check(w, OP_GETNAME, ret, 0, "%d, %p", fd, p);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned int total = 0, pick, i;
	long n;

	for (i = 0; i < OP_MAX; i++)
		total += op_weight[i];
	for (n = 0; n < w->f->ops_per_thread; n++) {
		pick = rnd(&w->rs, total);
		for (i = 0; pick >= op_weight[i]; i++)
			pick -= op_weight[i];
		switch (i) {
		case OP_SOCKET:
			do_socket(w);
			break;
		case OP_BIND:
			do_bind(w);
			break;
		case OP_CONNECT:
			do_connect(w);
			break;
		case OP_LISTEN:
			do_listen(w);
			break;
		case OP_ACCEPT:
			do_accept(w);
			break;
		case OP_SEND:
			do_send(w);
			break;
		case OP_RECV:
			do_recv(w);
			break;
		case OP_SENDMSG:
			do_sendmsg(w, 0);
			break;
		case OP_RECVMSG:
			do_sendmsg(w, 1);
			break;
		case OP_SHUTDOWN:
			do_shutdown(w);
			break;
		case OP_SETSOCKOPT:
			do_setsockopt(w);
			break;
		case OP_GETSOCKOPT:
			do_getsockopt(w);
			break;
		case OP_IOCTL:
			do_ioctl(w);
			break;
		case OP_POLL:
			do_poll(w);
			break;
		case OP_EPOLL:
			do_epoll(w);
			break;
		case OP_CLOSE:
			do_close(w);
			break;
		default:
			do_getname(w);
			break;
		}
	}
	return NULL;
}

/*
 * The peers: accept on both listeners, read what comes, close the
 * oldest connection now and then, some with a reset.
 */
static void *helper_main(void *arg)
{
	struct fuzz *f = arg;
	int conns[32], n = 0, i;
	uint64_t rs = rnd_seed(f->seed, 99);
	char buf[4096];

	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED)) {
		struct pollfd pfd[34];
		int lfds[2] = { f->lfd_linux, f->lfd_xtcp };

		for (i = 0; i < 2; i++) {
			pfd[i].fd = lfds[i];
			pfd[i].events = POLLIN;
		}
		for (i = 0; i < n; i++) {
			pfd[2 + i].fd = conns[i];
			pfd[2 + i].events = POLLIN;
		}
		if (poll(pfd, 2 + n, 20) < 0)
			continue;
		for (i = 0; i < n; i++)
			if (pfd[2 + i].revents)
				recv(conns[i], buf, sizeof(buf), MSG_DONTWAIT);
		for (i = 0; i < 2; i++) {
			int c;

			if (!(pfd[i].revents & POLLIN))
				continue;
			c = accept4(lfds[i], NULL, NULL, SOCK_NONBLOCK);
			if (c < 0)
				continue;
			if (n == 32 || !rnd(&rs, 8)) {
				int old = n == 32 ? conns[0] : c;

				if (rnd(&rs, 2)) {
					struct linger l = { 1, 0 };

					setsockopt(old, SOL_SOCKET, SO_LINGER,
						   &l, sizeof(l));
				}
				close(old);
				if (old == c)
					continue;
				memmove(conns, conns + 1, --n * sizeof(int));
			}
			conns[n++] = c;
		}
	}
	for (i = 0; i < n; i++)
		close(conns[i]);
	return NULL;
}

/* ---- leak accounting ---- */

/* /proc/net/xtcp_sockstat's "alloc" (every namespace's sockets). */
static long long sockstat_alloc(void)
{
	char buf[256], *p;

	if (read_file(XTCP_SOCKSTAT, buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "alloc ");
	return p ? atoll(p + 6) : -1;
}

/* Active objects and objects per slab of a /proc/slabinfo cache. */
static long slab_active(const char *name, long *per_slab)
{
	static char buf[1 << 17];
	size_t len = strlen(name);
	char *line;
	long active = -1, num, objsize;

	/* Empty slabs held per CPU count as full: give them back first. */
	snprintf(buf, sizeof(buf), "/sys/kernel/slab/%s/shrink", name);
	write_file(buf, "1");
	if (read_file("/proc/slabinfo", buf, sizeof(buf)) < 0)
		return -1;
	for (line = buf; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (!strncmp(line, name, len) && line[len] == ' ' &&
		    sscanf(line + len, "%ld %ld %ld %ld", &active, &num,
			   &objsize, per_slab) == 4)
			return active;
	}
	return -1;
}

FIXTURE(fuzz) {
	struct netpair np;
	struct fuzz f;
};

FIXTURE_SETUP(fuzz)
{
	const char *err;
	int i;

	memset(&self->f, 0, sizeof(self->f));
	self->f.lfd_linux = -1;
	self->f.lfd_xtcp = -1;
	for (i = 0; i < NSLOTS; i++)
		self->f.slot[i] = -1;
	signal(SIGPIPE, SIG_IGN);
	err = netpair_setup(&self->np);
	ASSERT_EQ(NULL, err) TH_LOG("setup: %s", err);
	ASSERT_EQ(0, netpair_static_neigh(&self->np));
	/* Closed connections go quickly (namespace A's own values). */
	ASSERT_EQ(0, write_file(XTCP_SYSCTL_DIR "tw_timeout", "1"));
	ASSERT_EQ(0, write_file(XTCP_SYSCTL_DIR "fin_timeout", "1"));
	ASSERT_EQ(0, write_file(XTCP_SYSCTL_DIR "orphan_retries", "1"));
	ASSERT_EQ(0, write_file(XTCP_SYSCTL_DIR "retries2", "2"));
	ASSERT_EQ(0, write_file(XTCP_SYSCTL_DIR "synack_retries", "1"));
	ASSERT_EQ(0, write_file(XTCP_SYSCTL_DIR "syn_retries", "1"));
}

FIXTURE_TEARDOWN(fuzz)
{
	netpair_close(&self->np);
}

static int listener(int fd, const char *addr, int port)
{
	struct sockaddr_in sin = sin_make(addr, port);
	int one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(fd, 64)) {
		close(fd);
		return -1;
	}
	tame(fd);
	return fd;
}

TEST_F_TIMEOUT(fuzz, syscalls, 3600)
{
	struct fuzz *f = &self->f;
	static struct worker w[NTHREADS];
	pthread_t th[NTHREADS], helper;
	long long alloc0, alloc1 = -1, t0;
	long slab0, slab1 = -1, per_slab = 0;
	int ref0, ref1 = -1, i, j, k;
	long total_ops;

	f->family = xtcp_family();
	f->seed = env_u64("XTCP_FUZZ_SEED", DEFAULT_SEED);
	total_ops = env_u64("XTCP_FUZZ_OPS", DEFAULT_OPS);
	f->ops_per_thread = (total_ops + NTHREADS - 1) / NTHREADS;
	pthread_mutex_init(&f->lock, NULL);
	pthread_mutex_init(&f->log_lock, NULL);
	TH_LOG("seed %llu (XTCP_FUZZ_SEED), %ld ops (XTCP_FUZZ_OPS), %d threads",
	       (unsigned long long)f->seed, f->ops_per_thread * NTHREADS,
	       NTHREADS);

	ref0 = xtcp_module_refcnt();
	alloc0 = sockstat_alloc();
	slab0 = slab_active("XTCP", &per_slab);
	ASSERT_LE(0, ref0);
	ASSERT_LE(0, alloc0);

	f->lfd_linux = listener(socket_in_netns(self->np.b, AF_INET,
						SOCK_STREAM, 0),
				NETPAIR_B_ADDR, PORT_LINUX);
	ASSERT_LE(0, f->lfd_linux);
	f->lfd_xtcp = listener(socket(f->family, SOCK_STREAM, 0), "0.0.0.0",
			       PORT_XTCP);
	ASSERT_LE(0, f->lfd_xtcp);
	for (i = 0; i < NSLOTS; i++) {
		f->slot[i] = socket(f->family, SOCK_STREAM | SOCK_NONBLOCK, 0);
		ASSERT_LE(0, f->slot[i]);
	}

	t0 = now_ms();
	ASSERT_EQ(0, pthread_create(&helper, NULL, helper_main, f));
	for (i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].f = f;
		w[i].id = i;
		w[i].rs = rnd_seed(f->seed, i);
		w[i].epfd = epoll_create1(EPOLL_CLOEXEC);
		ASSERT_LE(0, w[i].epfd);
		ASSERT_EQ(0, pthread_create(&th[i], NULL, worker_main, &w[i]));
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	__atomic_store_n(&f->stop, 1, __ATOMIC_RELAXED);
	pthread_join(helper, NULL);
	TH_LOG("%ld ops in %lld ms", f->ops_per_thread * NTHREADS,
	       now_ms() - t0);

	for (i = 0; i < NTHREADS; i++) {
		close(w[i].epfd);
		for (j = 0; j < OP_MAX; j++) {
			f->count[j] += w[i].count[j];
			f->fails[j] += w[i].fails[j];
			for (k = 0; k < 134; k++)
				f->errs[j][k] += w[i].errs[j][k];
		}
	}
	for (j = 0; j < OP_MAX; j++) {
		char line[512];
		int len;

		len = snprintf(line, sizeof(line), "%-10s %6ld calls %6ld failed:",
			       op_names[j], f->count[j], f->fails[j]);
		for (k = 0; k < 134 && len < (int)sizeof(line) - 24; k++)
			if (f->errs[j][k])
				len += snprintf(line + len, sizeof(line) - len,
						" %s %ld", strerrorname_np(k) ?: "?",
						f->errs[j][k]);
		TH_LOG("%s", line);
	}

	TH_LOG("before closing: refcnt %d, sockstat alloc %lld",
	       xtcp_module_refcnt(), sockstat_alloc());
	for (i = 0; i < NSLOTS; i++)
		if (f->slot[i] >= 0)
			close(f->slot[i]);
	close(f->lfd_linux);
	close(f->lfd_xtcp);
	close_sockets(0);

	/* Orphans, FIN_WAIT and TIME_WAIT end within a few seconds. */
	for (i = 0; i < 300; i++) {
		ref1 = xtcp_module_refcnt();
		alloc1 = sockstat_alloc();
		if (ref1 <= ref0 && alloc1 <= alloc0)
			break;
		usleep(100000);
	}
	/* RCU-freed objects; SLUB's per-CPU slabs blur the count a bit. */
	for (i = 0; slab0 >= 0 && i < 50; i++) {
		slab1 = slab_active("XTCP", &per_slab);
		if (slab1 <= slab0 + per_slab)
			break;
		usleep(100000);
	}
	TH_LOG("refcnt %d -> %d, sockstat alloc %lld -> %lld, XTCP slab %ld -> %ld (+%ld per slab)",
	       ref0, ref1, alloc0, alloc1, slab0, slab1, per_slab);
	EXPECT_EQ(0, f->findings)
		TH_LOG("%d calls gave errnos Linux's TCP would not", f->findings);
	if (ref1 != ref0 || alloc1 != alloc0) {
		static char left[8192];

		read_file("/proc/thread-self/net/xtcp", left, sizeof(left));
		TH_LOG("left in /proc/net/xtcp:\n%s", left);
		read_file(XTCP_SOCKSTAT, left, sizeof(left));
		TH_LOG("%s", left);
	}
	EXPECT_EQ(ref0, ref1);
	EXPECT_EQ(alloc0, alloc1);
	if (slab0 >= 0)
		EXPECT_GE(slab0 + per_slab, slab1);
}

/* ---- sysctls ---- */

/**
 * struct range - what an entry of /proc/sys/net/xtcp may hold
 * @name: the entry
 * @nvals: values in it (0: follow_ipv4, a list of names; -1: one of
 *	@names; -2: read-only)
 * @min: smallest value
 * @max: largest
 * @ordered: the values must be non-decreasing (rmem, wmem, mem, the range)
 * @names: for @nvals -1, the names it takes, each between spaces
 */
struct range {
	const char *name;
	int nvals;
	long long min, max;
	int ordered;
	const char *names;
};

/* From mod/xtcp_sysctl.c. */
static const struct range ranges[] = {
	{ "tw_reuse", 1, 0, 2 },
	{ "tw_reuse_delay", 1, 1, 60000 },
	{ "tw_timeout", 1, 1, 600 },
	{ "ip_local_port_range", 2, 1, 65535, 1 },
	{ "congestion_control", -1, .names = " cubic reno " },
	{ "available_congestion_control", -2 },
	{ "timestamps", 1, 0, 2 },
	{ "sack", 1, 0, 1 },
	{ "window_scaling", 1, 0, 1 },
	{ "syn_retries", 1, 1, 127 },
	{ "synack_retries", 1, 0, 255 },
	{ "fin_timeout", 1, 1, 3600 },
	{ "retries2", 1, 1, 255 },
	{ "orphan_retries", 1, 0, 255 },
	{ "keepalive_time", 1, 1, 32767 },
	{ "keepalive_intvl", 1, 1, 32767 },
	{ "keepalive_probes", 1, 1, 127 },
	{ "challenge_ack_limit", 1, 0, INT_MAX },
	{ "invalid_ratelimit", 1, 0, 600000 },
	{ "rfc1337", 1, 0, 1 },
	{ "min_snd_mss", 1, 48, 65535 },
	{ "max_tw_buckets", 1, 0, INT_MAX },
	{ "rmem", 3, 1, INT_MAX, 1 },
	{ "wmem", 3, 1, INT_MAX, 1 },
	{ "syncookies", 1, 0, 2 },
	{ "max_syn_backlog", 1, 0, INT_MAX },
	{ "abort_on_overflow", 1, 0, 1 },
	{ "ecn", 1, 0, 2 },
	{ "migrate_req", 1, 0, 1 },
	{ "follow_ipv4", 0 },
	{ "mem", 3, 1, LLONG_MAX, 1 },
	{ "max_orphans", 1, 0, INT_MAX },
};

static const struct range *range_of(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ranges); i++)
		if (!strcmp(ranges[i].name, name))
			return &ranges[i];
	return NULL;
}

static const char *const knob_names =
	" timestamps sack window_scaling syn_retries synack_retries fin_timeout"
	" retries2 orphan_retries keepalive_time keepalive_intvl"
	" keepalive_probes challenge_ack_limit invalid_ratelimit rfc1337"
	" min_snd_mss max_tw_buckets rmem wmem syncookies max_syn_backlog"
	" abort_on_overflow ecn migrate_req ";

/* Is @val (as read) something @r allows? NULL if so, else why not. */
static const char *valid(const struct range *r, const char *val)
{
	long long v[4], lo_port;
	char buf[1024], *tok, *save, *end;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", val);
	if (r->nvals < 0) {	/* one name */
		char key[64];

		tok = strtok_r(buf, " \t\n", &save);
		if (!tok || strtok_r(NULL, " \t\n", &save))
			return "not one name";
		snprintf(key, sizeof(key), " %s ", tok);
		return r->names && strstr(r->names, key) ? NULL : "unknown name";
	}
	if (!r->nvals) {	/* follow_ipv4: knob names */
		char key[64];

		for (tok = strtok_r(buf, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save)) {
			snprintf(key, sizeof(key), " %s ", tok);
			if (!strstr(knob_names, key))
				return "not a knob's name";
		}
		return NULL;
	}
	for (tok = strtok_r(buf, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (n == 4)
			return "too many values";
		errno = 0;
		v[n] = strtoll(tok, &end, 10);
		if (*end || errno)
			return "not a number";
		if (v[n] < r->min || v[n] > r->max)
			return "out of range";
		if (r->ordered && n && v[n] < v[n - 1])
			return "out of order";
		n++;
	}
	if (n != r->nvals)
		return "wrong number of values";
	if (!strcmp(r->name, "ip_local_port_range")) {
		if (read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start",
			      buf, sizeof(buf)) > 0) {
			lo_port = atoll(buf);
			if (v[0] < lo_port)
				return "below ip_unprivileged_port_start";
		}
	}
	return NULL;
}

static const char *const garbage[] = {
	"", "\n", " ", "-", "+", "--1", "0x10", "0x", "010", "1e3", "1.5",
	"-0", "+5", "99999999999999999999", "-99999999999999999999",
	"18446744073709551615", "18446744073709551616", "4294967296",
	"4294967295", "2147483648", "-2147483648", "-2147483649",
	"9223372036854775807", "9223372036854775808", "1 2 3 4",
	"1\n2\n3\n", "1,2,3", "\t\t1\t2\t3\t", "abc", "1abc", "1 abc",
	"timestamps", "timestamps sack", "rmem no_such_knob", "tw_reuse",
	"mem", " ecn ", "\n\n\n", "1\0005",
};

/* A random string for @r: garbage, random numbers, or a valid value. */
static int rnd_value(uint64_t *rs, const struct range *r, char *buf,
		     size_t size, int *clean)
{
	int i, n, len = 0;

	*clean = 0;
	switch (rnd(rs, 6)) {
	case 0:
		snprintf(buf, size, "%s", garbage[rnd(rs, ARRAY_SIZE(garbage))]);
		return strlen(buf);
	case 1:		/* binary bytes */
		n = 1 + rnd(rs, 32);
		for (i = 0; i < n; i++)
			buf[i] = rnd(rs, 256);
		return n;
	case 2:		/* long */
		n = 100 + rnd(rs, size - 101);
		for (i = 0; i < n; i++)
			buf[i] = rnd(rs, 2) ? '9' : " 1\t"[rnd(rs, 3)];
		return n;
	case 3:		/* random numbers, random count */
		n = rnd(rs, 5);
		for (i = 0; i < n; i++)
			len += snprintf(buf + len, size - len, "%s%lld",
					i ? " " : "",
					(long long)(rnd_next(rs) >>
						    rnd(rs, 64)) *
					(rnd(rs, 4) ? 1 : -1));
		return len;
	default:	/* values from the range's edges, in order or not */
		*clean = 1;
		if (r->nvals < 0) {	/* a name, known or not */
			static const char *const cc[] = { "cubic", "reno",
							  "bbr", "CUBIC" };

			return snprintf(buf, size, "%s", cc[rnd(rs, 4)]);
		}
		n = r->nvals ? r->nvals : 1;
		for (i = 0; i < n; i++) {
			long long v, span = r->max - r->min;

			switch (rnd(rs, 5)) {
			case 0:
				v = r->min - rnd(rs, 2);
				break;
			case 1:
				v = r->max == LLONG_MAX ? r->max :
				    r->max + rnd(rs, 2);
				break;
			default:
				v = r->min + (long long)(rnd_next(rs) %
					     ((unsigned long long)span + 1));
			}
			if (!r->nvals) {
				len += snprintf(buf + len, size - len, "%s",
						rnd(rs, 2) ? "rmem " : "sack ");
				continue;
			}
			len += snprintf(buf + len, size - len, "%s%lld",
					i ? " " : "", v);
		}
		if (rnd(rs, 2))
			len += snprintf(buf + len, size - len, "\n");
		return len;
	}
}

static void fuzz_entry(struct __test_metadata *_metadata, uint64_t *rs,
		       const char *name, int rounds)
{
	const struct range *r = range_of(name);
	char path[320], saved[1024], before[1024], after[1024], val[4096];
	void *volatile bad_buf = (void *)1;
	int i, fd, len, ok = 0, refused = 0;
	off_t off;
	ssize_t n;

	ASSERT_NE(NULL, r) TH_LOG("%s: not in the test's table of ranges",
				  name);
	snprintf(path, sizeof(path), "%s%s", XTCP_SYSCTL_DIR, name);
	ASSERT_LE(0, read_file(path, saved, sizeof(saved)));
	if (r->nvals == -2) {	/* read-only, even for root */
		EXPECT_GT(0, open(path, O_WRONLY));
		EXPECT_EQ(EACCES, errno) TH_LOG("%s", name);
		return;
	}
	for (i = 0; i < rounds; i++) {
		const char *why;
		int err = 0, clean, full;

		ASSERT_LE(0, read_file(path, before, sizeof(before)));
		len = rnd_value(rs, r, val, sizeof(val), &clean);
		full = 0;
		off = rnd(rs, 8) ? 0 : 1 + rnd(rs, 8);
		fd = open(path, O_WRONLY);
		ASSERT_LE(0, fd);
		if (!rnd(rs, 20))
			n = write(fd, bad_buf, 8);
		else if (off || !rnd(rs, 8))
			n = pwrite(fd, val, len, off);
		else if (len > 1 && !rnd(rs, 6))
			n = write(fd, val, len / 2);	/* a partial write */
		else
			n = write(fd, val, len), full = 1;
		if (n < 0)
			err = errno;
		close(fd);
		ASSERT_LE(0, read_file(path, after, sizeof(after)));
		val[len] = '\0';
		/* A valid value, written whole, must be taken as it is. */
		if (clean && full && r->nvals && !valid(r, val)) {
			char want[4096];

			snprintf(want, sizeof(want), "%s", val);
			normalize_ws(want);
			EXPECT_EQ(0, err)
				TH_LOG("%s: valid '%s' refused: %s", name, want,
				       strerror(err));
			snprintf(before, sizeof(before), "%s", after);
			normalize_ws(before);
			EXPECT_STREQ(want, before)
				TH_LOG("%s: '%s' read back as '%s'", name, want,
				       before);
			if (!err)
				ok++;
			continue;
		}
		if (err) {
			refused++;
			/* A name xtcp lacks: ENOENT, as net.ipv4's. */
			EXPECT_TRUE(err == EINVAL || err == EFAULT ||
				    (r->nvals < 0 && err == ENOENT))
				TH_LOG("%s: write of '%.*s' (offset %ld): %s",
				       name, len > 60 ? 60 : len, val,
				       (long)off, strerror(err));
			EXPECT_STREQ(before, after)
				TH_LOG("%s: changed by the refused '%.*s'",
				       name, len > 60 ? 60 : len, val);
			continue;
		}
		ok++;
		if (off)	/* ignored, as sysctl_writes_strict has it */
			EXPECT_STREQ(before, after)
				TH_LOG("%s: changed by '%.*s' at offset %ld",
				       name, len > 60 ? 60 : len, val,
				       (long)off);
		why = valid(r, after);
		EXPECT_EQ(NULL, why)
			TH_LOG("%s: '%s' after writing '%.*s' (offset %ld): %s",
			       name, after, len > 60 ? 60 : len, val,
			       (long)off, why);
		if (!r->nvals)
			write_file(path, "rmem");	/* follow again */
	}
	/* Put it back (follow_ipv4 is set by the caller). */
	if (r->nvals && strcmp(saved, after))
		EXPECT_EQ(0, write_file(path, saved))
			TH_LOG("%s: restoring '%s'", name, saved);
	TH_LOG("%-20s %3d writes taken, %3d refused", name, ok, refused);
}

static void fuzz_dir(struct __test_metadata *_metadata, uint64_t seed,
		     int rounds, int global)
{
	char follow[1024];
	struct dirent *de;
	uint64_t rs = rnd_seed(seed, 7);
	DIR *d;

	ASSERT_LE(0, read_file(XTCP_SYSCTL_DIR "follow_ipv4", follow,
			       sizeof(follow)));
	d = opendir(XTCP_SYSCTL_DIR);
	ASSERT_NE(NULL, d);
	while ((de = readdir(d))) {
		int is_global = !strcmp(de->d_name, "mem") ||
				!strcmp(de->d_name, "max_orphans");

		if (de->d_name[0] == '.' || is_global != global)
			continue;
		fuzz_entry(_metadata, &rs, de->d_name, rounds);
	}
	closedir(d);
	/* Every knob that followed Linux's follows it again. */
	if (!global && follow[0] && follow[0] != '\n')
		EXPECT_EQ(0, write_file(XTCP_SYSCTL_DIR "follow_ipv4", follow));
}

/*
 * Found by sysctl__fuzz_netns: a write at a non-zero offset, which
 * proc_dointvec_minmax() ignores (sysctl_writes_strict), stored 0 in a
 * shared knob and pinned it. It must change nothing, as for Linux's
 * own sysctls.
 */
TEST(sysctl__write_at_offset_ignored)
{
	static const char *const names[] = { "fin_timeout",
					     "challenge_ack_limit", "rmem",
					     "tw_timeout" };
	char path[160], before[128], after[128];
	unsigned int i;
	int ns = new_netns(), fd;

	ASSERT_LE(0, ns);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s%s", XTCP_SYSCTL_DIR, names[i]);
		ASSERT_LE(0, read_file(path, before, sizeof(before)));
		fd = open(path, O_WRONLY);
		ASSERT_LE(0, fd);
		EXPECT_LE(0, pwrite(fd, "7 8 9", 5, 1))
			TH_LOG("%s: %s", names[i], strerror(errno));
		close(fd);
		ASSERT_LE(0, read_file(path, after, sizeof(after)));
		EXPECT_STREQ(before, after) TH_LOG("%s", names[i]);
	}
	ASSERT_LE(0, read_file(XTCP_SYSCTL_DIR "follow_ipv4", after,
			       sizeof(after)));
	EXPECT_NE(NULL, strstr(after, "fin_timeout"))
		TH_LOG("pinned: %s", after);
	close(ns);
}

/* A namespace's own entries, in a new namespace (nothing to restore). */
TEST(sysctl__fuzz_netns)
{
	uint64_t seed = env_u64("XTCP_FUZZ_SEED", (uint64_t)time(NULL));
	int ns = new_netns();

	ASSERT_LE(0, ns);
	TH_LOG("seed %llu", (unsigned long long)seed);
	fuzz_dir(_metadata, seed, 60, 0);
	close(ns);
}

/* The host-wide ones (mem, max_orphans): restored afterwards. */
TEST(sysctl__fuzz_global)
{
	uint64_t seed = env_u64("XTCP_FUZZ_SEED", (uint64_t)time(NULL));

	TH_LOG("seed %llu", (unsigned long long)seed);
	fuzz_dir(_metadata, seed, 60, 1);
}

TEST_HARNESS_MAIN
