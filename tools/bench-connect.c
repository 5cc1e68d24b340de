// SPDX-License-Identifier: GPL-2.0
/*
 * bench-connect: what one connect() costs as the ephemeral port range
 * fills toward a single destination, for Linux's TCP (AF_INET) and for
 * xtcp (AF_XTCP), side by side in one run.
 *
 *   bench-connect [-n N] [-m M] [-l LEVELS] [-P LOW] [-p PORT] -s NETNS DEST
 *
 *   -n  size of the ephemeral range, LOW..LOW+N-1 (default 4096)
 *   -m  connects timed per level (default 32; capped to the ports left)
 *   -l  fill levels in percent of N, comma separated (default 0,50,90,99)
 *   -P  first port of the range (default 40000)
 *   -p  first server port (default 8080)
 *   -s  the server's network namespace, a file such as /var/run/netns/B
 *
 * Run it as root in the client's namespace; scripts/bench-connect builds
 * the two namespaces and runs it (make bench).
 *
 * How: a forked child joins NETNS (setns) and serves Linux TCP on
 * DEST:PORT, PORT+1, ... with epoll: it accepts as fast as connections
 * come, holds them open, and closes its end when the client's FIN or RST
 * arrives (read() returns 0 or an error). Its accept queues are sized
 * for every connection of a run (listen backlog and net.core.somaxconn
 * in NETNS), so connects never stall on a full queue.
 *
 * For each level, Linux's TCP then xtcp: the range is set (below), fill
 * connections (LEVEL% of N) are opened to DEST and kept open, then M
 * more, each timed with CLOCK_MONOTONIC around connect() alone (socket
 * creation excluded; a blocking connect() includes the handshake's round
 * trip). Before the timed ones the server must have accepted all of the
 * fill, so that it is idle. For xtcp, ConnectPortsScanned and
 * ConnectMapWords are read from /proc/net/xtcp_stat around each timed
 * connect (outside the timed interval). Then everything is closed.
 *
 * Runs do not interfere: each (level, stack) pair connects to its own
 * server port, so the 4-tuples, Linux's bind buckets and xtcp's port map
 * (one per destination port) of a run start empty. Linux's sockets are
 * closed with SO_LINGER {1, 0}: a RST, so no TIME_WAIT is left behind.
 * xtcp's are just closed: the FIN goes out, the server's FIN answers it
 * and the connection ends, or sits in TIME_WAIT where xtcp has it (60 s,
 * keeping its 4-tuple and its bit in that server port's map only, which
 * no later run uses). Before the next run the server must have accepted
 * and closed every connection. One connect and close per stack to a
 * spare server port first warms the neighbour entry.
 *
 * Ranges: xtcp reserves its own range from Linux's automatic choice
 * (net.ipv4.ip_local_reserved_ports), so the two cannot hold the same
 * range at once. Linux's runs set net.ipv4.ip_local_port_range to
 * LOW..LOW+N-1 with net.xtcp.ip_local_port_range at its original value
 * (61000-65535 by default; it must not overlap); xtcp's runs set
 * net.xtcp.ip_local_port_range to LOW..LOW+N-1. Both are restored at the
 * end. Every connect has SO_SNDTIMEO 5 s; a failed connect ends that run
 * and makes the exit status 1. Setup failures exit with 1 too.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/xtcp.h>

#define MAX_LEVELS	16
#define CONNECT_TIMEOUT	5	/* seconds, SO_SNDTIMEO */
#define ACCEPT_WAIT	60	/* seconds for the server to catch up */
#define SETTLE_WAIT	60	/* seconds for the server to close all */
#define XTCP_STAT	"/proc/net/xtcp_stat"
#define LINUX_RANGE	"/proc/sys/net/ipv4/ip_local_port_range"
#define XTCP_RANGE	"/proc/sys/net/xtcp/ip_local_port_range"
#define SOMAXCONN_SYSCTL	"/proc/sys/net/core/somaxconn"

enum { STACK_LINUX, STACK_XTCP, NR_STACKS };

/* Shared with the server child (MAP_SHARED), updated atomically. */
struct server_counts {
	unsigned long accepted;	/* connections accepted so far */
	long open;		/* accepted and not yet closed */
	unsigned long failures;	/* accept() errors other than EAGAIN */
};

struct run_result {
	bool done;		/* ran to the end */
	int err;		/* errno of the failed connect, if not done */
	unsigned int fill;	/* connections open before the timed ones */
	unsigned int timed;	/* connects timed */
	double fill_s;		/* seconds spent opening the fill */
	double mean, median, max;	/* microseconds */
	double ports, words;	/* xtcp: counters per timed connect */
};

static struct server_counts *srv;
static struct sockaddr_in dest;
static unsigned int range_n = 4096, range_low = 40000, timed_m = 32;
static unsigned int server_port = 8080;
static unsigned int levels[MAX_LEVELS] = { 0, 50, 90, 99 };
static unsigned int nr_levels = 4;
static int xtcp_family = AF_XTCP;
static int *fds;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("bench-connect: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_file(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int err;

	if (!f)
		return -1;
	fputs(val, f);
	err = fclose(f);
	return err ? -1 : 0;
}

static void set_range(const char *path, unsigned int low, unsigned int high)
{
	char val[32];

	snprintf(val, sizeof(val), "%u %u", low, high);
	if (write_file(path, val))
		die("cannot write \"%s\" to %s: %s", val, path, strerror(errno));
}

static int get_xtcp_family(void)
{
	char buf[32];

	if (read_file("/sys/module/xtcp/parameters/family", buf, sizeof(buf)))
		die("xtcp is not loaded (no /sys/module/xtcp): run in scripts/vm-run");
	return atoi(buf);
}

static void read_xtcp_stat(unsigned long *ports, unsigned long *words)
{
	char name[64];
	unsigned long val;
	FILE *f = fopen(XTCP_STAT, "r");

	*ports = 0;
	*words = 0;
	if (!f)
		die("cannot open %s: %s", XTCP_STAT, strerror(errno));
	while (fscanf(f, "%63s %lu", name, &val) == 2) {
		if (!strcmp(name, "ConnectPortsScanned"))
			*ports = val;
		else if (!strcmp(name, "ConnectMapWords"))
			*words = val;
	}
	fclose(f);
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

/* ---- the server, in its own namespace ---- */

#define LISTENER	0x100000000ULL	/* in epoll data: a listening socket */

static void server_close(int epfd, int fd)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	__atomic_sub_fetch(&srv->open, 1, __ATOMIC_SEQ_CST);
}

static void server_accept(int epfd, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	int fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED) {
				__atomic_add_fetch(&srv->failures, 1,
						   __ATOMIC_SEQ_CST);
				fprintf(stderr, "bench-connect: server: accept: %s\n",
					strerror(errno));
			}
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		ev.data.u64 = (unsigned int)fd;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)) {
			fprintf(stderr, "bench-connect: server: epoll_ctl: %s\n",
				strerror(errno));
			close(fd);
			continue;
		}
		__atomic_add_fetch(&srv->open, 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&srv->accepted, 1, __ATOMIC_SEQ_CST);
	}
}

static void server_main(const char *netns, unsigned int nports,
			int backlog, int ready)
{
	struct epoll_event evs[256], ev = { .events = EPOLLIN };
	struct sockaddr_in addr = dest;
	char val[16], buf[64];
	unsigned int i;
	int nsfd, epfd, fd, n, one = 1;
	ssize_t len;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	nsfd = open(netns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || setns(nsfd, CLONE_NEWNET))
		die("server: cannot join %s: %s", netns, strerror(errno));
	close(nsfd);
	/* Accept queue length is min(backlog, somaxconn). */
	snprintf(val, sizeof(val), "%d", backlog);
	if (write_file(SOMAXCONN_SYSCTL, val))
		die("server: cannot set %s: %s", SOMAXCONN_SYSCTL, strerror(errno));

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("server: epoll_create1: %s", strerror(errno));
	for (i = 0; i < nports; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0);
		if (fd < 0)
			die("server: socket: %s", strerror(errno));
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		addr.sin_port = htons(server_port + i);
		if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
		    listen(fd, backlog))
			die("server: bind/listen %s:%u: %s",
			    inet_ntoa(addr.sin_addr), server_port + i,
			    strerror(errno));
		ev.data.u64 = LISTENER | (unsigned int)fd;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev))
			die("server: epoll_ctl: %s", strerror(errno));
	}
	if (write(ready, "1", 1) != 1)
		die("server: cannot report ready: %s", strerror(errno));
	close(ready);

	for (;;) {
		n = epoll_wait(epfd, evs, 256, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("server: epoll_wait: %s", strerror(errno));
		}
		for (i = 0; i < (unsigned int)n; i++) {
			fd = (int)(evs[i].data.u64 & 0xffffffffU);
			if (evs[i].data.u64 & LISTENER) {
				server_accept(epfd, fd);
				continue;
			}
			/* The client sends nothing: this is its FIN or RST. */
			len = read(fd, buf, sizeof(buf));
			if (!len || (len < 0 && errno != EAGAIN))
				server_close(epfd, fd);
		}
	}
}

static pid_t start_server(const char *netns, unsigned int nports, int backlog)
{
	int pipefd[2];
	pid_t pid;
	char c;

	srv = mmap(NULL, sizeof(*srv), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (srv == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	if (pipe2(pipefd, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		close(pipefd[0]);
		server_main(netns, nports, backlog, pipefd[1]);
		_exit(1);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &c, 1) != 1)
		die("the server did not start");
	close(pipefd[0]);
	return pid;
}

/* Wait until @cond holds (polling every 200 us) or @secs pass. */
static bool wait_for(bool (*cond)(unsigned long), unsigned long arg, int secs)
{
	double end = now_us() + secs * 1e6;

	while (!cond(arg)) {
		if (now_us() > end)
			return false;
		usleep(200);
	}
	return true;
}

static bool accepted_reached(unsigned long target)
{
	return __atomic_load_n(&srv->accepted, __ATOMIC_SEQ_CST) >= target;
}

static bool server_idle(unsigned long unused)
{
	(void)unused;
	return __atomic_load_n(&srv->open, __ATOMIC_SEQ_CST) == 0;
}

/* ---- the client ---- */

static const char *stack_name(int stack)
{
	return stack == STACK_LINUX ? "Linux TCP" : "xtcp";
}

/* A connected socket to DEST:@port, or -errno. @us: connect()'s time. */
static int connect_one(int stack, unsigned int port, double *us)
{
	struct timeval tv = { .tv_sec = CONNECT_TIMEOUT };
	struct sockaddr_in addr = dest;
	double t0, t1;
	int fd, ret, err;

	fd = socket(stack == STACK_LINUX ? AF_INET : xtcp_family,
		    SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
		err = errno;
		close(fd);
		return -err;
	}
	addr.sin_port = htons(port);
	t0 = now_us();
	ret = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	t1 = now_us();
	if (ret) {
		err = errno;
		close(fd);
		return -err;
	}
	if (us)
		*us = t1 - t0;
	return fd;
}

static void close_all(int stack, unsigned int n)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (stack == STACK_LINUX)
			setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg,
				   sizeof(lg));
		close(fds[i]);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void set_ranges(int stack, const char *xtcp_orig)
{
	unsigned int high = range_low + range_n - 1;

	if (stack == STACK_LINUX) {
		if (write_file(XTCP_RANGE, xtcp_orig))
			die("cannot restore %s: %s", XTCP_RANGE,
			    strerror(errno));
		set_range(LINUX_RANGE, range_low, high);
	} else {
		set_range(XTCP_RANGE, range_low, high);
	}
}

static void run(int stack, unsigned int level, unsigned int port,
		struct run_result *r)
{
	unsigned int fill = (unsigned long)range_n * level / 100;
	unsigned int m = timed_m, i, open = 0;
	unsigned long base = __atomic_load_n(&srv->accepted, __ATOMIC_SEQ_CST);
	unsigned long p0, w0, p1, w1, ports = 0, words = 0;
	double t0, us, sum = 0, *samples;
	int fd;

	if (m > range_n - fill)
		m = range_n - fill;
	memset(r, 0, sizeof(*r));
	r->fill = fill;
	r->timed = m;
	samples = calloc(m ? m : 1, sizeof(*samples));
	if (!samples)
		die("out of memory");

	t0 = now_us();
	for (i = 0; i < fill; i++) {
		fd = connect_one(stack, port, NULL);
		if (fd < 0) {
			r->err = -fd;
			fprintf(stderr, "bench-connect: %s %u%%: fill connect %u/%u: %s\n",
				stack_name(stack), level, i + 1, fill,
				strerror(-fd));
			goto out;
		}
		fds[open++] = fd;
	}
	r->fill_s = (now_us() - t0) / 1e6;

	if (!wait_for(accepted_reached, base + fill, ACCEPT_WAIT))
		fprintf(stderr, "bench-connect: %s %u%%: the server accepted %lu of %u in %d s\n",
			stack_name(stack), level,
			__atomic_load_n(&srv->accepted, __ATOMIC_SEQ_CST) - base,
			fill, ACCEPT_WAIT);

	for (i = 0; i < m; i++) {
		if (stack == STACK_XTCP)
			read_xtcp_stat(&p0, &w0);
		fd = connect_one(stack, port, &us);
		if (fd < 0) {
			r->err = -fd;
			fprintf(stderr, "bench-connect: %s %u%%: timed connect %u/%u: %s\n",
				stack_name(stack), level, i + 1, m,
				strerror(-fd));
			goto out;
		}
		fds[open++] = fd;
		if (stack == STACK_XTCP) {
			read_xtcp_stat(&p1, &w1);
			ports += p1 - p0;
			words += w1 - w0;
		}
		samples[i] = us;
		sum += us;
		if (us > r->max)
			r->max = us;
	}
	r->done = true;
	if (m) {
		qsort(samples, m, sizeof(*samples), cmp_double);
		r->mean = sum / m;
		r->median = m % 2 ? samples[m / 2] :
			(samples[m / 2 - 1] + samples[m / 2]) / 2;
		r->ports = (double)ports / m;
		r->words = (double)words / m;
	}
out:
	free(samples);
	close_all(stack, open);
	/* Accepted all (even if already reset), then closed all. */
	if (!wait_for(accepted_reached, base + open, SETTLE_WAIT) ||
	    !wait_for(server_idle, 0, SETTLE_WAIT))
		fprintf(stderr, "bench-connect: %s %u%%: %ld still open at the server after %d s\n",
			stack_name(stack), level,
			__atomic_load_n(&srv->open, __ATOMIC_SEQ_CST),
			SETTLE_WAIT);
}

static void print_cell(const struct run_result *r)
{
	if (!r->done)
		printf(" | %-26s", r->err ? strerror(r->err) : "failed");
	else if (!r->timed)
		printf(" | %8s %8s %8s", "-", "-", "-");
	else
		printf(" | %8.1f %8.1f %8.1f", r->mean, r->median, r->max);
}

static void print_table(struct run_result res[][NR_STACKS])
{
	unsigned int i;

	printf("\n%-4s %6s %5s | %-26s | %-26s | %s\n", "", "", "",
	       "Linux TCP (AF_INET)", "xtcp (AF_XTCP)", "xtcp per connect");
	printf("%-4s %6s %5s | %8s %8s %8s | %8s %8s %8s | %6s %6s\n",
	       "fill", "open", "timed", "mean us", "median", "max",
	       "mean us", "median", "max", "ports", "words");
	for (i = 0; i < nr_levels; i++) {
		const struct run_result *x = &res[i][STACK_XTCP];

		printf("%3u%% %6u %5u", levels[i], res[i][STACK_LINUX].fill,
		       res[i][STACK_LINUX].timed);
		print_cell(&res[i][STACK_LINUX]);
		print_cell(x);
		if (x->done && x->timed)
			printf(" | %6.2f %6.2f", x->ports, x->words);
		printf("\n");
	}
	printf("\nseconds to open the fill connections (Linux / xtcp):");
	for (i = 0; i < nr_levels; i++)
		printf("%s %u%%: %.2f / %.2f", i ? "," : "", levels[i],
		       res[i][STACK_LINUX].fill_s, res[i][STACK_XTCP].fill_s);
	printf("\n");
}

static void parse_levels(char *s)
{
	char *tok, *end;
	long v;

	nr_levels = 0;
	for (tok = strtok(s, ", "); tok; tok = strtok(NULL, ", ")) {
		v = strtol(tok, &end, 10);
		if (*end || v < 0 || v > 100 || nr_levels == MAX_LEVELS)
			die("bad level list (0..100, at most %d)", MAX_LEVELS);
		levels[nr_levels++] = v;
	}
	if (!nr_levels)
		die("no levels");
}

static void print_usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-n N] [-m M] [-l LEVELS] [-P LOW] [-p PORT] -s NETNS DEST\n",
		prog);
	exit(2);
}

int main(int argc, char **argv)
{
	struct run_result res[MAX_LEVELS][NR_STACKS];
	char linux_orig[64], xtcp_orig[64];
	const char *netns = NULL;
	unsigned int i, nports, xlow, xhigh;
	struct utsname u;
	int opt, stack, backlog, fd, failed = 0;
	pid_t server;

	while ((opt = getopt(argc, argv, "n:m:l:P:p:s:")) != -1) {
		switch (opt) {
		case 'n':
			range_n = strtoul(optarg, NULL, 0);
			break;
		case 'm':
			timed_m = strtoul(optarg, NULL, 0);
			break;
		case 'l':
			parse_levels(optarg);
			break;
		case 'P':
			range_low = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			server_port = strtoul(optarg, NULL, 0);
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
	if (range_n < 1 || range_low < 1024 || range_low + range_n - 1 > 65535)
		die("the range %u..%u is not within 1024..65535", range_low,
		    range_low + range_n - 1);
	nports = 2 * nr_levels + 1;	/* a port per run, one to warm up */
	if (server_port < 1 || server_port + nports - 1 > 65535)
		die("bad server port %u", server_port);

	xtcp_family = get_xtcp_family();
	if (read_file(LINUX_RANGE, linux_orig, sizeof(linux_orig)) ||
	    read_file(XTCP_RANGE, xtcp_orig, sizeof(xtcp_orig)) ||
	    sscanf(xtcp_orig, "%u %u", &xlow, &xhigh) != 2)
		die("cannot read the port ranges: %s", strerror(errno));
	if (xhigh >= range_low && xlow <= range_low + range_n - 1)
		die("net.xtcp.ip_local_port_range (%s) must not overlap %u..%u",
		    xtcp_orig, range_low, range_low + range_n - 1);

	/* Every connection of a run, plus slack, on both sides. */
	backlog = range_n + 64 > 4096 ? range_n + 64 : 4096;
	raise_nofile(range_n + 256);
	fds = calloc(range_n, sizeof(*fds));
	if (!fds)
		die("out of memory");
	setvbuf(stdout, NULL, _IOLBF, 0);
	server = start_server(netns, nports, backlog);

	uname(&u);
	printf("bench-connect: connect() toward one destination as the ephemeral range fills\n");
	printf("kernel %s %s, N=%u (range %u-%u), M=%u, server %s:%u-%u, AF_XTCP=%d\n",
	       u.release, u.machine, range_n, range_low,
	       range_low + range_n - 1, timed_m, inet_ntoa(dest.sin_addr),
	       server_port, server_port + nports - 1, xtcp_family);

	for (stack = 0; stack < NR_STACKS; stack++) {
		set_ranges(stack, xtcp_orig);
		fd = connect_one(stack, server_port + nports - 1, NULL);
		if (fd < 0)
			die("%s: warm-up connect: %s", stack_name(stack),
			    strerror(-fd));
		fds[0] = fd;
		close_all(stack, 1);
	}
	if (!wait_for(accepted_reached, NR_STACKS, ACCEPT_WAIT) ||
	    !wait_for(server_idle, 0, SETTLE_WAIT))
		die("warm-up: the server accepted %lu, has %ld open",
		    __atomic_load_n(&srv->accepted, __ATOMIC_SEQ_CST),
		    __atomic_load_n(&srv->open, __ATOMIC_SEQ_CST));

	for (i = 0; i < nr_levels; i++) {
		for (stack = 0; stack < NR_STACKS; stack++) {
			set_ranges(stack, xtcp_orig);
			run(stack, levels[i], server_port + 2 * i + stack,
			    &res[i][stack]);
			if (!res[i][stack].done)
				failed = 1;
		}
		printf("level %u%% done: Linux %s, xtcp %s\n", levels[i],
		       res[i][STACK_LINUX].done ? "ok" : "failed",
		       res[i][STACK_XTCP].done ? "ok" : "failed");
	}

	if (write_file(XTCP_RANGE, xtcp_orig) ||
	    write_file(LINUX_RANGE, linux_orig))
		fprintf(stderr, "bench-connect: cannot restore the port ranges\n");
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	if (__atomic_load_n(&srv->failures, __ATOMIC_SEQ_CST))
		failed = 1;

	print_table(res);
	printf("us: microseconds per connect(), timed connects only; ports, words: xtcp's\n"
	       "ConnectPortsScanned and ConnectMapWords (/proc/net/xtcp_stat) per timed connect\n");
	return failed;
}
