// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp-ss: the xtcp sockets of a network namespace in the manner of
 * ss -tanei, from /proc/net/xtcp_ss, and xtcp's counters in the manner
 * of nstat -a, from /proc/net/xtcp_stat.
 *
 *   xtcp-ss [-alnteoiH] [-N NETNS] [state STATE]... [exclude STATE]...
 *           [EXPRESSION]
 *   xtcp-ss -s [-z] [-N NETNS] [PATTERN...]
 *
 *   -a  all sockets; without -a or -l, only connections (as ss: no
 *       LISTEN, SYN-RECV, TIME-WAIT or CLOSE)
 *   -l  listening sockets only
 *   -n, -t  accepted; addresses are always numeric, and all are TCP
 *   -e  extended: uid (unless 0), ino, sk (the socket cookie) and the
 *       timer; -o the timer alone
 *   -i  TCP_INFO figures, on a line of their own under each socket
 *   -H  no header line
 *   -N  run in the network namespace NETNS of ip netns (/run/netns/NETNS)
 *   -s  the counters: "#kernel", then name, value and rate (always 0.0)
 *       as nstat -a; only those matching a PATTERN (shell glob) if given,
 *       and only non-zero ones unless -z
 *
 * STATE is one of ss's names: established, syn-sent, syn-recv,
 * fin-wait-1, fin-wait-2, time-wait, closed, close-wait, last-ack,
 * listening, closing, or all, connected, synchronized, bucket, big.
 * EXPRESSION combines sport, dport, src and dst conditions with and
 * (or juxtaposition), or, not and parentheses, as ss's:
 * "sport = :22", "( dport >= :1024 and src 192.0.2.1 )", "dst 192.0.2.2:80".
 * Ports are numbers: service names are not looked up.
 *
 * Exit status: 0, 1 on a read or namespace error, 2 for a bad command
 * line.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SS_FILE		"/proc/net/xtcp_ss"
#define STAT_FILE	"/proc/net/xtcp_stat"
#define MAX_COLS	64
#define MAX_TOKENS	256
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Linux's TCP states (include/net/tcp_states.h), as ss numbers them. */
enum {
	ST_UNKNOWN,
	ST_ESTABLISHED,
	ST_SYN_SENT,
	ST_SYN_RECV,
	ST_FIN_WAIT1,
	ST_FIN_WAIT2,
	ST_TIME_WAIT,
	ST_CLOSE,
	ST_CLOSE_WAIT,
	ST_LAST_ACK,
	ST_LISTEN,
	ST_CLOSING,
	ST_MAX
};

#define ST_ALL		((1U << ST_MAX) - 2)
#define ST_CONN		(ST_ALL & ~((1U << ST_LISTEN) | (1U << ST_CLOSE) | \
				    (1U << ST_TIME_WAIT) | (1U << ST_SYN_RECV)))

/* The kernel's names (/proc/net/xtcp_ss), and ss's. */
static const char *const proc_states[ST_MAX] = {
	[ST_ESTABLISHED]	= "ESTABLISHED",
	[ST_SYN_SENT]		= "SYN_SENT",
	[ST_SYN_RECV]		= "SYN_RECV",
	[ST_FIN_WAIT1]		= "FIN_WAIT1",
	[ST_FIN_WAIT2]		= "FIN_WAIT2",
	[ST_TIME_WAIT]		= "TIME_WAIT",
	[ST_CLOSE]		= "CLOSE",
	[ST_CLOSE_WAIT]		= "CLOSE_WAIT",
	[ST_LAST_ACK]		= "LAST_ACK",
	[ST_LISTEN]		= "LISTEN",
	[ST_CLOSING]		= "CLOSING",
};

static const char *const ss_states[ST_MAX] = {
	[ST_UNKNOWN]		= "UNKNOWN",
	[ST_ESTABLISHED]	= "ESTAB",
	[ST_SYN_SENT]		= "SYN-SENT",
	[ST_SYN_RECV]		= "SYN-RECV",
	[ST_FIN_WAIT1]		= "FIN-WAIT-1",
	[ST_FIN_WAIT2]		= "FIN-WAIT-2",
	[ST_TIME_WAIT]		= "TIME-WAIT",
	[ST_CLOSE]		= "UNCONN",
	[ST_CLOSE_WAIT]		= "CLOSE-WAIT",
	[ST_LAST_ACK]		= "LAST-ACK",
	[ST_LISTEN]		= "LISTEN",
	[ST_CLOSING]		= "CLOSING",
};

/* The names "state" takes, as ss's. */
static const struct {
	const char *name;
	unsigned int mask;
} state_names[] = {
	{ "established",	1U << ST_ESTABLISHED },
	{ "syn-sent",		1U << ST_SYN_SENT },
	{ "syn-recv",		1U << ST_SYN_RECV },
	{ "fin-wait-1",		1U << ST_FIN_WAIT1 },
	{ "fin-wait-2",		1U << ST_FIN_WAIT2 },
	{ "time-wait",		1U << ST_TIME_WAIT },
	{ "closed",		1U << ST_CLOSE },
	{ "close-wait",		1U << ST_CLOSE_WAIT },
	{ "last-ack",		1U << ST_LAST_ACK },
	{ "listening",		1U << ST_LISTEN },
	{ "listen",		1U << ST_LISTEN },
	{ "closing",		1U << ST_CLOSING },
	{ "all",		ST_ALL },
	{ "connected",		ST_ALL & ~((1U << ST_LISTEN) | (1U << ST_CLOSE)) },
	{ "synchronized",	ST_ALL & ~((1U << ST_LISTEN) | (1U << ST_CLOSE) |
					   (1U << ST_SYN_SENT)) },
	{ "bucket",		(1U << ST_SYN_RECV) | (1U << ST_TIME_WAIT) },
	{ "big",		ST_ALL & ~((1U << ST_SYN_RECV) |
					   (1U << ST_TIME_WAIT)) },
};

/* One line of /proc/net/xtcp_ss, split at spaces. */
struct row {
	char *col[MAX_COLS];
	int state;
	unsigned int laddr, raddr;	/* host order */
	unsigned int lport, rport;
};

static char *header[MAX_COLS];
static int ncols;

/* The value of column @name, or "0" if the kernel has no such column. */
static const char *col(const struct row *r, const char *name)
{
	int i;

	for (i = 0; i < ncols; i++)
		if (!strcmp(header[i], name))
			return r->col[i];
	return "0";
}

static unsigned long long num(const struct row *r, const char *name)
{
	return strtoull(col(r, name), NULL, 10);
}

/* "a.b.c.d:port" into host-order address and port. */
static int parse_endpoint(const char *s, unsigned int *addr,
			  unsigned int *port)
{
	char buf[64], *colon;
	struct in_addr in;

	snprintf(buf, sizeof(buf), "%s", s);
	colon = strrchr(buf, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	if (inet_pton(AF_INET, buf, &in) != 1)
		return -1;
	*addr = ntohl(in.s_addr);
	*port = atoi(colon + 1);
	return 0;
}

/* ---- the filter expression ---- */

enum cond_key { K_SPORT, K_DPORT, K_SRC, K_DST };
enum cond_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

struct node {
	char type;		/* '&', '|', '!' or 'c' (a condition) */
	struct node *a, *b;
	enum cond_key key;
	enum cond_op op;
	bool has_addr, has_port;
	unsigned int addr, plen, port;
};

static char *tokens[MAX_TOKENS];
static int ntokens, tpos;

static const char *peek(void)
{
	return tpos < ntokens ? tokens[tpos] : NULL;
}

static bool accept_tok(const char *t)
{
	if (peek() && !strcmp(peek(), t)) {
		tpos++;
		return true;
	}
	return false;
}

static struct node *new_node(char type, struct node *a, struct node *b)
{
	struct node *n = calloc(1, sizeof(*n));

	if (!n) {
		perror("calloc");
		exit(1);
	}
	n->type = type;
	n->a = a;
	n->b = b;
	return n;
}

static const struct {
	const char *name;
	enum cond_op op;
} ops[] = {
	{ "=", OP_EQ }, { "==", OP_EQ }, { "eq", OP_EQ },
	{ "!=", OP_NE }, { "ne", OP_NE }, { "neq", OP_NE },
	{ "<", OP_LT }, { "lt", OP_LT }, { "<=", OP_LE }, { "le", OP_LE },
	{ ">", OP_GT }, { "gt", OP_GT }, { ">=", OP_GE }, { "ge", OP_GE },
};

/*
 * A condition's value: ":PORT" or "PORT" for sport and dport;
 * "ADDR[/LEN][:PORT]" or "*:PORT" for src and dst.
 */
static int parse_port(const char *s, unsigned int *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > 65535)
		return -1;
	*port = v;
	return 0;
}

static int parse_value(struct node *n, const char *v)
{
	char buf[64], *colon, *slash;
	struct in_addr in;

	snprintf(buf, sizeof(buf), "%s", v);
	if (n->key == K_SPORT || n->key == K_DPORT) {
		n->has_port = true;
		return parse_port(buf[0] == ':' ? buf + 1 : buf, &n->port);
	}
	colon = strchr(buf, ':');
	if (colon) {
		*colon = '\0';
		if (strcmp(colon + 1, "*")) {
			n->has_port = true;
			if (parse_port(colon + 1, &n->port))
				return -1;
		}
	}
	if (!buf[0] || !strcmp(buf, "*"))
		return 0;
	n->plen = 32;
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		n->plen = atoi(slash + 1);
		if (n->plen > 32)
			return -1;
	}
	if (inet_pton(AF_INET, buf, &in) != 1)
		return -1;
	n->has_addr = true;
	n->addr = ntohl(in.s_addr);
	return 0;
}

static struct node *parse_or(void);

static struct node *parse_factor(void)
{
	static const char *const keys[] = {
		[K_SPORT] = "sport", [K_DPORT] = "dport",
		[K_SRC] = "src", [K_DST] = "dst",
	};
	struct node *n;
	const char *t;
	size_t i;

	if (accept_tok("not") || accept_tok("!")) {
		n = parse_factor();
		return n ? new_node('!', n, NULL) : NULL;
	}
	if (accept_tok("(")) {
		n = parse_or();
		if (!n || !accept_tok(")"))
			return NULL;
		return n;
	}
	t = peek();
	if (!t)
		return NULL;
	n = new_node('c', NULL, NULL);
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(t, keys[i]))
			break;
	if (i == ARRAY_SIZE(keys)) {
		fprintf(stderr, "xtcp-ss: unknown filter \"%s\"\n", t);
		return NULL;
	}
	n->key = i;
	tpos++;
	n->op = OP_EQ;
	for (i = 0; peek() && i < ARRAY_SIZE(ops); i++)
		if (!strcmp(peek(), ops[i].name)) {
			n->op = ops[i].op;
			tpos++;
			break;
		}
	t = peek();
	if (!t || parse_value(n, t)) {
		fprintf(stderr, "xtcp-ss: bad value for %s\n", keys[n->key]);
		return NULL;
	}
	tpos++;
	return n;
}

static struct node *parse_and(void)
{
	struct node *n = parse_factor(), *m;

	while (n && peek() && strcmp(peek(), ")") && strcmp(peek(), "or") &&
	       strcmp(peek(), "||")) {
		if (!accept_tok("and"))
			accept_tok("&&");
		m = parse_factor();
		if (!m)
			return NULL;
		n = new_node('&', n, m);
	}
	return n;
}

static struct node *parse_or(void)
{
	struct node *n = parse_and(), *m;

	while (n && (accept_tok("or") || accept_tok("||"))) {
		m = parse_and();
		if (!m)
			return NULL;
		n = new_node('|', n, m);
	}
	return n;
}

static bool compare(unsigned int v, enum cond_op op, unsigned int ref)
{
	switch (op) {
	case OP_EQ:
		return v == ref;
	case OP_NE:
		return v != ref;
	case OP_LT:
		return v < ref;
	case OP_LE:
		return v <= ref;
	case OP_GT:
		return v > ref;
	default:
		return v >= ref;
	}
}

static bool match(const struct node *n, const struct row *r)
{
	unsigned int addr, port, mask;
	bool ok = true, eq;

	switch (n->type) {
	case '&':
		return match(n->a, r) && match(n->b, r);
	case '|':
		return match(n->a, r) || match(n->b, r);
	case '!':
		return !match(n->a, r);
	}
	if (n->key == K_SPORT || n->key == K_SRC) {
		addr = r->laddr;
		port = r->lport;
	} else {
		addr = r->raddr;
		port = r->rport;
	}
	mask = n->plen ? ~0U << (32 - n->plen) : 0;
	eq = (addr & mask) == (n->addr & mask);
	if (n->has_port)
		ok = compare(port, n->op, n->port) && (!n->has_addr || eq);
	else if (n->has_addr)
		ok = n->op == OP_NE ? !eq : eq;
	return ok;
}

/*
 * Split the arguments into tokens at blanks, with parentheses on their
 * own: "( sport = :22 )" as one argument or many, "(sport" and ":22)".
 */
static int tokenize(int argc, char **argv)
{
	static const char delims[] = { ' ', '\t', '(', ')', '\0' };
	int i;

	for (i = 0; i < argc; i++) {
		char *s = argv[i];
		size_t len;

		while (*s) {
			if (*s == ' ' || *s == '\t') {
				s++;
				continue;
			}
			if (ntokens >= MAX_TOKENS - 1)
				return -1;
			if (*s == '(' || *s == ')') {
				tokens[ntokens++] = *s == '(' ? "(" : ")";
				s++;
				continue;
			}
			len = strcspn(s, delims);
			tokens[ntokens++] = strndup(s, len);
			s += len;
		}
	}
	return 0;
}

/* ---- output ---- */

/* ss's print_ms_timer(): "1min", "59sec", "1.500ms", "200ms". */
static const char *fmt_ms(unsigned long ms)
{
	static char buf[64];
	unsigned long min = ms / 60000, sec = ms / 1000 % 60, msec = ms % 1000;
	size_t len = 0;

	buf[0] = '\0';
	if (min) {
		msec = 0;
		len += snprintf(buf, sizeof(buf), "%lumin", min);
		if (min > 9)
			sec = 0;
	}
	if (sec) {
		if (sec > 9)
			msec = 0;
		len += snprintf(buf + len, sizeof(buf) - len, "%lu%s", sec,
				msec ? "." : "sec");
	}
	if (msec)
		snprintf(buf + len, sizeof(buf) - len, "%03lums", msec);
	return buf;
}

/*
 * As ss lays them out: the local address right-aligned before its port,
 * the peer's left-aligned, with a peer port 0 (a listener's) as "*".
 */
static void print_endpoint(const char *s, bool peer, int width)
{
	char buf[64], *colon;

	snprintf(buf, sizeof(buf), "%s", s);
	colon = strrchr(buf, ':');
	if (!colon) {
		printf(" %-*s", width, buf);
		return;
	}
	*colon = '\0';
	if (peer) {
		char ep[80];

		snprintf(ep, sizeof(ep), "%s:%s", buf,
			 strcmp(colon + 1, "0") ? colon + 1 : "*");
		printf(" %-*s", width, ep);
	} else {
		printf(" %*s:%-5s", width - 6, buf, colon + 1);
	}
}

static void print_header(void)
{
	printf("%-10s %-6s %-6s %*s %-*s Process\n", "State", "Recv-Q",
	       "Send-Q", 25, "Local Address:Port", 25, "Peer Address:Port");
}

/* ss -i's figures (tcp_stats_print()), shown where they are not 0. */
static void print_info(const struct row *r)
{
	unsigned long long opts = num(r, "options"), v;
	unsigned long long mss = num(r, "mss"), rtt = num(r, "rtt");
	unsigned long long cwnd = num(r, "cwnd");
	static const char *const counts[] = {
		"bytes_sent", "bytes_retrans", "bytes_acked", "bytes_received",
		"segs_out", "segs_in", "data_segs_out", "data_segs_in",
	};
	size_t i;

	printf("\t");
	if (opts & 1)
		printf(" ts");
	if (opts & 2)
		printf(" sack");
	if (opts & 8)
		printf(" ecn");
	printf(" reno");
	if (opts & 4)
		printf(" wscale:%s,%s", col(r, "snd_wscale"),
		       col(r, "rcv_wscale"));
	v = num(r, "rto");
	if (v)
		printf(" rto:%g", v / 1000.0);
	v = num(r, "backoff");
	if (v)
		printf(" backoff:%llu", v);
	if (rtt)
		printf(" rtt:%g/%g", rtt / 1000.0, num(r, "rttvar") / 1000.0);
	v = num(r, "ato");
	if (v)
		printf(" ato:%g", v / 1000.0);
	if (mss)
		printf(" mss:%llu", mss);
	v = num(r, "pmtu");
	if (v)
		printf(" pmtu:%llu", v);
	v = num(r, "rcvmss");
	if (v)
		printf(" rcvmss:%llu", v);
	v = num(r, "advmss");
	if (v)
		printf(" advmss:%llu", v);
	if (cwnd)
		printf(" cwnd:%llu", cwnd);
	v = num(r, "ssthresh");
	if (v && v < 0xffff)
		printf(" ssthresh:%llu", v);
	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		v = num(r, counts[i]);
		if (v)
			printf(" %s:%llu", counts[i], v);
	}
	if (rtt && mss && cwnd)
		printf(" send %.0fbps", cwnd * mss * 8e6 / rtt);
	v = num(r, "lastsnd");
	if (v)
		printf(" lastsnd:%llu", v);
	v = num(r, "lastrcv");
	if (v)
		printf(" lastrcv:%llu", v);
	v = num(r, "lastack");
	if (v)
		printf(" lastack:%llu", v);
	v = num(r, "delivered");
	if (v)
		printf(" delivered:%llu", v);
	v = num(r, "unacked");
	if (v)
		printf(" unacked:%llu", v);
	if (num(r, "retrans") || num(r, "total_retrans"))
		printf(" retrans:%s/%s", col(r, "retrans"),
		       col(r, "total_retrans"));
	v = num(r, "sacked");
	if (v && r->state != ST_LISTEN)
		printf(" sacked:%llu", v);
	v = num(r, "reordering");
	if (v != 3)
		printf(" reordering:%llu", v);
	v = num(r, "rcv_space");
	if (v)
		printf(" rcv_space:%llu", v);
	v = num(r, "rcv_ssthresh");
	if (v)
		printf(" rcv_ssthresh:%llu", v);
	v = num(r, "notsent");
	if (v)
		printf(" notsent:%llu", v);
	v = num(r, "minrtt");
	if (v && v != 0xffffffffULL)
		printf(" minrtt:%g", v / 1000.0);
	v = num(r, "snd_wnd");
	if (v)
		printf(" snd_wnd:%llu", v);
	printf("\n");
}

static bool opt_ext, opt_timer, opt_info;

static void print_row(const struct row *r)
{
	const char *timer = col(r, "timer");
	unsigned long long uid = num(r, "uid");

	printf("%-10s %-6s %-6s", ss_states[r->state], col(r, "recvq"),
	       col(r, "sendq"));
	print_endpoint(col(r, "local"), false, 25);
	print_endpoint(col(r, "remote"), true, 25);
	if (opt_timer && strcmp(timer, "off"))
		printf(" timer:(%s,%s,%s)", timer,
		       fmt_ms(num(r, "timer_ms")), col(r, "timer_count"));
	if (opt_ext) {
		if (uid)
			printf(" uid:%llu", uid);
		printf(" ino:%s sk:%llx", col(r, "ino"), num(r, "cookie"));
	}
	printf("\n");
	if (opt_info && !strcmp(col(r, "kind"), "sock"))
		print_info(r);
}

static int split(char *line, char **out)
{
	int n = 0;
	char *save, *t;

	static const char sep[] = { ' ', '\n', '\0' };

	for (t = strtok_r(line, sep, &save); t && n < MAX_COLS;
	     t = strtok_r(NULL, sep, &save))
		out[n++] = t;
	return n;
}

static int list_sockets(unsigned int states, const struct node *filter,
			bool show_header)
{
	static char hline[4096];
	FILE *f = fopen(SS_FILE, "r");
	char *line = NULL;
	size_t cap = 0;
	struct row r;
	int n, s;

	if (!f) {
		fprintf(stderr, "xtcp-ss: %s: %s\n", SS_FILE, strerror(errno));
		return 1;
	}
	if (!fgets(hline, sizeof(hline), f)) {
		fprintf(stderr, "xtcp-ss: %s: empty\n", SS_FILE);
		fclose(f);
		return 1;
	}
	ncols = split(hline, header);
	if (show_header)
		print_header();
	while (getline(&line, &cap, f) > 0) {
		memset(&r, 0, sizeof(r));
		n = split(line, r.col);
		if (n != ncols)
			continue;
		r.state = ST_UNKNOWN;
		for (s = 1; s < ST_MAX; s++)
			if (!strcmp(col(&r, "state"), proc_states[s]))
				r.state = s;
		if (!(states & (1U << r.state)) ||
		    parse_endpoint(col(&r, "local"), &r.laddr, &r.lport) ||
		    parse_endpoint(col(&r, "remote"), &r.raddr, &r.rport))
			continue;
		if (filter && !match(filter, &r))
			continue;
		print_row(&r);
	}
	free(line);
	fclose(f);
	return 0;
}

/* nstat -a: "#kernel", then name, value, rate; zeros only with -z. */
static int show_counters(int npat, char **pat, bool zeros)
{
	FILE *f = fopen(STAT_FILE, "r");
	char name[128];
	unsigned long long v;
	int i;

	if (!f) {
		fprintf(stderr, "xtcp-ss: %s: %s\n", STAT_FILE, strerror(errno));
		return 1;
	}
	printf("#kernel\n");
	while (fscanf(f, "%127s %llu", name, &v) == 2) {
		for (i = 0; i < npat; i++)
			if (!fnmatch(pat[i], name, 0))
				break;
		if ((npat && i == npat) || (!v && !zeros))
			continue;
		printf("%-32s%-16llu%6.1f\n", name, v, 0.0);
	}
	fclose(f);
	return 0;
}

static int enter_netns(const char *name)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "xtcp-ss: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET)) {
		fprintf(stderr, "xtcp-ss: setns %s: %s\n", name, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int parse_state(const char *name, unsigned int *mask)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(state_names); i++)
		if (!strcmp(name, state_names[i].name)) {
			*mask = state_names[i].mask;
			return 0;
		}
	fprintf(stderr, "xtcp-ss: unknown state \"%s\"\n", name);
	return -1;
}

static void print_usage(void)
{
	fprintf(stderr,
		"usage: xtcp-ss [-alnteoiH] [-N NETNS] [state STATE]... [exclude STATE]... [EXPRESSION]\n"
		"       xtcp-ss -s [-z] [-N NETNS] [PATTERN...]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "listening", no_argument, NULL, 'l' },
		{ "numeric", no_argument, NULL, 'n' },
		{ "tcp", no_argument, NULL, 't' },
		{ "extended", no_argument, NULL, 'e' },
		{ "options", no_argument, NULL, 'o' },
		{ "info", no_argument, NULL, 'i' },
		{ "no-header", no_argument, NULL, 'H' },
		{ "net", required_argument, NULL, 'N' },
		{ "stat", no_argument, NULL, 's' },
		{ "zeros", no_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned int states = ST_CONN, chosen = 0, excluded = 0, m;
	bool show_header = true, counters = false, zeros = false;
	const char *netns = NULL;
	struct node *filter = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, "alnteoiHN:szh", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'a':
			states = ST_ALL;
			break;
		case 'l':
			states = (1U << ST_LISTEN) | (1U << ST_CLOSE);
			break;
		case 'n':
		case 't':
			break;
		case 'e':
			opt_ext = true;
			opt_timer = true;
			break;
		case 'o':
			opt_timer = true;
			break;
		case 'i':
			opt_info = true;
			break;
		case 'H':
			show_header = false;
			break;
		case 'N':
			netns = optarg;
			break;
		case 's':
			counters = true;
			break;
		case 'z':
			zeros = true;
			break;
		case 'h':
			print_usage();
			return 0;
		default:
			print_usage();
			return 2;
		}
	}
	if (netns && enter_netns(netns))
		return 1;
	if (counters)
		return show_counters(argc - optind, argv + optind, zeros);

	if (tokenize(argc - optind, argv + optind)) {
		print_usage();
		return 2;
	}
	for (;;) {
		if (accept_tok("state")) {
			if (!peek() || parse_state(peek(), &m))
				return 2;
			chosen |= m;
			tpos++;
		} else if (accept_tok("exclude") || accept_tok("excl")) {
			if (!peek() || parse_state(peek(), &m))
				return 2;
			excluded |= m;
			tpos++;
		} else {
			break;
		}
	}
	if (chosen)
		states = chosen;
	else if (excluded)
		states = ST_ALL;
	states &= ~excluded;
	if (peek()) {
		filter = parse_or();
		if (!filter || peek()) {
			if (filter)
				fprintf(stderr, "xtcp-ss: unexpected \"%s\"\n",
					peek());
			print_usage();
			return 2;
		}
	}
	return list_sockets(states, filter, show_header);
}
