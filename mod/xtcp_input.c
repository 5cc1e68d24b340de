// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: segment input for a socket, RFC 9293's "SEGMENT ARRIVES": the
 * SYN-SENT and SYN-RECEIVED handshakes, then the synchronised states'
 * checks, the acknowledgment (RTT, congestion control, recovery) and
 * the payload and FIN. Segments arrive through xtcp_ipv4.c's hook.
 */
#include <linux/tcp.h>
#include <net/inet_ecn.h>
#include <net/tcp.h>

#include "xtcp.h"
#include "xtcp_trace.h"

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

#define XTCP_RTO_MIN_US		200000U		/* as Linux's TCP_RTO_MIN */
#define XTCP_RTO_MAX_US		120000000U

/* RTO = SRTT + max(4 * RTTVAR, 200 ms), at most 120 s; no backoff. */
void xtcp_set_rto(struct xtcp_sock *xs)
{
	u32 rto_us = (xs->srtt_us >> 3) + max(xs->rttvar_us, XTCP_RTO_MIN_US);

	xs->rto = usecs_to_jiffies(min(rto_us, XTCP_RTO_MAX_US));
}

/* An RTT sample, microseconds: RFC 6298's SRTT and RTTVAR. */
void xtcp_rtt_sample(struct xtcp_sock *xs, long rtt_us)
{
	if (rtt_us <= 0)
		rtt_us = 1;
	if (rtt_us < xs->min_rtt_us)
		xs->min_rtt_us = rtt_us;
	xs->last_rtt_us = rtt_us;
	xs->rtt_fresh = 1;
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

/* Record what the peer's SYN (or SYN-ACK) negotiated. */
static void xtcp_apply_syn_options(struct sock *sk, const struct tcphdr *th,
				   const struct xtcp_rx_opts *o)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->irs = ntohl(th->seq);
	xs->rcv_nxt = xs->irs + 1;
	xs->copied_seq = xs->rcv_nxt;
	xs->rcv_wup = xs->rcv_nxt;
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

void xtcp_established(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xtcp_ca_init(sk);
	xtcp_sndbuf_expand(sk);
	xtcp_init_buffer_space(sk);
	xs->rcv_tstamp = jiffies;
	/*
	 * TCP_INFO's last_data_sent and last_data_recv count from the
	 * handshake until data moves, as Linux sets lsndtime in
	 * tcp_init_transfer() and lrcvtime at the handshake.
	 */
	xs->lsndtime = jiffies;
	xs->lrcvtime = jiffies;
	xtcp_keepalive_changed(sk);
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

	xtcp_parse_options(th, &o);
	if (th->ack) {
		u32 ack = ntohl(th->ack_seq), now = xtcp_clock_ms();

		/* The ACK must acknowledge our SYN exactly. */
		if (!after(ack, xs->iss) || after(ack, xs->snd_nxt)) {
			XTCP_INC_STATS(net, XTCP_MIB_INBADACK);
			xtcp_send_rst_reply(net, skb);
			return;
		}
		/*
		 * An echoed timestamp must be one of ours (between the first
		 * SYN and now), as Linux checks it: else an old duplicate or
		 * a forgery, answered with a RST (PAWSActive).
		 */
		if (xs->tstamp_ok && o.saw_tstamp && o.tsecr &&
		    (before(o.tsecr - xs->ts_offset, xs->retrans_stamp) ||
		     after(o.tsecr - xs->ts_offset, now))) {
			XTCP_INC_STATS(net, XTCP_MIB_PAWSACTIVE);
			xtcp_send_rst_reply(net, skb);
			return;
		}
		if (th->rst) {
			XTCP_INC_STATS(net, XTCP_MIB_CONNREFUSED);
			trace_xtcp_receive_reset(sk);
			xtcp_reset(sk, ECONNREFUSED);
			return;
		}
		if (!th->syn)
			return;

		xtcp_apply_syn_options(sk, th, &o);
		/* ECN if we asked and the SYN-ACK says ECE alone (RFC 3168). */
		xs->ecn_ok = xs->ecn_syn && th->ece && !th->cwr;
		/* The handshake's RTT, as tcp_ack() takes it from the SYN. */
		if (xs->tstamp_ok && o.tsecr)
			xtcp_rtt_sample(xs, (long)(now - (o.tsecr - xs->ts_offset)) *
					USEC_PER_MSEC);
		else if (!xs->retransmits)
			xtcp_rtt_sample(xs, (long)(now - xs->retrans_stamp) *
					USEC_PER_MSEC);
		if (xs->srtt_us)
			xtcp_set_rto(xs);
		xs->snd_una = ack;
		xs->ut_start = 0;
		xs->bytes_acked = 1;	/* the SYN, as tcp_snd_una_update() */
		xtcp_clear_timers(sk);
		xtcp_established(sk);
		xtcp_send_ack(sk, TCPHDR_ACK);
		return;
	}

	if (th->rst || !th->syn)
		return;

	/* A SYN without ACK: simultaneous open (without ECN). */
	xtcp_apply_syn_options(sk, th, &o);
	xs->ecn_syn = 0;
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
		    (th->syn && ntohl(th->seq) + 1 == xs->rcv_nxt)) {
			trace_xtcp_receive_reset(sk);
			xtcp_reset(sk, ECONNREFUSED);
		}
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

/*
 * Mark the segments the peer's SACK blocks cover. Blocks outside
 * (snd_una, snd_max] are ignored (RFC 2883 D-SACKs and bogus ones).
 * Returns the number of segments newly SACKed.
 */
/*
 * RFC 2883: the first block is a D-SACK when it lies below the ACK, or
 * inside the second block. As tcp_check_dsack(): counted in segments in
 * tcpi_dsack_dups unless empty or larger than any window the peer
 * offered; one reporting more duplicates than were ever sent again is
 * dubious (TCPDSACKIgnoredDubious), the rest TCPDSACKRecvSegs.
 */
static void xtcp_check_dsack(struct sock *sk, const struct xtcp_rx_opts *o,
			     u32 ack)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 start = o->sacks[0][0], end = o->sacks[0][1], segs = 1;
	struct net *net = sock_net(sk);

	if (before(start, ack))
		XTCP_INC_STATS(net, XTCP_MIB_DSACKRECV);
	else if (o->num_sacks > 1 && !after(end, o->sacks[1][1]) &&
		 !before(start, o->sacks[1][0]))
		XTCP_INC_STATS(net, XTCP_MIB_DSACKOFORECV);
	else
		return;
	if (!before(start, end) || end - start > xs->max_window) {
		segs = 0;
	} else {
		if (end - start > xs->mss_cache)
			segs = DIV_ROUND_UP(end - start,
					    max_t(u32, xs->mss_cache, 1));
		WRITE_ONCE(xs->dsack_dups, xs->dsack_dups + segs);
		if (xs->dsack_dups > xs->total_retrans)
			segs = 0;
	}
	if (segs)
		XTCP_ADD_STATS(net, XTCP_MIB_DSACKRECVSEGS, segs);
	else
		XTCP_INC_STATS(net, XTCP_MIB_DSACKIGNOREDDUBIOUS);
}

static u32 xtcp_sacktag(struct sock *sk, const struct xtcp_rx_opts *o,
			u32 ack)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 newly = 0;
	struct sk_buff *skb;
	int i;

	xtcp_check_dsack(sk, o, ack);

	/* Only a mark within (snd_una, snd_max] means anything. */
	if (!after(xs->highest_sack, xs->snd_una) ||
	    after(xs->highest_sack, xs->snd_max))
		xs->highest_sack = xs->snd_una;
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
				newly++;
			}
		}
		if (after(end, xs->highest_sack))
			xs->highest_sack = end;
	}
	return newly;
}

/*
 * Three duplicate ACKs start fast retransmit and recovery: with SACK as
 * RFC 6675 with PRR (xtcp_recovery.c), else NewReno (RFC 6582) with its
 * window inflation. @newly: segments this ACK SACKed.
 */
static void xtcp_dupack(struct sock *sk, u32 newly)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->in_recovery) {
		if (xs->sack_ok)
			xtcp_sack_recovery_ack(sk, newly, false);
		else
			xs->snd_cwnd++;		/* inflation */
		return;
	}
	if (++xs->dupacks < 3)
		return;
	xs->snd_ssthresh = xtcp_ca_ssthresh(sk);
	xs->snd_cwnd = xs->snd_ssthresh + 3;
	xs->high_seq = xs->snd_max;
	xs->in_recovery = true;
	xs->in_cwr = 0;		/* recovery's reduction takes over */
	xs->rexmit_high = xs->snd_una;
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_FASTRETRANS);
	if (xs->sack_ok)
		xtcp_sack_enter_recovery(sk, newly);
	else
		xtcp_retransmit_head(sk);
}

/*
 * Free what @ack covers from the write queue; an RTT sample if clean.
 * Returns the segments freed that had not been SACKed (newly delivered).
 */
static u32 xtcp_clean_acked(struct sock *sk, u32 ack,
			    const struct xtcp_rx_opts *o)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long sent = 0;
	bool sample = true;
	u32 newly = 0;
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
		xs->delivered++;
		if (!cb->sacked)
			newly++;
		__skb_unlink(skb, &sk->sk_write_queue);
		xtcp_wmem_free_skb(sk, skb);
	}

	if (xs->tstamp_ok && o->saw_tstamp && o->tsecr)
		xtcp_rtt_sample(xs, (long)(xtcp_clock_ms() + xs->ts_offset -
					   o->tsecr) * USEC_PER_MSEC);
	else if (sample && sent)
		xtcp_rtt_sample(xs, jiffies_to_usecs(jiffies - sent));
	return newly;
}

/*
 * An ECE: the network marked one of our segments (RFC 3168 section
 * 6.1.2). Halve the window once per round trip, as a loss would, and
 * say so with CWR on the next new data segment. Linux brings cwnd down
 * to the new ssthresh gradually (PRR); xtcp at once.
 */
static void xtcp_enter_cwr(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->snd_ssthresh = xtcp_ca_ssthresh(sk);
	xs->snd_cwnd = xs->snd_ssthresh;
	xs->cwnd_cnt = 0;
	xs->in_cwr = 1;
	xs->cwr_high = xs->snd_nxt;
	xs->ecn_queue_cwr = 1;
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
 * xtcp_oow_rate_limited() - may a reply to an unacceptable segment go out?
 * @net: the namespace
 * @limitable: the segment is a pure ACK or a SYN (not data: data is not
 *	part of an ACK loop)
 * @last: when the connection last answered one, jiffies; updated
 * @mib: the counter of replies skipped
 *
 * As Linux's tcp_oow_rate_limited(): at most one dupACK or challenge ACK
 * per net.xtcp.invalid_ratelimit (500 ms) per connection, so two hosts
 * cannot be driven into an ACK loop and a blind attacker gets no
 * amplification.
 *
 * Return: true if the reply must be skipped.
 */
bool xtcp_oow_rate_limited(struct net *net, bool limitable, u32 *last,
			   int mib)
{
	u32 val = READ_ONCE(*last), now = (u32)jiffies;
	s32 limit;

	if (!limitable)
		return false;
	if (val) {
		s32 elapsed = (s32)(now - val);

		limit = msecs_to_jiffies(xtcp_knob(net,
						   XTCP_KNOB_INVALID_RATELIMIT));
		if (elapsed >= 0 && elapsed < limit) {
			XTCP_INC_STATS(net, mib);
			return true;
		}
	}
	WRITE_ONCE(*last, now ? : 1);
	return false;
}

/*
 * An RFC 5961 challenge ACK, limited per connection (above) and per
 * namespace by net.xtcp.challenge_ack_limit per second (unlimited by
 * default, as in Linux 6.1), the per-second budget drawn at random
 * around the limit as tcp_send_challenge_ack() does.
 */
static void xtcp_send_challenge_ack(struct sock *sk)
{
	struct net *net = sock_net(sk);
	struct xtcp_net *xn = xtcp_pernet(net);
	u32 count, now, limit;

	if (xtcp_oow_rate_limited(net, true, &xtcp_sk(sk)->last_oow_ack_time,
				  XTCP_MIB_ACKSKIPPEDCHALLENGE))
		return;
	limit = xtcp_knob(net, XTCP_KNOB_CHALLENGE_ACK_LIMIT);
	if (limit != INT_MAX) {
		now = jiffies / HZ;
		if (now != READ_ONCE(xn->challenge_timestamp)) {
			u32 half = (limit + 1) >> 1;

			WRITE_ONCE(xn->challenge_timestamp, now);
			WRITE_ONCE(xn->challenge_count, half +
				   get_random_u32_below(limit ? : 1));
		}
		count = READ_ONCE(xn->challenge_count);
		if (!count)
			return;
		WRITE_ONCE(xn->challenge_count, count - 1);
	}
	XTCP_INC_STATS(net, XTCP_MIB_CHALLENGEACK);
	xtcp_send_ack(sk, TCPHDR_ACK);
}

/* Does the segment at @seq acknowledging @ack carry a window update? */
static bool xtcp_may_update_window(const struct xtcp_sock *xs, u32 ack,
				   u32 seq, u32 nwin)
{
	return after(ack, xs->snd_una) || after(seq, xs->snd_wl1) ||
	       (seq == xs->snd_wl1 && (nwin > xs->snd_wnd || !nwin));
}

/*
 * ts_recent takes the segment's TSval once the segment is known to be
 * acceptable, and only from a segment that does not start beyond the
 * left edge of the window last advertised (RFC 7323 section 4.3, as
 * tcp_replace_ts_recent()).
 */
static void xtcp_replace_ts_recent(struct xtcp_sock *xs, u32 seq,
				   const struct xtcp_rx_opts *o)
{
	if (xs->tstamp_ok && o->saw_tstamp && !after(seq, xs->rcv_wup) &&
	    ((s32)(xs->ts_recent - o->tsval) <= 0 || !xs->ts_recent ||
	     !time_before32(xtcp_clock_ms(), xs->ts_recent_stamp +
			    XTCP_PAWS_24DAYS_MS))) {
		xs->ts_recent = o->tsval;
		xs->ts_recent_stamp = xtcp_clock_ms();
	}
}

/**
 * xtcp_ack() - process the acknowledgment field of a segment
 * @sk: the socket
 * @th: the segment's header
 * @len: its payload length
 * @o: its options
 * @gone: set when the socket closed (our FIN acknowledged in LAST-ACK)
 *
 * As Linux's tcp_ack(): an ACK of data never sent drops the segment; an
 * ACK older than snd_una by more than the largest window the peer
 * offered (and than all the data ever acknowledged) is a blind
 * injection (RFC 5961 section 5.2): a challenge ACK and a drop. Any
 * other old ACK only updates the SACK scoreboard. An acceptable ACK
 * renews ts_recent, resets the zero-window probe count (a receiver that
 * answers probes is alive, RFC 9293 3.8.6.1) and any soft error.
 *
 * Return: 1 for an acceptable ACK, 0 for an old one, -1 to drop the
 * segment.
 */
static int xtcp_ack(struct sock *sk, const struct tcphdr *th, u32 len,
		    const struct xtcp_rx_opts *o, bool *gone)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 ack = ntohl(th->ack_seq), seq = ntohl(th->seq);
	u32 win = (u32)ntohs(th->window) << xs->snd_wscale;
	u32 old_wnd = xs->snd_wnd, acked, delivered;
	u32 sacked = 0;

	if (before(ack, xs->snd_una)) {
		u32 max_window = min_t(u64, xs->max_window, xs->bytes_acked);

		if (before(ack, xs->snd_una - max_window)) {
			if (sk->sk_state == TCP_ESTABLISHED)
				xtcp_send_challenge_ack(sk);
			return -1;
		}
		if (xs->sack_ok && o->num_sacks)
			xtcp_sacktag(sk, o, ack);
		return 0;
	}
	if (after(ack, xs->snd_max))
		return -1;

	xtcp_replace_ts_recent(xs, seq, o);
	if (xs->probes)
		xs->ut_start = 0;
	xs->probes = 0;
	xs->rcv_tstamp = jiffies;
	WRITE_ONCE(sk->sk_err_soft, 0);
	if (xs->sack_ok && o->num_sacks)
		sacked = xtcp_sacktag(sk, o, ack);
	if (th->ece && xs->ecn_ok && !xs->in_recovery && !xs->in_cwr) {
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ECNECE);
		xtcp_enter_cwr(sk);
	}

	if (xtcp_may_update_window(xs, ack, seq, win)) {
		xs->snd_wl1 = seq;
		if (xs->snd_wnd != win) {
			xs->snd_wnd = win;
			if (win > xs->max_window) {
				xs->max_window = win;
				xtcp_sync_mss(sk, xs->pmtu_cookie);
			}
		}
	}

	/*
	 * A duplicate ACK: RFC 5681's strict test (no data, same window),
	 * or, with SACK, any ACK that SACKs new data (RFC 6675): a
	 * receiver growing its window would otherwise hide every one.
	 */
	if (ack == xs->snd_una) {
		if (xs->snd_una != xs->snd_max &&
		    (sacked || (!len && !th->fin && win == old_wnd)))
			xtcp_dupack(sk, sacked);
		trace_xtcp_probe(sk);
		return 1;
	}

	acked = ack - xs->snd_una;
	xs->bytes_acked += acked;
	xs->backoff = 0;
	delivered = xtcp_clean_acked(sk, ack, o) + sacked;
	xs->snd_una = ack;
	if (after(ack, xs->snd_nxt))
		xs->snd_nxt = ack;
	xs->retransmits = 0;
	xs->ut_start = 0;
	if (xs->srtt_us)
		xtcp_set_rto(xs);		/* new data acked: no backoff */

	if (xs->in_cwr && !before(ack, xs->cwr_high))
		xs->in_cwr = 0;
	if (xs->in_recovery) {
		if (!before(ack, xs->high_seq)) {
			xs->in_recovery = false;
			xs->snd_cwnd = xs->snd_ssthresh;
			xs->dupacks = 0;
		} else if (xs->sack_ok) {
			/* PRR; only what IsLost() goes out (RFC 6675). */
			if (before(xs->rexmit_high, xs->snd_una))
				xs->rexmit_high = xs->snd_una;
			xtcp_sack_recovery_ack(sk, delivered, true);
		} else {
			/* NewReno partial ACK: the next hole goes out now. */
			xs->snd_cwnd -= min(xs->snd_cwnd - 1,
					    DIV_ROUND_UP(acked, xs->mss_cache));
			xs->snd_cwnd++;
			if (before(xs->rexmit_high, xs->snd_una))
				xs->rexmit_high = xs->snd_una;
			xtcp_retransmit_head(sk);
		}
	} else {
		xs->dupacks = 0;
		if (!xs->in_cwr)
			xtcp_ca_cong_avoid(sk, acked);
	}

	if (xs->snd_una == xs->snd_max && !xs->send_head)
		xtcp_clear_timers_retrans(sk);
	else
		xtcp_reset_retrans_timer(sk);

	if (sk->sk_socket && test_bit(SOCK_NOSPACE, &sk->sk_socket->flags))
		xtcp_new_space(sk);

	if (xs->fin_queued && xs->snd_una == xs->write_seq)
		*gone = xtcp_fin_acked(sk);
	else
		trace_xtcp_probe(sk);
	return 1;
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
 * PAWS (RFC 7323), as tcp_paws_discard(): a TSval older than ts_recent
 * marks an old duplicate, unless ts_recent is over 24 days old (the
 * peer's clock may have wrapped since), or the segment is a pure
 * duplicate ACK that only arrived out of order (tcp_disordered_ack()).
 */
static bool xtcp_paws_discard(const struct sock *sk, u32 seq, u32 end_seq,
			      const struct tcphdr *th,
			      const struct xtcp_rx_opts *o)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 ack = ntohl(th->ack_seq);

	if ((s32)(xs->ts_recent - o->tsval) <= XTCP_PAWS_WINDOW ||
	    !time_before32(xtcp_clock_ms(), xs->ts_recent_stamp +
			   XTCP_PAWS_24DAYS_MS) || !xs->ts_recent)
		return false;
	/* A reordered pure duplicate ACK within the replay window. */
	if (th->ack && seq == end_seq && seq == xs->rcv_nxt &&
	    ack == xs->snd_una &&
	    !xtcp_may_update_window(xs, ack, seq,
				    (u32)ntohs(th->window) << xs->snd_wscale) &&
	    (s32)(xs->ts_recent - o->tsval) <=
	    (s32)jiffies_to_msecs(xs->rto))
		return false;
	return true;
}

/*
 * As tcp_sequence(): acceptable unless it ends before the window last
 * advertised or starts beyond it. (A segment at rcv_nxt against a zero
 * window passes here; its payload is refused by the data path.)
 */
static bool xtcp_sequence_ok(const struct xtcp_sock *xs, u32 seq, u32 end_seq)
{
	return !before(end_seq, xs->rcv_wup) &&
	       !after(seq, xs->rcv_nxt + xtcp_receive_window(xs));
}

/* tcp_reset_check(): a RST at rcv_nxt - 1 once the peer's FIN is in. */
static bool xtcp_reset_check(const struct sock *sk, u32 seq)
{
	return seq == xtcp_sk(sk)->rcv_nxt - 1 &&
	       ((1 << sk->sk_state) &
		(TCPF_CLOSE_WAIT | TCPF_LAST_ACK | TCPF_CLOSING));
}

/* The right edge of the highest SACK block we advertise, or rcv_nxt. */
static u32 xtcp_max_sack(const struct xtcp_sock *xs)
{
	struct sk_buff *last = skb_peek_tail(&xs->ooo_queue);

	return last ? XTCP_SKB_CB(last)->end_seq : xs->rcv_nxt;
}

/*
 * RFC 9293 section 3.10.7.4's first four checks, as Linux's
 * tcp_validate_incoming(): PAWS, the sequence number, RST, SYN.
 * Unacceptable segments get a duplicate ACK (rate-limited per
 * connection for pure ACKs and SYNs); a RST resets the connection only
 * at rcv_nxt (or rcv_nxt - 1 after the peer's FIN, or at the right edge
 * of our SACK blocks), and anywhere else in the window draws a
 * challenge ACK, as does any SYN (RFC 5961 sections 3 and 4).
 *
 * Return: true if the segment may be processed further.
 */
static bool xtcp_validate_incoming(struct sock *sk, struct sk_buff *skb,
				   const struct tcphdr *th, u32 len,
				   const struct xtcp_rx_opts *o)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	u32 seq = ntohl(th->seq), end_seq = seq + len + th->syn + th->fin;
	bool limitable = seq == end_seq || th->syn;

	if (xs->tstamp_ok && o->saw_tstamp &&
	    xtcp_paws_discard(sk, seq, end_seq, th, o)) {
		if (!th->rst) {
			XTCP_INC_STATS(net, XTCP_MIB_PAWSESTAB);
			if (th->syn)
				goto syn_challenge;
			if (!xtcp_oow_rate_limited(net, limitable,
						   &xs->last_oow_ack_time,
						   XTCP_MIB_ACKSKIPPEDPAWS))
				xtcp_send_ack(sk, TCPHDR_ACK);
			return false;
		}
		/* A RST is checked below, whatever its timestamp. */
	}

	if (!xtcp_sequence_ok(xs, seq, end_seq)) {
		if (!th->rst) {
			if (th->syn)
				goto syn_challenge;
			if (!xtcp_oow_rate_limited(net, limitable,
						   &xs->last_oow_ack_time,
						   XTCP_MIB_ACKSKIPPEDSEQ))
				xtcp_send_ack(sk, TCPHDR_ACK);
		} else if (xtcp_reset_check(sk, seq)) {
			goto reset;
		}
		return false;
	}

	if (th->rst) {
		if (seq == xs->rcv_nxt || xtcp_reset_check(sk, seq) ||
		    (xs->sack_ok && !skb_queue_empty(&xs->ooo_queue) &&
		     seq == xtcp_max_sack(xs)))
			goto reset;
		xtcp_send_challenge_ack(sk);
		return false;
	}

	if (th->syn) {
syn_challenge:
		XTCP_INC_STATS(net, XTCP_MIB_SYNCHALLENGE);
		xtcp_send_challenge_ack(sk);
		return false;
	}
	return true;

reset:
	trace_xtcp_receive_reset(sk);
	xtcp_reset(sk, sk->sk_state == TCP_CLOSE_WAIT ? EPIPE : ECONNRESET);
	return false;
}

/*
 * ECN on a data segment, as tcp_ecn_accept_cwr() then tcp_ecn_check_ce():
 * the peer's CWR ends our ECE; a CE mark starts it (RFC 3168 section
 * 6.1.3). Return: true if the segment is to be acknowledged at once (a
 * new CE mark, or the peer's CWR: its window may be tiny).
 */
static bool xtcp_ecn_rcv(struct xtcp_sock *xs, const struct sk_buff *skb,
			 const struct tcphdr *th)
{
	bool now = false;

	if (th->cwr) {
		xs->ecn_demand_cwr = 0;
		now = true;
	}
	if (INET_ECN_is_ce(ip_hdr(skb)->tos)) {
		if (!xs->ecn_demand_cwr) {
			XTCP_INC_STATS(sock_net(&xs->inet.sk), XTCP_MIB_ECNCE);
			xs->ecn_demand_cwr = 1;
			now = true;
		}
	}
	return now;
}

/*
 * The synchronised states, RFC 9293 section 3.10.7.4, in Linux's order:
 * xtcp_validate_incoming(), the ACK, then payload and FIN. Returns true
 * if the skb was queued.
 */
static bool xtcp_rcv_synchronized(struct sock *sk, struct sk_buff *skb,
				  const struct tcphdr *th)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 seq = ntohl(th->seq);
	u32 len = skb->len - th->doff * 4;
	struct xtcp_rx_opts o = {};
	bool gone = false, queued = false;
	int acceptable;

	xtcp_parse_options(th, &o);
	if (!xtcp_validate_incoming(sk, skb, th, len, &o))
		return false;
	if (!th->ack)
		return false;

	/*
	 * An old ACK is still good for its data in ESTABLISHED (as
	 * tcp_rcv_established()); in the closing states it draws a
	 * challenge ACK and the segment goes (as tcp_rcv_state_process()).
	 */
	acceptable = xtcp_ack(sk, th, len, &o, &gone);
	if (acceptable < 0 || gone)
		return false;
	if (!acceptable && sk->sk_state != TCP_ESTABLISHED) {
		xtcp_send_challenge_ack(sk);
		return false;
	}

	switch (sk->sk_state) {
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
		/*
		 * Data after close() (or SHUT_RD) on a closing socket:
		 * RFC 1122 says reset, as Linux does (TCPAbortOnData).
		 */
		if ((sk->sk_shutdown & RCV_SHUTDOWN) && len &&
		    after(seq + len, xs->rcv_nxt)) {
			XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ABORTONDATA);
			xtcp_send_rst_reply(sock_net(sk), skb);
			xtcp_reset(sk, ECONNRESET);
			return false;
		}
		fallthrough;
	case TCP_ESTABLISHED: {
		bool fin = false, ack_now = false;

		if (xs->ecn_ok && len)
			ack_now |= xtcp_ecn_rcv(xs, skb, th);
		queued = xtcp_data_queue(sk, skb, th, &fin, &ack_now);
		if (fin)
			gone = xtcp_fin(sk);	/* acknowledges it */
		else if (len || ack_now)
			xtcp_ack_snd_check(sk, ack_now);
		break;
	}
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
	struct xtcp_sock *xs = xtcp_sk(sk);
	u16 segs;

	/* As tcp_segs_in(): a GRO packet counts its segments. */
	segs = max_t(u16, 1, skb_shinfo(skb)->gso_segs);
	xs->segs_in += segs;
	if (skb->len > th->doff * 4) {
		xs->data_segs_in += segs;
		xs->lrcvtime = jiffies;
	}

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
