// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: loss recovery with SACK, as RFC 6675 with RFC 6937's
 * Proportional Rate Reduction (Linux's tcp_cwnd_reduction()).
 *
 * The scoreboard is the write queue itself: each sent segment is SACKed
 * (cb->sacked), lost or in flight. A segment the peer has not SACKed is
 * lost once TCP_FASTRETRANS_THRESH (DupThresh) segments above it have
 * been SACKed (IsLost()); fewer may be reordering, which two CPUs
 * sending on one link produce routinely. rexmit_high is RFC 6675's
 * HighRxt: holes below it have been sent again in this recovery.
 *
 * While in recovery, cwnd is set on every ACK that delivers something
 * (acknowledges or SACKs segments that were not yet SACKed) to what is
 * in flight ("pipe") plus what PRR lets go: the rate of sending follows
 * the rate of delivery, scaled by ssthresh / cwnd-at-entry while pipe is
 * above ssthresh, and grows back towards ssthresh in slow start (PRR-SSRB)
 * once it is below. Holes go out first, then new data.
 *
 * Everything here runs with the socket owned (from input or a timer).
 * Each xtcp_scoreboard() call walks the part of the write queue in
 * flight, and an ACK in recovery makes one for PRR plus one per segment
 * it lets go (the hole search, and xtcp_write_xmit()'s in-flight test):
 * O(window) times the few segments an ACK releases, only in recovery.
 */
#include <net/sock.h>
#include <net/tcp.h>

#include "xtcp.h"

/* The segments @skb holds, at the current MSS (at least one). */
static u32 xtcp_skb_segs(const struct xtcp_sock *xs, const struct sk_buff *skb)
{
	return max_t(u32, DIV_ROUND_UP(skb->len, max_t(u32, xs->mss_cache, 1)),
		     1);
}

/*
 * xtcp_scoreboard() - one walk of what is in flight, from the last
 * segment sent down to snd_una
 * @sk: the socket, owned by the caller
 * @pipe: if not NULL, set to RFC 6675's pipe, in segments: one for each
 *	segment neither SACKed nor lost, one more for each sent again in
 *	this recovery
 *
 * Return: the lowest lost segment at or after rexmit_high (NextSeg()'s
 * first rule), or NULL.
 */
static struct sk_buff *xtcp_scoreboard(struct sock *sk, u32 *pipe)
{
	struct sk_buff_head *queue = &sk->sk_write_queue;
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb, *lost = NULL;
	u32 sacked_above = 0, in_flight = 0;

	/* From the last segment sent: the unsent ones are not counted. */
	skb = xs->send_head;
	if (skb && !before(XTCP_SKB_CB(skb)->seq, xs->snd_max))
		skb = skb->prev;
	else
		skb = skb_peek_tail(queue);
	for (; skb && skb != (struct sk_buff *)queue; skb = skb->prev) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
		bool is_lost;

		if (before(cb->seq, xs->snd_una))
			break;
		if (!before(cb->seq, xs->snd_max))
			continue;
		if (cb->sacked) {
			sacked_above += xtcp_skb_segs(xs, skb);
			continue;
		}
		is_lost = sacked_above >= TCP_FASTRETRANS_THRESH;
		if (!is_lost)
			in_flight += xtcp_skb_segs(xs, skb);
		if (before(cb->seq, xs->rexmit_high)) {
			if (cb->retrans)
				in_flight += xtcp_skb_segs(xs, skb);
			if (!pipe)
				break;
		} else if (is_lost) {
			lost = skb;
		}
	}
	if (pipe)
		*pipe = in_flight;
	return lost;
}

/**
 * xtcp_pipe() - RFC 6675's estimate of the segments in the network
 * @sk: the socket, owned by the caller
 *
 * Return: the pipe, in segments.
 */
u32 xtcp_pipe(struct sock *sk)
{
	u32 pipe;

	xtcp_scoreboard(sk, &pipe);
	return pipe;
}

/* Send @skb again as a hole of this recovery. */
static void xtcp_resend_hole(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	XTCP_SKB_CB(skb)->retrans = 1;
	xs->rexmit_high = XTCP_SKB_CB(skb)->end_seq;
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_RETRANSSEGS);
	xtcp_send_queued(sk, skb);
}

/**
 * xtcp_retransmit_hole() - SACK recovery: resend the next lost segment
 * @sk: the socket, owned by the caller
 *
 * The lowest segment that IsLost() and has not been sent again in this
 * recovery goes out, whatever cwnd says (the caller has decided).
 *
 * Return: true if one was sent.
 */
bool xtcp_retransmit_hole(struct sock *sk)
{
	struct sk_buff *skb = xtcp_scoreboard(sk, NULL);

	if (!skb)
		return false;
	xtcp_resend_hole(sk, skb);
	return true;
}

/*
 * As tcp_cwnd_reduction(): @newly segments were delivered by this ACK
 * (acknowledged or SACKed, and not SACKed before); @una_advanced if it
 * moved snd_una. Sets cwnd to pipe plus what may be sent now.
 */
static void xtcp_prr(struct sock *sk, u32 newly, bool una_advanced)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 pipe = xtcp_pipe(sk);
	int delta, sndcnt;

	if (!newly || !xs->prior_cwnd)
		return;
	xs->prr_delivered += newly;
	delta = (int)xs->snd_ssthresh - (int)pipe;
	if (delta < 0) {
		/* Proportional: ssthresh / prior_cwnd of what was delivered. */
		u64 dividend = (u64)xs->snd_ssthresh * xs->prr_delivered +
			       xs->prior_cwnd - 1;

		sndcnt = (int)div_u64(dividend, xs->prior_cwnd) -
			 (int)xs->prr_out;
	} else {
		/* Slow start reduction bound: at most one more per ACK. */
		sndcnt = max_t(int, (int)xs->prr_delivered - (int)xs->prr_out,
			       newly);
		if (una_advanced)
			sndcnt++;
		sndcnt = min(delta, sndcnt);
	}
	/* The fast retransmit goes out on entering recovery. */
	sndcnt = max(sndcnt, xs->prr_out ? 0 : 1);
	xs->snd_cwnd = max_t(u32, pipe + sndcnt, 1);
}

/*
 * Send what cwnd allows in recovery: the lost segments first, then new
 * data (RFC 6675 NextSeg()'s rules 1 and 2; rule 3, rescuing segments
 * not yet lost, is left to the RTO).
 */
static void xtcp_recovery_xmit(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;
	u32 pipe;

	while ((skb = xtcp_scoreboard(sk, &pipe)) && pipe < xs->snd_cwnd)
		xtcp_resend_hole(sk, skb);
	xtcp_write_xmit(sk, true);
}

/**
 * xtcp_sack_enter_recovery() - the third duplicate ACK, with SACK
 * @sk: the socket, owned by the caller
 * @newly: segments this ACK SACKed
 *
 * ssthresh and high_seq are set by the caller. The first hole goes out
 * now: the lowest lost segment, or the head if IsLost() does not say so
 * yet (RFC 6675 4.3).
 */
void xtcp_sack_enter_recovery(struct sock *sk, u32 newly)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->prior_cwnd = xs->snd_cwnd;
	xs->prr_delivered = 0;
	xs->prr_out = 0;
	xtcp_prr(sk, max_t(u32, newly, 1), false);
	if (!xtcp_retransmit_hole(sk))
		xtcp_retransmit_head(sk);
	xtcp_recovery_xmit(sk);
}

/**
 * xtcp_sack_recovery_ack() - an ACK while in SACK recovery
 * @sk: the socket, owned by the caller
 * @newly: segments it delivered (acknowledged or SACKed, not SACKed
 *	before)
 * @una_advanced: it moved snd_una (a partial ACK)
 */
void xtcp_sack_recovery_ack(struct sock *sk, u32 newly, bool una_advanced)
{
	xtcp_prr(sk, newly, una_advanced);
	xtcp_recovery_xmit(sk);
}
