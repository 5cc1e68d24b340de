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
 * the table. Without memory for the entry, or beyond
 * net.xtcp.max_tw_buckets (TCPTimeWaitOverflow), the connection just
 * closes, as Linux does.
 */
void xtcp_time_wait(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_tw *tw = NULL;

	/* As inet_twsk_alloc(): net.ipv4.tcp_max_tw_buckets bounds them. */
	if (atomic_read(&xn->tw_count) >=
	    xtcp_knob(sock_net(sk), XTCP_KNOB_MAX_TW_BUCKETS))
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_TWOVERFLOW);
	else
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
			atomic_inc(&xn->tw_count);
			mod_timer(&tw->timer, jiffies +
				  READ_ONCE(xn->sysctl_tw_timeout) * HZ);
			XTCP_INC_STATS(sock_net(sk), XTCP_MIB_TIMEWAIT);
		} else {
			kfree(tw);
		}
	}
	xtcp_done(sk);
}

/* Another tw_timeout from now, if the entry is still timed. */
static void xtcp_tw_reschedule(struct net *net, struct xtcp_tw *tw)
{
	mod_timer_pending(&tw->timer, jiffies +
			  READ_ONCE(xtcp_pernet(net)->sysctl_tw_timeout) * HZ);
}

/*
 * PAWS for a TIME_WAIT entry (tcp_paws_reject()): an older TSval is an
 * old duplicate, unless ts_recent is 24 days old; a RST is believed once
 * the entry's last timestamp is an MSL (60 s) old.
 */
static bool xtcp_tw_paws_reject(const struct xtcp_tw *tw,
				const struct xtcp_rx_opts *o, bool rst)
{
	u32 now = xtcp_clock_ms();

	if (!o->saw_tstamp || !tw->ts_recent ||
	    (s32)(tw->ts_recent - o->tsval) <= 0 ||
	    !time_before32(now, tw->ts_recent_stamp + XTCP_PAWS_24DAYS_MS))
		return false;
	if (rst && !time_before32(now, tw->ts_recent_stamp + 60 * MSEC_PER_SEC))
		return false;
	return true;
}

/**
 * xtcp_tw_rcv() - a segment for a TIME_WAIT entry
 * @net: its namespace
 * @tw: the entry, referenced by the caller
 * @skb: the segment, data at its TCP header, checksum verified
 *
 * As Linux's tcp_timewait_state_process() in TIME_WAIT. A segment at
 * rcv_nxt carrying nothing (a bare ACK) or a RST is absorbed without a
 * reply: the RST ends the entry (TIME_WAIT assassination, unless
 * net.xtcp.rfc1337), the ACK restarts the timer. A new SYN (a higher
 * sequence, or a newer timestamp: RFC 6191) may open a new connection:
 * the caller hands it to a listener if there is one (the entry then
 * goes), else acknowledges it as Linux does. Anything else, a retransmitted FIN in
 * particular, is acknowledged again, at most once per
 * net.xtcp.invalid_ratelimit for pure ACKs and SYNs, so two hosts cannot
 * ping-pong ACKs; a segment with an ACK (or rejected by PAWS) restarts
 * the timer.
 *
 * Return: for a new SYN, the ISN its connection is to use (snd_nxt plus
 * a window and some, as tcp_timewait_state_process(), never 0); else 0.
 */
u32 xtcp_tw_rcv(struct net *net, struct xtcp_tw *tw, struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	u32 seq = ntohl(th->seq);
	u32 end_seq = seq + th->syn + th->fin + skb->len - th->doff * 4;
	struct xtcp_rx_opts o = {};
	bool paws_reject;

	xtcp_parse_options(th, &o);
	paws_reject = xtcp_tw_paws_reject(tw, &o, th->rst);

	if (!paws_reject && seq == tw->rcv_nxt &&
	    (seq == end_seq || th->rst)) {
		if (th->rst) {
			if (!xtcp_knob(net, XTCP_KNOB_RFC1337)) {
				xtcp_tw_kill(tw);
				return 0;
			}
		} else {
			xtcp_tw_reschedule(net, tw);
		}
		if (o.saw_tstamp && tw->tstamp_ok) {
			tw->ts_recent = o.tsval;
			tw->ts_recent_stamp = xtcp_clock_ms() ? : 1;
		}
		return 0;
	}

	if (th->syn && !th->rst && !th->ack && !paws_reject &&
	    (after(seq, tw->rcv_nxt) ||
	     (o.saw_tstamp && (s32)(tw->ts_recent - o.tsval) < 0)))
		return (tw->snd_nxt + 65535 + 2) ? : 1;

	if (paws_reject)
		XTCP_INC_STATS(net, XTCP_MIB_PAWSESTAB);
	if (th->rst)
		return 0;
	if (paws_reject || th->ack)
		xtcp_tw_reschedule(net, tw);
	if (!xtcp_oow_rate_limited(net, seq == end_seq || th->syn,
				   &tw->last_oow_ack_time,
				   XTCP_MIB_ACKSKIPPEDTIMEWAIT))
		xtcp_tw_send_ack(net, tw, skb);
	return 0;
}
