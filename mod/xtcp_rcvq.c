// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the receive side's queues, their memory, and the window offered.
 *
 * Payload in order joins sk_receive_queue, anything beyond rcv_nxt the
 * out-of-order queue (kept sorted by sequence); both are charged to
 * SO_RCVBUF (sk_rmem_alloc) and, through the protocol's memory
 * accounting, to net.xtcp.mem and the socket's memory cgroup. When a
 * segment does not fit, the queues are first made denser (runs of
 * small or bloated skbs copied into compact ones: tcp_collapse()), then
 * the out-of-order queue loses its highest segments
 * (tcp_prune_ofo_queue()), so that the segment at rcv_nxt, the one that
 * lets the reader make progress, finds room; as a last resort it is
 * taken anyway when nothing else is queued.
 *
 * The window offered follows Linux 6.1 (tcp_select_window(),
 * tcp_grow_window()): it is what the free buffer can hold at
 * net.ipv4.tcp_adv_win_scale, but no more than rcv_ssthresh, which
 * grows only with segments whose truesize the buffer can afford, and
 * is clamped down when the buffer fills; it never shrinks the right
 * edge already offered, and drops to zero for one ACK after a segment
 * had to be refused for memory.
 *
 * All of it runs with the socket owned by the caller.
 */
#include <linux/skbuff.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "xtcp.h"

/* ---- window arithmetic ---- */

/* tcp_win_from_space(): the share of buffer space that carries data. */
static int xtcp_win_from_space(const struct sock *sk, int space)
{
	int scale = READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_adv_win_scale);

	return scale <= 0 ? space >> -scale : space - (space >> scale);
}

/* tcp_space(): window the free receive buffer allows. */
static int xtcp_space(const struct sock *sk)
{
	return xtcp_win_from_space(sk, READ_ONCE(sk->sk_rcvbuf) -
				   READ_ONCE(sk->sk_backlog.len) -
				   atomic_read(&sk->sk_rmem_alloc));
}

/* tcp_full_space(): window the whole receive buffer allows. */
static int xtcp_full_space(const struct sock *sk)
{
	return xtcp_win_from_space(sk, READ_ONCE(sk->sk_rcvbuf));
}

/**
 * xtcp_initial_window() - the window and window scale a SYN or SYN-ACK
 *	offers
 * @sk: the socket (a listener, for a SYN-ACK): its receive buffer
 * @mss: the MSS the segment offers, less the timestamp bytes when they
 *	are known to be used
 * @wscale_ok: window scaling is offered
 * @rcv_wnd: the window
 * @window_clamp: the largest window that may ever be offered
 * @rcv_wscale: our window scale
 *
 * As tcp_select_initial_window(): the full buffer's window rounded down
 * to whole segments (64240 with the defaults on a 1500-byte MTU), at
 * most 65535; the scale that lets the largest buffer the socket may grow
 * to (rmem[2] or net.core.rmem_max) be offered, unless SO_RCVBUF locked
 * the buffer: then the window never grows past it, and the scale is
 * sized for it (the window clamp of tcp_connect_init() and
 * tcp_openreq_init_rwin()).
 */
void xtcp_initial_window(const struct sock *sk, u32 mss, bool wscale_ok,
			 u32 *rcv_wnd, u32 *window_clamp, u8 *rcv_wscale)
{
	u32 space = max(xtcp_full_space(sk), 0);
	u32 clamp = (u32)U16_MAX << TCP_MAX_WSCALE;
	u8 wscale = 0;

	if (sk->sk_userlocks & SOCK_RCVBUF_LOCK)
		clamp = space;

	if (space > mss)
		space = rounddown(space, mss);
	*rcv_wnd = min_t(u32, space, U16_MAX);
	if (wscale_ok) {
		space = max_t(u32, space,
			      xtcp_knob_i(sock_net(sk), XTCP_KNOB_RMEM, 2));
		space = max_t(u32, space, READ_ONCE(sysctl_rmem_max));
		space = min_t(u32, space, clamp);
		wscale = clamp_t(int, ilog2(space) - 15, 0, TCP_MAX_WSCALE);
	}
	*window_clamp = min_t(u32, (u32)U16_MAX << wscale, clamp);
	*rcv_wscale = wscale;
}

/**
 * xtcp_init_rcv_window() - the window and window scale of our SYN
 * @sk: the connecting socket, adv_mss and wscale_ok set
 *
 * xtcp_initial_window() for the socket's own SYN.
 */
void xtcp_init_rcv_window(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 mss = xs->adv_mss;
	u8 wscale;

	/* A TIME_WAIT takeover already knows the peer uses timestamps. */
	if (xs->ts_recent_stamp)
		mss -= xs->tcp_header_len - sizeof(struct tcphdr);
	xtcp_initial_window(sk, mss, xs->wscale_ok, &xs->rcv_wnd,
			    &xs->window_clamp, &wscale);
	xs->rcv_wscale = wscale;
	xs->rcv_ssthresh = xs->rcv_wnd;
}

/**
 * xtcp_init_buffer_space() - the receive side once the handshake is done
 * @sk: the socket, just established
 *
 * As tcp_init_buffer_space() and tcp_initialize_rcv_mss(): the window
 * clamp comes down to what the buffer can hold, rcv_ssthresh with it,
 * and the estimate of the peer's segment size starts from what both
 * sides announced.
 */
void xtcp_init_buffer_space(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int maxwin = xtcp_full_space(sk);
	u32 hint;

	if (xs->window_clamp >= maxwin)
		xs->window_clamp = maxwin;
	xs->rcv_ssthresh = min(xs->rcv_ssthresh, xs->window_clamp);

	hint = min_t(u32, xs->adv_mss, xs->mss_cache);
	hint = min(hint, xs->rcv_wnd / 2);
	hint = min_t(u32, hint, TCP_MSS_DEFAULT);
	xs->rcv_mss = max_t(u32, hint, TCP_MIN_MSS);
}

/*
 * __tcp_select_window(): the window the buffer allows now, no more than
 * rcv_ssthresh, rounded to whole segments without window scaling.
 */
static u32 __xtcp_select_window(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int mss = xs->rcv_mss, free_space = xtcp_space(sk);
	int allowed = xtcp_full_space(sk), full, window;

	full = min_t(int, xs->window_clamp, allowed);
	if (unlikely(mss > full)) {
		mss = full;
		if (mss <= 0)
			return 0;
	}
	if (free_space < (full >> 1)) {
		if (sk_under_memory_pressure(sk))
			xs->rcv_ssthresh = min(xs->rcv_ssthresh,
					       4U * xs->adv_mss);
		free_space = round_down(free_space, 1 << xs->rcv_wscale);
		/* Near full: offer zero before the buffer overflows. */
		if (free_space < (allowed >> 4) || free_space < mss)
			return 0;
	}
	if (free_space > (int)xs->rcv_ssthresh)
		free_space = xs->rcv_ssthresh;

	if (xs->rcv_wscale)
		return ALIGN(free_space, 1 << xs->rcv_wscale);
	window = xs->rcv_wnd;
	if (window <= free_space - mss || window > free_space)
		window = rounddown(free_space, mss);
	else if (mss == full && free_space > window + (full >> 1))
		window = free_space;
	return window;
}

/**
 * xtcp_select_window() - the window field of the next segment
 * @sk: the socket
 *
 * As tcp_select_window(): the right edge offered never moves back
 * (net.ipv4.tcp_shrink_window aside); the choice becomes rcv_wnd and
 * rcv_wup. After a segment was refused for memory, one ACK offers zero
 * without recording it.
 *
 * Return: the window, already scaled down by our window scale.
 */
u32 xtcp_select_window(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 cur = xtcp_receive_window(xs), win;

	if (unlikely(xs->ack_nomem)) {
		xs->ack_nomem = 0;
		return 0;
	}
	win = __xtcp_select_window(sk);
	if (win < cur &&
	    (!READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_shrink_window) ||
	     !xs->rcv_wscale))
		win = ALIGN(cur, 1 << xs->rcv_wscale);
	xs->rcv_wnd = win;
	xs->rcv_wup = xs->rcv_nxt;
	win = min(win, (u32)U16_MAX << xs->rcv_wscale);
	return win >> xs->rcv_wscale;
}

/*
 * tcp_grow_window(): an in-order segment lets rcv_ssthresh grow when the
 * buffer could hold a window's worth of segments of its truesize.
 */
static void xtcp_grow_window(struct sock *sk, const struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int room = min_t(int, xs->window_clamp, xtcp_space(sk)) -
		   (int)xs->rcv_ssthresh;
	int rmax = xtcp_knob_i(sock_net(sk), XTCP_KNOB_RMEM, 2);
	int truesize, window, incr = 0;

	if (room <= 0 || sk_under_memory_pressure(sk))
		return;
	if (xtcp_win_from_space(sk, skb->truesize) <= skb->len) {
		incr = 2 * xs->adv_mss;
	} else {
		truesize = xtcp_win_from_space(sk, skb->truesize) >> 1;
		window = xtcp_win_from_space(sk, rmax) >> 1;
		while ((int)xs->rcv_ssthresh <= window) {
			if (truesize <= skb->len) {
				incr = 2 * xs->rcv_mss;
				break;
			}
			truesize >>= 1;
			window >>= 1;
		}
	}
	if (incr) {
		incr = max_t(int, incr, 2 * skb->len);
		xs->rcv_ssthresh += min(room, incr);
	}
}

/* tcp_measure_rcv_mss(), the simple part: the peer's segment size. */
static void xtcp_measure_rcv_mss(struct xtcp_sock *xs, const struct sk_buff *skb)
{
	u32 len = skb_shinfo(skb)->gso_size ? : skb->len;

	if (len >= xs->rcv_mss)
		xs->rcv_mss = min_t(u32, len, xs->adv_mss);
}

/* ---- memory ---- */

/*
 * Copy the data [@start, @end) of the run of skbs of @list beginning
 * at @skb into compact linear skbs, freeing the originals, as
 * tcp_collapse() does. Stops at an skb with the FIN (kept whole).
 */
static void xtcp_collapse(struct sock *sk, struct sk_buff_head *list,
			  struct sk_buff *skb, u32 start, u32 end)
{
	/* Skbs dense already and not overlapping are left alone. */
	while (skb && !XTCP_SKB_CB(skb)->fin &&
	       !after(XTCP_SKB_CB(skb)->seq, start) &&
	       !before(start, XTCP_SKB_CB(skb)->seq) &&
	       xtcp_win_from_space(sk, skb->truesize) <= skb->len &&
	       XTCP_SKB_CB(skb)->seq == start) {
		start = XTCP_SKB_CB(skb)->end_seq;
		skb = skb_queue_is_last(list, skb) ? NULL : skb->next;
	}
	while (skb && before(start, end)) {
		int copy = min_t(int, SKB_MAX_ORDER(0, 0), end - start);
		struct sk_buff *nskb;

		if (XTCP_SKB_CB(skb)->fin)
			return;
		nskb = alloc_skb(copy, GFP_ATOMIC);
		if (!nskb)
			return;
		memset(XTCP_SKB_CB(nskb), 0, sizeof(struct xtcp_skb_cb));
		XTCP_SKB_CB(nskb)->seq = start;
		XTCP_SKB_CB(nskb)->end_seq = start;
		__skb_queue_before(list, skb, nskb);
		skb_set_owner_r(nskb, sk);

		while (copy > 0) {
			struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
			int offset = start - cb->seq;
			int size = cb->end_seq - start;

			if (size > 0) {
				size = min(copy, size);
				if (skb_copy_bits(skb, offset,
						  skb_put(nskb, size), size))
					return;
				XTCP_SKB_CB(nskb)->end_seq += size;
				copy -= size;
				start += size;
			}
			if (!before(start, cb->end_seq)) {
				struct sk_buff *next = skb_queue_is_last(list, skb) ?
						       NULL : skb->next;

				__skb_unlink(skb, list);
				kfree_skb(skb);
				skb = next;
				XTCP_INC_STATS(sock_net(sk), XTCP_MIB_RCVCOLLAPSED);
				if (!skb || XTCP_SKB_CB(skb)->fin ||
				    after(XTCP_SKB_CB(skb)->seq, start))
					return;
			}
		}
	}
}

/*
 * Collapse each contiguous run of the out-of-order queue that is not
 * already a single dense skb, and the receive queue from copied_seq.
 */
static void xtcp_collapse_queues(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = skb_peek(&xs->ooo_queue), *head;

	while (skb) {
		u32 start = XTCP_SKB_CB(skb)->seq;
		u32 end = XTCP_SKB_CB(skb)->end_seq;
		u32 truesize = skb->truesize;
		int n = 1;

		for (head = skb;;) {
			skb = skb_queue_is_last(&xs->ooo_queue, skb) ? NULL :
			      skb->next;
			if (!skb || after(XTCP_SKB_CB(skb)->seq, end))
				break;
			truesize += skb->truesize;
			if (after(XTCP_SKB_CB(skb)->end_seq, end))
				end = XTCP_SKB_CB(skb)->end_seq;
			n++;
		}
		if (n > 1 || xtcp_win_from_space(sk, truesize) > end - start)
			xtcp_collapse(sk, &xs->ooo_queue, head, start, end);
	}
	skb = skb_peek(&sk->sk_receive_queue);
	if (skb)
		xtcp_collapse(sk, &sk->sk_receive_queue, skb, xs->copied_seq,
			      xs->rcv_nxt);
}

/*
 * tcp_prune_ofo_queue(): drop out-of-order segments from the highest
 * sequence down until an eighth of the buffer is free (and the buffer is
 * within its limit). The SACK blocks they made are gone with them, as
 * RFC 2018 allows. Returns true if anything was dropped.
 */
static bool xtcp_prune_ofo_queue(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int goal = READ_ONCE(sk->sk_rcvbuf) >> 3;
	struct sk_buff *skb;

	if (skb_queue_empty(&xs->ooo_queue))
		return false;
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_OFOPRUNED);
	while ((skb = __skb_dequeue_tail(&xs->ooo_queue))) {
		goal -= skb->truesize;
		kfree_skb(skb);
		if (goal <= 0) {
			if (atomic_read(&sk->sk_rmem_alloc) <=
			    READ_ONCE(sk->sk_rcvbuf) &&
			    !sk_under_memory_pressure(sk))
				break;
			goal = READ_ONCE(sk->sk_rcvbuf) >> 3;
		}
	}
	return true;
}

/*
 * tcp_prune_queue(): make the socket fit its buffer again: clamp the
 * window, collapse, and as the destructive last step prune the
 * out-of-order queue. Returns 0 if it fits now, -1 if not.
 */
static int xtcp_prune_queue(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_PRUNECALLED);
	if (atomic_read(&sk->sk_rmem_alloc) >= READ_ONCE(sk->sk_rcvbuf))
		xs->rcv_ssthresh = min(xs->window_clamp, 2U * xs->adv_mss);
	if (atomic_read(&sk->sk_rmem_alloc) <= READ_ONCE(sk->sk_rcvbuf))
		return 0;
	xtcp_collapse_queues(sk);
	if (atomic_read(&sk->sk_rmem_alloc) <= READ_ONCE(sk->sk_rcvbuf))
		return 0;
	xtcp_prune_ofo_queue(sk);
	if (atomic_read(&sk->sk_rmem_alloc) <= READ_ONCE(sk->sk_rcvbuf))
		return 0;
	return -1;
}

/*
 * tcp_try_rmem_schedule(): room for @skb, by pruning if needed; 0 if
 * the segment may be charged to the socket, -1 if not.
 */
static int xtcp_try_rmem_schedule(struct sock *sk, struct sk_buff *skb)
{
	if (atomic_read(&sk->sk_rmem_alloc) > READ_ONCE(sk->sk_rcvbuf) ||
	    !sk_rmem_schedule(sk, skb, skb->truesize)) {
		if (xtcp_prune_queue(sk) < 0 &&
		    atomic_read(&sk->sk_rmem_alloc) >= READ_ONCE(sk->sk_rcvbuf))
			return -1;
		while (!sk_rmem_schedule(sk, skb, skb->truesize))
			if (!xtcp_prune_ofo_queue(sk))
				return -1;
	}
	return 0;
}

/*
 * The segment at rcv_nxt, refused by the accounting while nothing else
 * is queued, is still taken (tcp_data_queue()'s forced schedule: else
 * the reader could never make progress). Linux charges it to the memory
 * cgroup with __GFP_NOFAIL, which a module cannot: it is charged to the
 * socket's receive buffer only, with a destructor of its own, and never
 * grows by coalescing. One such skb per socket at most.
 */
static void xtcp_rfree_forced(struct sk_buff *skb)
{
	atomic_sub(skb->truesize, &skb->sk->sk_rmem_alloc);
}

static void xtcp_set_owner_r_forced(struct sk_buff *skb, struct sock *sk)
{
	skb_orphan(skb);
	skb->sk = sk;
	skb->destructor = xtcp_rfree_forced;
	atomic_add(skb->truesize, &sk->sk_rmem_alloc);
}

/**
 * xtcp_rmem_uncharged() - receive memory the accounting does not cover
 * @sk: the socket, owned by the caller
 *
 * The part of sk_rmem_alloc that no sk_mem_charge() stands for: the
 * skbs taken over the limits (xtcp_set_owner_r_forced()), which only
 * ever join the receive queue.
 *
 * Return: their truesize, in bytes.
 */
int xtcp_rmem_uncharged(struct sock *sk)
{
	struct sk_buff *skb;
	int bytes = 0;

	skb_queue_walk(&sk->sk_receive_queue, skb)
		if (skb->destructor == xtcp_rfree_forced)
			bytes += skb->truesize;
	return bytes;
}

/* ---- queueing ---- */

/* Remember a duplicate for a D-SACK block (RFC 2883) in the next ACK. */
static void xtcp_dsack_set(struct sock *sk, u32 seq, u32 end_seq)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->sack_ok || !READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_dsack))
		return;
	xs->dsack = 1;
	xs->dsack_seq = seq;
	xs->dsack_end = end_seq;
}

/*
 * Take @skb, at or before rcv_nxt, into the receive queue: appended to
 * the tail skb if it fits there (skb_try_coalesce(), saving its
 * overhead), else queued. What it carries before rcv_nxt arrived
 * already; recvmsg() skips it by offset (received skbs may keep their
 * payload in page fragments: nothing is ever pulled). @skb is consumed.
 */
static void xtcp_queue_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct sk_buff *tail = skb_peek_tail(&sk->sk_receive_queue);
	bool fragstolen;
	int delta;

	if (after(cb->end_seq, xs->rcv_nxt))
		xs->bytes_received += cb->end_seq - xs->rcv_nxt;
	if (!after(cb->end_seq - cb->fin, xs->rcv_nxt)) {
		xs->rcv_nxt = cb->end_seq;
		consume_skb(skb);
		return;
	}
	if (tail && cb->seq == XTCP_SKB_CB(tail)->end_seq &&
	    !XTCP_SKB_CB(tail)->fin && tail->destructor == sock_rfree &&
	    skb_try_coalesce(tail, skb, &fragstolen, &delta)) {
		XTCP_SKB_CB(tail)->end_seq = cb->end_seq;
		XTCP_SKB_CB(tail)->fin = cb->fin;
		/* The bytes moved are charged to the tail now. */
		atomic_add(delta, &sk->sk_rmem_alloc);
		sk_mem_charge(sk, delta);
		xs->rcv_nxt = cb->end_seq;
		kfree_skb_partial(skb, fragstolen);
		return;
	}
	xs->rcv_nxt = cb->end_seq;
	__skb_queue_tail(&sk->sk_receive_queue, skb);
}

/* Put @skb in the out-of-order queue, sorted, dropping what it covers. */
static void xtcp_ofo_insert(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct sk_buff *o, *next;

	skb_queue_reverse_walk(&xs->ooo_queue, o)
		if (!after(XTCP_SKB_CB(o)->seq, cb->seq))
			break;
	if (o != (struct sk_buff *)&xs->ooo_queue &&
	    !before(XTCP_SKB_CB(o)->end_seq, cb->end_seq)) {
		/* Nothing new: covered by what we have. */
		xtcp_dsack_set(sk, cb->seq, cb->end_seq);
		kfree_skb(skb);
		return;
	}
	__skb_queue_after(&xs->ooo_queue, o, skb);
	/* Later segments it covers entirely go. */
	while (!skb_queue_is_last(&xs->ooo_queue, skb)) {
		next = skb->next;
		if (after(XTCP_SKB_CB(next)->end_seq, cb->end_seq))
			break;
		__skb_unlink(next, &xs->ooo_queue);
		kfree_skb(next);
	}
}

/* Move what the out-of-order queue now continues into the receive queue. */
static bool xtcp_ofo_queue(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *o;
	bool fin = false;

	while (!fin && (o = skb_peek(&xs->ooo_queue)) &&
	       !after(XTCP_SKB_CB(o)->seq, xs->rcv_nxt)) {
		__skb_unlink(o, &xs->ooo_queue);
		if (!after(XTCP_SKB_CB(o)->end_seq, xs->rcv_nxt)) {
			kfree_skb(o);
			continue;
		}
		fin = XTCP_SKB_CB(o)->fin;
		xtcp_queue_rcv(sk, o);
	}
	return fin;
}

/**
 * xtcp_data_queue() - the payload and FIN of a segment in a synchronised
 *	state
 * @sk: the socket
 * @skb: the segment, data at its TCP header
 * @th: its header
 * @fin: set when a FIN now lies in order (the caller processes it)
 * @ack_now: set when the segment calls for an immediate ACK
 *	(out of order, a duplicate, outside the window, or dropped)
 *
 * As tcp_data_queue(): a segment at rcv_nxt is queued if the window is
 * open and memory can be found (xtcp_try_rmem_schedule()), then what
 * the out-of-order queue continues follows it; a duplicate is answered
 * at once with a D-SACK; one beyond the window is dropped; one beyond
 * rcv_nxt waits in the out-of-order queue. A segment refused for memory
 * is still taken when nothing else is queued (so the reader can always
 * make progress); otherwise the next ACK offers a zero window.
 *
 * Return: true if @skb was queued or freed here (the caller must not
 * free it).
 */
bool xtcp_data_queue(struct sock *sk, struct sk_buff *skb,
		     const struct tcphdr *th, bool *fin, bool *ack_now)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 seq = ntohl(th->seq);
	u32 len = skb->len - th->doff * 4;
	u32 end_seq = seq + len + th->fin;
	struct xtcp_skb_cb *cb;

	if (seq == end_seq)
		return false;

	if (!after(end_seq, xs->rcv_nxt)) {
		/* A retransmission of what we have: ACK it at once. */
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_DELAYEDACKLOST);
		xtcp_dsack_set(sk, seq, end_seq);
		*ack_now = true;
		return false;
	}
	if (!before(seq, xs->rcv_nxt + xtcp_receive_window(xs))) {
		*ack_now = true;		/* beyond the window: a probe? */
		return false;
	}
	if (before(seq, xs->rcv_nxt))
		xtcp_dsack_set(sk, seq, xs->rcv_nxt);
	if (!after(seq, xs->rcv_nxt) && !xtcp_receive_window(xs) &&
	    (len || !th->fin)) {
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ZEROWINDOWDROP);
		*ack_now = true;
		return false;
	}

	__skb_pull(skb, th->doff * 4);	/* the header is linear */
	skb_dst_drop(skb);
	nf_reset_ct(skb);
	cb = XTCP_SKB_CB(skb);
	memset(cb, 0, sizeof(*cb));
	cb->seq = seq;
	cb->end_seq = end_seq;
	cb->fin = th->fin;

	if (xtcp_try_rmem_schedule(sk, skb)) {
		xs->ack_nomem = 1;
		*ack_now = true;
		if (after(seq, xs->rcv_nxt) ||
		    !skb_queue_empty(&sk->sk_receive_queue)) {
			XTCP_INC_STATS(sock_net(sk), XTCP_MIB_RCVPRUNED);
			kfree_skb(skb);
			return true;
		}
		/* Nothing else queued: take it over the limits. */
		if (sk_rmem_schedule(sk, skb, skb->truesize))
			skb_set_owner_r(skb, sk);
		else
			xtcp_set_owner_r_forced(skb, sk);
	} else {
		skb_set_owner_r(skb, sk);
	}

	if (after(seq, xs->rcv_nxt)) {
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_OFOQUEUE);
		xs->rcv_ooopack++;
		xs->last_ooo_seq = seq;
		xtcp_ofo_insert(sk, skb);
		*ack_now = true;
		return true;
	}

	if (len) {
		xtcp_measure_rcv_mss(xs, skb);
		if (skb->len >= 128)
			xtcp_grow_window(sk, skb);
	}
	*fin = cb->fin;
	xtcp_queue_rcv(sk, skb);
	if (!*fin && !skb_queue_empty(&xs->ooo_queue)) {
		*fin = xtcp_ofo_queue(sk);
		/* RFC 5681 4.2: a filled gap is acknowledged at once. */
		*ack_now = true;
	}
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_data_ready(sk);
	return true;
}

/**
 * xtcp_ack_snd_check() - acknowledge received data now or later
 * @sk: the socket
 * @now: the segment calls for an immediate ACK
 *
 * As __tcp_ack_snd_check(): at once during quick-ACK mode (the start of
 * a connection), when asked, or when more than a full segment arrived
 * since our last ACK and the window can move on; else within the
 * delayed-ACK time.
 */
void xtcp_ack_snd_check(struct sock *sk, bool now)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (now || xs->quickacks ||
	    (xs->rcv_nxt - xs->rcv_wup > xs->rcv_mss &&
	     __xtcp_select_window(sk) >= xs->rcv_wnd)) {
		if (xs->quickacks)
			xs->quickacks--;
		xtcp_send_ack(sk, TCPHDR_ACK);
		return;
	}
	xtcp_schedule_ack(sk);
}

/**
 * xtcp_sack_blocks() - the SACK blocks for our next segment
 * @xs: the socket
 * @blk: filled with [start, end) pairs
 * @max: room for this many
 *
 * A pending D-SACK block first (RFC 2883), then the out-of-order queue's
 * contiguous runs, the one holding the latest arrival first (RFC 2018).
 * The D-SACK is sent once.
 *
 * Return: the number of blocks written.
 */
int xtcp_sack_blocks(struct xtcp_sock *xs, u32 blk[][2], int max)
{
	struct sk_buff *skb;
	int n = 0, first, i;

	if (xs->dsack && max) {
		blk[0][0] = xs->dsack_seq;
		blk[0][1] = xs->dsack_end;
		xs->dsack = 0;
		n = 1;
	}
	first = n;
	skb_queue_walk(&xs->ooo_queue, skb) {
		u32 s = XTCP_SKB_CB(skb)->seq, e = XTCP_SKB_CB(skb)->end_seq;

		if (n > first && !after(s, blk[n - 1][1])) {
			if (after(e, blk[n - 1][1]))
				blk[n - 1][1] = e;
			continue;
		}
		if (n == 4)
			break;
		blk[n][0] = s;
		blk[n][1] = e;
		n++;
	}
	for (i = first + 1; i < n; i++) {
		if (!before(xs->last_ooo_seq, blk[i][0]) &&
		    before(xs->last_ooo_seq, blk[i][1])) {
			swap(blk[first][0], blk[i][0]);
			swap(blk[first][1], blk[i][1]);
			break;
		}
	}
	return min(n, max);
}

/**
 * xtcp_cleanup_rbuf() - after reading: advertise a window that opened
 * @sk: the socket, owned by the caller
 *
 * As tcp_cleanup_rbuf(): an ACK goes out when one is owed for more than
 * a segment, or when reading at least doubled the window that could be
 * offered now compared with what remains of the one offered.
 */
void xtcp_cleanup_rbuf(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 now_wnd;

	if (!((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_FIN_WAIT1 |
				     TCPF_FIN_WAIT2)))
		return;
	if (xs->ack_pending && xs->rcv_nxt - xs->rcv_wup > xs->rcv_mss) {
		xtcp_send_ack(sk, TCPHDR_ACK);
		return;
	}
	if (sk->sk_shutdown & RCV_SHUTDOWN)
		return;
	now_wnd = xtcp_receive_window(xs);
	if (2 * now_wnd <= xs->window_clamp) {
		u32 new_wnd = __xtcp_select_window(sk);

		if (new_wnd && new_wnd >= 2 * now_wnd)
			xtcp_send_ack(sk, TCPHDR_ACK);
	}
}
