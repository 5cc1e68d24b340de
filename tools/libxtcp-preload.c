// SPDX-License-Identifier: GPL-2.0
/*
 * libxtcp-preload: run an unmodified program over xtcp.
 *
 *   LD_PRELOAD=build/tools/libxtcp-preload.so PROGRAM [ARGS...]
 *
 * moves PROGRAM's TCP sockets (AF_INET, SOCK_STREAM, protocol 0 or
 * IPPROTO_TCP) onto AF_XTCP, whose number is read from
 * /sys/module/xtcp/parameters/family (13, AF_XTCP, if it cannot be read:
 * socket(13) then loads the module through its alias or fails). xtcp takes
 * and returns struct sockaddr_in, and accept() on an xtcp listener returns
 * xtcp sockets, so little else needs translating.
 *
 * Which sockets move is chosen by the environment, read once at load:
 *
 *   XTCP_PRELOAD_PROTO=explicit  only sockets created with IPPROTO_TCP;
 *                                protocol 0 stays on Linux's TCP
 *   XTCP_PRELOAD_PORTS=LIST      only sockets that bind() to, or connect()
 *                                to, a listed port: "80,443,8000-8099"
 *   XTCP_PRELOAD_HOSTS=LIST      only sockets that connect() to a listed
 *                                IPv4 address: "192.0.2.1,198.51.100.0/24"
 *
 * Without PORTS and HOSTS a socket moves at socket(): the program holds
 * an xtcp socket from the start. With either, the choice waits for the
 * address: socket() creates an ordinary AF_INET socket, remembered as a
 * candidate together with the setsockopt() calls made on it (SOL_SOCKET,
 * SOL_TCP, SOL_IP). When a bind() or connect() matches, an xtcp socket
 * is made, the options are set on it again, O_NONBLOCK (and the other
 * file status flags) and FD_CLOEXEC are copied, and it replaces the
 * candidate under the same descriptor number (dup2) before the call
 * proceeds on it.
 *
 *   bind()     moves when PORTS lists the port. HOSTS name destinations:
 *              a listener has none, so with HOSTS alone it stays.
 *   connect()  (and sendto()/sendmsg() with MSG_FASTOPEN, which connect)
 *              moves when the port is listed (if PORTS is set) and the
 *              address is (if HOSTS is set). A candidate bound earlier on
 *              Linux's TCP is bound again on xtcp to the same address.
 *
 * The program always gets xtcp's answer, never a silent fallback to
 * Linux's TCP: if socket(AF_XTCP) fails, or xtcp refuses an option being
 * carried over, the call that made the move fails with that errno and
 * the candidate stays as it was. SO_REUSEPORT, which the 6.1 socket core
 * refuses to xtcp with EOPNOTSUPP (see Documentation/xtcp.rst), becomes
 * xtcp's own SOL_XTCP/XTCP_REUSEPORT on an xtcp socket, set or carried
 * over; getsockopt(SO_REUSEPORT) reads the same flag back.
 *
 * Limits: a candidate registered with epoll before it moves loses that
 * registration (the old file is closed); listen() without bind() picks
 * its port on Linux's TCP and stays there.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/xtcp.h>

#define FAMILY_PATH	"/sys/module/xtcp/parameters/family"
#define COPY_CHUNK	(64 * 1024)
#define MAX_RANGES	64

struct range {
	unsigned int lo, hi;		/* ports, or IPv4 addresses (host order) */
};

/* One setsockopt() made on a candidate, to be made again on xtcp. */
struct opt {
	struct opt *next;
	int level, name;
	socklen_t len;
	unsigned char val[];
};

/* An AF_INET socket that may still move (lazy mode only). */
struct cand {
	dev_t dev;			/* which socket holds the fd number */
	ino_t ino;
	int type;			/* SOCK_STREAM, without the flags */
	int protocol;
	struct opt *opts;		/* in the order they were made */
};

static int (*real_socket)(int, int, int);
static int (*real_bind)(int, const struct sockaddr *, socklen_t);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static ssize_t (*real_sendto)(int, const void *, size_t, int,
			      const struct sockaddr *, socklen_t);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static int (*real_setsockopt)(int, int, int, const void *, socklen_t);
static int (*real_getsockopt)(int, int, int, void *, socklen_t *);
static ssize_t (*real_sendfile)(int, int, off_t *, size_t);
static ssize_t (*real_splice)(int, loff_t *, int, loff_t *, size_t,
			      unsigned int);

static bool explicit_proto;	/* XTCP_PRELOAD_PROTO=explicit */
static struct range ports[MAX_RANGES], hosts[MAX_RANGES];
static int nports, nhosts;
static bool by_port, by_host;	/* XTCP_PRELOAD_PORTS, _HOSTS given */
static bool lazy;		/* either: decide at bind/connect */
static int xtcp_family;		/* 0 until read from sysfs */

static pthread_mutex_t cands_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cand **cands;	/* indexed by fd */
static int ncands;

static void warn(const char *what, const char *value)
{
	fprintf(stderr, "libxtcp-preload: ignoring %s entry \"%s\"\n",
		what, value);
}

/* "80,8000-8099": ranges of ports 1..65535. */
static int parse_ports(const char *s, struct range *r)
{
	char *copy = strdup(s), *tok, *save, *end;
	unsigned long lo, hi;
	int n = 0;

	if (!copy)
		return 0;
	for (tok = strtok_r(copy, ",", &save); tok && n < MAX_RANGES;
	     tok = strtok_r(NULL, ",", &save)) {
		lo = strtoul(tok, &end, 10);
		hi = lo;
		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		if (*end || end == tok || lo < 1 || hi > 65535 || lo > hi) {
			warn("XTCP_PRELOAD_PORTS", tok);
			continue;
		}
		r[n].lo = lo;
		r[n++].hi = hi;
	}
	free(copy);
	return n;
}

/* "192.0.2.1,198.51.100.0/24": addresses and CIDR prefixes. */
static int parse_hosts(const char *s, struct range *r)
{
	char *copy = strdup(s), *tok, *save, *slash, *end;
	unsigned long bits;
	struct in_addr a;
	uint32_t mask;
	int n = 0;

	if (!copy)
		return 0;
	for (tok = strtok_r(copy, ",", &save); tok && n < MAX_RANGES;
	     tok = strtok_r(NULL, ",", &save)) {
		bits = 32;
		slash = strchr(tok, '/');
		if (slash) {
			*slash = '\0';
			bits = strtoul(slash + 1, &end, 10);
			if (*end || end == slash + 1)
				bits = 33;
		}
		if (bits > 32 || inet_pton(AF_INET, tok, &a) != 1) {
			if (slash)
				*slash = '/';
			warn("XTCP_PRELOAD_HOSTS", tok);
			continue;
		}
		mask = bits ? ~0U << (32 - bits) : 0;
		r[n].lo = ntohl(a.s_addr) & mask;
		r[n++].hi = (ntohl(a.s_addr) & mask) | ~mask;
	}
	free(copy);
	return n;
}

static bool in_ranges(const struct range *r, int n, unsigned int v)
{
	int i;

	for (i = 0; i < n; i++)
		if (v >= r[i].lo && v <= r[i].hi)
			return true;
	return false;
}

static void preload_init(void)
{
	const char *s;

	real_socket = dlsym(RTLD_NEXT, "socket");
	real_bind = dlsym(RTLD_NEXT, "bind");
	real_connect = dlsym(RTLD_NEXT, "connect");
	real_sendto = dlsym(RTLD_NEXT, "sendto");
	real_sendmsg = dlsym(RTLD_NEXT, "sendmsg");
	real_setsockopt = dlsym(RTLD_NEXT, "setsockopt");
	real_getsockopt = dlsym(RTLD_NEXT, "getsockopt");
	real_sendfile = dlsym(RTLD_NEXT, "sendfile");
	real_splice = dlsym(RTLD_NEXT, "splice");

	s = getenv("XTCP_PRELOAD_PROTO");
	if (s && *s) {
		if (!strcmp(s, "explicit"))
			explicit_proto = true;
		else if (strcmp(s, "any"))
			warn("XTCP_PRELOAD_PROTO", s);
	}
	s = getenv("XTCP_PRELOAD_PORTS");
	if (s && *s) {
		nports = parse_ports(s, ports);
		by_port = true;
	}
	s = getenv("XTCP_PRELOAD_HOSTS");
	if (s && *s) {
		nhosts = parse_hosts(s, hosts);
		by_host = true;
	}
	lazy = by_port || by_host;
}

/*
 * Every entry point starts here: a constructor of another library may
 * call socket() before ours has run.
 */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static inline void init(void)
{
	pthread_once(&init_once, preload_init);
}

__attribute__((constructor))
static void preload_ctor(void)
{
	init();
}

/*
 * The family xtcp registered. Read until it succeeds, so that a module
 * loaded after the program started is still found.
 */
static int family(void)
{
	int f = __atomic_load_n(&xtcp_family, __ATOMIC_RELAXED);
	FILE *file;

	if (f)
		return f;
	file = fopen(FAMILY_PATH, "re");
	if (!file)
		return AF_XTCP;
	if (fscanf(file, "%d", &f) != 1 || f <= 0)
		f = AF_XTCP;
	else
		__atomic_store_n(&xtcp_family, f, __ATOMIC_RELAXED);
	fclose(file);
	return f;
}

/*
 * Is fd an xtcp socket? The kernel is asked, so that dup()s, accept()ed
 * children and inherited descriptors count too.
 */
static bool is_xtcp(int fd)
{
	socklen_t len = sizeof(int);
	int domain;

	if (real_getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len))
		return false;
	return domain == family();
}

/* Does socket(domain, type, protocol) ask for Linux's TCP? */
static bool wants_tcp(int domain, int type, int protocol)
{
	/* 0xf: the kernel's SOCK_TYPE_MASK, below SOCK_NONBLOCK/CLOEXEC */
	if (domain != AF_INET || (type & 0xf) != SOCK_STREAM)
		return false;
	return protocol == IPPROTO_TCP || (protocol == 0 && !explicit_proto);
}

/* Candidates: call with cands_lock held. */

static void cand_free(struct cand *c)
{
	struct opt *o, *next;

	for (o = c->opts; o; o = next) {
		next = o->next;
		free(o);
	}
	free(c);
}

static void cand_drop(int fd)
{
	if (fd >= 0 && fd < ncands && cands[fd]) {
		cand_free(cands[fd]);
		cands[fd] = NULL;
	}
}

/*
 * The candidate at fd, if fd still holds the socket it was made for:
 * close() is not intercepted, so a recycled fd number is recognised by
 * its inode.
 */
static struct cand *cand_get(int fd)
{
	struct stat st;
	struct cand *c;

	if (fd < 0 || fd >= ncands || !cands[fd])
		return NULL;
	c = cands[fd];
	if (fstat(fd, &st) || st.st_dev != c->dev || st.st_ino != c->ino) {
		cand_drop(fd);
		return NULL;
	}
	return c;
}

static void cand_add(int fd, int type, int protocol)
{
	struct cand *c, **grown;
	struct stat st;
	int n;

	if (fstat(fd, &st))
		return;
	if (fd >= ncands) {
		n = fd < 64 ? 64 : 2 * fd;
		grown = realloc(cands, n * sizeof(*cands));
		if (!grown)
			return;
		memset(grown + ncands, 0, (n - ncands) * sizeof(*cands));
		cands = grown;
		ncands = n;
	}
	cand_drop(fd);
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->type = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	c->protocol = protocol;
	cands[fd] = c;
}

/* Does setsockopt(level, name) undo what o recorded? */
static bool replaces(const struct opt *o, int level, int name)
{
	if (o->level != level)
		return false;
	if (o->name == name)
		return true;
	return level == SOL_SOCKET && name == SO_DETACH_FILTER &&
	       (o->name == SO_ATTACH_FILTER || o->name == SO_ATTACH_BPF);
}

/*
 * Remember a successful setsockopt() on a candidate. A later call for
 * the same option replaces the earlier one; detaching a socket filter
 * forgets the attach. A classic BPF program is copied, not its pointer.
 */
static void cand_record(struct cand *c, int level, int name,
			const void *val, socklen_t len)
{
	const struct sock_fprog *prog = val;
	struct opt **pp, *o;
	size_t size = len;

	for (pp = &c->opts; *pp;) {
		o = *pp;
		if (replaces(o, level, name)) {
			*pp = o->next;
			free(o);
		} else {
			pp = &o->next;
		}
	}
	if (level == SOL_SOCKET && name == SO_DETACH_FILTER)
		return;
	if (level == SOL_SOCKET && name == SO_ATTACH_FILTER &&
	    len >= sizeof(*prog))
		size = sizeof(*prog) + prog->len * sizeof(*prog->filter);
	o = malloc(sizeof(*o) + size);
	if (!o)
		return;
	o->next = NULL;
	o->level = level;
	o->name = name;
	o->len = len;
	memcpy(o->val, val, len < size ? len : size);
	if (size > len) {
		/* The program follows the header; point the header at it. */
		struct sock_fprog *copy = (struct sock_fprog *)o->val;

		memcpy(copy + 1, prog->filter, size - sizeof(*prog));
		copy->filter = (struct sock_filter *)(copy + 1);
		o->len = sizeof(*prog);
	}
	*pp = o;
}

/*
 * setsockopt() on a socket known to be xtcp's (@xtcp): SO_REUSEPORT goes
 * to xtcp's own level, everything else as it is.
 */
static int set_opt(int fd, bool xtcp, int level, int name, const void *val,
		   socklen_t len)
{
	if (xtcp && level == SOL_SOCKET && name == SO_REUSEPORT)
		return real_setsockopt(fd, SOL_XTCP, XTCP_REUSEPORT, val, len);
	return real_setsockopt(fd, level, name, val, len);
}

/*
 * Replace the candidate at fd with an xtcp socket: same options, file
 * flags and, if rebind, the address it was bound to on Linux's TCP. On
 * failure errno is xtcp's and fd is untouched (unless the final bind()
 * failed: the fd is then an unbound xtcp socket).
 */
static int cand_move(int fd, struct cand *c, bool rebind)
{
	struct sockaddr_in sin = { .sin_family = AF_UNSPEC };
	socklen_t slen = sizeof(sin);
	int nfd, fl, fdfl, err;
	struct opt *o;

	nfd = real_socket(family(), c->type, c->protocol);
	if (nfd < 0)
		return -1;
	for (o = c->opts; o; o = o->next) {
		if (set_opt(nfd, true, o->level, o->name, o->val, o->len))
			goto fail;
	}
	fl = fcntl(fd, F_GETFL);
	fdfl = fcntl(fd, F_GETFD);
	if (fl < 0 || fdfl < 0 || fcntl(nfd, F_SETFL, fl) < 0)
		goto fail;
	if (fl & O_ASYNC) {
		struct f_owner_ex owner;
		int sig = fcntl(fd, F_GETSIG);

		if (fcntl(fd, F_GETOWN_EX, &owner) < 0 ||
		    fcntl(nfd, F_SETOWN_EX, &owner) < 0 ||
		    sig < 0 || fcntl(nfd, F_SETSIG, sig) < 0)
			goto fail;
	}
	if (rebind && (getsockname(fd, (struct sockaddr *)&sin, &slen) ||
		       sin.sin_family != AF_INET))
		goto fail;
	if (dup3(nfd, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
		goto fail;
	close(nfd);
	cand_drop(fd);
	/* The Linux socket is gone with its port: take the same on xtcp. */
	if (rebind && (sin.sin_port || sin.sin_addr.s_addr))
		return real_bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	return 0;
fail:
	err = errno;
	close(nfd);
	errno = err;
	return -1;
}

/* Was the candidate at fd bound, on Linux's TCP? */
static bool cand_is_bound(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	return !getsockname(fd, (struct sockaddr *)&sin, &len) &&
	       sin.sin_family == AF_INET && (sin.sin_port || sin.sin_addr.s_addr);
}

/*
 * Before bind() or connect() (connect: true) to addr on fd: move fd if it
 * is a candidate and addr matches. Returns -1 (errno set) if the move
 * failed, else 0.
 */
static int maybe_move(int fd, const struct sockaddr *addr, socklen_t len,
		      bool connect)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
	struct cand *c;
	int ret = 0;

	if (!lazy || !addr || len < sizeof(*sin) || sin->sin_family != AF_INET)
		return 0;
	pthread_mutex_lock(&cands_lock);
	c = cand_get(fd);
	if (!c)
		goto out;
	if (connect) {
		if ((by_port && !in_ranges(ports, nports, ntohs(sin->sin_port))) ||
		    (by_host && !in_ranges(hosts, nhosts, ntohl(sin->sin_addr.s_addr))))
			goto out;
		ret = cand_move(fd, c, cand_is_bound(fd));
	} else {
		if (!by_port || !in_ranges(ports, nports, ntohs(sin->sin_port)))
			goto out;
		ret = cand_move(fd, c, false);
	}
out:
	pthread_mutex_unlock(&cands_lock);
	return ret;
}

/* A connect() that went ahead on Linux's TCP settles the candidate. */
static void settle(int fd)
{
	pthread_mutex_lock(&cands_lock);
	cand_drop(fd);
	pthread_mutex_unlock(&cands_lock);
}

/*
 * socket(): a TCP socket becomes an xtcp socket at once, or in lazy mode
 * an AF_INET candidate. SOCK_NONBLOCK and SOCK_CLOEXEC go with the type.
 */
int socket(int domain, int type, int protocol)
{
	int fd;

	init();
	if (!wants_tcp(domain, type, protocol))
		return real_socket(domain, type, protocol);
	if (!lazy)
		return real_socket(family(), type, protocol);
	fd = real_socket(domain, type, protocol);
	if (fd >= 0) {
		pthread_mutex_lock(&cands_lock);
		cand_add(fd, type, protocol);
		pthread_mutex_unlock(&cands_lock);
	}
	return fd;
}

/* bind(): a candidate binding a listed port moves first. */
int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	init();
	if (maybe_move(fd, addr, len, false))
		return -1;
	return real_bind(fd, addr, len);
}

/* connect(): a candidate connecting to a listed destination moves first. */
int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int ret, err;

	init();
	if (maybe_move(fd, addr, len, true))
		return -1;
	ret = real_connect(fd, addr, len);
	if (lazy && (ret == 0 || errno == EINPROGRESS)) {
		err = errno;
		settle(fd);
		errno = err;
	}
	return ret;
}

/* sendto() and sendmsg() with MSG_FASTOPEN connect, as connect() does. */
ssize_t sendto(int fd, const void *buf, size_t n, int flags,
	       const struct sockaddr *addr, socklen_t len)
{
	init();
	if ((flags & MSG_FASTOPEN) && maybe_move(fd, addr, len, true))
		return -1;
	return real_sendto(fd, buf, n, flags, addr, len);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	init();
	if ((flags & MSG_FASTOPEN) &&
	    maybe_move(fd, msg->msg_name, msg->msg_namelen, true))
		return -1;
	return real_sendmsg(fd, msg, flags);
}

/*
 * setsockopt(): passed through (SO_REUSEPORT translated on an xtcp
 * socket). In lazy mode, what succeeds on a candidate at the levels xtcp
 * shares with TCP is recorded for the move.
 */
int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct cand *c;
	int ret;

	init();
	ret = set_opt(fd, level == SOL_SOCKET && name == SO_REUSEPORT &&
		      is_xtcp(fd), level, name, val, len);
	if (ret || !lazy || (level != SOL_SOCKET && level != IPPROTO_TCP &&
			     level != IPPROTO_IP))
		return ret;
	pthread_mutex_lock(&cands_lock);
	c = cand_get(fd);
	if (c)
		cand_record(c, level, name, val, len);
	pthread_mutex_unlock(&cands_lock);
	return 0;
}

/*
 * getsockopt(): an xtcp socket reports its own family for SO_DOMAIN; the
 * program asked for AF_INET and gets AF_INET (and IPPROTO_TCP for
 * SO_PROTOCOL) back.
 */
int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	int ret, v;

	init();
	ret = real_getsockopt(fd, level, name, val, len);
	if (ret || level != SOL_SOCKET || (name != SO_DOMAIN &&
					   name != SO_PROTOCOL) || !is_xtcp(fd))
		return ret;
	v = name == SO_DOMAIN ? AF_INET : IPPROTO_TCP;
	memcpy(val, &v, *len < sizeof(v) ? *len : sizeof(v));
	return 0;
}

/* write() all of buf to fd unless an error stops it; returns bytes sent. */
static size_t write_all(int fd, const char *buf, size_t n, int *err)
{
	size_t done = 0;
	ssize_t w;

	while (done < n) {
		w = write(fd, buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			*err = w < 0 ? errno : EIO;
			break;
		}
		done += w;
	}
	return done;
}

/*
 * sendfile() to or from an xtcp socket: read() and write() through a
 * buffer, as sendfile's contract (count bytes at most, *offset moved
 * by what was sent; without offset, the file position). Input read but
 * not sent is given back with lseek().
 */
static ssize_t sendfile_copy(int out, int in, off_t *offset, size_t count)
{
	off_t pos = offset ? *offset : 0;
	size_t total = 0, want, w;
	int err = 0;
	ssize_t n;
	char *buf;

	buf = malloc(COPY_CHUNK);
	if (!buf)
		return -1;
	while (total < count) {
		want = count - total < COPY_CHUNK ? count - total : COPY_CHUNK;
		n = offset ? pread(in, buf, want, pos) : read(in, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : 0;
			break;
		}
		w = write_all(out, buf, n, &err);
		total += w;
		pos += w;
		if (w < (size_t)n) {
			if (!offset)
				lseek(in, (off_t)w - n, SEEK_CUR);
			break;
		}
	}
	free(buf);
	if (offset)
		*offset = pos;
	if (!total && err) {
		errno = err;
		return -1;
	}
	return total;
}

ssize_t sendfile(int out, int in, off_t *offset, size_t count)
{
	init();
	if (!is_xtcp(out) && !is_xtcp(in))
		return real_sendfile(out, in, offset, count);
	return sendfile_copy(out, in, offset, count);
}

ssize_t sendfile64(int out, int in, off_t *offset, size_t count)
	__attribute__((alias("sendfile")));

static bool is_pipe(int fd)
{
	struct stat st;

	return !fstat(fd, &st) && S_ISFIFO(st.st_mode);
}

/* Wait until fd is ready for events, unless nonblocking. */
static int wait_for(int fd, short events, bool nonblock)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do {
		r = poll(&p, 1, nonblock ? 0 : -1);
	} while (r < 0 && errno == EINTR);
	if (r == 0) {
		errno = EAGAIN;
		return -1;
	}
	return r < 0 ? -1 : 0;
}

/*
 * splice() between an xtcp socket and a pipe (one end must be a pipe, as
 * for splice itself): one read() and write() through a buffer. Nothing
 * read is lost: from the socket, no more than the pipe has room for; to
 * the socket, the write waits until everything read has been sent.
 */
static ssize_t splice_copy(int in, loff_t *off_in, int out, loff_t *off_out,
			   size_t len, unsigned int flags)
{
	bool nonblock = flags & SPLICE_F_NONBLOCK, to_pipe = is_pipe(out);
	size_t want = len < COPY_CHUNK ? len : COPY_CHUNK, done = 0;
	int queued, size, err = 0;
	ssize_t n, w;
	char *buf;

	if (off_in || off_out) {
		errno = ESPIPE;
		return -1;
	}
	if (to_pipe == is_pipe(in)) {
		errno = EINVAL;
		return -1;
	}
	if (!len)
		return 0;
	if (to_pipe) {
		/* Room in the pipe; only one writer is expected. */
		for (;;) {
			size = fcntl(out, F_GETPIPE_SZ);
			if (size < 0 || ioctl(out, FIONREAD, &queued) < 0)
				return -1;
			if (queued < size)
				break;
			if (wait_for(out, POLLOUT, nonblock))
				return -1;
		}
		if ((size_t)(size - queued) < want)
			want = size - queued;
	} else if (wait_for(in, POLLIN, nonblock) ||
		   wait_for(out, POLLOUT, nonblock)) {
		return -1;
	}
	buf = malloc(want);
	if (!buf)
		return -1;
	if (to_pipe)
		n = recv(in, buf, want, nonblock ? MSG_DONTWAIT : 0);
	else
		n = read(in, buf, want);
	if (n <= 0) {
		err = errno;
		free(buf);
		errno = err;
		return n;
	}
	while (done < (size_t)n) {
		if (to_pipe)
			w = write(out, buf + done, n - done);
		else
			w = send(out, buf + done, n - done,
				 (flags & SPLICE_F_MORE) ? MSG_MORE : 0);
		if (w < 0 && (errno == EINTR ||
			      (errno == EAGAIN && !wait_for(out, POLLOUT, false))))
			continue;
		if (w < 0) {
			err = errno;
			break;
		}
		done += w;
	}
	free(buf);
	if (!done && err) {
		errno = err;
		return -1;
	}
	return done;
}

ssize_t splice(int in, loff_t *off_in, int out, loff_t *off_out, size_t len,
	       unsigned int flags)
{
	init();
	if (!is_xtcp(in) && !is_xtcp(out))
		return real_splice(in, off_in, out, off_out, len, flags);
	return splice_copy(in, off_in, out, off_out, len, flags);
}
