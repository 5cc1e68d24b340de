// SPDX-License-Identifier: GPL-2.0
/*
 * bench-stream: bulk throughput of one connection for a Linux TCP client
 * (AF_INET) and an xtcp client (AF_XTCP), side by side in one run, both
 * against the same Linux TCP server.
 *
 *   bench-stream [-m MB] [-l MB] [-r RUNS] [-p PORT] [-N CMD] [-L LABEL]
 *                [-V] -s NETNS DEST
 *
 *   -m  MB per upload and per download (default 64; MB = 2^20 bytes)
 *   -l  MB per lossy upload (default 8)
 *   -r  runs of each measurement (default 3; the median is shown)
 *   -p  server port (default 8080)
 *   -N  shell command (sh -c) that makes the path lossy, run once after
 *       the clean measurements; without it the lossy upload is skipped
 *   -L  what -N does, for the table (default "netem")
 *   -V  check byte counts only, not the content
 *   -s  the server's network namespace, a file such as /var/run/netns/B
 *
 * Run it as root in the client's namespace; scripts/bench-stream builds
 * the two namespaces and runs it (make bench).
 *
 * How: a forked child joins NETNS (setns) and serves Linux TCP on
 * DEST:PORT, one connection at a time. A client opens with a 16-byte
 * request (magic, upload or download, byte count, host byte order: both
 * ends run on one machine):
 *
 *   upload    the client sends the bytes and shutdown(SHUT_WR)s; the
 *             server reads and discards until EOF and replies with the
 *             count it read and the offset of the first wrong byte (or
 *             ~0), then closes. Timed from just before the client's first
 *             send() (the request) to the reply's arrival.
 *   download  the server sends the bytes and closes. Timed at the client
 *             from just before connect() to EOF.
 *
 * The stream's content is a pattern known to both ends: 64-bit word i
 * (of the whole stream) is (i + 1) * 0x9e3779b97f4a7c15, so a byte lost,
 * duplicated or out of place changes what follows. The sender writes it
 * (one add per word), the receiver compares every byte (one compare per
 * word) as it reads, and the count must match exactly. Both cost CPU
 * inside the timed interval, the same for both stacks; -V leaves the
 * comparison out.
 *
 * Each measurement runs RUNS times, the stacks alternating (Linux, xtcp,
 * Linux, ...) so that drift in a shared machine hits both alike; one
 * untimed 1 MB upload per stack warms up first. Throughput is MB / s.
 * Around every run the client's namespace counters are read and the
 * deltas shown (median over the runs): retransmitted segments, loss
 * recoveries entered and retransmission timeouts, as xtcp's RetransSegs,
 * FastRetrans and Timeouts (/proc/net/xtcp_stat) and Linux's Tcp
 * RetransSegs (/proc/net/snmp) and TcpExt TCPSackRecovery +
 * TCPRenoRecovery and TCPTimeouts (/proc/net/netstat). Nothing else uses
 * TCP in that namespace.
 *
 * Sockets keep their default buffer sizes. Over veth, Linux's TCP hands
 * the device GSO packets of up to 64 KB where xtcp sends one segment per
 * packet: the clean uploads compare that too. Every socket has
 * SO_SNDTIMEO and SO_RCVTIMEO of 30 s, and a send() or recv() blocked
 * that long fails the run, so a stalled transfer cannot hang. A failed
 * run (an error, a timeout, a wrong count or content) marks its cell in
 * the table and makes the exit status 1; setup failures exit with 1 too.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/xtcp.h>

#define MB		(1024 * 1024ULL)
#define MAX_RUNS	15
#define IO_TIMEOUT	30		/* seconds, SO_SNDTIMEO and SO_RCVTIMEO */
#define CHUNK		(128 * 1024)	/* bytes per send() and recv() */
#define WARMUP_BYTES	MB
#define REQ_MAGIC	0x58545342U	/* "XTSB" */
#define REQ_NOCHECK	0x100U		/* with the mode: do not compare */
#define PATTERN_K	0x9e3779b97f4a7c15ULL
#define NO_BAD		UINT64_MAX
#define XTCP_STAT	"/proc/net/xtcp_stat"

enum { STACK_LINUX, STACK_XTCP, NR_STACKS };
enum { MODE_UPLOAD = 1, MODE_DOWNLOAD = 2 };
enum { TEST_UPLOAD, TEST_DOWNLOAD, TEST_LOSSY, NR_TESTS };

struct request {
	uint32_t magic;
	uint32_t mode;
	uint64_t bytes;
};

struct reply {
	uint64_t bytes;		/* read until EOF */
	uint64_t bad;		/* offset of the first wrong byte, or NO_BAD */
};

/* Per run: retransmitted segments, recoveries, timeouts. */
enum { CNT_RETRANS, CNT_RECOVERIES, CNT_RTOS, NR_COUNTERS };

struct counters {
	unsigned long long v[NR_COUNTERS];
};

struct cell {
	unsigned int runs, ok;
	double mbps[MAX_RUNS];
	struct counters delta[MAX_RUNS];
	char why[80];		/* the first failure */
};

static struct sockaddr_in dest;
static unsigned int server_port = 8080, nr_runs = 3;
static unsigned long long test_bytes = 64 * MB, lossy_bytes = 8 * MB;
static const char *lossy_cmd, *lossy_label = "netem";
static bool check_content = true;
static int xtcp_family = AF_XTCP;
static unsigned char *iobuf;

static const char *const test_names[NR_TESTS] = {
	"upload", "download", "upload+netem"
};

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("bench-stream: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int get_xtcp_family(void)
{
	FILE *f = fopen("/sys/module/xtcp/parameters/family", "r");
	int fam;

	if (!f)
		die("xtcp is not loaded (no /sys/module/xtcp): run in scripts/vm-run");
	if (fscanf(f, "%d", &fam) != 1)
		die("cannot read /sys/module/xtcp/parameters/family");
	fclose(f);
	return fam;
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

/* Send @bytes of the pattern from offset 0. */
static int send_pattern(int fd, uint64_t bytes)
{
	uint64_t off;
	size_t len;
	int err;

	for (off = 0; off < bytes; off += len) {
		len = bytes - off < CHUNK ? bytes - off : CHUNK;
		pattern_fill(iobuf, len, off);
		err = send_all(fd, iobuf, len);
		if (err)
			return err;
	}
	return 0;
}

/* Read to EOF: the count, and the first wrong byte if @check. */
static int recv_pattern(int fd, bool check, uint64_t *bytes, uint64_t *bad)
{
	ssize_t n;

	*bytes = 0;
	*bad = NO_BAD;
	for (;;) {
		n = recv(fd, iobuf, CHUNK, 0);
		if (!n)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		if (check && *bad == NO_BAD)
			*bad = pattern_check(iobuf, n, *bytes);
		*bytes += n;
	}
}

/* ---- the server, in its own namespace ---- */

static void server_log(const char *what, int err)
{
	fprintf(stderr, "bench-stream: server: %s: %s\n", what, strerror(-err));
}

static void serve(int fd)
{
	struct request req;
	struct reply rep;
	bool check;
	int err;

	err = set_timeouts(fd);
	if (!err)
		err = recv_all(fd, &req, sizeof(req));
	if (err) {
		server_log("request", err);
		return;
	}
	check = !(req.mode & REQ_NOCHECK);
	if (req.magic != REQ_MAGIC) {
		fprintf(stderr, "bench-stream: server: bad request\n");
		return;
	}
	switch (req.mode & ~REQ_NOCHECK) {
	case MODE_UPLOAD:
		err = recv_pattern(fd, check, &rep.bytes, &rep.bad);
		if (err) {
			server_log("upload: recv", err);
			return;
		}
		err = send_all(fd, &rep, sizeof(rep));
		if (err)
			server_log("upload: reply", err);
		break;
	case MODE_DOWNLOAD:
		err = send_pattern(fd, req.bytes);
		if (err)
			server_log("download: send", err);
		break;
	default:
		fprintf(stderr, "bench-stream: server: bad mode %u\n", req.mode);
	}
}

static void server_main(const char *netns, int ready)
{
	struct sockaddr_in addr = dest;
	int nsfd, lfd, fd, one = 1;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	nsfd = open(netns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || setns(nsfd, CLONE_NEWNET))
		die("server: cannot join %s: %s", netns, strerror(errno));
	close(nsfd);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("server: socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	addr.sin_port = htons(server_port);
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(lfd, 16))
		die("server: bind/listen %s:%u: %s", inet_ntoa(addr.sin_addr),
		    server_port, strerror(errno));
	if (write(ready, "1", 1) != 1)
		die("server: cannot report ready: %s", strerror(errno));
	close(ready);

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				server_log("accept", -errno);
			continue;
		}
		serve(fd);
		close(fd);
	}
}

static pid_t start_server(const char *netns)
{
	int pipefd[2];
	pid_t pid;
	char c;

	if (pipe2(pipefd, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		close(pipefd[0]);
		server_main(netns, pipefd[1]);
		_exit(1);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &c, 1) != 1)
		die("the server did not start");
	close(pipefd[0]);
	return pid;
}

/* ---- counters of the client's namespace ---- */

/* "Name value" lines (/proc/net/xtcp_stat). */
static unsigned long long stat_value(const char *path, const char *want)
{
	unsigned long long val, found = 0;
	char name[64];
	FILE *f = fopen(path, "r");

	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
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
		die("cannot open %s: %s", path, strerror(errno));
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

static void read_counters(int stack, struct counters *c)
{
	if (stack == STACK_XTCP) {
		c->v[CNT_RETRANS] = stat_value(XTCP_STAT, "RetransSegs");
		c->v[CNT_RECOVERIES] = stat_value(XTCP_STAT, "FastRetrans");
		c->v[CNT_RTOS] = stat_value(XTCP_STAT, "Timeouts");
		return;
	}
	c->v[CNT_RETRANS] = snmp_value("/proc/net/snmp", "Tcp:",
				       "RetransSegs");
	c->v[CNT_RECOVERIES] = snmp_value("/proc/net/netstat", "TcpExt:",
					  "TCPSackRecovery") +
			       snmp_value("/proc/net/netstat", "TcpExt:",
					  "TCPRenoRecovery");
	c->v[CNT_RTOS] = snmp_value("/proc/net/netstat", "TcpExt:",
				    "TCPTimeouts");
}

/* ---- the client ---- */

static const char *stack_name(int stack)
{
	return stack == STACK_LINUX ? "Linux TCP" : "xtcp";
}

static int client_socket(int stack, int *fd)
{
	int err;

	*fd = socket(stack == STACK_LINUX ? AF_INET : xtcp_family,
		     SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return -errno;
	err = set_timeouts(*fd);
	if (err)
		close(*fd);
	return err;
}

static int client_connect(int fd)
{
	struct sockaddr_in addr = dest;

	addr.sin_port = htons(server_port);
	if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		return 0;
	return errno == EINPROGRESS || errno == EAGAIN ? -ETIMEDOUT : -errno;
}

static void fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* One upload of @bytes; the seconds, or a negative value and @why. */
static double upload(int stack, uint64_t bytes, char *why, size_t len)
{
	struct request req = { REQ_MAGIC, MODE_UPLOAD, bytes };
	struct reply rep;
	double t0, t1 = -1;
	int fd, err;
	char c;

	if (!check_content)
		req.mode |= REQ_NOCHECK;
	err = client_socket(stack, &fd);
	if (err) {
		fail(why, len, "socket: %s", strerror(-err));
		return -1;
	}
	err = client_connect(fd);
	if (err) {
		fail(why, len, "connect: %s", strerror(-err));
		goto out;
	}
	t0 = now_s();
	err = send_all(fd, &req, sizeof(req));
	if (!err)
		err = send_pattern(fd, bytes);
	if (err) {
		fail(why, len, "send: %s", strerror(-err));
		goto out;
	}
	if (shutdown(fd, SHUT_WR)) {
		fail(why, len, "shutdown: %s", strerror(errno));
		goto out;
	}
	err = recv_all(fd, &rep, sizeof(rep));
	if (err) {
		fail(why, len, "reply: %s", strerror(-err));
		goto out;
	}
	t1 = now_s() - t0;
	if (rep.bytes != bytes) {
		fail(why, len, "server read %llu bytes",
		     (unsigned long long)rep.bytes);
		t1 = -1;
	} else if (rep.bad != NO_BAD) {
		fail(why, len, "bad byte at %llu",
		     (unsigned long long)rep.bad);
		t1 = -1;
	} else if (recv(fd, &c, 1, 0) != 0) {
		fail(why, len, "no EOF after the reply");
		t1 = -1;
	}
out:
	close(fd);
	return t1;
}

/* One download of @bytes; the seconds, or a negative value and @why. */
static double download(int stack, uint64_t bytes, char *why, size_t len)
{
	struct request req = { REQ_MAGIC, MODE_DOWNLOAD, bytes };
	uint64_t got, bad;
	double t0, t1 = -1;
	int fd, err;

	err = client_socket(stack, &fd);
	if (err) {
		fail(why, len, "socket: %s", strerror(-err));
		return -1;
	}
	t0 = now_s();
	err = client_connect(fd);
	if (err) {
		fail(why, len, "connect: %s", strerror(-err));
		goto out;
	}
	err = send_all(fd, &req, sizeof(req));
	if (err) {
		fail(why, len, "request: %s", strerror(-err));
		goto out;
	}
	err = recv_pattern(fd, check_content, &got, &bad);
	if (err) {
		fail(why, len, "recv after %llu: %s",
		     (unsigned long long)got, strerror(-err));
		goto out;
	}
	t1 = now_s() - t0;
	if (got != bytes) {
		fail(why, len, "received %llu bytes", (unsigned long long)got);
		t1 = -1;
	} else if (bad != NO_BAD) {
		fail(why, len, "bad byte at %llu", (unsigned long long)bad);
		t1 = -1;
	}
out:
	close(fd);
	return t1;
}

static void measure(int test, int stack, struct cell *cell)
{
	uint64_t bytes = test == TEST_LOSSY ? lossy_bytes : test_bytes;
	struct counters c0, c1;
	unsigned int i = cell->runs++, k;
	char why[sizeof(cell->why) - 16];
	double secs;

	read_counters(stack, &c0);
	if (test == TEST_DOWNLOAD)
		secs = download(stack, bytes, why, sizeof(why));
	else
		secs = upload(stack, bytes, why, sizeof(why));
	read_counters(stack, &c1);
	if (secs <= 0) {
		if (!cell->why[0])
			snprintf(cell->why, sizeof(cell->why), "run %u: %s",
				 i + 1, why);
		fprintf(stderr, "bench-stream: %s, %s, run %u: %s\n",
			test_names[test], stack_name(stack), i + 1, why);
		printf(" %s failed", stack_name(stack));
		return;
	}
	cell->mbps[cell->ok] = bytes / (double)MB / secs;
	for (k = 0; k < NR_COUNTERS; k++)
		cell->delta[cell->ok].v[k] = c1.v[k] - c0.v[k];
	printf(" %s %.1f", stack_name(stack), cell->mbps[cell->ok]);
	cell->ok++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The median of one counter over the successful runs. */
static double counter_median(const struct cell *cell, int counter)
{
	double v[MAX_RUNS];
	unsigned int i;

	for (i = 0; i < cell->ok; i++)
		v[i] = cell->delta[i].v[counter];
	return median(v, cell->ok);
}

static bool cell_ok(const struct cell *cell)
{
	return cell->runs && cell->ok == cell->runs;
}

static void print_cell(const struct cell *cell)
{
	double mbps[MAX_RUNS];

	if (!cell_ok(cell)) {
		printf(" | %-26s", "FAILED (see below)");
		return;
	}
	memcpy(mbps, cell->mbps, sizeof(mbps));
	printf(" | %7.1f %6.0f %5.0f %5.0f", median(mbps, cell->ok),
	       counter_median(cell, CNT_RETRANS),
	       counter_median(cell, CNT_RECOVERIES),
	       counter_median(cell, CNT_RTOS));
}

static void print_table(struct cell res[][NR_STACKS])
{
	double l[MAX_RUNS], x[MAX_RUNS];
	unsigned int t, s, i;

	printf("\n%-12s %4s | %-26s | %-26s |\n", "", "",
	       "Linux TCP (AF_INET)", "xtcp (AF_XTCP)");
	printf("%-12s %4s | %7s %6s %5s %5s | %7s %6s %5s %5s | %s\n",
	       "test", "MB", "MB/s", "retr", "rec", "rto", "MB/s", "retr",
	       "rec", "rto", "xtcp/Linux");
	for (t = 0; t < NR_TESTS; t++) {
		if (!res[t][STACK_LINUX].runs)
			continue;
		printf("%-12s %4llu", test_names[t],
		       (t == TEST_LOSSY ? lossy_bytes : test_bytes) / MB);
		for (s = 0; s < NR_STACKS; s++)
			print_cell(&res[t][s]);
		if (cell_ok(&res[t][STACK_LINUX]) &&
		    cell_ok(&res[t][STACK_XTCP])) {
			memcpy(l, res[t][STACK_LINUX].mbps, sizeof(l));
			memcpy(x, res[t][STACK_XTCP].mbps, sizeof(x));
			printf(" | %10.2f",
			       median(x, res[t][STACK_XTCP].ok) /
			       median(l, res[t][STACK_LINUX].ok));
		} else {
			printf(" | %10s", "-");
		}
		printf("\n");
	}
	for (t = 0; t < NR_TESTS; t++)
		for (s = 0; s < NR_STACKS; s++)
			if (res[t][s].runs && !cell_ok(&res[t][s]))
				printf("FAILED: %s, %s, %s\n", test_names[t],
				       stack_name(s), res[t][s].why);
	printf("\nper run, MB/s (Linux / xtcp):\n");
	for (t = 0; t < NR_TESTS; t++) {
		if (!res[t][STACK_LINUX].runs)
			continue;
		printf("  %-12s", test_names[t]);
		for (s = 0; s < NR_STACKS; s++) {
			printf("%s", s ? "  /" : "");
			for (i = 0; i < res[t][s].ok; i++)
				printf(" %.1f", res[t][s].mbps[i]);
			if (res[t][s].ok < res[t][s].runs)
				printf(" (%u failed)",
				       res[t][s].runs - res[t][s].ok);
		}
		printf("\n");
	}
}

static void run_test(int test, struct cell res[][NR_STACKS])
{
	uint64_t bytes = test == TEST_LOSSY ? lossy_bytes : test_bytes;
	unsigned int r;
	int stack;

	for (r = 0; r < nr_runs; r++) {
		printf("%s %llu MB, run %u/%u, MB/s:", test_names[test],
		       (unsigned long long)(bytes / MB), r + 1, nr_runs);
		for (stack = 0; stack < NR_STACKS; stack++)
			measure(test, stack, &res[test][stack]);
		printf("\n");
	}
}

static unsigned long long parse_mb(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*end || !v || v > 1024 * 1024)
		die("bad size %s (MB, 1..1048576)", s);
	return v * MB;
}

static void print_usage(const char *prog)
{
	fprintf(stderr, "usage: %s %s\n", prog,
		"[-m MB] [-l MB] [-r RUNS] [-p PORT] [-N CMD] [-L LABEL] [-V] -s NETNS DEST");
	exit(2);
}

int main(int argc, char **argv)
{
	struct cell res[NR_TESTS][NR_STACKS];
	const char *netns = NULL;
	char why[64];
	struct utsname u;
	int opt, stack, failed = 0, t, s;
	pid_t server;

	while ((opt = getopt(argc, argv, "m:l:r:p:N:L:Vs:")) != -1) {
		switch (opt) {
		case 'm':
			test_bytes = parse_mb(optarg);
			break;
		case 'l':
			lossy_bytes = parse_mb(optarg);
			break;
		case 'r':
			nr_runs = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			server_port = strtoul(optarg, NULL, 0);
			break;
		case 'N':
			lossy_cmd = optarg;
			break;
		case 'L':
			lossy_label = optarg;
			break;
		case 'V':
			check_content = false;
			break;
		case 's':
			netns = optarg;
			break;
		default:
			print_usage(argv[0]);
		}
	}
	if (argc - optind != 1 || !netns)
		print_usage(argv[0]);
	dest.sin_family = AF_INET;
	if (inet_pton(AF_INET, argv[optind], &dest.sin_addr) != 1)
		die("bad address %s", argv[optind]);
	if (nr_runs < 1 || nr_runs > MAX_RUNS)
		die("runs must be 1..%d", MAX_RUNS);
	if (server_port < 1 || server_port > 65535)
		die("bad server port %u", server_port);

	xtcp_family = get_xtcp_family();
	iobuf = aligned_alloc(4096, CHUNK);
	if (!iobuf)
		die("out of memory");
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	server = start_server(netns);

	uname(&u);
	printf("bench-stream: bulk transfer over one connection, Linux TCP server\n");
	printf("kernel %s %s, server %s:%u, AF_XTCP=%d, %u runs each (median shown), content %s\n",
	       u.release, u.machine, inet_ntoa(dest.sin_addr), server_port,
	       xtcp_family, nr_runs, check_content ? "checked" : "not checked");

	for (stack = 0; stack < NR_STACKS; stack++)
		if (upload(stack, WARMUP_BYTES, why, sizeof(why)) < 0)
			fprintf(stderr, "bench-stream: %s: warm-up: %s\n",
				stack_name(stack), why);

	memset(res, 0, sizeof(res));
	run_test(TEST_UPLOAD, res);
	run_test(TEST_DOWNLOAD, res);
	if (lossy_cmd) {
		printf("%s: %s\n", lossy_label, lossy_cmd);
		fflush(stdout);
		if (system(lossy_cmd)) {
			fprintf(stderr, "bench-stream: the lossy setup failed: %s\n",
				lossy_cmd);
			for (s = 0; s < NR_STACKS; s++) {
				res[TEST_LOSSY][s].runs = 1;
				snprintf(res[TEST_LOSSY][s].why,
					 sizeof(res[TEST_LOSSY][s].why),
					 "setup failed");
			}
		} else {
			run_test(TEST_LOSSY, res);
		}
	}

	kill(server, SIGTERM);
	waitpid(server, NULL, 0);

	print_table(res);
	printf("MB = 2^20 bytes. upload: first send() to the server's reply; download: connect()\n"
	       "to EOF. retr, rec, rto: the client's retransmitted segments, loss recoveries\n"
	       "and retransmission timeouts per run (medians).\n");
	if (lossy_cmd)
		printf("upload+netem: %s.\n", lossy_label);
	for (t = 0; t < NR_TESTS; t++)
		for (s = 0; s < NR_STACKS; s++)
			if (res[t][s].runs && !cell_ok(&res[t][s]))
				failed = 1;
	return failed;
}
