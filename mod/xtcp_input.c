// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: segment input for a socket, RFC 9293's "SEGMENT ARRIVES": the
 * SYN-SENT and SYN-RECEIVED handshakes, then the synchronised states'
 * checks, the acknowledgment (RTT, congestion control, recovery) and
 * the payload and FIN. Segments arrive through xtcp_ipv4.c's hook.
 */
#include <linux/tcp.h>
#include <net/tcp.h>

#include "xtcp.h"

/**
 * struct xtcp_rx_opts - the options of a received segment
 * @mss: MSS option (SYN only), 0 if absent
 * @wscale: window scale shift (SYN only)
 * @wscale_ok: window scale option present
 * @sack_ok: SACK-permitted present
 * @saw_tstamp: timestamp option present
 * @tsval: its TSval
 * @tsecr: its TSecr
 * @num_sacks: SACK blocks present (at most 4)
 * @sacks: the blocks, [start, end) in host order
 */
struct xtcp_rx_opts {
	u16	mss;
	u8	wscale;
	bool	wscale_ok;
	bool	sack_ok;
	bool	saw_tstamp;
	u32	tsval;
	u32	tsecr;
	u8	num_sacks;
	u32	sacks[4][2];
};

/*
 * As Linux's parser, a malformed option list is not a reason to drop
 * the segment: parsing just stops at the first option that does not fit.
 */
static void xtcp_parse_options(const struct tcphdr *th,
			       struct xtcp_rx_opts *o)
{
	const u8 *p = (const u8 *)(th + 1);
	int len = th->doff * 4 - sizeof(*th);

	while (len > 0) {
		u8 kind = *p++, size;

		if (kind == TCPOPT_EOL)
			return;
		if (kind == TCPOPT_NOP) {
			len--;
			continue;
		}
		if (len < 2)
			return;
		size = *p++;
		if (size < 2 || size > len)
			return;
		switch (kind) {
		case TCPOPT_MSS:
			if (size == TCPOLEN_MSS && th->syn)
				o->mss = get_unaligned_be16(p);
			break;
		case TCPOPT_WINDOW:
			if (size == TCPOLEN_WINDOW && th->syn) {
				o->wscale_ok = true;
				o->wscale = min_t(u8, *p, TCP_MAX_WSCALE);
			}
			break;
		case TCPOPT_SACK_PERM:
			if (size == TCPOLEN_SACK_PERM && th->syn)
				o->sack_ok = true;
			break;
		case TCPOPT_TIMESTAMP:
			if (size == TCPOLEN_TIMESTAMP) {
				o->saw_tstamp = true;
				o->tsval = get_unaligned_be32(p);
				o->tsecr = get_unaligned_be32(p + 4);
			}
			break;
		case TCPOPT_SACK:
			if (th->syn || size < TCPOLEN_SACK_BASE +
					    TCPOLEN_SACK_PERBLOCK ||
			    (size - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_PERBLOCK)
				break;
			for (o->num_sacks = 0;
			     o->num_sacks < (size - 2) / 8 && o->num_sacks < 4;
			     o->num_sacks++) {
				o->sacks[o->num_sacks][0] =
					get_unaligned_be32(p + 8 * o->num_sacks);
				o->sacks[o->num_sacks][1] =
					get_unaligned_be32(p + 8 * o->num_sacks + 4);
			}
			break;
		}
		p += size - 2;
		len -= size;
	}
}

/*
 * The connection was refused or reset: close, then report @err. In that
 * order, as tcp_reset(): a poll() woken by the report must already see
 * the closed socket (EPOLLERR with EPOLLHUP, never EPOLLERR alone).
 */
void xtcp_reset(struct sock *sk, int err)
{
	WRITE_ONCE(sk->sk_err, err);
	xtcp_done(sk);
	if (!sock_flag(sk, SOCK_DEAD))
		sk_error_report(sk);
}

/* Record what the peer's SYN (or SYN-ACK) negotiated. */
static void xtcp_apply_syn_options(struct sock *sk, const struct tcphdr *th,
				   const struct xtcp_rx_opts *o)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->irs = ntohl(th->seq);
	xs->rcv_nxt = xs->irs + 1;
	xs->copied_seq = xs->rcv_nxt;
	xs->rcv_adv = xs->rcv_nxt + xs->rcv_wnd;
	xs->snd_wnd = ntohs(th->window);	/* never scaled in a SYN */
	xs->snd_wl1 = xs->irs;
	xs->snd_wl2 = ntohl(th->ack_seq);
	xs->quickacks = 16;
	xs->max_window = xs->snd_wnd;
	/* An MSS option of 0 is ignored, as tcp_parse_options() does. */
	if (o->mss)
		xs->mss_clamp = xs->user_mss && xs->user_mss < o->mss ?
				xs->user_mss : o->mss;

	if (xs->wscale_ok && o->wscale_ok) {
		xs->snd_wscale = o->wscale;
	} else {
		xs->wscale_ok = 0;
		xs->snd_wscale = 0;
		xs->rcv_wscale = 0;
	}
	xs->sack_ok &= o->sack_ok;
	xs->tstamp_ok &= o->saw_tstamp;
	if (xs->tstamp_ok) {
		xs->ts_recent = o->tsval;
		xs->ts_recent_stamp = xtcp_clock_ms();
	}
	/* Every segment carries the timestamp option: 12 bytes. */
	xs->tcp_header_len = sizeof(struct tcphdr) +
			     (xs->tstamp_ok ? TCPOLEN_TSTAMP_ALIGNED : 0);
	xtcp_sync_mss(sk, xs->pmtu_cookie);
}

static void xtcp_established(struct sock *sk)
{

	/*
	 * No send buffer autotuning: an unlocked SO_SNDBUF starts at
	 * wmem[2], so that the window, not the buffer, limits a transfer.
	 */
	if (!(sk->sk_userlocks & SOCK_SNDBUF_LOCK))
		WRITE_ONCE(sk->sk_sndbuf, max(sk->sk_sndbuf,
					      xtcp_knob_i(sock_net(sk), XTCP_KNOB_WMEM, 2)));
	xtcp_set_state(sk, TCP_ESTABLISHED);
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ESTABLISHED);
	if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		sk_wake_async(sk, SOCK_WAKE_IO, POLL_OUT);
	}
}

/*
 * SYN-SENT, RFC 9293 section 3.10.7.3.
 */
static void xtcp_rcv_synsent(struct sock *sk, struct sk_buff *skb,
			     const struct tcphdr *th)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	struct xtcp_rx_opts o = {};

	if (th->ack) {
		u32 ack = ntohl(th->ack_seq);

		/* The ACK must acknowledge our SYN exactly. */
		if (!after(ack, xs->iss) || after(ack, xs->snd_nxt)) {
			XTCP_INC_STATS(net, XTCP_MIB_INBADACK);
			xtcp_send_rst_reply(net, skb);
			return;
		}
		if (th->rst) {
			XTCP_INC_STATS(net, XTCP_MIB_CONNREFUSED);
			xtcp_reset(sk, ECONNREFUSED);
			return;
		}
		if (!th->syn)
			return;

		xtcp_parse_options(th, &o);
		xtcp_apply_syn_options(sk, th, &o);
		xs->snd_una = ack;
		xtcp_clear_timers(sk);
		xtcp_established(sk);
		xtcp_send_ack(sk, TCPHDR_ACK);
		return;
	}

	if (th->rst || !th->syn)
		return;

	/* A SYN without ACK: simultaneous open. */
	xtcp_parse_options(th, &o);
	xtcp_apply_syn_options(sk, th, &o);
	xtcp_set_state(sk, TCP_SYN_RECV);
	xs->retransmits = 0;
	xtcp_retransmit_syn(sk);
}

/*
 * SYN-RECEIVED after a simultaneous open: the peer's SYN-ACK (or ACK)
 * acknowledging our SYN completes it.
 */
static void xtcp_rcv_synrecv(struct sock *sk, const struct tcphdr *th)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (th->rst) {
		if (ntohl(th->seq) == xs->rcv_nxt ||
		    (th->syn && ntohl(th->seq) + 1 == xs->rcv_nxt))
			xtcp_reset(sk, ECONNREFUSED);
		return;
	}
	if (!th->ack || ntohl(th->ack_seq) != xs->snd_nxt)
		return;
	xs->snd_una = xs->snd_nxt;
	xtcp_clear_timers(sk);
	xtcp_established(sk);
	if (th->syn)
		xtcp_send_ack(sk, TCPHDR_ACK);
}

#define XTCP_RTO_MIN_US		200000U		/* as Linux's TCP_RTO_MIN */
#define XTCP_RTO_MAX_US		120000000U

/* RTO = SRTT + max(4 * RTTVAR, 200 ms), at most 120 s; no backoff. */
static void xtcp_set_rto(struct xtcp_sock *xs)
{
	u32 rto_us = (xs->srtt_us >> 3) + max(xs->rttvar_us, XTCP_RTO_MIN_US);

	xs->rto = usecs_to_jiffies(min(rto_us, XTCP_RTO_MAX_US));
}

/* An RTT sample, microseconds: RFC 6298's SRTT and RTTVAR. */
static void xtcp_rtt_sample(struct xtcp_sock *xs, long rtt_us)
{
	if (rtt_us <= 0)
		rtt_us = 1;
	if (!xs->srtt_us) {
		xs->srtt_us = rtt_us << 3;
		xs->rttvar_us = rtt_us << 1;		/* 4 * rtt / 2 */
	} else {
		long m = rtt_us - (xs->srtt_us >> 3);

		xs->srtt_us += m;
		if (m < 0)
			m = -m;
		m -= xs->rttvar_us >> 2;
		xs->rttvar_us += m;
	}
}

/*
 * Mark the segments the peer's SACK blocks cover. Blocks outside
 * (snd_una, snd_max] are ignored (RFC 2883 D-SACKs and bogus ones).
 * Returns true if some segment was newly SACKed.
 */
static bool xtcp_sacktag(struct sock *sk, const struct xtcp_rx_opts *o)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool newly = false;
	struct sk_buff *skb;
	int i;

	for (i = 0; i < o->num_sacks; i++) {
		u32 start = o->sacks[i][0], end = o->sacks[i][1];

		if (!after(start, xs->snd_una) || after(end, xs->snd_max) ||
		    !after(end, start))
			continue;
		skb_queue_walk(&sk->sk_write_queue, skb) {
			struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

			if (!before(cb->seq, end))
				break;
			if (!before(cb->seq, start) &&
			    !after(cb->end_seq, end) && !cb->sacked) {
				cb->sacked = 1;
				newly = true;
			}
		}
		if (after(end, xs->highest_sack))
			xs->highest_sack = end;
	}
	return newly;
}

/* Three duplicate ACKs start fast retransmit and recovery (RFC 6582). */
static void xtcp_dupack(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 flight = DIV_ROUND_UP(xs->snd_nxt - xs->snd_una, xs->mss_cache);

	if (xs->in_recovery) {
		xs->snd_cwnd++;			/* inflation */
		/* With SACK, every duplicate ACK may free the next hole. */
		if (xs->sack_ok)
			xtcp_retransmit_hole(sk);
		return;
	}
	if (++xs->dupacks < 3)
		return;
	xs->snd_ssthresh = max_t(u32, flight / 2, 2);
	xs->snd_cwnd = xs->snd_ssthresh + 3;
	xs->high_seq = xs->snd_max;
	xs->in_recovery = true;
	xs->rexmit_high = xs->snd_una;
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_FASTRETRANS);
	if (!xs->sack_ok || !xtcp_retransmit_hole(sk))
		xtcp_retransmit_head(sk);
}

/* Free what @ack covers from the write queue; an RTT sample if clean. */
static void xtcp_clean_acked(struct sock *sk, u32 ack,
			     const struct xtcp_rx_opts *o)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long sent = 0;
	bool sample = true;
	struct sk_buff *skb;

	while ((skb = skb_peek(&sk->sk_write_queue))) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (after(cb->end_seq, ack))
			break;
		/* Sent before an RTO rewound snd_nxt, and arrived after all. */
		if (skb == xs->send_head)
			xs->send_head = skb_queue_is_last(&sk->sk_write_queue,
							  skb) ? NULL : skb->next;
		if (cb->retrans)
			sample = false;		/* Karn */
		else
			sent = cb->when;
		__skb_unlink(skb, &sk->sk_write_queue);
		sk_wmem_queued_add(sk, -skb->truesize);
		kfree_skb(skb);
	}

	if (xs->tstamp_ok && o->saw_tstamp && o->tsecr)
		xtcp_rtt_sample(xs, (long)(xtcp_clock_ms() + xs->ts_offset -
					   o->tsecr) * USEC_PER_MSEC);
	else if (sample && sent)
		xtcp_rtt_sample(xs, jiffies_to_usecs(jiffies - sent));
}

/* Reno's growth: slow start below ssthresh, then one MSS per window. */
static void xtcp_cong_avoid(struct xtcp_sock *xs, u32 acked)
{
	u32 segs = DIV_ROUND_UP(acked, xs->mss_cache);

	if (xs->snd_cwnd < xs->snd_ssthresh) {
		xs->snd_cwnd = min(xs->snd_cwnd + segs, xs->snd_ssthresh);
		return;
	}
	xs->cwnd_cnt += segs;
	if (xs->cwnd_cnt >= xs->snd_cwnd) {
		xs->cwnd_cnt -= xs->snd_cwnd;
		xs->snd_cwnd++;
	}
}

/* Our FIN is acknowledged. Returns true if the socket is gone. */
static bool xtcp_fin_acked(struct sock *sk)
{
	switch (sk->sk_state) {
	case TCP_FIN_WAIT1:
		xtcp_set_state(sk, TCP_FIN_WAIT2);
		sk->sk_state_change(sk);
		if (sock_flag(sk, SOCK_DEAD))
			xtcp_reset_retrans_timer(sk);
		return false;
	case TCP_CLOSING:
		xtcp_time_wait(sk);
		return true;
	case TCP_LAST_ACK:
		xtcp_done(sk);
		return true;
	}
	return false;
}

/**
 * xtcp_ack() - process the acknowledgment field of a segment
 * @sk: the socket
 * @th: the segment's header
 * @len: its payload length
 * @o: its options
 * @gone: set when the socket closed (our FIN acknowledged in LAST-ACK)
 *
 * Return: false if the segment acknowledges data never sent (an ACK went
 * back; drop the segment).
 */
static bool xtcp_ack(struct sock *sk, const struct tcphdr *th, u32 len,
		     const struct xtcp_rx_opts *o, bool *gone)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 ack = ntohl(th->ack_seq), seq = ntohl(th->seq);
	u32 win = (u32)ntohs(th->window) << xs->snd_wscale;
	u32 old_wnd = xs->snd_wnd, acked;
	bool sacked = false;

	if (after(ack, xs->snd_max)) {
		xtcp_send_ack(sk, TCPHDR_ACK);
		return false;
	}
	if (before(ack, xs->snd_una))
		return true;
	if (xs->sack_ok && o->num_sacks)
		sacked = xtcp_sacktag(sk, o);

	/* RFC 9293 3.10.7.4: only newer segments update the window. */
	if (after(ack, xs->snd_una) || after(seq, xs->snd_wl1) ||
	    (seq == xs->snd_wl1 && !before(ack, xs->snd_wl2))) {
		xs->snd_wnd = win;
		xs->snd_wl1 = seq;
		xs->snd_wl2 = ack;
		if (win > old_wnd)
			xs->probes = 0;
	}

	/*
	 * A duplicate ACK: RFC 5681's strict test (no data, same window),
	 * or, with SACK, any ACK that SACKs new data (RFC 6675): a
	 * receiver growing its window would otherwise hide every one.
	 */
	if (ack == xs->snd_una) {
		if (xs->snd_una != xs->snd_max &&
		    (sacked || (!len && !th->fin && win == old_wnd)))
			xtcp_dupack(sk);
		return true;
	}

	acked = ack - xs->snd_una;
	xtcp_clean_acked(sk, ack, o);
	xs->snd_una = ack;
	if (after(ack, xs->snd_nxt))
		xs->snd_nxt = ack;
	xs->retransmits = 0;
	xs->probes = 0;
	if (xs->srtt_us)
		xtcp_set_rto(xs);		/* new data acked: no backoff */

	if (xs->in_recovery) {
		if (!before(ack, xs->high_seq)) {
			xs->in_recovery = false;
			xs->snd_cwnd = xs->snd_ssthresh;
			xs->dupacks = 0;
		} else {
			/* NewReno partial ACK: the next hole goes out now. */
			xs->snd_cwnd -= min(xs->snd_cwnd - 1,
					    DIV_ROUND_UP(acked, xs->mss_cache));
			xs->snd_cwnd++;
			if (before(xs->rexmit_high, xs->snd_una))
				xs->rexmit_high = xs->snd_una;
			if (!xs->sack_ok || !xtcp_retransmit_hole(sk))
				xtcp_retransmit_head(sk);
		}
	} else {
		xs->dupacks = 0;
		xtcp_cong_avoid(xs, acked);
	}

	if (xs->snd_una == xs->snd_max && !xs->send_head)
		xtcp_clear_timers_retrans(sk);
	else
		xtcp_reset_retrans_timer(sk);

	if (sk->sk_socket && test_bit(SOCK_NOSPACE, &sk->sk_socket->flags))
		sk->sk_write_space(sk);

	if (xs->fin_queued && xs->snd_una == xs->write_seq)
		*gone = xtcp_fin_acked(sk);
	return true;
}

/* The peer's FIN is in order: RFC 9293's "eighth, check the FIN bit". */
static bool xtcp_fin(struct sock *sk)
{
	sk->sk_shutdown |= RCV_SHUTDOWN;
	sock_set_flag(sk, SOCK_DONE);
	xtcp_send_ack(sk, TCPHDR_ACK);
	switch (sk->sk_state) {
	case TCP_ESTABLISHED:
		xtcp_set_state(sk, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT1:
		xtcp_set_state(sk, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT2:
		xtcp_time_wait(sk);
		return true;
	}
	if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_HUP);
	}
	return false;
}

/*
 * Take a segment that starts at or before rcv_nxt into the queue. What
 * it carries before rcv_nxt arrived already; the skb keeps it and
 * recvmsg() skips it by offset: a received skb may hold its payload in
 * page fragments (GRO, veth from a TSO sender), so it is never pulled.
 * Returns true if the segment carries the FIN.
 */
static bool xtcp_queue_in_order(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	bool fin = cb->fin;

	if (after(cb->end_seq - fin, xs->rcv_nxt)) {
		__skb_queue_tail(&sk->sk_receive_queue, skb);
		skb = NULL;
	}
	xs->rcv_nxt = cb->end_seq;
	if (skb)
		consume_skb(skb);
	return fin;
}

/*
 * Payload and FIN of a segment in the synchronised states. Returns true
 * if the skb was queued (the caller must not free it); *gone is set if
 * the FIN closed the socket.
 */
static bool xtcp_data_queue(struct sock *sk, struct sk_buff *skb,
			    const struct tcphdr *th, bool *gone)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb;
	u32 seq = ntohl(th->seq);
	u32 len = skb->len - th->doff * 4;
	bool fin = th->fin, queued = true, ooo_before;
	struct sk_buff *o;

	if (!len && !fin)
		return false;
	if (!after(seq + len + fin, xs->rcv_nxt)) {
		xtcp_send_ack(sk, TCPHDR_ACK);		/* a duplicate */
		return false;
	}
	if (atomic_read(&sk->sk_rmem_alloc) + skb->truesize >
	    READ_ONCE(sk->sk_rcvbuf)) {
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_RCVPRUNED);
		xtcp_send_ack(sk, TCPHDR_ACK);
		return false;
	}

	__skb_pull(skb, th->doff * 4);
	skb_dst_drop(skb);
	nf_reset_ct(skb);
	cb = XTCP_SKB_CB(skb);
	memset(cb, 0, sizeof(*cb));
	cb->seq = seq;
	cb->end_seq = seq + len + fin;
	cb->fin = fin;
	skb_set_owner_r(skb, sk);

	ooo_before = !skb_queue_empty(&xs->ooo_queue);
	if (after(seq, xs->rcv_nxt)) {
		/* Out of order: keep it sorted by sequence, ACK at once. */
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_OFOQUEUE);
		xs->last_ooo_seq = seq;
		skb_queue_reverse_walk(&xs->ooo_queue, o) {
			if (!after(XTCP_SKB_CB(o)->seq, seq))
				break;
		}
		if (o != (struct sk_buff *)&xs->ooo_queue &&
		    XTCP_SKB_CB(o)->seq == seq &&
		    !before(XTCP_SKB_CB(o)->end_seq, cb->end_seq)) {
			kfree_skb(skb);		/* already have it */
			queued = true;
		} else {
			__skb_queue_after(&xs->ooo_queue, o, skb);
		}
		xtcp_send_ack(sk, TCPHDR_ACK);
		return queued;
	}

	fin = xtcp_queue_in_order(sk, skb);
	while (!fin && (o = skb_peek(&xs->ooo_queue)) &&
	       !after(XTCP_SKB_CB(o)->seq, xs->rcv_nxt)) {
		__skb_unlink(o, &xs->ooo_queue);
		if (!after(XTCP_SKB_CB(o)->end_seq, xs->rcv_nxt)) {
			kfree_skb(o);
			continue;
		}
		fin = xtcp_queue_in_order(sk, o);
	}

	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_data_ready(sk);
	if (fin) {
		*gone = xtcp_fin(sk);
		return true;
	}

	if (len >= xs->mss_cache)
		xs->unacked_segs++;
	if (xs->quickacks || ooo_before || xs->unacked_segs >= 2) {
		if (xs->quickacks)
			xs->quickacks--;
		xtcp_send_ack(sk, TCPHDR_ACK);
	} else {
		xtcp_schedule_ack(sk);
	}
	return true;
}

/* Is a segment of @len bytes at @seq inside our receive window? */
static bool xtcp_sequence_ok(const struct xtcp_sock *xs, u32 seq, u32 len)
{
	u32 wnd = xs->rcv_adv - xs->rcv_nxt;

	if (!len)
		return wnd ? !before(seq, xs->rcv_nxt) &&
			     before(seq, xs->rcv_nxt + wnd) :
			     seq == xs->rcv_nxt;
	if (!wnd)
		return false;
	return (!before(seq, xs->rcv_nxt) &&
		before(seq, xs->rcv_nxt + wnd)) ||
	       (!before(seq + len - 1, xs->rcv_nxt) &&
		before(seq + len - 1, xs->rcv_nxt + wnd));
}

/*
 * The synchronised states, RFC 9293 section 3.10.7.4: timestamps (PAWS,
 * RFC 7323), the sequence check, RST (RFC 5961: the exact sequence
 * resets, anything else in the window gets a challenge ACK), SYN
 * (challenge ACK), the ACK, then payload and FIN. Returns true if the
 * skb was queued.
 */
static bool xtcp_rcv_synchronized(struct sock *sk, struct sk_buff *skb,
				  const struct tcphdr *th)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 seq = ntohl(th->seq);
	u32 len = skb->len - th->doff * 4;
	struct xtcp_rx_opts o = {};
	bool gone = false, queued = false;

	xtcp_parse_options(th, &o);
	if (xs->tstamp_ok && o.saw_tstamp && !th->rst &&
	    (s32)(o.tsval - xs->ts_recent) < 0) {
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_PAWSDROP);
		xtcp_send_ack(sk, TCPHDR_ACK);
		return false;
	}

	if (!xtcp_sequence_ok(xs, seq, len + th->syn + th->fin)) {
		if (!th->rst)
			xtcp_send_ack(sk, TCPHDR_ACK);
		return false;
	}

	if (th->rst) {
		if (seq == xs->rcv_nxt)
			xtcp_reset(sk, sk->sk_state == TCP_CLOSE_WAIT ?
				   EPIPE : ECONNRESET);
		else
			xtcp_send_ack(sk, TCPHDR_ACK);	/* challenge */
		return false;
	}
	if (th->syn) {
		xtcp_send_ack(sk, TCPHDR_ACK);		/* challenge */
		return false;
	}
	if (!th->ack)
		return false;

	if (xs->tstamp_ok && o.saw_tstamp && !after(seq, xs->rcv_nxt)) {
		xs->ts_recent = o.tsval;
		xs->ts_recent_stamp = xtcp_clock_ms();
	}

	if (!xtcp_ack(sk, th, len, &o, &gone) || gone)
		return false;

	switch (sk->sk_state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
		/* Data after close() (or SHUT_RD) on a closing socket: reset. */
		if ((sk->sk_shutdown & RCV_SHUTDOWN) &&
		    sk->sk_state != TCP_ESTABLISHED &&
		    len && after(seq + len, xs->rcv_nxt)) {
			xtcp_send_ack(sk, TCPHDR_RST | TCPHDR_ACK);
			xtcp_done(sk);
			return false;
		}
		queued = xtcp_data_queue(sk, skb, th, &gone);
		break;
	}
	/* The ACK may have opened the window or cwnd: send what waits. */
	if (!gone)
		xtcp_write_xmit(sk, true);
	return queued;
}

/**
 * xtcp_do_rcv() - process one segment for a socket
 * @sk: the socket, owned by the caller (bh_lock_sock or the socket lock
 *	through the backlog)
 * @skb: the segment, data at its TCP header, checksum verified
 *
 * Also the socket's sk_backlog_rcv.
 *
 * Return: 0 (the segment is consumed).
 */
int xtcp_do_rcv(struct sock *sk, struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);

	switch (sk->sk_state) {
	case TCP_SYN_SENT:
		xtcp_rcv_synsent(sk, skb, th);
		break;
	case TCP_SYN_RECV:
		xtcp_rcv_synrecv(sk, th);
		break;
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		if (xtcp_rcv_synchronized(sk, skb, th))
			return 0;
		break;
	}
	consume_skb(skb);
	return 0;
}
