// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp passive open, the cases listen_test.c leaves out: each is played
 * on Linux's TCP (the reference) and then on xtcp, and both must give
 * the result the test writes down.
 *
 * Fixture listen2: two fresh network namespaces joined by a veth pair
 * (struct netpair): A (192.0.2.1) holds the clients, Linux's TCP
 * always, and the test's thread; B (192.0.2.2) the listeners, Linux's
 * on port 5001 and xtcp's on 5000, made by stepping into B. Linux's
 * socket states in B are read with ss, xtcp's from /proc/net/xtcp.
 *
 * Fixture scripted2 (xtcp_peer.h): the listeners live in A, Linux's on
 * 5001 and xtcp's on 5000, and the test plays the client from a packet
 * socket in B, segment by segment.
 *
 * Covered:
 * - listen() beside an old listener's connections (SO_REUSEADDR, a
 *   server restart): established, FIN_WAIT2, TIME_WAIT;
 * - the backlog capped by net.core.somaxconn of the socket's own
 *   namespace: the accept queue's length and what ss (Linux) and
 *   /proc/net/xtcp show;
 * - a specific-address listener before a wildcard one on the same port;
 * - the options an accepted socket inherits from its listener;
 * - epoll on a listener: level, edge-triggered once per new connection,
 *   after shutdown();
 * - a reuseport member closing with connections queued, with
 *   tcp_migrate_req 0 (the default) and 1;
 * - requests (SYN_RECV) when their listener closes;
 * - SYN cookies (syncookies 2): an ACK with a wrong cookie, and the
 *   options a cookie brings back (MSS from the table, window scale,
 *   SACK);
 * - a SYN on a TIME_WAIT entry with a lower sequence number and a newer
 *   or an older timestamp (RFC 6191).
 */
#include "kselftest_harness.h"
#include "xtcp_test.h"
#include "xtcp_peer.h"
#include "xtcp_netns.h"

#include <linux/tcp.h>
#include <sys/epoll.h>

#define A_ADDR		NETPAIR_A_ADDR
#define B_ADDR		NETPAIR_B_ADDR
#define B_ADDR2		"192.0.2.3"	/* B's second address */
#define XPORT		5000	/* xtcp listeners */
#define KPORT		5001	/* Linux TCP listeners: the reference */
#define IO_TIMEO_MS	10000
#define SOMAXCONN_SYSCTL	"/proc/sys/net/core/somaxconn"
#define IPV4_SYSCTL	"/proc/sys/net/ipv4/"
#define TC_DROP_TCP	"tc qdisc add dev %s ingress && tc filter add dev %s parent ffff: protocol ip prio 1 u32 match ip protocol 6 0xff action drop"

/* Run the block for Linux's TCP (the reference), then for xtcp. */
#define FOR_EACH_STACK(fam) \
	for (int _k = 0; _k < 2 && (((fam) = _k ? xtcp_family() : AF_INET), 1); \
	     _k++)

/* The port of @family's listeners. */
static int port_of(int family)
{
	return family == AF_INET ? KPORT : XPORT;
}

static int set_reuseport(int fd, int family, int val)
{
	if (family == AF_INET)
		return setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, val);
	return setsockopt_int(fd, SOL_XTCP, XTCP_REUSEPORT, val);
}

static int listen_err(int fd, int backlog)
{
	return listen(fd, backlog) ? errno : 0;
}

static void set_timeo(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* accept() within @ms; the fd, or -1. @peer may be NULL. */
static int accept_within(int lfd, int ms, struct sockaddr_in *peer)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	if (!(poll_one(lfd, POLLIN, ms) & POLLIN))
		return -1;
	fd = accept4(lfd, (struct sockaddr *)&sin, &len, SOCK_CLOEXEC);
	if (fd >= 0 && peer)
		*peer = sin;
	return fd;
}

/* The errno a non-blocking recv() of one byte ends with, 0 for data or EOF. */
static int recv_errno(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_DONTWAIT) < 0 ? errno : 0;
}

/* ---- environment ---- */

struct env {
	struct netpair	np;
	int		refcnt;	/* xtcp.ko's reference count before the test */
	int		tc_b;	/* an ingress qdisc is on vb */
};

static void env_setup(struct __test_metadata *_metadata, struct env *e)
{
	const char *step;

	e->np.a = -1;
	e->np.b = -1;
	e->tc_b = 0;
	e->refcnt = xtcp_module_refcnt();
	ASSERT_LE(0, e->refcnt) TH_LOG("%s unreadable", XTCP_REFCNT_FILE);
	step = netpair_setup(&e->np);
	ASSERT_EQ(NULL, step) TH_LOG("namespaces and veth: %s failed", step);
	ASSERT_EQ(0, netpair_static_neigh(&e->np));
}

static void env_teardown(struct __test_metadata *_metadata, struct env *e)
{
	int refcnt;

	if (e->tc_b)
		run_cmd_in_netns(e->np.b, "tc qdisc del dev %s ingress",
				 NETPAIR_B_DEV);
	refcnt = close_sockets_wait(e->refcnt);
	if (refcnt > e->refcnt)
		TH_LOG("xtcp sockets alive 10 s after teardown closed them: "
		       "module refcount %d, %d before the test",
		       refcnt, e->refcnt);
	EXPECT_GE(e->refcnt, refcnt);
	netpair_close(&e->np);
}

FIXTURE(listen2) {
	struct env e;
};

FIXTURE_SETUP(listen2)
{
	env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(listen2)
{
	env_teardown(_metadata, &self->e);
}

/* A stream socket of @family in B (@flags: SOCK_NONBLOCK...). */
static int b_sock(struct __test_metadata *_metadata, struct env *e,
		  int family, int flags)
{
	int fd = socket_in_netns(e->np.b, family, SOCK_STREAM | flags, 0);

	ASSERT_LE(0, fd) TH_LOG("%s socket in B: %s", fam_name(family),
				strerror(-fd));
	return fd;
}

/* A @family listener in B on 0.0.0.0:@port (SO_REUSEADDR set). */
static int b_listener(struct __test_metadata *_metadata, struct env *e,
		      int family, int port, int backlog)
{
	int fd = b_sock(_metadata, e, family, 0), err;

	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1));
	err = bind_err(fd, "0.0.0.0", port);
	ASSERT_EQ(0, err) TH_LOG("%s: bind 0.0.0.0:%d: %s", fam_name(family),
				 port, strerror(err));
	ASSERT_EQ(0, listen(fd, backlog))
		TH_LOG("%s: listen: %s", fam_name(family), strerror(errno));
	return fd;
}

/* A Linux TCP client in A, connected to @addr:@port. */
static int a_client_to(struct __test_metadata *_metadata, const char *addr,
		       int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), err;

	ASSERT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	err = connect_err(fd, addr, port);
	ASSERT_EQ(0, err) TH_LOG("connect to %s:%d: %s", addr, port,
				 strerror(err));
	return fd;
}

static int a_client(struct __test_metadata *_metadata, int port)
{
	return a_client_to(_metadata, B_ADDR, port);
}

/* One message each way between the client @cfd and the server @sfd. */
static void ping(struct __test_metadata *_metadata, const char *who, int cfd,
		 int sfd)
{
	char buf[16];

	set_timeo(cfd, IO_TIMEO_MS);
	set_timeo(sfd, IO_TIMEO_MS);
	ASSERT_EQ(4, send(cfd, "ping", 4, MSG_NOSIGNAL))
		TH_LOG("%s: client send: %s", who, strerror(errno));
	ASSERT_EQ(4, recv(sfd, buf, 4, MSG_WAITALL))
		TH_LOG("%s: server recv: %s", who, strerror(errno));
	ASSERT_EQ(4, send(sfd, "pong", 4, MSG_NOSIGNAL))
		TH_LOG("%s: server send: %s", who, strerror(errno));
	ASSERT_EQ(4, recv(cfd, buf, 4, MSG_WAITALL))
		TH_LOG("%s: client recv: %s", who, strerror(errno));
	EXPECT_EQ(0, memcmp(buf, "pong", 4)) TH_LOG("%s", who);
}

/*
 * Does @family's stack in @nsfd list a socket on local port @port in
 * @state? Linux's TCP through ss (@state as ss names it: "fin-wait-2",
 * "time-wait"), xtcp through /proc/net/xtcp (@xstate). 1, 0, -1.
 */
static int has_state(int nsfd, int family, int port, const char *state,
		     const char *xstate)
{
	static char buf[XTCP_LIST_SIZE];
	char local[64], remote[64], st[32], *line, *colon;

	if (family == AF_INET)
		return !run_cmd_in_netns(nsfd,
					 "ss -Htan state %s '( sport = :%d )' | grep -q .",
					 state, port);
	if (list_read(nsfd, buf, sizeof(buf)) < 0)
		return -1;
	for (line = buf; *line; line = next_line(line)) {
		if (sscanf(line, "%63s %63s %31s", local, remote, st) != 3)
			continue;
		colon = strrchr(local, ':');
		if (colon && atoi(colon + 1) == port && !strcmp(st, xstate))
			return 1;
	}
	return 0;
}

/* Wait up to @ms for has_state() to say 1. */
static int wait_has_state(int nsfd, int family, int port, const char *state,
			  const char *xstate, int ms)
{
	long long end = now_ms() + ms;

	for (;;) {
		if (has_state(nsfd, family, port, state, xstate) == 1)
			return 1;
		if (now_ms() >= end)
			return 0;
		usleep(50 * 1000);
	}
}

/* ---- 1. listen() beside an old listener's connections ---- */

/*
 * A server restart: the listener closes while the connections it
 * accepted are still established (they inherit SO_REUSEADDR). A new
 * socket without SO_REUSEADDR may not bind the port; one with it binds
 * and listens (as inet_csk_get_port(), which weighs only the other
 * sockets' state), takes new connections, and the old ones still work.
 * A second listener beside it is refused.
 */
TEST_F(listen2, restart_beside_established)
{
	int fam, port, l1, c[2], a[2], n, r, c3, a3, err, i;

	FOR_EACH_STACK(fam) {
		port = port_of(fam);
		l1 = b_listener(_metadata, &self->e, fam, port, 8);
		for (i = 0; i < 2; i++) {
			c[i] = a_client(_metadata, port);
			a[i] = accept_within(l1, 5000, NULL);
			ASSERT_LE(0, a[i]) TH_LOG("%s: connection %d not accepted",
						  fam_name(fam), i);
		}
		close(l1);

		n = b_sock(_metadata, &self->e, fam, 0);
		err = bind_err(n, "0.0.0.0", port);
		EXPECT_EQ(EADDRINUSE, err)
			TH_LOG("%s: bind without SO_REUSEADDR beside established connections: %s",
			       fam_name(fam), strerror(err));
		close(n);

		r = b_sock(_metadata, &self->e, fam, 0);
		ASSERT_EQ(0, setsockopt_int(r, SOL_SOCKET, SO_REUSEADDR, 1));
		err = bind_err(r, "0.0.0.0", port);
		EXPECT_EQ(0, err) TH_LOG("%s: bind with SO_REUSEADDR: %s",
					 fam_name(fam), strerror(err));
		err = listen_err(r, 8);
		EXPECT_EQ(0, err)
			TH_LOG("%s: listen() beside the old listener's connections: %s",
			       fam_name(fam), strerror(err));
		if (!err) {
			c3 = a_client(_metadata, port);
			a3 = accept_within(r, 5000, NULL);
			EXPECT_LE(0, a3) TH_LOG("%s: the new listener accepted nothing",
						fam_name(fam));
			if (a3 >= 0)
				ping(_metadata, fam_name(fam), c3, a3);
		}
		ping(_metadata, fam_name(fam), c[0], a[0]);

		n = b_sock(_metadata, &self->e, fam, 0);
		ASSERT_EQ(0, setsockopt_int(n, SOL_SOCKET, SO_REUSEADDR, 1));
		err = bind_err(n, "0.0.0.0", port);
		EXPECT_EQ(EADDRINUSE, err)
			TH_LOG("%s: a bind beside the new listener: %s",
			       fam_name(fam), strerror(err));
		close_sockets(0);
	}
}

/*
 * The same restart after the server closed its side: one connection in
 * FIN_WAIT2 (the client has not closed), one in TIME_WAIT. A new
 * SO_REUSEADDR listener gets the port and serves. Without SO_REUSEADDR,
 * Linux's orphan and TIME_WAIT socket keep the port (EADDRINUSE); xtcp's
 * keep only their 4-tuple (Documentation/xtcp.rst, "The connect path"
 * and "Differences"), so the bind succeeds there.
 */
TEST_F(listen2, restart_beside_closing)
{
	int nsb = self->e.np.b, fam, port, l1, c1, c2, a1, a2, n, r, c3, a3;
	int err, want;
	char ch;

	FOR_EACH_STACK(fam) {
		port = port_of(fam);
		l1 = b_listener(_metadata, &self->e, fam, port, 8);
		c1 = a_client(_metadata, port);
		a1 = accept_within(l1, 5000, NULL);
		c2 = a_client(_metadata, port);
		a2 = accept_within(l1, 5000, NULL);
		ASSERT_LE(0, a1);
		ASSERT_LE(0, a2);
		set_timeo(c1, IO_TIMEO_MS);
		set_timeo(c2, IO_TIMEO_MS);

		close(a1);
		EXPECT_EQ(0, recv(c1, &ch, 1, 0)) TH_LOG("%s: no EOF on client 1",
							 fam_name(fam));
		close(a2);
		EXPECT_EQ(0, recv(c2, &ch, 1, 0)) TH_LOG("%s: no EOF on client 2",
							 fam_name(fam));
		close(c2);
		EXPECT_TRUE(wait_has_state(nsb, fam, port, "fin-wait-2",
					   "FIN_WAIT2", 5000))
			TH_LOG("%s: no FIN_WAIT2 on port %d", fam_name(fam), port);
		EXPECT_TRUE(wait_has_state(nsb, fam, port, "time-wait",
					   "TIME_WAIT", 5000))
			TH_LOG("%s: no TIME_WAIT on port %d", fam_name(fam), port);
		close(l1);

		n = b_sock(_metadata, &self->e, fam, 0);
		err = bind_err(n, "0.0.0.0", port);
		want = fam == AF_INET ? EADDRINUSE : 0;
		EXPECT_EQ(want, err)
			TH_LOG("%s: bind without SO_REUSEADDR beside FIN_WAIT2 and TIME_WAIT: %s",
			       fam_name(fam), strerror(err));
		close(n);

		r = b_sock(_metadata, &self->e, fam, 0);
		ASSERT_EQ(0, setsockopt_int(r, SOL_SOCKET, SO_REUSEADDR, 1));
		err = bind_err(r, "0.0.0.0", port);
		EXPECT_EQ(0, err) TH_LOG("%s: bind with SO_REUSEADDR: %s",
					 fam_name(fam), strerror(err));
		err = listen_err(r, 8);
		EXPECT_EQ(0, err) TH_LOG("%s: listen(): %s", fam_name(fam),
					 strerror(err));
		if (!err) {
			c3 = a_client(_metadata, port);
			a3 = accept_within(r, 5000, NULL);
			EXPECT_LE(0, a3) TH_LOG("%s: the new listener accepted nothing",
						fam_name(fam));
			if (a3 >= 0)
				ping(_metadata, fam_name(fam), c3, a3);
		}
		EXPECT_TRUE(has_state(nsb, fam, port, "time-wait", "TIME_WAIT"))
			TH_LOG("%s: the TIME_WAIT entry went early", fam_name(fam));
		close_sockets(0);
	}
}

/* ---- 2. the backlog and net.core.somaxconn ---- */

#define SOMAX		4
#define SOMAX_CLIENTS	20

/*
 * The listener's queue as its stack shows it in @nsfd: Linux's through
 * ss -lnt (Recv-Q, Send-Q), xtcp's from /proc/net/xtcp ("acceptq
 * queued/backlog"). 0, or -1 if the listener was not found.
 */
static int queue_view(int nsfd, int family, int port, int *queued,
		      int *backlog)
{
	static char buf[XTCP_LIST_SIZE];
	char want[64], cmd[160], line[256];
	int cur, ret = -1;
	FILE *f;

	if (family != AF_INET) {
		char *l;

		if (list_read(nsfd, buf, sizeof(buf)) < 0)
			return -1;
		snprintf(want, sizeof(want), "0.0.0.0:%d 0.0.0.0:0 LISTEN ", port);
		for (l = buf; *l; l = next_line(l))
			if (!strncmp(l, want, strlen(want)) &&
			    sscanf(l + strlen(want), "acceptq %d/%d", queued,
				   backlog) == 2)
				return 0;
		return -1;
	}
	cur = ns_enter(nsfd);
	if (cur < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "ss -Hlnt '( sport = :%d )' 2>/dev/null", port);
	f = popen(cmd, "r");
	if (f) {
		/* State Recv-Q Send-Q Local Peer */
		if (fgets(line, sizeof(line), f) &&
		    sscanf(line, "%*s %d %d", queued, backlog) == 2)
			ret = 0;
		pclose(f);
	}
	ns_leave(cur);
	return ret;
}

/*
 * net.core.somaxconn 4 in B (A keeps its 4096): listen(fd, 100) on a
 * socket of B, called from the test's thread in A, gets a backlog of 4,
 * B's. 20 clients connect and nothing is accepted: the queue holds
 * backlog + 1 = 5 connections, and ss (Linux) and /proc/net/xtcp show 5
 * queued over a backlog of 4. A listener of A gets its 100.
 */
TEST_F_TIMEOUT(listen2, somaxconn_caps_backlog, 90)
{
	int nsb = self->e.np.b, nsa = self->e.np.a, fam, port, lfd, fd, i, err;
	int cfd[SOMAX_CLIENTS], queued, backlog, accepted;
	char buf[32];

	ASSERT_EQ(0, write_in(nsb, SOMAXCONN_SYSCTL, "4"));
	ASSERT_LT(0, read_in(nsb, SOMAXCONN_SYSCTL, buf, sizeof(buf)));
	ASSERT_EQ(SOMAX, atoi(buf));
	ASSERT_LT(0, read_in(nsa, SOMAXCONN_SYSCTL, buf, sizeof(buf)));
	ASSERT_LT(100, atoi(buf)) TH_LOG("somaxconn %s in A", buf);

	FOR_EACH_STACK(fam) {
		port = port_of(fam);
		lfd = b_sock(_metadata, &self->e, fam, SOCK_NONBLOCK);
		ASSERT_EQ(0, setsockopt_int(lfd, SOL_SOCKET, SO_REUSEADDR, 1));
		ASSERT_EQ(0, bind_err(lfd, "0.0.0.0", port));
		ASSERT_EQ(0, listen(lfd, 100));
		ASSERT_EQ(0, queue_view(nsb, fam, port, &queued, &backlog))
			TH_LOG("%s: no view of the listener", fam_name(fam));
		EXPECT_EQ(SOMAX, backlog) TH_LOG("%s: backlog shown", fam_name(fam));
		EXPECT_EQ(0, queued);

		for (i = 0; i < SOMAX_CLIENTS; i++) {
			cfd[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			ASSERT_LE(0, cfd[i]);
			err = connect_err(cfd[i], B_ADDR, port);
			EXPECT_TRUE(!err || err == EINPROGRESS)
				TH_LOG("client %d: %s", i, strerror(err));
		}
		usleep(3000 * 1000);
		ASSERT_EQ(0, queue_view(nsb, fam, port, &queued, &backlog));
		TH_LOG("%s: %d queued, backlog %d", fam_name(fam), queued, backlog);
		EXPECT_EQ(SOMAX + 1, queued) TH_LOG("%s: queued as shown",
						    fam_name(fam));
		EXPECT_EQ(SOMAX, backlog);

		/* B takes no more TCP, so the queue stays as it is. */
		ASSERT_EQ(0, run_cmd_in_netns(nsb, TC_DROP_TCP, NETPAIR_B_DEV,
					      NETPAIR_B_DEV));
		self->e.tc_b = 1;
		usleep(300 * 1000);
		for (accepted = 0; accepted < SOMAX_CLIENTS; accepted++) {
			fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0)
				break;
			close(fd);
		}
		EXPECT_EQ(EAGAIN, errno);
		EXPECT_EQ(SOMAX + 1, accepted)
			TH_LOG("%s: %d of %d connections waited for accept()",
			       fam_name(fam), accepted, SOMAX_CLIENTS);
		ASSERT_EQ(0, run_cmd_in_netns(nsb, "tc qdisc del dev %s ingress",
					      NETPAIR_B_DEV));
		self->e.tc_b = 0;
		for (i = 0; i < SOMAX_CLIENTS; i++)
			close(cfd[i]);
		close(lfd);

		/* A's somaxconn leaves listen()'s 100 alone. */
		lfd = socket(fam, SOCK_STREAM, 0);
		ASSERT_LE(0, lfd);
		ASSERT_EQ(0, bind_err(lfd, "0.0.0.0", port));
		ASSERT_EQ(0, listen(lfd, 100));
		ASSERT_EQ(0, queue_view(nsa, fam, port, &queued, &backlog))
			TH_LOG("%s: no view of A's listener", fam_name(fam));
		EXPECT_EQ(100, backlog) TH_LOG("%s: in A", fam_name(fam));
		close(lfd);
	}
}

/* ---- 3. a specific address before the wildcard ---- */

/*
 * Two listeners on one port: 0.0.0.0 and B's first address. With
 * SO_REUSEADDR alone the second listen() is EADDRINUSE on Linux (a
 * listener shares its port with no other that overlaps it); with
 * SO_REUSEPORT (XTCP_REUSEPORT) on both they coexist. A connection to
 * B's first address lands on the specific listener, one to its second
 * address on the wildcard; with the specific one closed, the wildcard
 * takes both.
 */
TEST_F(listen2, specific_beats_wildcard)
{
	int nsb = self->e.np.b, fam, port, w, s, c, a, err;
	struct sockaddr_in me;
	socklen_t len;

	ASSERT_EQ(0, run_cmd_in_netns(nsb, "ip addr add %s/24 dev %s", B_ADDR2,
				      NETPAIR_B_DEV));
	ASSERT_EQ(0, run_cmd("ip neigh replace %s lladdr %s dev %s nud permanent",
			     B_ADDR2, NETPAIR_B_MAC, NETPAIR_A_DEV));

	FOR_EACH_STACK(fam) {
		port = port_of(fam);
		w = b_sock(_metadata, &self->e, fam, 0);
		s = b_sock(_metadata, &self->e, fam, 0);
		ASSERT_EQ(0, setsockopt_int(w, SOL_SOCKET, SO_REUSEADDR, 1));
		ASSERT_EQ(0, setsockopt_int(s, SOL_SOCKET, SO_REUSEADDR, 1));
		ASSERT_EQ(0, bind_err(w, "0.0.0.0", port));
		ASSERT_EQ(0, bind_err(s, B_ADDR, port));
		EXPECT_EQ(0, listen_err(s, 8)) TH_LOG("%s", fam_name(fam));
		err = listen_err(w, 8);
		EXPECT_EQ(EADDRINUSE, err)
			TH_LOG("%s: wildcard listen() beside a specific listener, "
			       "SO_REUSEADDR only: %s",
			       fam_name(fam), strerror(err));
		close(w);
		close(s);

		w = b_sock(_metadata, &self->e, fam, SOCK_NONBLOCK);
		s = b_sock(_metadata, &self->e, fam, SOCK_NONBLOCK);
		ASSERT_EQ(0, setsockopt_int(w, SOL_SOCKET, SO_REUSEADDR, 1));
		ASSERT_EQ(0, setsockopt_int(s, SOL_SOCKET, SO_REUSEADDR, 1));
		ASSERT_EQ(0, set_reuseport(w, fam, 1));
		ASSERT_EQ(0, set_reuseport(s, fam, 1));
		ASSERT_EQ(0, bind_err(w, "0.0.0.0", port));
		ASSERT_EQ(0, listen_err(w, 8)) TH_LOG("%s: wildcard", fam_name(fam));
		ASSERT_EQ(0, bind_err(s, B_ADDR, port))
			TH_LOG("%s: specific bind beside the wildcard listener",
			       fam_name(fam));
		ASSERT_EQ(0, listen_err(s, 8)) TH_LOG("%s: specific", fam_name(fam));

		c = a_client_to(_metadata, B_ADDR, port);
		a = accept_within(s, 5000, NULL);
		EXPECT_LE(0, a) TH_LOG("%s: %s:%d did not reach the specific listener",
				       fam_name(fam), B_ADDR, port);
		EXPECT_EQ(0, poll_one(w, POLLIN, 300))
			TH_LOG("%s: the wildcard listener got %s:%d's connection",
			       fam_name(fam), B_ADDR, port);
		if (a >= 0)
			ping(_metadata, fam_name(fam), c, a);

		c = a_client_to(_metadata, B_ADDR2, port);
		a = accept_within(w, 5000, NULL);
		EXPECT_LE(0, a) TH_LOG("%s: %s:%d did not reach the wildcard listener",
				       fam_name(fam), B_ADDR2, port);
		EXPECT_EQ(0, poll_one(s, POLLIN, 300))
			TH_LOG("%s: the specific listener got %s:%d's connection",
			       fam_name(fam), B_ADDR2, port);
		if (a >= 0) {
			len = sizeof(me);
			ASSERT_EQ(0, getsockname(a, (struct sockaddr *)&me, &len));
			EXPECT_EQ(inet_addr(B_ADDR2), me.sin_addr.s_addr);
			ping(_metadata, fam_name(fam), c, a);
		}

		close(s);
		c = a_client_to(_metadata, B_ADDR, port);
		a = accept_within(w, 5000, NULL);
		EXPECT_LE(0, a) TH_LOG("%s: with the specific listener closed, "
				       "%s:%d did not reach the wildcard",
				       fam_name(fam), B_ADDR, port);
		close_sockets(0);
	}
}

/* ---- 4. what an accepted socket inherits ---- */

/**
 * struct opts - the options compared on an accepted socket
 * @rcvbuf: SO_RCVBUF
 * @sndbuf: SO_SNDBUF
 * @nodelay: TCP_NODELAY
 * @keepalive: SO_KEEPALIVE
 * @keepidle: TCP_KEEPIDLE
 * @keepintvl: TCP_KEEPINTVL
 * @keepcnt: TCP_KEEPCNT
 * @maxseg: TCP_MAXSEG (the send MSS, once connected)
 * @linger: SO_LINGER
 */
struct opts {
	int		rcvbuf, sndbuf, nodelay, keepalive;
	int		keepidle, keepintvl, keepcnt, maxseg;
	struct linger	linger;
};

static void opts_read(struct __test_metadata *_metadata, int fd,
		      struct opts *o)
{
	socklen_t len = sizeof(o->linger);

	o->rcvbuf = getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF);
	o->sndbuf = getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF);
	o->nodelay = getsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY);
	o->keepalive = getsockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE);
	o->keepidle = getsockopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE);
	o->keepintvl = getsockopt_int(fd, IPPROTO_TCP, TCP_KEEPINTVL);
	o->keepcnt = getsockopt_int(fd, IPPROTO_TCP, TCP_KEEPCNT);
	o->maxseg = getsockopt_int(fd, IPPROTO_TCP, TCP_MAXSEG);
	memset(&o->linger, 0xff, sizeof(o->linger));
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_LINGER, &o->linger, &len));
}

static void opts_log(struct __test_metadata *_metadata, const char *who,
		     const struct opts *o)
{
	TH_LOG("%s: rcvbuf %d sndbuf %d nodelay %d keepalive %d idle %d "
	       "intvl %d cnt %d maxseg %d linger %d/%d",
	       who, o->rcvbuf, o->sndbuf, o->nodelay, o->keepalive, o->keepidle,
	       o->keepintvl, o->keepcnt, o->maxseg, o->linger.l_onoff,
	       o->linger.l_linger);
}

/*
 * Options set on the listener (none their default) come with every
 * connection it accepts: the accepted socket reads the same values on
 * xtcp as on Linux's TCP, and the values set.
 */
TEST_F(listen2, children_inherit_options)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 7 };
	struct opts o[2];
	int fam, lfd, c, a;

	FOR_EACH_STACK(fam) {
		lfd = b_sock(_metadata, &self->e, fam, 0);
		ASSERT_EQ(0, setsockopt_int(lfd, SOL_SOCKET, SO_REUSEADDR, 1));
		ASSERT_EQ(0, setsockopt_int(lfd, SOL_SOCKET, SO_RCVBUF, 65536));
		ASSERT_EQ(0, setsockopt_int(lfd, SOL_SOCKET, SO_SNDBUF, 32768));
		ASSERT_EQ(0, setsockopt_int(lfd, IPPROTO_TCP, TCP_NODELAY, 1));
		ASSERT_EQ(0, setsockopt_int(lfd, SOL_SOCKET, SO_KEEPALIVE, 1));
		ASSERT_EQ(0, setsockopt_int(lfd, IPPROTO_TCP, TCP_KEEPIDLE, 77));
		ASSERT_EQ(0, setsockopt_int(lfd, IPPROTO_TCP, TCP_KEEPINTVL, 11));
		ASSERT_EQ(0, setsockopt_int(lfd, IPPROTO_TCP, TCP_KEEPCNT, 5));
		ASSERT_EQ(0, setsockopt_int(lfd, IPPROTO_TCP, TCP_MAXSEG, 1000));
		ASSERT_EQ(0, setsockopt(lfd, SOL_SOCKET, SO_LINGER, &lg,
					sizeof(lg)));
		ASSERT_EQ(0, bind_err(lfd, "0.0.0.0", port_of(fam)));
		ASSERT_EQ(0, listen(lfd, 8));
		c = a_client(_metadata, port_of(fam));
		a = accept_within(lfd, 5000, NULL);
		ASSERT_LE(0, a) TH_LOG("%s: nothing accepted", fam_name(fam));
		opts_read(_metadata, a, &o[_k]);
		opts_log(_metadata, fam_name(fam), &o[_k]);
		ping(_metadata, fam_name(fam), c, a);
		close(a);
		close(c);
		close(lfd);
	}
	EXPECT_EQ(2 * 65536, o[0].rcvbuf);
	EXPECT_EQ(2 * 32768, o[0].sndbuf);
	EXPECT_EQ(o[0].rcvbuf, o[1].rcvbuf);
	EXPECT_EQ(o[0].sndbuf, o[1].sndbuf);
	EXPECT_EQ(1, o[0].nodelay);
	EXPECT_EQ(o[0].nodelay, o[1].nodelay);
	EXPECT_EQ(1, o[0].keepalive);
	EXPECT_EQ(o[0].keepalive, o[1].keepalive);
	EXPECT_EQ(77, o[0].keepidle);
	EXPECT_EQ(o[0].keepidle, o[1].keepidle);
	EXPECT_EQ(11, o[0].keepintvl);
	EXPECT_EQ(o[0].keepintvl, o[1].keepintvl);
	EXPECT_EQ(5, o[0].keepcnt);
	EXPECT_EQ(o[0].keepcnt, o[1].keepcnt);
	EXPECT_GE(1000, o[0].maxseg);
	EXPECT_LT(900, o[0].maxseg);
	EXPECT_EQ(o[0].maxseg, o[1].maxseg);
	EXPECT_EQ(1, o[0].linger.l_onoff);
	EXPECT_EQ(7, o[0].linger.l_linger);
	EXPECT_EQ(o[0].linger.l_onoff, o[1].linger.l_onoff);
	EXPECT_EQ(o[0].linger.l_linger, o[1].linger.l_linger);
}

/* ---- 5. epoll on a listener ---- */

/* epoll_wait() for up to @ms: the number of events, the first's in @ev. */
static int ep_wait(int ep, int ms, int *ev)
{
	struct epoll_event e[4];
	int n;

	do {
		n = epoll_wait(ep, e, 4, ms);
	} while (n < 0 && errno == EINTR);
	*ev = n > 0 ? (int)e[0].events : 0;
	return n;
}

static int ep_add(int fd, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.fd = fd };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e))
		return -1;
	return ep;
}

#define EP_ALL	(EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI)

/*
 * Level-triggered: EPOLLIN while a connection waits, nothing once it is
 * accepted. Edge-triggered: one EPOLLIN per new connection, none while
 * the queue does not change. After shutdown(SHUT_RD) the listener is a
 * closed socket: EPOLLOUT | EPOLLHUP, edge-triggered once, as Linux's
 * tcp_poll() says of a closed socket whose shutdown flags were reset.
 */
TEST_F(listen2, epoll_listener)
{
	int ev, shut_ev[2], fam, port, lfd, lt, et, c1, c2, a, n;

	FOR_EACH_STACK(fam) {
		port = port_of(fam);
		lfd = b_listener(_metadata, &self->e, fam, port, 8);
		lt = ep_add(lfd, EP_ALL);
		et = ep_add(lfd, EP_ALL | EPOLLET);
		ASSERT_LE(0, lt);
		ASSERT_LE(0, et);
		EXPECT_EQ(0, ep_wait(lt, 200, &ev))
			TH_LOG("%s: events 0x%x, nothing queued", fam_name(fam), ev);
		EXPECT_EQ(0, ep_wait(et, 0, &ev));

		c1 = a_client(_metadata, port);
		n = ep_wait(et, 5000, &ev);
		EXPECT_EQ(1, n);
		EXPECT_EQ(EPOLLIN, ev) TH_LOG("%s: edge, first connection: 0x%x",
					      fam_name(fam), ev);
		n = ep_wait(et, 300, &ev);
		EXPECT_EQ(0, n) TH_LOG("%s: edge again without a new connection: 0x%x",
				       fam_name(fam), ev);
		n = ep_wait(lt, 0, &ev);
		EXPECT_EQ(1, n);
		EXPECT_EQ(EPOLLIN, ev) TH_LOG("%s: level, one queued: 0x%x",
					      fam_name(fam), ev);

		c2 = a_client(_metadata, port);
		n = ep_wait(et, 5000, &ev);
		EXPECT_EQ(1, n);
		EXPECT_EQ(EPOLLIN, ev) TH_LOG("%s: edge, second connection: 0x%x",
					      fam_name(fam), ev);
		EXPECT_EQ(0, ep_wait(et, 300, &ev));

		for (n = 0; n < 2; n++) {
			a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			EXPECT_LE(0, a) TH_LOG("%s: accept %d: %s", fam_name(fam),
					       n, strerror(errno));
			if (a >= 0)
				close(a);
		}
		n = ep_wait(lt, 200, &ev);
		EXPECT_EQ(0, n) TH_LOG("%s: level, all accepted: 0x%x",
				       fam_name(fam), ev);
		EXPECT_EQ(0, ep_wait(et, 0, &ev));

		ASSERT_EQ(0, shutdown(lfd, SHUT_RD));
		n = ep_wait(et, 2000, &ev);
		EXPECT_EQ(1, n) TH_LOG("%s: edge, shutdown: no event", fam_name(fam));
		shut_ev[_k] = ev;
		EXPECT_EQ(EPOLLOUT | EPOLLHUP, ev)
			TH_LOG("%s: edge, after shutdown: 0x%x", fam_name(fam), ev);
		EXPECT_EQ(0, ep_wait(et, 300, &ev))
			TH_LOG("%s: edge, after shutdown again: 0x%x", fam_name(fam), ev);
		n = ep_wait(lt, 0, &ev);
		EXPECT_EQ(1, n);
		EXPECT_EQ(shut_ev[_k], ev) TH_LOG("%s: level, after shutdown: 0x%x",
						  fam_name(fam), ev);
		close(lt);
		close(et);
		close(c1);
		close(c2);
		close(lfd);
	}
	EXPECT_EQ(shut_ev[0], shut_ev[1]);
}

/* ---- 6. a reuseport member closing with connections queued ---- */

#define RP_QUEUED	3

/*
 * A member of a reuseport group closes with RP_QUEUED connections
 * queued, another member listening. With tcp_migrate_req 0, 6.1's
 * default (net.xtcp.migrate_req follows it), each client is reset and
 * the other member gets nothing; with 1, the other member accepts them
 * and they work.
 */
TEST_F_TIMEOUT(listen2, reuseport_close_with_queue, 90)
{
	int nsb = self->e.np.b, fam, port, m1, m2, c[RP_QUEUED], a, i, mig, ev;
	char buf[16];

	ASSERT_LT(0, read_in(nsb, IPV4_SYSCTL "tcp_migrate_req", buf,
			     sizeof(buf)));
	EXPECT_EQ(0, atoi(buf)) TH_LOG("Linux's tcp_migrate_req default");
	ASSERT_LT(0, read_in(nsb, XTCP_SYSCTL_DIR "migrate_req", buf,
			     sizeof(buf)));
	EXPECT_EQ(0, atoi(buf)) TH_LOG("xtcp's migrate_req default");

	for (mig = 0; mig < 2; mig++) {
		if (mig) {
			ASSERT_EQ(0, write_in(nsb, IPV4_SYSCTL "tcp_migrate_req",
					      "1"));
			ASSERT_LT(0, read_in(nsb, XTCP_SYSCTL_DIR "migrate_req",
					     buf, sizeof(buf)));
			EXPECT_EQ(1, atoi(buf)) TH_LOG("migrate_req does not follow");
		}
		FOR_EACH_STACK(fam) {
			port = port_of(fam) + 10 * mig;
			m1 = b_sock(_metadata, &self->e, fam, 0);
			m2 = b_sock(_metadata, &self->e, fam, 0);
			ASSERT_EQ(0, set_reuseport(m1, fam, 1));
			ASSERT_EQ(0, set_reuseport(m2, fam, 1));
			ASSERT_EQ(0, bind_err(m1, "0.0.0.0", port));
			ASSERT_EQ(0, listen(m1, 8));
			/* m1 alone: every connection is its. */
			for (i = 0; i < RP_QUEUED; i++)
				c[i] = a_client(_metadata, port);
			usleep(300 * 1000);
			ASSERT_TRUE(poll_one(m1, POLLIN, 3000) & POLLIN);
			ASSERT_EQ(0, bind_err(m2, "0.0.0.0", port));
			ASSERT_EQ(0, listen(m2, 8));
			close(m1);

			for (i = 0; i < RP_QUEUED; i++) {
				if (mig) {
					a = accept_within(m2, 5000, NULL);
					EXPECT_LE(0, a)
						TH_LOG("%s, migrate_req 1: connection %d "
						       "not taken by the other member",
						       fam_name(fam), i);
					EXPECT_EQ(EAGAIN, recv_errno(c[i]))
						TH_LOG("%s, migrate_req 1: client %d",
						       fam_name(fam), i);
					if (a >= 0)
						close(a);
					continue;
				}
				ev = poll_one(c[i], POLLIN, 5000);
				EXPECT_TRUE(ev & (POLLIN | POLLERR))
					TH_LOG("%s: client %d: revents 0x%x", fam_name(fam),
					       i, ev);
				EXPECT_EQ(ECONNRESET, recv_errno(c[i]))
					TH_LOG("%s, migrate_req 0: client %d", fam_name(fam), i);
			}
			if (!mig)
				EXPECT_EQ(0, poll_one(m2, POLLIN, 300))
					TH_LOG("%s, migrate_req 0: the other member "
					       "got a connection",
					       fam_name(fam));
			close_sockets(0);
		}
	}
}

/* ---- the scripted peer: listeners in A, the test plays the client ---- */

FIXTURE(scripted2) {
	struct peer p;
};

FIXTURE_SETUP(scripted2)
{
	const char *err = peer_setup(&self->p);

	ASSERT_EQ(NULL, err) TH_LOG("setup: %s", err);
}

FIXTURE_TEARDOWN(scripted2)
{
	EXPECT_GE(self->p.refcnt, peer_teardown(&self->p));
}

#define PEER_SPORT	40000
#define PEER_ISN	0x1a2b3c4dU

/* A listener of @family in A (the test's namespace) on 0.0.0.0:@port. */
static int a_listener(struct __test_metadata *_metadata, int family, int port)
{
	int fd = socket(family, SOCK_STREAM, 0), err;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1));
	err = bind_err(fd, "0.0.0.0", port);
	ASSERT_EQ(0, err) TH_LOG("%s: bind %d: %s", fam_name(family), port,
				 strerror(err));
	ASSERT_EQ(0, listen(fd, 8));
	return fd;
}

/*
 * Close @fd with a RST (SO_LINGER 0): nobody answers for the peer, so a
 * FIN would leave an orphan retransmitting past the test.
 */
static void abort_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* A segment from the peer's @sport to @dport. */
static void seg(struct pseg *s, unsigned int sport, unsigned int dport,
		unsigned int flags, uint32_t seq, uint32_t ack)
{
	memset(s, 0, offsetof(struct pseg, data));
	s->sport = sport;
	s->dport = dport;
	s->seq = seq;
	s->ack = ack;
	s->flags = flags;
	s->win = 65535;
}

/* The next segment from the listener's @lport to the peer's @pport. */
static int next_from(struct peer *p, struct pseg *s, unsigned int lport,
		     unsigned int pport, int ms)
{
	long long end = now_ms() + ms;
	int ret;

	do {
		long long left = end - now_ms();

		ret = peer_recv(p, s, left > 0 ? left : 0);
		if (ret <= 0)
			return ret;
	} while (s->sport != lport || s->dport != pport);
	return 1;
}

/*
 * The value of TcpExt counter @name in the calling thread's namespace
 * (/proc/net/netstat: a line of names, then one of values), or -1.
 */
static long long tcpext(const char *name)
{
	static const char val_sep[] = { ' ', '\n', '\0' };
	static char buf[16384];
	char *names, *vals, *n, *v, *sn, *sv;

	if (read_file("/proc/thread-self/net/netstat", buf, sizeof(buf)) < 0)
		return -1;
	names = strstr(buf, "TcpExt: ");
	if (!names)
		return -1;
	vals = strstr(names + 1, "TcpExt: ");
	if (!vals)
		return -1;
	*strchr(names, '\n') = '\0';
	n = strtok_r(names + 8, " ", &sn);
	v = strtok_r(vals + 8, val_sep, &sv);
	for (; n && v; n = strtok_r(NULL, " ", &sn),
	     v = strtok_r(NULL, val_sep, &sv))
		if (!strcmp(n, name))
			return atoll(v);
	return -1;
}

/* Counter @name of @family's stack: TcpExt for Linux, xtcp_stat for xtcp. */
static long long stack_stat(int family, const char *name)
{
	return family == AF_INET ? tcpext(name) : xtcp_stat(name);
}

/* ---- 7. requests when their listener closes ---- */

/*
 * Two requests (SYN_RECV) on a listener that closes: the first one's
 * ACK then meets no listener and is answered with a RST (at the ACK's
 * acknowledgment number, as for any segment to a port nobody listens
 * on); the second one's SYN-ACK is not sent again (its timer finds the
 * listener closed), and its late ACK gets a RST too.
 */
TEST_F(scripted2, requests_after_close)
{
	static struct pseg s, sa[2], r;
	int fam, lport, lfd, i, got;

	FOR_EACH_STACK(fam) {
		lport = port_of(fam);
		lfd = a_listener(_metadata, fam, lport);
		for (i = 0; i < 2; i++) {
			seg(&s, PEER_SPORT + i, lport, SEG_SYN, PEER_ISN + i, 0);
			s.optlen = opt_mss(s.opt, 1460);
			ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
			ASSERT_EQ(1, next_from(&self->p, &sa[i], lport,
					       PEER_SPORT + i, 3000))
				TH_LOG("%s: no SYN-ACK for SYN %d", fam_name(fam), i);
			ASSERT_EQ(SEG_SYN | SEG_ACK, sa[i].flags);
		}
		close(lfd);

		seg(&s, PEER_SPORT, lport, SEG_ACK, PEER_ISN + 1, sa[0].seq + 1);
		ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
		ASSERT_EQ(1, next_from(&self->p, &r, lport, PEER_SPORT, 3000))
			TH_LOG("%s: no reply to the first request's ACK",
			       fam_name(fam));
		EXPECT_EQ(SEG_RST, r.flags) TH_LOG("%s: flags 0x%x", fam_name(fam),
						   r.flags);
		EXPECT_EQ(sa[0].seq + 1, r.seq) TH_LOG("%s", fam_name(fam));

		got = next_from(&self->p, &r, lport, PEER_SPORT + 1, 2500);
		EXPECT_EQ(0, got)
			TH_LOG("%s: the second request sent flags 0x%x after its listener closed",
			       fam_name(fam), r.flags);
		seg(&s, PEER_SPORT + 1, lport, SEG_ACK, PEER_ISN + 2,
		    sa[1].seq + 1);
		ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
		ASSERT_EQ(1, next_from(&self->p, &r, lport, PEER_SPORT + 1, 3000))
			TH_LOG("%s: no reply to the second request's ACK",
			       fam_name(fam));
		EXPECT_EQ(SEG_RST, r.flags) TH_LOG("%s: flags 0x%x", fam_name(fam),
						   r.flags);
		EXPECT_EQ(sa[1].seq + 1, r.seq);
	}
}

/* ---- 8. SYN cookies ---- */

/* net.ipv4.tcp_syncookies and net.xtcp.syncookies of A to @val. */
static void syncookies(struct __test_metadata *_metadata, const char *val)
{
	ASSERT_EQ(0, write_file(IPV4_SYSCTL "tcp_syncookies", val));
	ASSERT_EQ(0, write_file(XTCP_SYSCTL_DIR "syncookies", val));
}

/*
 * syncookies 2: a SYN's SYN-ACK is a cookie. An ACK whose
 * acknowledgment is not the cookie + 1 is answered with a RST at that
 * acknowledgment, counts in SyncookiesFailed (TcpExt on Linux), and
 * makes no connection; the right ACK then does (SyncookiesRecv).
 */
TEST_F(scripted2, cookie_bad_ack)
{
	static struct pseg s, sa, r;
	long long sent0, failed0, recv0;
	int fam, lport, lfd, afd;
	uint32_t bad;

	syncookies(_metadata, "2");
	FOR_EACH_STACK(fam) {
		lport = port_of(fam);
		lfd = a_listener(_metadata, fam, lport);
		sent0 = stack_stat(fam, "SyncookiesSent");
		failed0 = stack_stat(fam, "SyncookiesFailed");
		recv0 = stack_stat(fam, "SyncookiesRecv");
		ASSERT_LE(0, sent0) TH_LOG("%s: no SyncookiesSent", fam_name(fam));
		ASSERT_LE(0, failed0);
		ASSERT_LE(0, recv0);

		seg(&s, PEER_SPORT, lport, SEG_SYN, PEER_ISN, 0);
		s.optlen = opt_mss(s.opt, 1460);
		ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
		ASSERT_EQ(1, next_from(&self->p, &sa, lport, PEER_SPORT, 3000));
		ASSERT_EQ(SEG_SYN | SEG_ACK, sa.flags);
		EXPECT_EQ(sent0 + 1, stack_stat(fam, "SyncookiesSent"))
			TH_LOG("%s: the SYN-ACK was no cookie", fam_name(fam));

		bad = sa.seq + 1 + 0x123457;
		seg(&s, PEER_SPORT, lport, SEG_ACK, PEER_ISN + 1, bad);
		ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
		ASSERT_EQ(1, next_from(&self->p, &r, lport, PEER_SPORT, 3000))
			TH_LOG("%s: no reply to a bad cookie", fam_name(fam));
		EXPECT_EQ(SEG_RST, r.flags) TH_LOG("%s: flags 0x%x", fam_name(fam),
						   r.flags);
		EXPECT_EQ(bad, r.seq);
		EXPECT_EQ(failed0 + 1, stack_stat(fam, "SyncookiesFailed"))
			TH_LOG("%s: SyncookiesFailed", fam_name(fam));
		EXPECT_EQ(recv0, stack_stat(fam, "SyncookiesRecv"));
		EXPECT_EQ(0, poll_one(lfd, POLLIN, 300))
			TH_LOG("%s: a bad cookie made a connection", fam_name(fam));

		seg(&s, PEER_SPORT, lport, SEG_ACK, PEER_ISN + 1, sa.seq + 1);
		ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
		afd = accept_within(lfd, 3000, NULL);
		EXPECT_LE(0, afd) TH_LOG("%s: the right cookie made no connection",
					 fam_name(fam));
		EXPECT_EQ(recv0 + 1, stack_stat(fam, "SyncookiesRecv"));
		EXPECT_EQ(failed0 + 1, stack_stat(fam, "SyncookiesFailed"));
		close(lfd);
	}
}

#define COOKIE_PEER_MSS	1400	/* not in the cookie's MSS table */

/*
 * syncookies 2, a SYN offering MSS 1400, SACK, timestamps and window
 * scale 7: the cookie brings back an MSS from the table (536, 1300,
 * 1440, 1460), the largest not above 1400, and, through the TSecr,
 * window scale 7 and SACK. The accepted socket's TCP_INFO says the
 * same on xtcp as on Linux's TCP.
 */
TEST_F(scripted2, cookie_decode_options)
{
	static struct pseg s, sa;
	struct tcp_info ti[2];
	int fam, lport, lfd, afd, wscale[2];
	socklen_t len;
	unsigned int n;

	syncookies(_metadata, "2");
	FOR_EACH_STACK(fam) {
		lport = port_of(fam);
		lfd = a_listener(_metadata, fam, lport);
		seg(&s, PEER_SPORT, lport, SEG_SYN, PEER_ISN, 0);
		n = opt_mss(s.opt, COOKIE_PEER_MSS);
		n += opt_sackok(s.opt + n);
		n += opt_ts(s.opt + n, 1000, 0);
		n += opt_wscale(s.opt + n, 7);
		s.optlen = n;
		ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
		ASSERT_EQ(1, next_from(&self->p, &sa, lport, PEER_SPORT, 3000));
		ASSERT_EQ(SEG_SYN | SEG_ACK, sa.flags);
		EXPECT_TRUE(sa.ts) TH_LOG("%s: no timestamps in the SYN-ACK",
					  fam_name(fam));
		EXPECT_EQ(1000U, sa.tsecr);

		seg(&s, PEER_SPORT, lport, SEG_ACK, PEER_ISN + 1, sa.seq + 1);
		s.win = 1000;
		s.optlen = opt_ts(s.opt, 1001, sa.tsval);
		ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
		afd = accept_within(lfd, 3000, NULL);
		ASSERT_LE(0, afd) TH_LOG("%s: the cookie made no connection",
					 fam_name(fam));
		len = sizeof(ti[_k]);
		memset(&ti[_k], 0, sizeof(ti[_k]));
		ASSERT_EQ(0, getsockopt(afd, IPPROTO_TCP, TCP_INFO, &ti[_k], &len));
		TH_LOG("%s: options 0x%x snd_wscale %u rcv_wscale %u snd_mss %u advmss %u",
		       fam_name(fam), ti[_k].tcpi_options, ti[_k].tcpi_snd_wscale,
		       ti[_k].tcpi_rcv_wscale, ti[_k].tcpi_snd_mss,
		       ti[_k].tcpi_advmss);
		wscale[_k] = ti[_k].tcpi_snd_wscale;
		EXPECT_EQ(7, wscale[_k]) TH_LOG("%s", fam_name(fam));
		EXPECT_TRUE(ti[_k].tcpi_options & TCPI_OPT_SACK)
			TH_LOG("%s: no SACK", fam_name(fam));
		EXPECT_TRUE(ti[_k].tcpi_options & TCPI_OPT_TIMESTAMPS);
		EXPECT_TRUE(ti[_k].tcpi_options & TCPI_OPT_WSCALE);
		/* The table's 1300, less the timestamp option. */
		EXPECT_EQ(1300U - 12, ti[_k].tcpi_snd_mss)
			TH_LOG("%s: snd_mss %u", fam_name(fam), ti[_k].tcpi_snd_mss);
		abort_close(afd);
		close(lfd);
	}
	EXPECT_EQ(wscale[0], wscale[1]);
	EXPECT_EQ(ti[0].tcpi_options, ti[1].tcpi_options);
	EXPECT_EQ(ti[0].tcpi_snd_mss, ti[1].tcpi_snd_mss);
}

/* ---- 9. a SYN on a TIME_WAIT entry ---- */

/*
 * A connection with timestamps, closed by the server first, leaves a
 * TIME_WAIT entry on the listener's port. A SYN with a lower sequence
 * number and an older timestamp is an old duplicate (PAWS): the entry
 * answers with its ACK. One with a lower sequence number but a newer
 * timestamp is a new connection (RFC 6191, tcp_timewait_state_process()):
 * the listener's SYN-ACK, on xtcp with the ISN the entry chose (its
 * snd_nxt + 65535 + 2), and the handshake completes.
 */
TEST_F(scripted2, time_wait_syn_newer_timestamp)
{
	static struct pseg s, sa, r;
	uint32_t snd_nxt, rcv_nxt, xts, isn2 = PEER_ISN - 100000;
	int fam, lport, lfd, afd;

	FOR_EACH_STACK(fam) {
		lport = port_of(fam);
		lfd = a_listener(_metadata, fam, lport);
		seg(&s, PEER_SPORT, lport, SEG_SYN, PEER_ISN, 0);
		s.optlen = opt_mss(s.opt, 1460);
		s.optlen += opt_ts(s.opt + s.optlen, 1000, 0);
		ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
		ASSERT_EQ(1, next_from(&self->p, &sa, lport, PEER_SPORT, 3000));
		ASSERT_TRUE(sa.ts);
		seg(&s, PEER_SPORT, lport, SEG_ACK, PEER_ISN + 1, sa.seq + 1);
		s.optlen = opt_ts(s.opt, 1001, sa.tsval);
		ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
		afd = accept_within(lfd, 3000, NULL);
		ASSERT_LE(0, afd) TH_LOG("%s: not accepted", fam_name(fam));

		/* The server closes first: its FIN, the peer's ACK and FIN. */
		close(afd);
		do {
			ASSERT_EQ(1, next_from(&self->p, &r, lport, PEER_SPORT,
					       3000))
				TH_LOG("%s: no FIN", fam_name(fam));
		} while (!(r.flags & SEG_FIN));
		snd_nxt = r.seq + 1;
		rcv_nxt = PEER_ISN + 2;
		xts = r.tsval;
		seg(&s, PEER_SPORT, lport, SEG_ACK | SEG_FIN, PEER_ISN + 1, snd_nxt);
		s.optlen = opt_ts(s.opt, 1002, xts);
		ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
		ASSERT_EQ(1, next_from(&self->p, &r, lport, PEER_SPORT, 3000))
			TH_LOG("%s: no ACK of the peer's FIN", fam_name(fam));
		EXPECT_EQ(SEG_ACK, r.flags);
		EXPECT_EQ(rcv_nxt, r.ack);
		usleep(600 * 1000);	/* past the TIME_WAIT ACK's rate limit */
		peer_drain(&self->p);

		/* A lower sequence number, an older timestamp: the ACK. */
		seg(&s, PEER_SPORT, lport, SEG_SYN, isn2, 0);
		s.optlen = opt_mss(s.opt, 1460);
		s.optlen += opt_ts(s.opt + s.optlen, 900, 0);
		ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
		ASSERT_EQ(1, next_from(&self->p, &r, lport, PEER_SPORT, 3000))
			TH_LOG("%s: no reply to an old SYN", fam_name(fam));
		EXPECT_EQ(SEG_ACK, r.flags) TH_LOG("%s: flags 0x%x", fam_name(fam),
						   r.flags);
		EXPECT_EQ(snd_nxt, r.seq);
		EXPECT_EQ(rcv_nxt, r.ack);

		/* A lower sequence number, a newer timestamp: a connection. */
		seg(&s, PEER_SPORT, lport, SEG_SYN, isn2, 0);
		s.optlen = opt_mss(s.opt, 1460);
		s.optlen += opt_ts(s.opt + s.optlen, 5000, 0);
		ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
		ASSERT_EQ(1, next_from(&self->p, &sa, lport, PEER_SPORT, 3000))
			TH_LOG("%s: no reply to a new SYN", fam_name(fam));
		EXPECT_EQ(SEG_SYN | SEG_ACK, sa.flags)
			TH_LOG("%s: flags 0x%x", fam_name(fam), sa.flags);
		EXPECT_EQ(isn2 + 1, sa.ack);
		/*
		 * The ISN tcp_timewait_state_process() chooses. Linux 6.1
		 * loses it on the way to the listener (tcp_v4_rcv() goes
		 * back to tcp_v4_fill_cb(), which zeroes tcp_tw_isn) and
		 * draws a fresh one; xtcp keeps it (Documentation/xtcp.rst,
		 * "Differences").
		 */
		if (fam != AF_INET)
			EXPECT_EQ(snd_nxt + 65535 + 2, sa.seq)
				TH_LOG("%s: ISN %u after snd_nxt %u", fam_name(fam),
				       sa.seq, snd_nxt);
		seg(&s, PEER_SPORT, lport, SEG_ACK, isn2 + 1, sa.seq + 1);
		s.optlen = opt_ts(s.opt, 5001, sa.tsval);
		ASSERT_EQ(0, peer_send(&self->p, &s, NULL));
		afd = accept_within(lfd, 3000, NULL);
		EXPECT_LE(0, afd) TH_LOG("%s: the new SYN made no connection",
					 fam_name(fam));
		if (afd >= 0)
			abort_close(afd);
		close(lfd);
		peer_drain(&self->p);
	}
}

TEST_HARNESS_MAIN
