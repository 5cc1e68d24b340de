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
 */
#include <linux/seq_file.h>
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
