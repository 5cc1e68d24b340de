// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: /proc/net/xtcp, the namespace's sockets.
 *
 * One line per listener, request, connection and TIME_WAIT entry:
 * "local remote state", addresses as a.b.c.d:port and the state by its
 * RFC 9293 name (a request shows as SYN_RECV, as Linux's /proc/net/tcp
 * lists its request sockets in state 03). A listener's line goes on
 * with its queues: "acceptq <queued>/<backlog> requests <n>". Both tables are walked under
 * RCU; entries that come and go meanwhile may or may not be listed.
 *
 * /proc/net/xtcp_ss lists the same entries with the figures of ss -tanei
 * (below), for tools/xtcp-ss.
 */
#include <linux/seq_file.h>
#include <linux/tcp.h>
#include <net/tcp_states.h>

#include "xtcp.h"

static const char *const xtcp_state_names[] = {
	[TCP_ESTABLISHED]	= "ESTABLISHED",
	[TCP_SYN_SENT]		= "SYN_SENT",
	[TCP_SYN_RECV]		= "SYN_RECV",
	[TCP_FIN_WAIT1]		= "FIN_WAIT1",
	[TCP_FIN_WAIT2]		= "FIN_WAIT2",
	[TCP_TIME_WAIT]		= "TIME_WAIT",
	[TCP_CLOSE]		= "CLOSE",
	[TCP_CLOSE_WAIT]	= "CLOSE_WAIT",
	[TCP_LAST_ACK]		= "LAST_ACK",
	[TCP_LISTEN]		= "LISTEN",
	[TCP_CLOSING]		= "CLOSING",
};

static void xtcp_proc_line(struct seq_file *seq, __be32 laddr, __be16 lport,
			   __be32 raddr, __be16 rport, int state)
{
	seq_printf(seq, "%pI4:%u %pI4:%u %s\n", &laddr, ntohs(lport), &raddr,
		   ntohs(rport),
		   state < ARRAY_SIZE(xtcp_state_names) &&
		   xtcp_state_names[state] ? xtcp_state_names[state] : "?");
}

static void xtcp_proc_listener(struct sock *sk, void *arg)
{
	struct seq_file *seq = arg;
	__be32 laddr = sk->sk_rcv_saddr;

	/* A listener's queues: accepted-to-be / backlog, and requests. */
	seq_printf(seq, "%pI4:%u 0.0.0.0:0 LISTEN acceptq %u/%u requests %d\n",
		   &laddr, ntohs(inet_sk(sk)->inet_sport),
		   READ_ONCE(sk->sk_ack_backlog),
		   READ_ONCE(sk->sk_max_ack_backlog),
		   atomic_read(&xtcp_sk(sk)->req_qlen));
}

static void xtcp_proc_hnode(struct xtcp_hnode *hn, void *arg)
{
	int state;

	switch (hn->kind) {
	case XTCP_HNODE_SOCK:
		state = inet_sk_state_load(&container_of(hn, struct xtcp_sock,
							 hnode)->inet.sk);
		break;
	case XTCP_HNODE_TW:
		state = TCP_TIME_WAIT;
		break;
	default:
		state = TCP_SYN_RECV;
	}
	xtcp_proc_line(arg, hn->laddr, hn->lport, hn->raddr, hn->rport, state);
}

/**
 * xtcp_proc_show() - /proc/net/xtcp
 * @seq: the file
 * @v: unused
 *
 * Return: 0.
 */
int xtcp_proc_show(struct seq_file *seq, void *v)
{
	struct net *net = seq_file_single_net(seq);

	seq_puts(seq, "local remote state\n");
	xtcp_listen_for_each(net, xtcp_proc_listener, seq);
	xtcp_ehash_for_each(net, xtcp_proc_hnode, seq);
	return 0;
}

/*
 * /proc/net/xtcp_ss: what ss -tanei shows, for tools/xtcp-ss. A header
 * line names the columns; then one line per listener, request,
 * connection and TIME_WAIT entry with every column, separated by single
 * spaces:
 *
 *   kind          sock, req (a request: SYN received, no ACK yet) or tw
 *   state         as in /proc/net/xtcp
 *   recvq sendq   as ss: a listener's accept queue and backlog; else
 *                 bytes received not yet read, and bytes not yet acked
 *   local remote  a.b.c.d:port
 *   timer         off, on (retransmission), keepalive, timewait or
 *                 persist (window probes), with timer_ms until it fires
 *                 and timer_count (retransmissions, or probes sent)
 *   uid ino       the owner's uid and the socket's inode (0 if none)
 *   cookie        SO_COOKIE's value, 0 until one was asked for
 *   the rest      struct tcp_info's figures (TCP_INFO): times in us but
 *                 lastsnd, lastrcv and lastack in ms; options is
 *                 tcpi_options' bits; 0 for requests and TIME_WAIT
 *                 entries; complete is 0 when the socket was owned by a
 *                 process and unacked, sacked and retrans are missing
 *                 (xtcp_info_peek())
 *
 * Lock rule: the tables are walked under rcu_read_lock() as for
 * /proc/net/xtcp; sockets are SOCK_RCU_FREE, TIME_WAIT entries and
 * requests are freed after a grace period, so each entry stays readable
 * while it is printed. Its fields are read without the socket lock
 * (READ_ONCE where a writer may be at work), as Linux's /proc/net/tcp;
 * only xtcp_info_peek() takes the socket's spinlock, briefly, with
 * bottom halves off. Nothing here sleeps. No kernel pointer is printed.
 */
#define XTCP_SS_HEADER							\
	"kind state recvq sendq local remote timer timer_ms timer_count "	\
	"uid ino cookie options snd_wscale rcv_wscale rto ato mss pmtu "	\
	"rcvmss advmss cwnd ssthresh rtt rttvar minrtt bytes_sent "	\
	"bytes_retrans bytes_acked bytes_received segs_out segs_in "	\
	"data_segs_out data_segs_in lastsnd lastrcv lastack unacked "	\
	"sacked retrans total_retrans reordering rcv_space rcv_ssthresh "	\
	"notsent delivered snd_wnd backoff probes ca_state complete\n"

enum xtcp_ss_timer {
	XTCP_SS_TIMER_OFF,
	XTCP_SS_TIMER_ON,
	XTCP_SS_TIMER_KEEPALIVE,
	XTCP_SS_TIMER_TIMEWAIT,
	XTCP_SS_TIMER_PERSIST,
};

static const char *const xtcp_ss_timer_names[] = {
	[XTCP_SS_TIMER_OFF]		= "off",
	[XTCP_SS_TIMER_ON]		= "on",
	[XTCP_SS_TIMER_KEEPALIVE]	= "keepalive",
	[XTCP_SS_TIMER_TIMEWAIT]	= "timewait",
	[XTCP_SS_TIMER_PERSIST]		= "persist",
};

/**
 * struct xtcp_ss_row - one line of /proc/net/xtcp_ss
 * @kind: "sock", "req" or "tw"
 * @state: TCP_* state
 * @recvq: Recv-Q
 * @sendq: Send-Q
 * @laddr: local address
 * @lport: local port, network order
 * @raddr: remote address
 * @rport: remote port, network order
 * @timer: enum xtcp_ss_timer
 * @timer_ms: until the timer fires
 * @timer_count: retransmissions or probes
 * @uid: the owner
 * @ino: the socket's inode
 * @cookie: the socket's cookie
 * @info: TCP_INFO, zeroed when there is none
 * @complete: @info has the write-queue figures
 */
struct xtcp_ss_row {
	const char	*kind;
	int		state;
	u32		recvq;
	u32		sendq;
	__be32		laddr;
	__be16		lport;
	__be32		raddr;
	__be16		rport;
	int		timer;
	unsigned int	timer_ms;
	unsigned int	timer_count;
	kuid_t		uid;
	unsigned long	ino;
	u64		cookie;
	struct tcp_info	info;
	bool		complete;
};

static void xtcp_ss_print(struct seq_file *seq, const struct xtcp_ss_row *r)
{
	const struct tcp_info *i = &r->info;
	int state = r->state;

	seq_printf(seq, "%s %s %u %u %pI4:%u %pI4:%u %s %u %u %u %lu %llu ",
		   r->kind,
		   state < ARRAY_SIZE(xtcp_state_names) &&
		   xtcp_state_names[state] ? xtcp_state_names[state] : "?",
		   r->recvq, r->sendq, &r->laddr, ntohs(r->lport), &r->raddr,
		   ntohs(r->rport), xtcp_ss_timer_names[r->timer], r->timer_ms,
		   r->timer_count,
		   from_kuid_munged(seq_user_ns(seq), r->uid), r->ino,
		   r->cookie);
	seq_printf(seq, "%u %u %u %u %u %u %u %u %u %u %u %u %u %u ",
		   i->tcpi_options, i->tcpi_snd_wscale, i->tcpi_rcv_wscale,
		   i->tcpi_rto, i->tcpi_ato, i->tcpi_snd_mss, i->tcpi_pmtu,
		   i->tcpi_rcv_mss, i->tcpi_advmss, i->tcpi_snd_cwnd,
		   i->tcpi_snd_ssthresh, i->tcpi_rtt, i->tcpi_rttvar,
		   i->tcpi_min_rtt);
	seq_printf(seq, "%llu %llu %llu %llu %u %u %u %u %u %u %u ",
		   i->tcpi_bytes_sent, i->tcpi_bytes_retrans,
		   i->tcpi_bytes_acked, i->tcpi_bytes_received,
		   i->tcpi_segs_out, i->tcpi_segs_in, i->tcpi_data_segs_out,
		   i->tcpi_data_segs_in, i->tcpi_last_data_sent,
		   i->tcpi_last_data_recv, i->tcpi_last_ack_recv);
	seq_printf(seq, "%u %u %u %u %u %u %u %u %u %u %u %u %u %d\n",
		   i->tcpi_unacked, i->tcpi_sacked, i->tcpi_retrans,
		   i->tcpi_total_retrans, i->tcpi_reordering,
		   i->tcpi_rcv_space, i->tcpi_rcv_ssthresh,
		   i->tcpi_notsent_bytes, i->tcpi_delivered, i->tcpi_snd_wnd,
		   i->tcpi_backoff, i->tcpi_probes, i->tcpi_ca_state,
		   r->complete);
}

/* Milliseconds until @t fires, 0 if it is not pending. */
static unsigned int xtcp_ss_timer_ms(const struct timer_list *t)
{
	if (!timer_pending(t))
		return 0;
	return jiffies_delta_to_msecs(READ_ONCE(t->expires) - jiffies);
}

/* A full socket's row: queues, timer, owner and TCP_INFO. */
static void xtcp_ss_sock(struct seq_file *seq, struct sock *sk,
			 struct xtcp_ss_row *r)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	r->kind = "sock";
	r->complete = xtcp_info_peek(sk, &r->info);
	r->state = r->info.tcpi_state;
	if (r->state == TCP_LISTEN) {
		r->recvq = READ_ONCE(sk->sk_ack_backlog);
		r->sendq = READ_ONCE(sk->sk_max_ack_backlog);
	} else {
		r->recvq = max_t(int, READ_ONCE(xs->rcv_nxt) -
				 READ_ONCE(xs->copied_seq), 0);
		r->sendq = READ_ONCE(xs->write_seq) - READ_ONCE(xs->snd_una);
	}

	/* As get_tcp4_sock(): the retransmission timer, else keepalive. */
	if (timer_pending(&xs->retrans_timer)) {
		if (READ_ONCE(xs->snd_una) == READ_ONCE(xs->snd_max) &&
		    READ_ONCE(xs->send_head)) {
			r->timer = XTCP_SS_TIMER_PERSIST;
			r->timer_count = READ_ONCE(xs->probes);
		} else {
			r->timer = XTCP_SS_TIMER_ON;
			r->timer_count = READ_ONCE(xs->retransmits);
		}
		r->timer_ms = xtcp_ss_timer_ms(&xs->retrans_timer);
	} else if (timer_pending(&sk->sk_timer)) {
		r->timer = XTCP_SS_TIMER_KEEPALIVE;
		r->timer_count = READ_ONCE(xs->probes);
		r->timer_ms = xtcp_ss_timer_ms(&sk->sk_timer);
	}
	r->uid = sock_i_uid(sk);
	r->ino = sock_i_ino(sk);
	r->cookie = atomic64_read(&sk->sk_cookie);
	xtcp_ss_print(seq, r);
}

static void xtcp_ss_listener(struct sock *sk, void *arg)
{
	struct xtcp_ss_row r = {};

	r.laddr = sk->sk_rcv_saddr;
	r.lport = inet_sk(sk)->inet_sport;
	xtcp_ss_sock(arg, sk, &r);
}

static void xtcp_ss_hnode(struct xtcp_hnode *hn, void *arg)
{
	struct xtcp_ss_row r = {
		.laddr = hn->laddr,
		.lport = hn->lport,
		.raddr = hn->raddr,
		.rport = hn->rport,
	};
	struct xtcp_request *req;
	struct xtcp_tw *tw;

	switch (hn->kind) {
	case XTCP_HNODE_SOCK:
		xtcp_ss_sock(arg, &container_of(hn, struct xtcp_sock,
						hnode)->inet.sk, &r);
		return;
	case XTCP_HNODE_TW:
		tw = container_of(hn, struct xtcp_tw, hnode);
		r.kind = "tw";
		r.state = TCP_TIME_WAIT;
		r.timer = XTCP_SS_TIMER_TIMEWAIT;
		r.timer_ms = xtcp_ss_timer_ms(&tw->timer);
		r.uid = GLOBAL_ROOT_UID;
		break;
	default:
		/* As Linux's request sockets: the listener's owner, no inode. */
		req = container_of(hn, struct xtcp_request, hnode);
		r.kind = "req";
		r.state = TCP_SYN_RECV;
		r.timer = XTCP_SS_TIMER_ON;
		r.timer_ms = xtcp_ss_timer_ms(&req->timer);
		r.timer_count = READ_ONCE(req->num_timeout);
		r.uid = sock_i_uid(req->listener);
	}
	xtcp_ss_print(arg, &r);
}

/**
 * xtcp_ss_show() - /proc/net/xtcp_ss
 * @seq: the file
 * @v: unused
 *
 * Listeners first, then the established table, as /proc/net/xtcp.
 *
 * Return: 0.
 */
int xtcp_ss_show(struct seq_file *seq, void *v)
{
	struct net *net = seq_file_single_net(seq);

	seq_puts(seq, XTCP_SS_HEADER);
	xtcp_listen_for_each(net, xtcp_ss_listener, seq);
	xtcp_ehash_for_each(net, xtcp_ss_hnode, seq);
	return 0;
}
