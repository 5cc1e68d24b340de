// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp-bench: one benchmark program for Linux's TCP (AF_INET) and xtcp
 * (AF_XTCP), in the manner of neper: the same binary is the server and
 * the client, the families are flags, and a control connection tells
 * the server what to serve.
 *
 *   xtcp-bench -s [-B ADDR] [-P CTLPORT] [-T THREADS] [-v]
 *   xtcp-bench -c HOST -m MODE [-f FAMILY] [-S FAMILY] [options]
 *
 * scripts/bench runs the server in one network namespace and every
 * client run in another (make bench); -h lists the options.
 *
 * Modes (client, -m):
 *
 *   cc       connect and close, for -l seconds: connections per second
 *            (a connection: socket() to close()).
 *   crr      connect, a -r byte request, a -r byte response, close:
 *            transactions per second, and their latency.
 *   rr       -n long-lived connections (flows), each sending a -r byte
 *            request and waiting for the -r byte response, for -l
 *            seconds: p50/p90/p99 latency and the total rate.
 *   stream   -n flows move -M MB in all (-d up: client to server; -d
 *            down: server to client): MB/s. Every byte is checked.
 *   connect  the cost of connect() as the ephemeral range fills toward
 *            one destination: -L percent of the range (-E) is opened and
 *            kept open, then -t more connects are timed one by one.
 *   mem      slab bytes per established connection and per TIME_WAIT
 *            entry, from /proc/slabinfo deltas over -N of each.
 *
 * Families (-f for the client's sockets, -S for the server's, linux by
 * default): linux (AF_INET) or xtcp (AF_XTCP, the number read from
 * /sys/module/xtcp/parameters/family). The control connection is always
 * Linux's TCP. Socket options, the same on both ends (the server sets
 * them on its listeners and again on each accepted socket): -D
 * TCP_NODELAY, --sndbuf/--rcvbuf SO_SNDBUF/SO_RCVBUF, -C TCP_CONGESTION
 * (both stacks have reno and cubic); the header lines say which
 * congestion control each end has. -a pins the client
 * (all its threads) and the server's threads of that run to one CPU.
 *
 * The control protocol: a line each way per request, over Linux's TCP
 * to CTLPORT (12866 by default, neper's):
 *
 *   SETUP family=F serve=S port=P nports=K size=R nodelay=0|1
 *         sndbuf=B rcvbuf=B cc=NAME|- cpu=C   -> OK | ERR reason
 *   STATS                                     -> STATS key=value...
 *   DROP                                      -> OK dropped=N loud=N
 *   END                                       -> OK
 *
 * SETUP opens K listeners of family F on P..P+K-1 (backlog 65535; the
 * server raises net.core.somaxconn to match in its namespace) and serves
 * them as S: sink (read and discard, close at EOF or reset), echo
 * (answer every R bytes read with R bytes) or stream (a 16-byte header,
 * then an upload or a download, below). A failed socket(), bind() or
 * listen() is answered with ERR and the reason, which the client prints
 * before it exits with status 1: that is what -S xtcp gives while xtcp
 * cannot listen ("listen() on AF_XTCP ... failed: Operation not
 * supported (this xtcp cannot listen)"). END, or the control
 * connection's close, ends the setup: listeners and connections closed,
 * threads joined. DROP ends it too, but closes every connection with
 * TCP_REPAIR set first, which makes Linux free the socket without
 * sending anything (loud counts those where TCP_REPAIR failed and a
 * FIN or RST went out). STATS gives the setup's connections accepted
 * and open, accept failures and I/O errors, and counters of the
 * server's namespace for its family (retransmitted segments, loss
 * recoveries, RTOs, SYN retransmits, listen overflows and drops,
 * out-of-order segments queued and D-SACKs sent). The
 * server runs THREADS epoll workers (default 2) per setup, each
 * accepting from every listener (EPOLLEXCLUSIVE); a stream connection
 * gets a thread of its own, with blocking I/O.
 *
 * Method, per mode:
 *
 * cc, crr, rr: each flow is a thread. Flows warm up (CONN_WARMUP
 * connections or RR_WARMUP transactions each), then start together at
 * a barrier and run until -l seconds after it. A transaction's latency
 * is CLOCK_MONOTONIC around it (cc, crr: socket() to close(); rr: the
 * request's send() to the whole response). Percentiles are nearest-rank
 * over every transaction of every flow; the rate is all transactions
 * over the time from the barrier to the last one's end. The client
 * closes first, so TIME_WAIT is on its side; with a Linux client (cc,
 * crr, mem) the namespace's net.ipv4.tcp_max_tw_buckets is raised to
 * 262144 so that Linux keeps an entry for every connection, as xtcp
 * does. -E gives both stacks the same range (below).
 *
 * stream: the content is a pattern known to both ends: 64-bit word i of
 * a flow's stream is (i + 1) * 0x9e3779b97f4a7c15, so a byte lost,
 * duplicated or out of place changes what follows. The sender writes it
 * (one add per word), the receiver compares every byte as it reads
 * (inside the timed interval, the same for both stacks; -V leaves the
 * comparison out), and the count must match exactly. A connection
 * opens with a 16-byte request (magic, mode, byte count; host byte
 * order: both ends are on one machine). Upload: the client sends its
 * share and shutdown(SHUT_WR)s; the server reads to EOF and replies
 * with the count and the offset of the first wrong byte (or ~0); the
 * flow ends at that reply, which must be followed by EOF. Download: the
 * server sends the share and closes; the flow ends at EOF. An untimed
 * STREAM_WARMUP transfer goes first. All flows connect, then start at
 * a barrier; MB/s is the total over the time from the barrier to the
 * last flow's end (MB = 2^20 bytes). Retransmitted segments, loss
 * recoveries and RTOs during the run are shown for the client (its
 * namespace's counters for its family: nothing else uses TCP there)
 * and for the server (from STATS), and as a receiver the segments
 * queued out of order and the D-SACKs sent (RFC 2883: each one a
 * segment received twice, a retransmission that was not needed; only
 * Linux sends them).
 *
 * connect: the former bench-connect's measurement. -E sets the client family's
 * range (default 40000-44095). One connect and close to the setup's
 * second port warms the neighbour entry. Then -L percent of the range
 * is connected to the first port and kept open; once the server has
 * accepted all of them (so that it is idle), -t more connects are each
 * timed around connect() alone (socket creation excluded; a blocking
 * connect() includes the handshake's round trip). For xtcp the deltas
 * of ConnectPortsScanned and ConnectMapWords (/proc/net/xtcp_stat) are
 * read around each timed connect, outside the timed interval. Then all
 * are closed: Linux's with SO_LINGER {1, 0} (a RST: no TIME_WAIT left),
 * xtcp's with a FIN (its TIME_WAIT entries hold ports toward that
 * server port only, which no later run uses), and the client waits for
 * the server to have closed every connection. Mean, median and max, us.
 *
 * -E LOW-HIGH: the client family's ephemeral range for the run,
 * net.ipv4.ip_local_port_range or net.xtcp.ip_local_port_range (for a
 * Linux client xtcp's range must not overlap it: xtcp reserves its
 * range from Linux). The control connection is made first, since an
 * xtcp range may leave Linux no port. Restored at exit.
 *
 * mem: slab accounting. A reading sums active_objs * objsize over every
 * cache of /proc/slabinfo: the sum is what counts, since SLUB merges
 * caches (XTCP's proto cache shows under another name) and xtcp's
 * TIME_WAIT entries come from kmalloc. Before each reading every cache
 * is shrunk (/sys/kernel/slab/NAME/shrink), which flushes SLUB's per-CPU
 * slabs, whose free objects /proc/slabinfo would count as active; a
 * reading is taken once two of them 0.5 s apart agree within 64 KB.
 * Each measurement starts with no TIME_WAIT entry of either stack left
 * in the client's namespace (waiting up to 75 s for earlier ones to
 * expire), so that nothing else is freed meanwhile.
 *   established: -N connections to a sink server, all accepted; then the
 *   server DROPs them (TCP_REPAIR: its ends are freed and the client's
 *   hear nothing, staying established), and (after - before) / N is what
 *   a connection costs the client alone: the socket, its file, inode
 *   and dentry, the LSM's blobs, and Linux's bind buckets or xtcp's
 *   destination port map. Then closed with a RST.
 *   TIME_WAIT: -N connections to a sink server, all accepted, are closed
 *   by the client (FIN; the server closes at EOF, LAST-ACK, gone) a
 *   thousand at a time, each batch in TIME_WAIT before the next (more
 *   orphans at once would pass Linux's tcp_max_orphans and be reset).
 *   Once the server has none left open, (after - before) / entries is
 *   the cost of an entry: Linux's tw socket and bind buckets, xtcp's
 *   kmalloc'ed struct xtcp_tw. Entries are counted in the client's
 *   namespace (/proc/net/sockstat "tw" for Linux, the TIME_WAIT lines of
 *   /proc/net/xtcp for xtcp) before and after the reading, which must
 *   agree; an entry killed early by a RST (see close_to_timewait())
 *   leaves the divisor, and more than 10% so lost fail the run.
 * The caches that moved by at least 4 bytes per object are listed, with
 * the names merged into them.
 *
 * Output: a human summary, then neper-style key=value lines (mode,
 * family, throughput, latency_p50_us, mem_estab_bytes, ..., ok=1).
 * Every data socket has 30 s send and receive timeouts, so a stalled
 * run fails instead of hanging. Exit status: 0; 1 if anything failed (a
 * wrong count or content, an error, a timeout, a server that cannot
 * serve); 2 for usage errors. Not a test: no thresholds.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/xtcp.h>

#define MB		(1024 * 1024ULL)
#define CTL_PORT	12866
#define DATA_PORT	8000
#define IO_TIMEOUT	30		/* seconds, SO_SNDTIMEO and SO_RCVTIMEO */
#define CHUNK		(128 * 1024)	/* bytes per send() and recv() */
#define MAX_FLOWS	64
#define MAX_PORTS	64
#define MAX_WORKERS	16
#define MAX_SIZE	(64 * 1024)	/* rr and crr request and response */
#define BACKLOG		65535
#define CONN_WARMUP	5		/* cc, crr: connections per flow */
#define RR_WARMUP	50		/* rr: transactions per flow */
#define STREAM_WARMUP	(256 * 1024ULL)	/* stream: bytes, one flow */
#define WAIT_S		60		/* for the server to catch up */
#define TW_WAIT_S	75		/* for earlier TIME_WAIT to expire */
#define TW_BUCKETS	262144
#define TW_BATCH	1000		/* mem: closes between waits */
#define REQ_MAGIC	0x58545342U	/* "XTSB" */
#define REQ_NOCHECK	0x100U		/* with the mode: do not compare */
#define PATTERN_K	0x9e3779b97f4a7c15ULL
#define NO_BAD		UINT64_MAX

#define XTCP_STAT	"/proc/net/xtcp_stat"
#define XTCP_CONNS	"/proc/net/xtcp"
#define LINUX_RANGE	"/proc/sys/net/ipv4/ip_local_port_range"
#define XTCP_RANGE	"/proc/sys/net/xtcp/ip_local_port_range"
#define TW_BUCKETS_SYSCTL "/proc/sys/net/ipv4/tcp_max_tw_buckets"
#define SOMAXCONN_SYSCTL "/proc/sys/net/core/somaxconn"

enum mode { MODE_CC, MODE_CRR, MODE_RR, MODE_STREAM, MODE_CONNECT, MODE_MEM,
	    NR_MODES };
enum serve { SERVE_SINK, SERVE_ECHO, SERVE_STREAM, NR_SERVES };
enum { STREAM_UP = 1, STREAM_DOWN = 2 };

static const char *const mode_names[NR_MODES] = {
	"cc", "crr", "rr", "stream", "connect", "mem"
};

static const char *const serve_names[NR_SERVES] = {
	"sink", "echo", "stream"
};

/* Socket options for the data sockets, both ends. */
struct sockopts {
	bool nodelay;
	int sndbuf, rcvbuf;	/* 0: the default */
	char cc[32];		/* TCP_CONGESTION, "" for the default */
};

struct request {
	uint32_t magic;
	uint32_t mode;
	uint64_t bytes;
};

struct reply {
	uint64_t bytes;		/* read until EOF */
	uint64_t bad;		/* offset of the first wrong byte, or NO_BAD */
};

/* Counters of a namespace for one family. */
struct counters {
	unsigned long long retrans, recoveries, rtos, synretrans;
	unsigned long long overflows, drops;
	unsigned long long ofo, dsacks;	/* as a receiver */
};

static int xtcp_family = AF_XTCP;
static bool verbose;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("xtcp-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("xtcp-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- files and sysctls ---- */

static int read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* open() and write() only: also used from the signal handler. */
static int write_file(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, val, len);
	if (close(fd) || n != (ssize_t)len)
		return -1;
	return 0;
}

#define MAX_SAVED	8

static struct {
	char path[96];
	char val[96];
} saved[MAX_SAVED];
static int nr_saved;

/* Restore every sysctl set_sysctl() changed, the last change first. */
static void restore_sysctls(void)
{
	while (nr_saved > 0) {
		nr_saved--;
		write_file(saved[nr_saved].path, saved[nr_saved].val);
	}
}

static void on_signal(int sig)
{
	restore_sysctls();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Write @val to the sysctl @path, keeping its first value for exit. */
static void set_sysctl(const char *path, const char *val)
{
	int i;

	for (i = 0; i < nr_saved; i++)
		if (!strcmp(saved[i].path, path))
			break;
	if (i == nr_saved) {
		if (nr_saved == MAX_SAVED)
			die("too many sysctls to restore");
		snprintf(saved[i].path, sizeof(saved[i].path), "%s", path);
		if (read_file(path, saved[i].val, sizeof(saved[i].val)))
			die("cannot read %s: %s", path, strerror(errno));
		nr_saved++;
	}
	if (write_file(path, val))
		die("cannot write \"%s\" to %s: %s", val, path, strerror(errno));
}

static void raise_nofile(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit(RLIMIT_NOFILE, %lu): %s", (unsigned long)want,
		    strerror(errno));
}

/* ---- families ---- */

static int get_xtcp_family(void)
{
	char buf[32];

	if (read_file("/sys/module/xtcp/parameters/family", buf, sizeof(buf)))
		return -1;
	return atoi(buf);
}

/* "linux" (or "inet", "tcp") is AF_INET, "xtcp" is AF_XTCP; -1 else. */
static int parse_family(const char *s)
{
	if (!strcmp(s, "linux") || !strcmp(s, "inet") || !strcmp(s, "tcp"))
		return AF_INET;
	if (!strcmp(s, "xtcp"))
		return xtcp_family;
	return -1;
}

static const char *family_name(int family)
{
	return family == AF_INET ? "linux" : "xtcp";
}

static bool is_xtcp(int family)
{
	return family != AF_INET;
}

/* ---- the stream's content ---- */

static uint64_t pattern_word(uint64_t i)
{
	return (i + 1) * PATTERN_K;
}

static unsigned char pattern_byte(uint64_t off)
{
	uint64_t w = pattern_word(off / 8);
	unsigned char b[8];

	memcpy(b, &w, sizeof(b));
	return b[off % 8];
}

/* @buf: @len bytes of the stream from @off, both multiples of 8. */
static void pattern_fill(unsigned char *buf, size_t len, uint64_t off)
{
	uint64_t w = pattern_word(off / 8);
	size_t i;

	for (i = 0; i + 8 <= len; i += 8, w += PATTERN_K)
		memcpy(buf + i, &w, 8);
}

/* The stream offset of the first byte of @buf that is wrong, or NO_BAD. */
static uint64_t pattern_check(const unsigned char *buf, size_t len,
			      uint64_t off)
{
	size_t i = 0, j;
	uint64_t w, v;

	for (; i < len && (off + i) % 8; i++)
		if (buf[i] != pattern_byte(off + i))
			return off + i;
	w = pattern_word((off + i) / 8);
	for (; i + 8 <= len; i += 8, w += PATTERN_K) {
		memcpy(&v, buf + i, 8);
		if (v == w)
			continue;
		for (j = i; j < i + 8; j++)
			if (buf[j] != pattern_byte(off + j))
				return off + j;
	}
	for (; i < len; i++)
		if (buf[i] != pattern_byte(off + i))
			return off + i;
	return NO_BAD;
}

/* ---- socket helpers: 0 or -errno (-EPIPE: EOF too early) ---- */

static int set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT };

	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

static int send_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	double t0;
	ssize_t n;

	while (len) {
		t0 = now_s();
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* A blocking socket's timeout: EAGAIN. */
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		/* Part of it, after the timeout: stalled all the same. */
		if ((size_t)n < len && now_s() - t0 >= IO_TIMEOUT)
			return -ETIMEDOUT;
		p += n;
		len -= n;
	}
	return 0;
}

static int recv_all(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;
	ssize_t n;

	while (len) {
		n = recv(fd, p, len, 0);
		if (!n)
			return -EPIPE;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* Send @bytes of the pattern from offset 0, through @buf (CHUNK bytes). */
static int send_pattern(int fd, unsigned char *buf, uint64_t bytes)
{
	uint64_t off;
	size_t len;
	int err;

	for (off = 0; off < bytes; off += len) {
		len = bytes - off < CHUNK ? bytes - off : CHUNK;
		pattern_fill(buf, len, off);
		err = send_all(fd, buf, len);
		if (err)
			return err;
	}
	return 0;
}

/* Read to EOF: the count, and the first wrong byte if @check. */
static int recv_pattern(int fd, unsigned char *buf, bool check,
			uint64_t *bytes, uint64_t *bad)
{
	ssize_t n;

	*bytes = 0;
	*bad = NO_BAD;
	for (;;) {
		n = recv(fd, buf, CHUNK, 0);
		if (!n)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		if (check && *bad == NO_BAD)
			*bad = pattern_check(buf, n, *bytes);
		*bytes += n;
	}
}

/*
 * Apply @o to @fd of @family. An xtcp module without TCP_CONGESTION
 * (ENOPROTOOPT) is reported once (*@warned) and ignored. 0 or -errno.
 */
static int apply_opts(int fd, int family, const struct sockopts *o,
		      bool *warned)
{
	int one = 1;

	if (o->nodelay &&
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		return -errno;
	if (o->sndbuf &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf,
		       sizeof(o->sndbuf)))
		return -errno;
	if (o->rcvbuf &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf,
		       sizeof(o->rcvbuf)))
		return -errno;
	if (o->cc[0] &&
	    setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, o->cc,
		       strlen(o->cc))) {
		if (!is_xtcp(family) || errno != ENOPROTOOPT)
			return -errno;
		if (warned && !*warned) {
			warn("this xtcp has no TCP_CONGESTION (%s ignored)",
			     o->cc);
			*warned = true;
		}
	}
	return 0;
}

/* The congestion control a socket of @family ends up with. */
static void effective_cc(int family, const struct sockopts *o, char *buf,
			 size_t len)
{
	socklen_t sl = len - 1;
	bool warned = true;
	int fd;

	snprintf(buf, len, "?");
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	memset(buf, 0, len);
	if (apply_opts(fd, family, o, &warned) ||
	    getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, buf, &sl))
		snprintf(buf, len, "?");
	close(fd);
}

/* ---- counters ---- */

/* "Name value" lines (/proc/net/xtcp_stat); 0 if absent. */
static unsigned long long stat_value(const char *path, const char *want)
{
	unsigned long long val, found = 0;
	char name[64];
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fscanf(f, "%63s %llu", name, &val) == 2)
		if (!strcmp(name, want))
			found = val;
	fclose(f);
	return found;
}

/* A header line and a value line per "Prefix:" (/proc/net/snmp, netstat). */
static unsigned long long snmp_value(const char *path, const char *prefix,
				     const char *want)
{
	char names[4096], vals[4096], *sn, *sv, *n, *v;
	unsigned long long found = 0;
	size_t plen = strlen(prefix);
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(names, sizeof(names), f)) {
		if (strncmp(names, prefix, plen) || !fgets(vals, sizeof(vals), f))
			continue;
		n = strtok_r(names, "\n ", &sn);
		v = strtok_r(vals, "\n ", &sv);
		while (n && v) {
			if (!strcmp(n, want))
				found = strtoull(v, NULL, 10);
			n = strtok_r(NULL, "\n ", &sn);
			v = strtok_r(NULL, "\n ", &sv);
		}
		break;
	}
	fclose(f);
	return found;
}

static unsigned long long tcpext(const char *want)
{
	return snmp_value("/proc/net/netstat", "TcpExt:", want);
}

/* This namespace's counters for @family. */
static void read_counters(int family, struct counters *c)
{
	if (is_xtcp(family)) {
		c->retrans = stat_value(XTCP_STAT, "RetransSegs");
		c->recoveries = stat_value(XTCP_STAT, "FastRetrans");
		c->rtos = stat_value(XTCP_STAT, "Timeouts");
		c->synretrans = stat_value(XTCP_STAT, "SynRetrans");
		c->overflows = stat_value(XTCP_STAT, "ListenOverflows");
		c->drops = stat_value(XTCP_STAT, "ListenDrops");
		c->ofo = stat_value(XTCP_STAT, "OfoQueue");
		c->dsacks = 0;		/* xtcp sends no D-SACK */
		return;
	}
	c->retrans = snmp_value("/proc/net/snmp", "Tcp:", "RetransSegs");
	c->recoveries = tcpext("TCPSackRecovery") + tcpext("TCPRenoRecovery");
	c->rtos = tcpext("TCPTimeouts");
	c->synretrans = tcpext("TCPSynRetrans");
	c->overflows = tcpext("ListenOverflows");
	c->drops = tcpext("ListenDrops");
	c->ofo = tcpext("TCPOFOQueue");
	c->dsacks = tcpext("TCPDSACKOldSent") + tcpext("TCPDSACKOfoSent");
}

static void counters_sub(struct counters *d, const struct counters *a,
			 const struct counters *b)
{
	d->retrans = a->retrans - b->retrans;
	d->recoveries = a->recoveries - b->recoveries;
	d->rtos = a->rtos - b->rtos;
	d->synretrans = a->synretrans - b->synretrans;
	d->overflows = a->overflows - b->overflows;
	d->drops = a->drops - b->drops;
	d->ofo = a->ofo - b->ofo;
	d->dsacks = a->dsacks - b->dsacks;
}

/* ---- control connection: lines ---- */

struct line_reader {
	int fd;
	size_t len;
	char buf[2048];
};

/* One line (without its newline) into @line: 1, 0 at EOF, -1 on error. */
static int read_line(struct line_reader *r, char *line, size_t size)
{
	char *nl;
	ssize_t n;
	size_t l;

	for (;;) {
		nl = memchr(r->buf, '\n', r->len);
		if (nl) {
			l = nl - r->buf;
			if (l >= size)
				l = size - 1;
			memcpy(line, r->buf, l);
			line[l] = '\0';
			l = nl + 1 - r->buf;
			memmove(r->buf, r->buf + l, r->len - l);
			r->len -= l;
			return 1;
		}
		if (r->len == sizeof(r->buf))
			return -1;
		n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
		if (!n)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		r->len += n;
	}
}

static int write_line(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(buf) - 1)
		return -EINVAL;
	buf[n++] = '\n';
	return send_all(fd, buf, n);
}

/* The value of key=value in @line, into @val; false if absent. */
static bool kv_get(const char *line, const char *key, char *val, size_t len)
{
	size_t klen = strlen(key);
	const char *p = line;
	size_t n;

	while (*p) {
		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			n -= klen + 1;
			if (n >= len)
				n = len - 1;
			memcpy(val, p + klen + 1, n);
			val[n] = '\0';
			return true;
		}
		p += n;
	}
	return false;
}

static unsigned long long kv_ull(const char *line, const char *key)
{
	char val[32];

	return kv_get(line, key, val, sizeof(val)) ?
	       strtoull(val, NULL, 10) : 0;
}

/* ---- the server ---- */

enum { IT_LISTEN, IT_CONN, IT_STOP };

struct item {
	int type;
	int fd;
};

struct session;

struct conn {
	struct item it;
	struct conn *prev, *next;
	size_t have;		/* echo: request bytes read */
	size_t out;		/* echo: response bytes left to write */
	bool want_out;		/* waiting for EPOLLOUT */
};

struct worker {
	struct session *s;
	pthread_t thread;
	int epfd;
	struct item stop;	/* an eventfd */
	struct conn *conns;
	unsigned char *buf;
};

struct stream_conn {
	struct session *s;
	int fd;
	struct stream_conn *prev, *next;
};

struct session {
	int family;
	enum serve serve;
	unsigned int port, nports;
	size_t size;
	int cpu;			/* workers pinned to it, or -1 */
	struct sockopts opts;
	bool cc_warned;
	struct item listeners[MAX_PORTS];
	unsigned int nr_listeners;
	struct worker workers[MAX_WORKERS];
	unsigned int nr_workers;
	unsigned char *response;	/* echo: @size bytes */
	/* stream connections, each with its own thread */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct stream_conn *streams;
	bool silent;		/* at the end: close without a packet */
	/* updated atomically */
	unsigned long accepted, failures, errors, dropped, loud;
	long open;
};

static unsigned int server_threads = 2;
static struct in_addr server_addr = { .s_addr = INADDR_ANY };

static void counter_add(unsigned long *c, long v)
{
	__atomic_add_fetch(c, v, __ATOMIC_SEQ_CST);
}

static void server_error(struct session *s, const char *what, int err)
{
	counter_add(&s->errors, 1);
	fprintf(stderr, "xtcp-bench: server: %s: %s\n", what, strerror(-err));
}

/* One stream connection, blocking I/O, in its own thread. */
static void serve_stream(struct session *s, int fd, unsigned char *buf)
{
	struct request req;
	struct reply rep;
	bool check;
	int err, flags;

	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)) {
		server_error(s, "fcntl", -errno);
		return;
	}
	err = set_timeouts(fd);
	if (!err)
		err = recv_all(fd, &req, sizeof(req));
	if (err) {
		server_error(s, "stream: request", err);
		return;
	}
	if (req.magic != REQ_MAGIC) {
		server_error(s, "stream: bad request", -EPROTO);
		return;
	}
	check = !(req.mode & REQ_NOCHECK);
	switch (req.mode & ~REQ_NOCHECK) {
	case STREAM_UP:
		err = recv_pattern(fd, buf, check, &rep.bytes, &rep.bad);
		if (err) {
			server_error(s, "upload: recv", err);
			return;
		}
		err = send_all(fd, &rep, sizeof(rep));
		if (err)
			server_error(s, "upload: reply", err);
		break;
	case STREAM_DOWN:
		err = send_pattern(fd, buf, req.bytes);
		if (err)
			server_error(s, "download: send", err);
		break;
	default:
		server_error(s, "stream: bad mode", -EPROTO);
	}
}

static void *stream_thread(void *arg)
{
	struct stream_conn *sc = arg;
	struct session *s = sc->s;
	unsigned char *buf = malloc(CHUNK);

	if (buf)
		serve_stream(s, sc->fd, buf);
	else
		server_error(s, "stream", -ENOMEM);
	free(buf);
	pthread_mutex_lock(&s->lock);
	if (sc->prev)
		sc->prev->next = sc->next;
	else
		s->streams = sc->next;
	if (sc->next)
		sc->next->prev = sc->prev;
	close(sc->fd);
	__atomic_sub_fetch(&s->open, 1, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	free(sc);
	return NULL;
}

static void start_stream(struct session *s, int fd)
{
	struct stream_conn *sc = calloc(1, sizeof(*sc));
	pthread_attr_t attr;
	pthread_t t;
	int err;

	if (!sc) {
		server_error(s, "stream", -ENOMEM);
		goto fail;
	}
	sc->s = s;
	sc->fd = fd;
	pthread_mutex_lock(&s->lock);
	sc->next = s->streams;
	if (sc->next)
		sc->next->prev = sc;
	s->streams = sc;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&t, &attr, stream_thread, sc);
	pthread_attr_destroy(&attr);
	if (err) {
		s->streams = sc->next;
		if (sc->next)
			sc->next->prev = NULL;
		pthread_mutex_unlock(&s->lock);
		free(sc);
		server_error(s, "stream: pthread_create", -err);
		goto fail;
	}
	pthread_mutex_unlock(&s->lock);
	return;
fail:
	close(fd);
	__atomic_sub_fetch(&s->open, 1, __ATOMIC_SEQ_CST);
}

static void conn_close(struct worker *w, struct conn *c)
{
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->it.fd, NULL);
	close(c->it.fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
	__atomic_sub_fetch(&w->s->open, 1, __ATOMIC_SEQ_CST);
}

static void worker_accept(struct worker *w, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	struct session *s = w->s;
	struct conn *c;
	int fd, err;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN) {
				counter_add(&s->failures, 1);
				fprintf(stderr, "xtcp-bench: server: accept: %s\n",
					strerror(errno));
			}
			return;
		}
		counter_add(&s->accepted, 1);
		__atomic_add_fetch(&s->open, 1, __ATOMIC_SEQ_CST);
		err = apply_opts(fd, s->family, &s->opts, &s->cc_warned);
		if (err)
			server_error(s, "setsockopt", err);
		if (s->serve == SERVE_STREAM) {
			start_stream(s, fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			server_error(s, "accept", -ENOMEM);
			close(fd);
			__atomic_sub_fetch(&s->open, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		c->it.type = IT_CONN;
		c->it.fd = fd;
		ev.data.ptr = c;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			server_error(s, "epoll_ctl", -errno);
			close(fd);
			free(c);
			__atomic_sub_fetch(&s->open, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		c->next = w->conns;
		if (c->next)
			c->next->prev = c;
		w->conns = c;
	}
}

/* sink: read and discard; close at EOF or on an error (a reset). */
static void conn_sink(struct worker *w, struct conn *c)
{
	ssize_t n;

	for (;;) {
		n = read(c->it.fd, w->buf, CHUNK);
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		conn_close(w, c);
		return;
	}
}

static void conn_want_out(struct worker *w, struct conn *c, bool out)
{
	struct epoll_event ev = {
		.events = out ? EPOLLOUT : EPOLLIN | EPOLLRDHUP,
		.data.ptr = c,
	};

	if (c->want_out == out)
		return;
	c->want_out = out;
	if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->it.fd, &ev))
		server_error(w->s, "epoll_ctl", -errno);
}

/* echo: every @size bytes read are answered with @size bytes. */
static void conn_echo(struct worker *w, struct conn *c)
{
	struct session *s = w->s;
	ssize_t n;

	for (;;) {
		if (c->out) {
			n = write(c->it.fd, s->response + s->size - c->out,
				  c->out);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN) {
				conn_want_out(w, c, true);
				return;
			}
			if (n < 0) {
				conn_close(w, c);
				return;
			}
			c->out -= n;
			continue;
		}
		conn_want_out(w, c, false);
		n = read(c->it.fd, w->buf, s->size - c->have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_close(w, c);
			return;
		}
		c->have += n;
		if (c->have == s->size) {
			c->have = 0;
			c->out = s->size;
		}
	}
}

/*
 * DROP: TCP_REPAIR makes close() send nothing (no FIN, no RST) and free
 * the socket at once, so the client's end stays established and alone.
 */
static void conn_silence(struct session *s, int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &one, sizeof(one)))
		counter_add(&s->loud, 1);
	else
		counter_add(&s->dropped, 1);
}

static void *worker_main(void *arg)
{
	struct epoll_event evs[64];
	struct worker *w = arg;
	struct item *it;
	int i, n;

	for (;;) {
		n = epoll_wait(w->epfd, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			server_error(w->s, "epoll_wait", -errno);
			break;
		}
		for (i = 0; i < n; i++) {
			it = evs[i].data.ptr;
			if (it->type == IT_STOP)
				goto out;
			if (it->type == IT_LISTEN)
				worker_accept(w, it->fd);
			else if (w->s->serve == SERVE_ECHO)
				conn_echo(w, (struct conn *)it);
			else
				conn_sink(w, (struct conn *)it);
		}
	}
out:
	while (w->conns) {
		if (w->s->silent)
			conn_silence(w->s, w->conns->it.fd);
		conn_close(w, w->conns);
	}
	return NULL;
}

static void session_end_counts(struct session *s, unsigned long *dropped,
			       unsigned long *loud);

static void session_end(struct session *s)
{
	session_end_counts(s, NULL, NULL);
}

/* Stop the workers, close everything; DROP's counts if asked. */
static void session_end_counts(struct session *s, unsigned long *dropped,
			       unsigned long *loud)
{
	struct stream_conn *sc;
	uint64_t one = 1;
	unsigned int i;

	for (i = 0; i < s->nr_workers; i++) {
		if (write(s->workers[i].stop.fd, &one, sizeof(one)) !=
		    sizeof(one))
			die("server: cannot stop a worker: %s", strerror(errno));
		pthread_join(s->workers[i].thread, NULL);
		close(s->workers[i].epfd);
		close(s->workers[i].stop.fd);
		free(s->workers[i].buf);
	}
	for (i = 0; i < s->nr_listeners; i++)
		close(s->listeners[i].fd);
	pthread_mutex_lock(&s->lock);
	for (sc = s->streams; sc; sc = sc->next)
		shutdown(sc->fd, SHUT_RDWR);
	while (s->streams)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	if (dropped)
		*dropped = s->dropped;
	if (loud)
		*loud = s->loud;
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s->response);
	free(s);
}

static const char *setup_error(struct session *s, char *err, size_t len,
			       const char *call, unsigned int port)
{
	int e = errno;

	snprintf(err, len, "%s() on %s (%s %d) %s:%u failed: %s%s", call,
		 is_xtcp(s->family) ? "AF_XTCP" : "AF_INET",
		 family_name(s->family), s->family, inet_ntoa(server_addr),
		 port, strerror(e),
		 is_xtcp(s->family) && !strcmp(call, "listen") ?
		 " (this xtcp cannot listen)" : "");
	return err;
}

/* Parse a SETUP line and start serving it; NULL and @err on failure. */
static struct session *session_start(const char *line, char *err, size_t len)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	struct sockaddr_in addr = { .sin_family = AF_INET };
	struct session *s;
	char val[64];
	unsigned int i, j;
	int fd, one = 1, e;

	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->family = kv_get(line, "family", val, sizeof(val)) ?
		    parse_family(val) : -1;
	if (s->family < 0) {
		snprintf(err, len, "bad or missing family");
		goto fail;
	}
	if (is_xtcp(s->family) && xtcp_family < 0) {
		snprintf(err, len, "xtcp is not loaded on the server");
		goto fail;
	}
	if (!kv_get(line, "serve", val, sizeof(val)))
		val[0] = '\0';
	for (i = 0; i < NR_SERVES; i++)
		if (!strcmp(val, serve_names[i]))
			break;
	if (i == NR_SERVES) {
		snprintf(err, len, "bad or missing serve");
		goto fail;
	}
	s->serve = i;
	s->port = kv_ull(line, "port");
	s->nports = kv_ull(line, "nports");
	s->size = kv_ull(line, "size");
	if (!s->nports || s->nports > MAX_PORTS || !s->port ||
	    s->port + s->nports - 1 > 65535) {
		snprintf(err, len, "bad port or nports");
		goto fail;
	}
	if (s->serve == SERVE_ECHO && (!s->size || s->size > MAX_SIZE)) {
		snprintf(err, len, "bad size (1..%d)", MAX_SIZE);
		goto fail;
	}
	s->cpu = kv_get(line, "cpu", val, sizeof(val)) ? atoi(val) : -1;
	s->opts.nodelay = kv_ull(line, "nodelay");
	s->opts.sndbuf = kv_ull(line, "sndbuf");
	s->opts.rcvbuf = kv_ull(line, "rcvbuf");
	if (kv_get(line, "cc", val, sizeof(val)) && strcmp(val, "-"))
		snprintf(s->opts.cc, sizeof(s->opts.cc), "%s", val);
	if (s->serve == SERVE_ECHO) {
		s->response = malloc(s->size);
		if (!s->response) {
			snprintf(err, len, "out of memory");
			goto fail;
		}
		memset(s->response, 'r', s->size);
	}

	addr.sin_addr = server_addr;
	for (i = 0; i < s->nports; i++) {
		fd = socket(s->family, SOCK_STREAM | SOCK_NONBLOCK |
			    SOCK_CLOEXEC, 0);
		if (fd < 0) {
			setup_error(s, err, len, "socket", s->port + i);
			goto fail_listeners;
		}
		s->listeners[i].type = IT_LISTEN;
		s->listeners[i].fd = fd;
		s->nr_listeners++;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		e = apply_opts(fd, s->family, &s->opts, &s->cc_warned);
		if (e) {
			errno = -e;
			setup_error(s, err, len, "setsockopt", s->port + i);
			goto fail_listeners;
		}
		addr.sin_port = htons(s->port + i);
		if (bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
			setup_error(s, err, len, "bind", s->port + i);
			goto fail_listeners;
		}
		if (listen(fd, BACKLOG)) {
			setup_error(s, err, len, "listen", s->port + i);
			goto fail_listeners;
		}
	}

	s->nr_workers = server_threads;
	for (i = 0; i < s->nr_workers; i++) {
		struct worker *w = &s->workers[i];

		w->s = s;
		w->buf = malloc(CHUNK);
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->stop.type = IT_STOP;
		w->stop.fd = eventfd(0, EFD_CLOEXEC);
		if (!w->buf || w->epfd < 0 || w->stop.fd < 0)
			die("server: cannot make a worker: %s", strerror(errno));
		ev.events = EPOLLIN;
		ev.data.ptr = &w->stop;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->stop.fd, &ev))
			die("server: epoll_ctl: %s", strerror(errno));
		for (j = 0; j < s->nr_listeners; j++) {
			ev.events = EPOLLIN | EPOLLEXCLUSIVE;
			ev.data.ptr = &s->listeners[j];
			if (epoll_ctl(w->epfd, EPOLL_CTL_ADD,
				      s->listeners[j].fd, &ev))
				die("server: epoll_ctl: %s", strerror(errno));
		}
		e = pthread_create(&w->thread, NULL, worker_main, w);
		if (e)
			die("server: pthread_create: %s", strerror(e));
		/* Stream threads inherit it from their worker. */
		if (s->cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(s->cpu, &set);
			e = pthread_setaffinity_np(w->thread, sizeof(set), &set);
			if (e)
				warn("server: cannot pin a worker to CPU %d: %s",
				     s->cpu, strerror(e));
		}
	}
	return s;

fail_listeners:
	for (i = 0; i < s->nr_listeners; i++)
		close(s->listeners[i].fd);
fail:
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s->response);
	free(s);
	return NULL;
}

static int send_stats(int cfd, struct session *s)
{
	struct counters c = { 0 };

	if (s)
		read_counters(s->family, &c);
	return write_line(cfd, "STATS accepted=%lu open=%ld failures=%lu errors=%lu retrans=%llu recoveries=%llu rtos=%llu synretrans=%llu listen_overflows=%llu listen_drops=%llu ofo=%llu dsacks=%llu",
			  s ? __atomic_load_n(&s->accepted, __ATOMIC_SEQ_CST) : 0,
			  s ? __atomic_load_n(&s->open, __ATOMIC_SEQ_CST) : 0,
			  s ? __atomic_load_n(&s->failures, __ATOMIC_SEQ_CST) : 0,
			  s ? __atomic_load_n(&s->errors, __ATOMIC_SEQ_CST) : 0,
			  c.retrans, c.recoveries, c.rtos, c.synretrans,
			  c.overflows, c.drops, c.ofo, c.dsacks);
}

/* One control connection: SETUP, STATS, END until it closes. */
static void server_control(int cfd)
{
	struct line_reader r = { .fd = cfd };
	struct session *s = NULL;
	char line[1024], err[256];
	int ret;

	set_timeouts(cfd);	/* the send side: a client that stopped reading */
	for (;;) {
		struct timeval tv = { 0 };

		/* Reads wait as long as the client's run lasts. */
		setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		ret = read_line(&r, line, sizeof(line));
		if (ret <= 0)
			break;
		if (!strncmp(line, "SETUP ", 6)) {
			if (s)
				session_end(s);
			s = session_start(line + 6, err, sizeof(err));
			if (verbose)
				fprintf(stderr, "xtcp-bench: server: %s: %s\n",
					line, s ? "OK" : err);
			ret = s ? write_line(cfd, "OK") :
				  write_line(cfd, "ERR %s", err);
		} else if (!strcmp(line, "STATS")) {
			ret = send_stats(cfd, s);
		} else if (!strcmp(line, "END")) {
			if (s)
				session_end(s);
			s = NULL;
			ret = write_line(cfd, "OK");
		} else if (!strcmp(line, "DROP") && s) {
			unsigned long dropped, loud;

			s->silent = true;
			session_end_counts(s, &dropped, &loud);
			s = NULL;
			ret = write_line(cfd, "OK dropped=%lu loud=%lu", dropped,
					 loud);
		} else {
			ret = write_line(cfd, "ERR unknown request");
		}
		if (ret)
			break;
	}
	if (s)
		session_end(s);
}

static int server_main(unsigned int ctl_port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	char val[16];
	int lfd, cfd, one = 1;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	raise_nofile(2 * BACKLOG);
	/* The accept queue's length is min(backlog, somaxconn). */
	snprintf(val, sizeof(val), "%d", BACKLOG);
	if (write_file(SOMAXCONN_SYSCTL, val))
		warn("server: cannot set %s: %s", SOMAXCONN_SYSCTL,
		     strerror(errno));

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("server: socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	addr.sin_addr = server_addr;
	addr.sin_port = htons(ctl_port);
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(lfd, 16))
		die("server: control port %s:%u: %s", inet_ntoa(server_addr),
		    ctl_port, strerror(errno));
	printf("xtcp-bench: server on %s, control port %u, %u threads\n",
	       inet_ntoa(server_addr), ctl_port, server_threads);
	for (;;) {
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				warn("server: accept: %s", strerror(errno));
			continue;
		}
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		server_control(cfd);
		close(cfd);
	}
	return 0;
}

/* ---- the client ---- */

/* What the client was asked to do. */
struct config {
	enum mode mode;
	int family, server_family;
	struct sockaddr_in dest;	/* the server; port: per connection */
	unsigned int port, ctl_port;
	unsigned int flows;
	double length;			/* cc, crr, rr: seconds */
	size_t size;			/* crr, rr: bytes each way */
	uint64_t stream_bytes;		/* stream: in all */
	int dir;			/* stream: STREAM_UP or STREAM_DOWN */
	bool check;			/* stream: compare the content */
	struct sockopts opts;
	unsigned int range_low, range_high;	/* 0: leave the range */
	unsigned int objects;		/* mem */
	unsigned int fill;		/* connect: percent */
	unsigned int timed;		/* connect */
	int cpu;			/* both ends pinned to it, or -1 */
};

static struct config cfg = {
	.mode = NR_MODES,
	.family = AF_INET,
	.server_family = AF_INET,
	.port = DATA_PORT,
	.ctl_port = CTL_PORT,
	.flows = 1,
	.length = 5,
	.size = 1,
	.stream_bytes = 64 * MB,
	.dir = STREAM_UP,
	.check = true,
	.objects = 10000,
	.timed = 32,
	.cpu = -1,
};

static int ctl_fd = -1;
static struct line_reader ctl_reader;
static bool cc_warned;
static bool failed;

/* Note a failure; the run goes on where it can, the status will be 1. */
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("xtcp-bench: FAILED: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failed = true;
}

/* Send a request and read the reply line into @reply; die on ERR. */
static void ctl_request(char *reply, size_t len, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int err;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	err = write_line(ctl_fd, "%s", buf);
	if (err)
		die("control: send: %s", strerror(-err));
	if (read_line(&ctl_reader, reply, len) != 1)
		die("control: the server closed the control connection");
	if (!strncmp(reply, "ERR", 3))
		die("the server refused \"%s\": %s", buf,
		    reply[3] ? reply + 4 : "no reason given");
}

static void ctl_connect(void)
{
	struct sockaddr_in addr = cfg.dest;
	double end = now_s() + 10;
	int one = 1;

	addr.sin_port = htons(cfg.ctl_port);
	for (;;) {
		ctl_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (ctl_fd < 0)
			die("control: socket: %s", strerror(errno));
		if (!connect(ctl_fd, (struct sockaddr *)&addr, sizeof(addr)))
			break;
		/* The server may still be starting. */
		if (errno != ECONNREFUSED || now_s() > end)
			die("control: connect to %s:%u: %s",
			    inet_ntoa(addr.sin_addr), cfg.ctl_port,
			    strerror(errno));
		close(ctl_fd);
		sleep_s(0.1);
	}
	setsockopt(ctl_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	set_timeouts(ctl_fd);
	ctl_reader.fd = ctl_fd;
}

/* A setup at the server: @nports listeners from @port, served as @serve. */
static void server_setup(enum serve serve, unsigned int port,
			 unsigned int nports)
{
	char reply[512];

	ctl_request(reply, sizeof(reply),
		    "SETUP family=%s serve=%s port=%u nports=%u size=%zu nodelay=%d sndbuf=%d rcvbuf=%d cc=%s cpu=%d",
		    family_name(cfg.server_family), serve_names[serve], port,
		    nports, cfg.size, cfg.opts.nodelay, cfg.opts.sndbuf,
		    cfg.opts.rcvbuf, cfg.opts.cc[0] ? cfg.opts.cc : "-",
		    cfg.cpu);
}

static void server_end(void)
{
	char reply[64];

	ctl_request(reply, sizeof(reply), "END");
}

struct server_stats {
	unsigned long long accepted, failures, errors;
	long long open;
	struct counters c;
};

static void server_stats(struct server_stats *st)
{
	char reply[1024];

	ctl_request(reply, sizeof(reply), "STATS");
	st->accepted = kv_ull(reply, "accepted");
	st->open = kv_ull(reply, "open");
	st->failures = kv_ull(reply, "failures");
	st->errors = kv_ull(reply, "errors");
	st->c.retrans = kv_ull(reply, "retrans");
	st->c.recoveries = kv_ull(reply, "recoveries");
	st->c.rtos = kv_ull(reply, "rtos");
	st->c.synretrans = kv_ull(reply, "synretrans");
	st->c.overflows = kv_ull(reply, "listen_overflows");
	st->c.drops = kv_ull(reply, "listen_drops");
	st->c.ofo = kv_ull(reply, "ofo");
	st->c.dsacks = kv_ull(reply, "dsacks");
}

/* Wait up to @secs for the server to have accepted @accepted, @open open. */
static bool server_wait(unsigned long long accepted, long long open,
			int secs)
{
	double end = now_s() + secs;
	struct server_stats st;

	for (;;) {
		server_stats(&st);
		if (st.accepted >= accepted && (open < 0 || st.open == open))
			return true;
		if (now_s() > end) {
			warn("the server accepted %llu of %llu and has %lld open after %d s",
			     st.accepted, accepted, st.open, secs);
			return false;
		}
		sleep_s(0.001);
	}
}

/* A data socket of the client's family with the options and timeouts. */
static int client_socket(void)
{
	int fd, err;

	fd = socket(cfg.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = apply_opts(fd, cfg.family, &cfg.opts, &cc_warned);
	if (!err)
		err = set_timeouts(fd);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int client_connect(int fd, unsigned int port)
{
	struct sockaddr_in addr = cfg.dest;

	addr.sin_port = htons(port);
	if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		return 0;
	/* SO_SNDTIMEO expired. */
	return errno == EINPROGRESS || errno == EAGAIN ? -ETIMEDOUT : -errno;
}

static void close_rst(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* The client family's ephemeral range: -E, restored at exit. */
static void set_client_range(void)
{
	unsigned int xlow, xhigh;
	char val[64];

	if (!cfg.range_low)
		return;
	snprintf(val, sizeof(val), "%u %u", cfg.range_low, cfg.range_high);
	if (is_xtcp(cfg.family)) {
		set_sysctl(XTCP_RANGE, val);
		return;
	}
	if (xtcp_family >= 0) {
		if (read_file(XTCP_RANGE, val, sizeof(val)) ||
		    sscanf(val, "%u %u", &xlow, &xhigh) != 2)
			die("cannot read %s", XTCP_RANGE);
		if (xhigh >= cfg.range_low && xlow <= cfg.range_high)
			die("net.xtcp.ip_local_port_range (%u %u) overlaps %u-%u: xtcp reserves its range from Linux",
			    xlow, xhigh, cfg.range_low, cfg.range_high);
		snprintf(val, sizeof(val), "%u %u", cfg.range_low,
			 cfg.range_high);
	}
	set_sysctl(LINUX_RANGE, val);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted @v. */
static double percentile(const double *v, size_t n, double p)
{
	double rank = p / 100 * n;
	size_t k = (size_t)rank;

	if (!n)
		return NAN;
	if (k < rank)
		k++;
	return v[k ? k - 1 : 0];
}

static double median(double *v, size_t n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- flows: cc, crr, rr, stream ---- */

struct flow {
	pthread_t thread;
	unsigned int id;
	int fd;
	unsigned long count;	/* transactions */
	double *lat;		/* their latencies, us */
	size_t cap;
	double end;		/* when the last one ended */
	uint64_t bytes;		/* stream: moved and checked */
	char why[160];		/* the first failure */
};

static struct flow flows[MAX_FLOWS];
static pthread_barrier_t ready_barrier, go_barrier;
static double run_start, run_deadline;

static void flow_fail(struct flow *f, const char *fmt, ...)
{
	va_list ap;

	if (f->why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
}

static void flow_sample(struct flow *f, double us)
{
	double *p;

	if (f->count == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 4096;
		p = realloc(f->lat, f->cap * sizeof(*p));
		if (!p)
			die("out of memory");
		f->lat = p;
	}
	f->lat[f->count++] = us;
}

/* Both barriers: all flows ready, then the start time is set. */
static void flow_start(void)
{
	pthread_barrier_wait(&ready_barrier);
	pthread_barrier_wait(&go_barrier);
}

/* One cc or crr transaction: socket(), connect(), [request, response], close. */
static int conn_txn(unsigned char *buf)
{
	int fd, err;

	fd = client_socket();
	if (fd < 0)
		return fd;
	err = client_connect(fd, cfg.port);
	if (!err && cfg.mode == MODE_CRR) {
		err = send_all(fd, buf, cfg.size);
		if (!err)
			err = recv_all(fd, buf, cfg.size);
	}
	close(fd);
	return err;
}

static void *conn_flow(void *arg)
{
	struct flow *f = arg;
	unsigned char *buf = calloc(1, cfg.size);
	double t0, t1;
	int i, err = 0;

	if (!buf)
		die("out of memory");
	for (i = 0; i < CONN_WARMUP && !err; i++)
		err = conn_txn(buf);
	if (err)
		flow_fail(f, "warm-up: %s", strerror(-err));
	flow_start();
	while (!err) {
		t0 = now_s();
		if (t0 >= run_deadline)
			break;
		err = conn_txn(buf);
		t1 = now_s();
		if (err) {
			flow_fail(f, "transaction %lu: %s", f->count + 1,
				  strerror(-err));
			break;
		}
		flow_sample(f, (t1 - t0) * 1e6);
		f->end = t1;
	}
	free(buf);
	return NULL;
}

static int rr_txn(int fd, unsigned char *buf)
{
	int err = send_all(fd, buf, cfg.size);

	return err ? err : recv_all(fd, buf, cfg.size);
}

static void *rr_flow(void *arg)
{
	struct flow *f = arg;
	unsigned char *buf = calloc(1, cfg.size);
	double t0, t1;
	int i, err;

	if (!buf)
		die("out of memory");
	f->fd = client_socket();
	err = f->fd < 0 ? f->fd : client_connect(f->fd, cfg.port);
	if (err)
		flow_fail(f, "connect: %s", strerror(-err));
	for (i = 0; i < RR_WARMUP && !err; i++) {
		err = rr_txn(f->fd, buf);
		if (err)
			flow_fail(f, "warm-up: %s", strerror(-err));
	}
	flow_start();
	while (!err) {
		t0 = now_s();
		if (t0 >= run_deadline)
			break;
		err = rr_txn(f->fd, buf);
		t1 = now_s();
		if (err) {
			flow_fail(f, "transaction %lu: %s", f->count + 1,
				  strerror(-err));
			break;
		}
		flow_sample(f, (t1 - t0) * 1e6);
		f->end = t1;
	}
	if (f->fd >= 0)
		close(f->fd);
	free(buf);
	return NULL;
}

/* One stream transfer of @bytes on connected @fd; 0 or a failure in @f. */
static int stream_transfer(struct flow *f, int fd, uint64_t bytes,
			   unsigned char *buf)
{
	struct request req = { REQ_MAGIC, cfg.dir, bytes };
	struct reply rep;
	uint64_t got, bad;
	int err;
	char c;

	if (!cfg.check)
		req.mode |= REQ_NOCHECK;
	err = send_all(fd, &req, sizeof(req));
	if (err) {
		flow_fail(f, "request: %s", strerror(-err));
		return err;
	}
	if (cfg.dir == STREAM_DOWN) {
		err = recv_pattern(fd, buf, cfg.check, &got, &bad);
		if (err) {
			flow_fail(f, "recv after %llu bytes: %s",
				  (unsigned long long)got, strerror(-err));
			return err;
		}
		if (got != bytes) {
			flow_fail(f, "received %llu of %llu bytes",
				  (unsigned long long)got,
				  (unsigned long long)bytes);
			return -EPROTO;
		}
		if (bad != NO_BAD) {
			flow_fail(f, "bad byte at %llu",
				  (unsigned long long)bad);
			return -EPROTO;
		}
		return 0;
	}
	err = send_pattern(fd, buf, bytes);
	if (err) {
		flow_fail(f, "send: %s", strerror(-err));
		return err;
	}
	if (shutdown(fd, SHUT_WR)) {
		err = -errno;
		flow_fail(f, "shutdown: %s", strerror(errno));
		return err;
	}
	err = recv_all(fd, &rep, sizeof(rep));
	if (err) {
		flow_fail(f, "reply: %s", strerror(-err));
		return err;
	}
	if (rep.bytes != bytes) {
		flow_fail(f, "the server read %llu of %llu bytes",
			  (unsigned long long)rep.bytes,
			  (unsigned long long)bytes);
		return -EPROTO;
	}
	if (rep.bad != NO_BAD) {
		flow_fail(f, "bad byte at %llu (at the server)",
			  (unsigned long long)rep.bad);
		return -EPROTO;
	}
	if (recv(fd, &c, 1, 0) != 0) {
		flow_fail(f, "no EOF after the reply");
		return -EPROTO;
	}
	return 0;
}

static void *stream_flow(void *arg)
{
	struct flow *f = arg;
	unsigned char *buf = aligned_alloc(4096, CHUNK);
	int err;

	if (!buf)
		die("out of memory");
	f->fd = client_socket();
	err = f->fd < 0 ? f->fd : client_connect(f->fd, cfg.port);
	if (err)
		flow_fail(f, "connect: %s", strerror(-err));
	flow_start();
	if (!err && !stream_transfer(f, f->fd, f->bytes, buf))
		f->end = now_s();
	if (f->fd >= 0)
		close(f->fd);
	free(buf);
	return NULL;
}

/* Run cfg.flows threads of @fn; false if any failed. */
static bool run_flows(void *(*fn)(void *), uint64_t bytes_per_flow)
{
	unsigned int i, n = cfg.flows;
	bool ok = true;
	int err;

	memset(flows, 0, sizeof(flows));
	pthread_barrier_init(&ready_barrier, NULL, n + 1);
	pthread_barrier_init(&go_barrier, NULL, n + 1);
	for (i = 0; i < n; i++) {
		flows[i].id = i;
		flows[i].fd = -1;
		flows[i].bytes = bytes_per_flow;
		err = pthread_create(&flows[i].thread, NULL, fn, &flows[i]);
		if (err)
			die("pthread_create: %s", strerror(err));
	}
	pthread_barrier_wait(&ready_barrier);
	run_start = now_s();
	run_deadline = run_start + cfg.length;
	pthread_barrier_wait(&go_barrier);
	for (i = 0; i < n; i++)
		pthread_join(flows[i].thread, NULL);
	pthread_barrier_destroy(&ready_barrier);
	pthread_barrier_destroy(&go_barrier);
	for (i = 0; i < n; i++) {
		if (flows[i].why[0]) {
			fail("%s, %s, flow %u: %s", mode_names[cfg.mode],
			     family_name(cfg.family), i + 1, flows[i].why);
			ok = false;
		}
	}
	return ok;
}

/* Latency percentiles and rate over all flows' transactions. */
static void report_transactions(const char *unit)
{
	unsigned long total = 0;
	double end = run_start, *all, sum = 0;
	size_t k = 0;
	unsigned int i;

	for (i = 0; i < cfg.flows; i++) {
		total += flows[i].count;
		if (flows[i].end > end)
			end = flows[i].end;
	}
	all = malloc((total ? total : 1) * sizeof(*all));
	if (!all)
		die("out of memory");
	for (i = 0; i < cfg.flows; i++) {
		memcpy(all + k, flows[i].lat, flows[i].count * sizeof(*all));
		k += flows[i].count;
		free(flows[i].lat);
	}
	qsort(all, total, sizeof(*all), cmp_double);
	for (k = 0; k < total; k++)
		sum += all[k];
	printf("  %lu transactions in %.2f s: %.1f %s; latency us: mean %.1f p50 %.1f p90 %.1f p99 %.1f max %.1f\n",
	       total, end - run_start,
	       total ? total / (end - run_start) : 0.0, unit,
	       total ? sum / total : NAN, percentile(all, total, 50),
	       percentile(all, total, 90), percentile(all, total, 99),
	       total ? all[total - 1] : NAN);
	printf("transactions=%lu\n", total);
	printf("elapsed=%.3f\n", end - run_start);
	printf("throughput=%.1f\n", total ? total / (end - run_start) : 0.0);
	printf("throughput_unit=%s\n", unit);
	printf("latency_mean_us=%.1f\n", total ? sum / total : NAN);
	printf("latency_p50_us=%.1f\n", percentile(all, total, 50));
	printf("latency_p90_us=%.1f\n", percentile(all, total, 90));
	printf("latency_p99_us=%.1f\n", percentile(all, total, 99));
	printf("latency_max_us=%.1f\n", total ? all[total - 1] : NAN);
	free(all);
}

static void print_counters(const char *who, const struct counters *c)
{
	printf("%s_retrans=%llu\n%s_recoveries=%llu\n%s_rtos=%llu\n",
	       who, c->retrans, who, c->recoveries, who, c->rtos);
	printf("%s_synretrans=%llu\n%s_listen_overflows=%llu\n%s_listen_drops=%llu\n",
	       who, c->synretrans, who, c->overflows, who, c->drops);
	printf("%s_ofo=%llu\n%s_dsacks=%llu\n", who, c->ofo, who, c->dsacks);
}

/* cc, crr, rr, stream: one setup, flows, counters around the run. */
static void run_flow_mode(void)
{
	struct server_stats s0, s1;
	struct counters c0, c1, dc, ds;
	uint64_t per_flow = 0, total;
	double end, secs;
	unsigned int i;
	bool ok;

	server_setup(cfg.mode == MODE_CC ? SERVE_SINK :
		     cfg.mode == MODE_STREAM ? SERVE_STREAM : SERVE_ECHO,
		     cfg.port, 1);
	if (cfg.mode == MODE_STREAM) {
		/* An untimed transfer first: caches and the neighbour entry. */
		struct flow w = { .fd = -1 };
		unsigned char *buf = aligned_alloc(4096, CHUNK);
		int fd = client_socket();

		if (!buf)
			die("out of memory");
		if (fd < 0 || client_connect(fd, cfg.port) ||
		    stream_transfer(&w, fd, STREAM_WARMUP, buf))
			fail("stream warm-up: %s", w.why[0] ? w.why :
			     "cannot connect");
		if (fd >= 0)
			close(fd);
		free(buf);
		per_flow = cfg.stream_bytes / cfg.flows / 8 * 8;
		if (!per_flow)
			die("-M too small for %u flows", cfg.flows);
	}
	server_stats(&s0);
	read_counters(cfg.family, &c0);
	if (cfg.mode == MODE_RR)
		ok = run_flows(rr_flow, 0);
	else if (cfg.mode == MODE_STREAM)
		ok = run_flows(stream_flow, per_flow);
	else
		ok = run_flows(conn_flow, 0);
	read_counters(cfg.family, &c1);
	/* Everything closed at the server before its counters are read. */
	server_wait(0, 0, WAIT_S);
	server_stats(&s1);
	counters_sub(&dc, &c1, &c0);
	counters_sub(&ds, &s1.c, &s0.c);
	if (s1.failures != s0.failures || s1.errors != s0.errors) {
		fail("%s: the server had %llu accept failures and %llu I/O errors",
		     mode_names[cfg.mode], s1.failures - s0.failures,
		     s1.errors - s0.errors);
		ok = false;
	}
	server_end();

	if (cfg.mode == MODE_STREAM) {
		end = run_start;
		for (i = 0; i < cfg.flows; i++)
			if (flows[i].end > end)
				end = flows[i].end;
		total = per_flow * cfg.flows;
		secs = end - run_start;
		if (ok)
			printf("  %s %.1f MB in %.3f s: %.2f MB/s\n",
			       cfg.dir == STREAM_UP ? "upload" : "download",
			       total / (double)MB, secs,
			       total / (double)MB / secs);
		printf("  client: retrans %llu, recoveries %llu, rtos %llu, out-of-order in %llu, D-SACKs sent %llu\n",
		       dc.retrans, dc.recoveries, dc.rtos, dc.ofo, dc.dsacks);
		printf("  server: retrans %llu, recoveries %llu, rtos %llu, out-of-order in %llu, D-SACKs sent %llu\n",
		       ds.retrans, ds.recoveries, ds.rtos, ds.ofo, ds.dsacks);
		printf("direction=%s\n", cfg.dir == STREAM_UP ? "up" : "down");
		printf("bytes=%llu\n", (unsigned long long)total);
		printf("content=%s\n", cfg.check ? "checked" : "not-checked");
		printf("elapsed=%.3f\n", secs);
		printf("throughput=%.2f\n", ok ? total / (double)MB / secs : NAN);
		printf("throughput_unit=MB/s\n");
	} else {
		report_transactions(cfg.mode == MODE_CC ? "conn/s" : "tps");
		printf("  client SYN retransmits %llu; server listen overflows %llu, drops %llu\n",
		       dc.synretrans, ds.overflows, ds.drops);
	}
	print_counters("client", &dc);
	print_counters("server", &ds);
	printf("ok=%d\n", ok);
}

/* ---- connect: cost as the range fills ---- */

static void read_xtcp_scan(unsigned long long *ports, unsigned long long *words)
{
	*ports = stat_value(XTCP_STAT, "ConnectPortsScanned");
	*words = stat_value(XTCP_STAT, "ConnectMapWords");
}

static void close_all(int *fds, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (is_xtcp(cfg.family))
			close(fds[i]);
		else
			close_rst(fds[i]);
	}
}

static void run_connect(void)
{
	unsigned int range_n = cfg.range_high - cfg.range_low + 1;
	unsigned int fill = (unsigned long)range_n * cfg.fill / 100;
	unsigned int m = cfg.timed, i, open = 0;
	unsigned long long p0 = 0, w0 = 0, p1, w1, ports = 0, words = 0;
	double t0, t1, fill_s = 0, sum = 0, max = 0, *samples;
	struct server_stats st;
	int *fds, fd, err;
	bool ok = false;

	if (m > range_n - fill)
		m = range_n - fill;
	fds = calloc(fill + m + 1, sizeof(*fds));
	samples = calloc(m + 1, sizeof(*samples));
	if (!fds || !samples)
		die("out of memory");
	raise_nofile(fill + m + 256);

	server_setup(SERVE_SINK, cfg.port, 2);
	/* Warm-up: one connection to the spare port. */
	fd = client_socket();
	err = fd < 0 ? fd : client_connect(fd, cfg.port + 1);
	if (err)
		die("warm-up connect: %s", strerror(-err));
	close_all(&fd, 1);
	if (!server_wait(1, 0, WAIT_S))
		die("warm-up: the server did not catch up");
	server_stats(&st);

	t0 = now_s();
	for (i = 0; i < fill; i++) {
		fd = client_socket();
		err = fd < 0 ? fd : client_connect(fd, cfg.port);
		if (err) {
			fail("connect %u%%: fill connect %u/%u: %s", cfg.fill,
			     i + 1, fill, strerror(-err));
			goto out;
		}
		fds[open++] = fd;
	}
	fill_s = now_s() - t0;
	/* The server idle before the timed ones. */
	server_wait(st.accepted + fill, -1, WAIT_S);

	for (i = 0; i < m; i++) {
		if (is_xtcp(cfg.family))
			read_xtcp_scan(&p0, &w0);
		fd = client_socket();
		if (fd < 0) {
			fail("connect %u%%: socket: %s", cfg.fill,
			     strerror(-fd));
			goto out;
		}
		t0 = now_s();
		err = client_connect(fd, cfg.port);
		t1 = now_s();
		if (err) {
			close(fd);
			fail("connect %u%%: timed connect %u/%u: %s", cfg.fill,
			     i + 1, m, strerror(-err));
			goto out;
		}
		fds[open++] = fd;
		if (is_xtcp(cfg.family)) {
			read_xtcp_scan(&p1, &w1);
			ports += p1 - p0;
			words += w1 - w0;
		}
		samples[i] = (t1 - t0) * 1e6;
		sum += samples[i];
		if (samples[i] > max)
			max = samples[i];
	}
	ok = true;
out:
	close_all(fds, open);
	/* Accepted all (even if already reset), then closed all. */
	if (!server_wait(st.accepted + open, 0, WAIT_S))
		fail("connect %u%%: the server did not close every connection",
		     cfg.fill);
	server_end();

	printf("  fill %u%% (%u open), %u timed: mean %.1f us, median %.1f us, max %.1f us; fill took %.2f s",
	       cfg.fill, fill, m, ok && m ? sum / m : NAN,
	       ok ? median(samples, m) : NAN, ok ? max : NAN, fill_s);
	if (is_xtcp(cfg.family) && ok && m)
		printf("; per connect: %.2f ports, %.2f map words",
		       (double)ports / m, (double)words / m);
	printf("\n");
	printf("fill_percent=%u\nfill=%u\ntimed=%u\nfill_seconds=%.2f\n",
	       cfg.fill, fill, m, fill_s);
	printf("connect_mean_us=%.1f\n", ok && m ? sum / m : NAN);
	printf("connect_median_us=%.1f\n", ok ? median(samples, m) : NAN);
	printf("connect_max_us=%.1f\n", ok ? max : NAN);
	if (is_xtcp(cfg.family) && ok && m)
		printf("ports_per_connect=%.2f\nwords_per_connect=%.2f\n",
		       (double)ports / m, (double)words / m);
	printf("ok=%d\n", ok);
	free(fds);
	free(samples);
}

/* ---- mem: slab accounting ---- */

#define MAX_CACHES	512

struct slab_cache {
	char name[64];
	unsigned long long active, objsize;
};

struct slab_snap {
	unsigned int n;
	struct slab_cache c[MAX_CACHES];
	unsigned long long total;	/* bytes: active * objsize summed */
};

/*
 * Shrink every cache (/sys/kernel/slab/NAME/shrink, merged names are
 * symlinks and skipped): SLUB then flushes its per-CPU slabs, whose free
 * objects /proc/slabinfo would otherwise count as active.
 */
static void slab_shrink_all(void)
{
	char path[300];
	struct dirent *de;
	struct stat st;
	DIR *d;

	d = opendir("/sys/kernel/slab");
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s", de->d_name);
		if (lstat(path, &st) || !S_ISDIR(st.st_mode))
			continue;
		strncat(path, "/shrink", sizeof(path) - strlen(path) - 1);
		write_file(path, "1");
	}
	closedir(d);
}

static void slab_read(struct slab_snap *s)
{
	char line[512];
	struct slab_cache *c;
	FILE *f;

	slab_shrink_all();
	f = fopen("/proc/slabinfo", "r");
	if (!f)
		die("cannot open /proc/slabinfo: %s", strerror(errno));
	s->n = 0;
	s->total = 0;
	while (fgets(line, sizeof(line), f)) {
		if (s->n == MAX_CACHES)
			die("more than %d slab caches", MAX_CACHES);
		c = &s->c[s->n];
		if (sscanf(line, "%63s %llu %*u %llu", c->name, &c->active,
			   &c->objsize) != 3)
			continue;	/* the two header lines */
		s->total += c->active * c->objsize;
		s->n++;
	}
	fclose(f);
}

/* A snapshot once the slabs are quiet: two readings 0.5 s apart agree. */
static void slab_settled(struct slab_snap *s)
{
	static struct slab_snap prev;
	long long d;
	int i;

	sleep_s(0.5);
	slab_read(&prev);
	for (i = 0; i < 20; i++) {
		sleep_s(0.5);
		slab_read(s);
		d = (long long)(s->total - prev.total);
		if (llabs(d) < 64 * 1024)
			return;
		prev = *s;
	}
	warn("the slabs did not settle (last change %lld bytes in 0.5 s)",
	     (long long)(s->total - prev.total));
}

/* The other names a merged cache goes by (/sys/kernel/slab symlinks). */
static void slab_aliases(const char *cache, char *buf, size_t len)
{
	char path[300], target[256], t2[256];
	struct dirent *de;
	size_t used = 0;
	ssize_t n;
	DIR *d;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/kernel/slab/%s", cache);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return;
	target[n] = '\0';
	d = opendir("/sys/kernel/slab");
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, cache) || de->d_name[0] == ':')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s", de->d_name);
		n = readlink(path, t2, sizeof(t2) - 1);
		if (n < 0)
			continue;
		t2[n] = '\0';
		if (strcmp(t2, target))
			continue;
		used += snprintf(buf + used, used < len ? len - used : 0,
				 "%s%s", used ? "," : "=", de->d_name);
	}
	closedir(d);
}

/* Print the caches that moved by at least 4 bytes per object. */
static void slab_breakdown(const struct slab_snap *a, const struct slab_snap *b,
			   unsigned int n)
{
	char aliases[256];
	unsigned int i, j;
	long long d;

	for (i = 0; i < b->n; i++) {
		d = (long long)(b->c[i].active * b->c[i].objsize);
		for (j = 0; j < a->n; j++)
			if (!strcmp(a->c[j].name, b->c[i].name))
				break;
		if (j < a->n)
			d -= (long long)(a->c[j].active * a->c[j].objsize);
		if (llabs(d) < 4LL * n)
			continue;
		slab_aliases(b->c[i].name, aliases, sizeof(aliases));
		printf("    %-22s %+8.1f objects/conn x %4llu = %+7.1f bytes%s%s%s\n",
		       b->c[i].name,
		       d / (double)b->c[i].objsize / n, b->c[i].objsize,
		       d / (double)n, aliases[0] ? " (" : "",
		       aliases[0] ? aliases + 1 : "", aliases[0] ? ")" : "");
	}
}

/* TCP states as /proc/net/tcp numbers them. */
enum {
	ST_ESTABLISHED = 1, ST_SYN_SENT, ST_SYN_RECV, ST_FIN_WAIT1,
	ST_FIN_WAIT2, ST_TIME_WAIT, ST_CLOSE, ST_CLOSE_WAIT, ST_LAST_ACK,
	ST_LISTEN, ST_CLOSING, NR_STATES
};

static const char *const state_names[NR_STATES] = {
	"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"
};

/*
 * The client namespace's connections of @family by state, those to
 * @port only (0: all): /proc/net/tcp for Linux (TIME_WAIT included),
 * /proc/net/xtcp for xtcp. false if the file cannot be read.
 */
static bool count_states(int family, unsigned int port,
			 unsigned long long n[NR_STATES])
{
	char line[512], state[32], remote[64], *colon;
	unsigned int st, rport;
	FILE *f;

	memset(n, 0, NR_STATES * sizeof(n[0]));
	f = fopen(is_xtcp(family) ? XTCP_CONNS : "/proc/net/tcp", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (is_xtcp(family)) {
			if (sscanf(line, "%*s %63s %31s", remote, state) != 2)
				continue;
			colon = strrchr(remote, ':');
			rport = colon ? atoi(colon + 1) : 0;
			for (st = 1; st < NR_STATES; st++)
				if (!strcmp(state, state_names[st]))
					break;
			if (st == NR_STATES)
				st = 0;
		} else {
			if (sscanf(line, " %*d: %*x:%*x %*x:%x %x", &rport,
				   &st) != 2)
				continue;
			if (st >= NR_STATES)
				st = 0;
		}
		if (!port || rport == port)
			n[st]++;
	}
	fclose(f);
	return true;
}

/* TIME_WAIT entries of @family in the client's namespace, or -1. */
static long long tw_count(int family)
{
	unsigned long long n[NR_STATES];

	if (!count_states(family, 0, n))
		return -1;
	return n[ST_TIME_WAIT];
}

/* Connections to @port still closing: FIN-WAIT-1/2, CLOSING, LAST-ACK. */
static unsigned long long closing_count(unsigned int port)
{
	unsigned long long n[NR_STATES];

	if (!count_states(cfg.family, port, n))
		return 0;
	return n[ST_FIN_WAIT1] + n[ST_FIN_WAIT2] + n[ST_CLOSING] +
	       n[ST_LAST_ACK];
}

static void print_states(unsigned int port)
{
	unsigned long long n[NR_STATES];
	int i;

	if (!count_states(cfg.family, port, n))
		return;
	printf("    connections to port %u by state:", port);
	for (i = 0; i < NR_STATES; i++)
		if (n[i])
			printf(" %s %llu", state_names[i], n[i]);
	printf("\n");
}

/* No TIME_WAIT entry of either stack left to expire during a measurement. */
static void wait_no_timewait(void)
{
	double t0 = now_s();
	long long l, x;

	for (;;) {
		l = tw_count(AF_INET);
		x = xtcp_family >= 0 ? tw_count(xtcp_family) : 0;
		if (l <= 0 && x <= 0)
			break;
		if (now_s() - t0 > TW_WAIT_S)
			die("mem: %lld Linux and %lld xtcp TIME_WAIT entries still there after %d s",
			    l, x, TW_WAIT_S);
		sleep_s(1);
	}
	if (now_s() - t0 > 1)
		printf("  (waited %.0f s for earlier TIME_WAIT entries to expire)\n",
		       now_s() - t0);
}

/* Open @n connections to @port into @fds; false (and a failure) if not. */
static bool open_many(int *fds, unsigned int n, unsigned int port)
{
	unsigned int i;
	int fd, err;

	for (i = 0; i < n; i++) {
		fd = client_socket();
		err = fd < 0 ? fd : client_connect(fd, port);
		if (err) {
			if (fd >= 0)
				close(fd);
			close_all(fds, i);
			fail("mem: connect %u/%u: %s", i + 1, n, strerror(-err));
			return false;
		}
		fds[i] = fd;
	}
	return true;
}

/* The server's DROP: its ends go without a packet; false if not all. */
static bool server_drop(unsigned int n)
{
	unsigned long long dropped, loud;
	char reply[256];

	ctl_request(reply, sizeof(reply), "DROP");
	dropped = kv_ull(reply, "dropped");
	loud = kv_ull(reply, "loud");
	if (dropped == n && !loud)
		return true;
	fail("mem: the server dropped %llu of %u connections silently (%llu without TCP_REPAIR)",
	     dropped, n, loud);
	return false;
}

/*
 * Close @n connections to @port (FIN) a batch at a time, each batch done
 * closing (no connection to @port in FIN-WAIT-1/2 or CLOSING) before the
 * next: so many orphans at once would pass Linux's tcp_max_orphans
 * (8192 with 2 GB) and be reset. An entry can still end early, killed by
 * a RST: with two CPUs, the peer's ACK and FIN may cross over veth; the
 * late one fails PAWS in TIME_WAIT, the entry answers with an ACK, the
 * peer, closed by then, with a RST, and RFC 1337's protection is off in
 * both stacks (scripts/bench pins mem to one CPU).
 */
static void close_to_timewait(int *fds, unsigned int n, unsigned int port)
{
	unsigned int i, j, want;
	double end;

	for (i = 0; i < n; i = want) {
		want = i + TW_BATCH < n ? i + TW_BATCH : n;
		for (j = i; j < want; j++)
			close(fds[j]);
		end = now_s() + WAIT_S;
		while (closing_count(port) && now_s() < end)
			sleep_s(0.01);
	}
}

static void run_mem(void)
{
	static struct slab_snap s0, s1;
	unsigned int n = cfg.objects, i;
	double estab = NAN, tw = NAN;
	struct server_stats st;
	long long cnt, cnt2;
	char val[32];
	int *fds;

	if (cfg.range_low && cfg.range_high - cfg.range_low + 1 < n + 64)
		die("mem: the range %u-%u is too small for %u connections",
		    cfg.range_low, cfg.range_high, n);
	fds = calloc(n, sizeof(*fds));
	if (!fds)
		die("out of memory");
	raise_nofile(n + 256);

	/* Established: the server's ends then go silently. */
	printf("  established, %u connections:\n", n);
	wait_no_timewait();
	server_setup(SERVE_SINK, cfg.port, 1);
	server_stats(&st);
	slab_settled(&s0);
	if (open_many(fds, n, cfg.port)) {
		if (server_wait(st.accepted + n, n, WAIT_S) &&
		    server_drop(n)) {
			slab_settled(&s1);
			estab = (double)(long long)(s1.total - s0.total) / n;
			slab_breakdown(&s0, &s1, n);
			printf("    %.1f bytes per established connection\n",
			       estab);
		}
		for (i = 0; i < n; i++)
			close_rst(fds[i]);
	}
	if (isnan(estab))
		server_end();

	/* TIME_WAIT: the server closes at EOF, and has nothing left. */
	printf("  TIME_WAIT, %u entries:\n", n);
	wait_no_timewait();
	server_setup(SERVE_SINK, cfg.port + 1, 1);
	server_stats(&st);
	slab_settled(&s0);
	if (open_many(fds, n, cfg.port + 1) &&
	    server_wait(st.accepted + n, -1, WAIT_S)) {
		close_to_timewait(fds, n, cfg.port + 1);
		server_wait(st.accepted + n, 0, WAIT_S);
		cnt = tw_count(cfg.family);
		slab_settled(&s1);
		cnt2 = tw_count(cfg.family);
		if (cnt2 != cnt || cnt < n * 9 / 10) {
			fail("mem: %lld TIME_WAIT entries of %u (%lld after the reading)",
			     cnt, n, cnt2);
			print_states(cfg.port + 1);
		} else {
			tw = (double)(long long)(s1.total - s0.total) / cnt;
			slab_breakdown(&s0, &s1, cnt);
			if (cnt < n)
				printf("    (%lld of %u entries ended early, killed by a RST: per entry left)\n",
				       n - cnt, n);
			printf("    %.1f bytes per TIME_WAIT entry\n", tw);
		}
	}
	server_end();

	if (!is_xtcp(cfg.family) &&
	    !read_file(TW_BUCKETS_SYSCTL, val, sizeof(val)))
		printf("  (net.ipv4.tcp_max_tw_buckets %s)\n", val);
	printf("objects=%u\n", n);
	printf("mem_estab_bytes=%.1f\n", estab);
	printf("mem_timewait_bytes=%.1f\n", tw);
	printf("ok=%d\n", !isnan(estab) && !isnan(tw));
	if (isnan(estab) || isnan(tw))
		failed = true;
	free(fds);
}

/* ---- main ---- */

static void print_usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: xtcp-bench -s [-B ADDR] [-P CTLPORT] [-T THREADS] [-v]\n"
		"       xtcp-bench -c HOST -m MODE [options]\n"
		"modes: cc crr rr stream connect mem\n"
		"  -f, --family F          client sockets: linux (AF_INET) or xtcp (default linux)\n"
		"  -S, --server-family F   server sockets: linux or xtcp (default linux)\n"
		"  -p, --port PORT         first data port (default %u; connect, mem use 2)\n"
		"  -P, --control-port PORT control port (default %u)\n"
		"  -n, --flows N           cc, crr, rr, stream: flows (threads, default 1)\n"
		"  -l, --length SECS       cc, crr, rr: seconds (default 5)\n"
		"  -r, --size BYTES        crr, rr: request and response (default 1)\n"
		"  -M, --mb MB             stream: MB in all, shared by the flows (default 64)\n"
		"  -d, --dir up|down       stream: direction (default up)\n"
		"  -V, --no-verify         stream: count the bytes but do not compare them\n"
		"  -E, --range LOW-HIGH    the client family's ephemeral range for the run\n"
		"  -L, --fill PCT          connect: percent of the range kept open (default 0)\n"
		"  -t, --timed M           connect: timed connects (default 32)\n"
		"  -N, --objects N         mem: connections and TIME_WAIT entries (default 10000)\n"
		"  -D, --nodelay           TCP_NODELAY\n"
		"      --sndbuf BYTES      SO_SNDBUF\n"
		"      --rcvbuf BYTES      SO_RCVBUF\n"
		"  -C, --congestion NAME   TCP_CONGESTION on both ends\n"
		"  -a, --cpu N             pin the client and the server's threads to CPU N\n"
		"  -T, --threads N         server: worker threads (default 2)\n"
		"  -v, --verbose           server: log every request\n",
		DATA_PORT, CTL_PORT);
	exit(status);
}

static unsigned long parse_num(const char *s, unsigned long min,
			       unsigned long max, const char *what)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "xtcp-bench: bad %s \"%s\" (%lu..%lu)\n", what,
			s, min, max);
		exit(2);
	}
	return v;
}

static void print_header(void)
{
	char lcc[32], scc[32];
	struct utsname u;

	uname(&u);
	effective_cc(cfg.family, &cfg.opts, lcc, sizeof(lcc));
	effective_cc(cfg.server_family, &cfg.opts, scc, sizeof(scc));
	printf("xtcp-bench: %s, client %s (family %d), server %s, %s:%u, kernel %s\n",
	       mode_names[cfg.mode], family_name(cfg.family), cfg.family,
	       family_name(cfg.server_family), inet_ntoa(cfg.dest.sin_addr),
	       cfg.port, u.release);
	printf("mode=%s\nfamily=%s\nserver_family=%s\nkernel=%s\n",
	       mode_names[cfg.mode], family_name(cfg.family),
	       family_name(cfg.server_family), u.release);
	printf("flows=%u\nnodelay=%d\nsndbuf=%d\nrcvbuf=%d\n", cfg.flows,
	       cfg.opts.nodelay, cfg.opts.sndbuf, cfg.opts.rcvbuf);
	printf("congestion=%s\nserver_congestion=%s\n", lcc, scc);
	printf("cpu=%d\n", cfg.cpu);
	if (cfg.range_low)
		printf("range=%u-%u\n", cfg.range_low, cfg.range_high);
}

int main(int argc, char **argv)
{
	enum { OPT_SNDBUF = 256, OPT_RCVBUF };
	static const struct option longopts[] = {
		{ "server", no_argument, NULL, 's' },
		{ "client", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, 'm' },
		{ "family", required_argument, NULL, 'f' },
		{ "server-family", required_argument, NULL, 'S' },
		{ "port", required_argument, NULL, 'p' },
		{ "control-port", required_argument, NULL, 'P' },
		{ "bind", required_argument, NULL, 'B' },
		{ "flows", required_argument, NULL, 'n' },
		{ "length", required_argument, NULL, 'l' },
		{ "size", required_argument, NULL, 'r' },
		{ "mb", required_argument, NULL, 'M' },
		{ "dir", required_argument, NULL, 'd' },
		{ "no-verify", no_argument, NULL, 'V' },
		{ "range", required_argument, NULL, 'E' },
		{ "fill", required_argument, NULL, 'L' },
		{ "timed", required_argument, NULL, 't' },
		{ "objects", required_argument, NULL, 'N' },
		{ "nodelay", no_argument, NULL, 'D' },
		{ "sndbuf", required_argument, NULL, OPT_SNDBUF },
		{ "rcvbuf", required_argument, NULL, OPT_RCVBUF },
		{ "congestion", required_argument, NULL, 'C' },
		{ "threads", required_argument, NULL, 'T' },
		{ "cpu", required_argument, NULL, 'a' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *host = NULL, *family = "linux", *sfamily = "linux";
	bool server = false;
	unsigned int i;
	int opt;

	while ((opt = getopt_long(argc, argv,
				  "sc:m:f:S:p:P:B:n:l:r:M:d:VE:L:t:N:DC:T:a:vh",
				  longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			server = true;
			break;
		case 'c':
			host = optarg;
			break;
		case 'm':
			for (i = 0; i < NR_MODES; i++)
				if (!strcmp(optarg, mode_names[i]))
					break;
			if (i == NR_MODES)
				print_usage(2);
			cfg.mode = i;
			break;
		case 'f':
			family = optarg;
			break;
		case 'S':
			sfamily = optarg;
			break;
		case 'p':
			cfg.port = parse_num(optarg, 1, 65535, "port");
			break;
		case 'P':
			cfg.ctl_port = parse_num(optarg, 1, 65535, "port");
			break;
		case 'B':
			if (inet_pton(AF_INET, optarg, &server_addr) != 1)
				die("bad address %s", optarg);
			break;
		case 'n':
			cfg.flows = parse_num(optarg, 1, MAX_FLOWS, "flows");
			break;
		case 'l':
			cfg.length = parse_num(optarg, 1, 3600, "length");
			break;
		case 'r':
			cfg.size = parse_num(optarg, 1, MAX_SIZE, "size");
			break;
		case 'M':
			cfg.stream_bytes = parse_num(optarg, 1, 1 << 20, "MB") *
					   MB;
			break;
		case 'd':
			if (!strcmp(optarg, "up"))
				cfg.dir = STREAM_UP;
			else if (!strcmp(optarg, "down"))
				cfg.dir = STREAM_DOWN;
			else
				print_usage(2);
			break;
		case 'V':
			cfg.check = false;
			break;
		case 'E':
			if (sscanf(optarg, "%u-%u", &cfg.range_low,
				   &cfg.range_high) != 2 ||
			    cfg.range_low < 1024 ||
			    cfg.range_high < cfg.range_low ||
			    cfg.range_high > 65535)
				die("bad range %s (LOW-HIGH within 1024-65535)",
				    optarg);
			break;
		case 'L':
			cfg.fill = parse_num(optarg, 0, 100, "fill");
			break;
		case 't':
			cfg.timed = parse_num(optarg, 0, 65535, "timed");
			break;
		case 'N':
			cfg.objects = parse_num(optarg, 1, 60000, "objects");
			break;
		case 'D':
			cfg.opts.nodelay = true;
			break;
		case OPT_SNDBUF:
			cfg.opts.sndbuf = parse_num(optarg, 1, INT_MAX,
						    "sndbuf");
			break;
		case OPT_RCVBUF:
			cfg.opts.rcvbuf = parse_num(optarg, 1, INT_MAX,
						    "rcvbuf");
			break;
		case 'C':
			snprintf(cfg.opts.cc, sizeof(cfg.opts.cc), "%s",
				 optarg);
			break;
		case 'T':
			server_threads = parse_num(optarg, 1, MAX_WORKERS,
						   "threads");
			break;
		case 'a':
			cfg.cpu = parse_num(optarg, 0, CPU_SETSIZE - 1, "cpu");
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			print_usage(0);
			break;
		default:
			print_usage(2);
		}
	}
	if (optind != argc || server == !!host)
		print_usage(2);

	xtcp_family = get_xtcp_family();
	if (server)
		return server_main(cfg.ctl_port);

	if (cfg.mode == NR_MODES)
		print_usage(2);
	cfg.family = parse_family(family);
	cfg.server_family = parse_family(sfamily);
	if (cfg.family < 0 || cfg.server_family < 0)
		print_usage(2);
	if ((is_xtcp(cfg.family) || is_xtcp(cfg.server_family)) &&
	    xtcp_family < 0)
		die("xtcp is not loaded (no /sys/module/xtcp): run in scripts/vm-run");
	cfg.dest.sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &cfg.dest.sin_addr) != 1)
		die("bad address %s", host);
	if (cfg.mode == MODE_CONNECT && !cfg.range_low) {
		cfg.range_low = 40000;
		cfg.range_high = 44095;
	}
	if ((cfg.mode == MODE_CONNECT || cfg.mode == MODE_MEM) &&
	    cfg.port == 65535)
		die("connect and mem need two ports from -p");

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	atexit(restore_sysctls);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (cfg.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cfg.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			die("cannot pin to CPU %d: %s", cfg.cpu, strerror(errno));
	}
	/* Before the ranges change: Linux may have no port left for it. */
	ctl_connect();
	print_header();
	set_client_range();
	if (!is_xtcp(cfg.family) &&
	    (cfg.mode == MODE_CC || cfg.mode == MODE_CRR ||
	     cfg.mode == MODE_MEM)) {
		char val[32];

		if (!read_file(TW_BUCKETS_SYSCTL, val, sizeof(val)) &&
		    atol(val) < TW_BUCKETS) {
			snprintf(val, sizeof(val), "%d", TW_BUCKETS);
			set_sysctl(TW_BUCKETS_SYSCTL, val);
		}
	}

	switch (cfg.mode) {
	case MODE_CONNECT:
		run_connect();
		break;
	case MODE_MEM:
		run_mem();
		break;
	default:
		run_flow_mode();
	}
	close(ctl_fd);
	return failed ? 1 : 0;
}
