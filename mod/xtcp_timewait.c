// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: TIME_WAIT.
 *
 * After an active close the connection's socket is freed and a small
 * struct xtcp_tw takes its place in the established table for
 * net.xtcp.tw_timeout seconds (60 by default, 2 MSL as Linux): it keeps
 * the 4-tuple (and its mark in the destination's port map), answers a
 * retransmitted FIN with an ACK, and carries what xtcp_twsk_unique()
 * needs to let a new connection take the 4-tuple over early.
 *
 * References: the table holds one while the entry is hashed, the timer
 * one while it is pending; lookups take their own. The entry is freed
 * after an RCU grace period, so lookups under RCU can still read it.
 */
#include <linux/slab.h>
#include <net/tcp.h>

#include "xtcp.h"

/**
 * xtcp_tw_kill() - end a TIME_WAIT entry before its time
 * @tw: the entry; the caller holds a reference
 *
 * Takes it out of the table and stops its timer. Must not be called
 * from the entry's own timer.
 */
void xtcp_tw_kill(struct xtcp_tw *tw)
{
	if (xtcp_tw_unhash(tw))
		xtcp_tw_put(tw);
	if (del_timer_sync(&tw->timer))
		xtcp_tw_put(tw);
}

static void xtcp_tw_expire(struct timer_list *t)
{
	struct xtcp_tw *tw = from_timer(tw, t, timer);

	if (xtcp_tw_unhash(tw))
		xtcp_tw_put(tw);
	xtcp_tw_put(tw);
}

/**
 * xtcp_time_wait() - the active close is complete: enter TIME_WAIT
 * @sk: the socket, owned by the caller, who also holds a reference
 *
 * The socket is closed (xtcp_done()); a TIME_WAIT entry replaces it in
 * the table. Without memory for the entry the connection just closes,
 * as Linux does.
 */
void xtcp_time_wait(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_tw *tw;

	tw = kzalloc(sizeof(*tw), GFP_ATOMIC);
	if (tw) {
		tw->hnode = xs->hnode;
		tw->hnode.kind = XTCP_HNODE_TW;
		tw->hnode.node.pprev = NULL;	/* unhashed */
		refcount_set(&tw->refcnt, 2);	/* the table, the timer */
		tw->snd_nxt = xs->snd_max;
		tw->rcv_nxt = xs->rcv_nxt;
		tw->window = min_t(u32, xs->rcv_wnd >> xs->rcv_wscale, U16_MAX);
		tw->tstamp_ok = xs->tstamp_ok;
		if (xs->tstamp_ok) {
			tw->ts_recent = xs->ts_recent;
			tw->ts_recent_stamp = xs->ts_recent_stamp ? : 1;
		}
		tw->ts_offset = xs->ts_offset;
		timer_setup(&tw->timer, xtcp_tw_expire, 0);

		if (xtcp_ehash_replace(sk, tw)) {
			mod_timer(&tw->timer, jiffies +
				  READ_ONCE(xn->sysctl_tw_timeout) * HZ);
			XTCP_INC_STATS(sock_net(sk), XTCP_MIB_TIMEWAIT);
		} else {
			kfree(tw);
		}
	}
	xtcp_done(sk);
}

/**
 * xtcp_tw_rcv() - a segment for a TIME_WAIT entry
 * @net: its namespace
 * @tw: the entry, referenced by the caller
 * @skb: the segment, data at its TCP header, checksum verified
 *
 * As Linux in TIME_WAIT: a RST at rcv_nxt ends the entry (RFC 1337's
 * protection is off by default in Linux too); a SYN meets no listener
 * here and gets a RST; anything else, a retransmitted FIN in
 * particular, is acknowledged again, and a FIN restarts the timer.
 */
void xtcp_tw_rcv(struct net *net, struct xtcp_tw *tw, struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);

	if (th->rst) {
		if (ntohl(th->seq) == tw->rcv_nxt)
			xtcp_tw_kill(tw);
		return;
	}
	if (th->syn && !th->ack) {
		xtcp_send_rst_reply(net, skb);
		return;
	}
	if (th->fin)
		mod_timer_pending(&tw->timer, jiffies +
				  READ_ONCE(xtcp_pernet(net)->sysctl_tw_timeout) *
				  HZ);
	xtcp_tw_send_ack(net, tw, skb);
}
