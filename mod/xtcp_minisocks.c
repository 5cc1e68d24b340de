// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the passive open. A listener's SYN becomes a request (struct
 * xtcp_request), answered with a SYN-ACK and kept in the established
 * table under its 4-tuple; the handshake's ACK finds it there and makes
 * the connection, a socket cloned from the listener, which joins the
 * listener's accept queue. Our tcp_conn_request(), tcp_check_req(),
 * tcp_v4_syn_recv_sock() and reqsk_timer_handler().
 *
 * A request has three kinds of reference: the table's, its timer's
 * (while armed) and those of lookups in progress. It leaves the table
 * once: when its connection takes its place (xtcp_ehash_replace_req(),
 * which of two CPUs with the same ACK only one wins), when its timer
 * gives up, or when a RST, a SYN or an ICMP error ends it. Whoever takes
 * it out takes it off the listener's counts (req_qlen, req_young).
 *
 * When the request queue is full (or net.xtcp.syncookies is 2), a SYN
 * is answered with a SYN cookie instead (xtcp_syncookies.c) and nothing
 * is kept; the ACK's cookie rebuilds the request on the stack.
 *
 * Locking: all of this runs in softirq (segment input) or in a
 * request's timer, without the listener's socket lock; the listener is
 * only read, and its accept queue has its own spinlock. A new child is
 * returned by sk_clone_lock() with bh_lock_sock() held, and is processed
 * under it before anyone else can see it unlocked.
 */
#include <linux/tcp.h>
#include <net/route.h>
#include <net/tcp.h>

#include "xtcp.h"

static void xtcp_listendrop(struct sock *lsk)
{
	__XTCP_INC_STATS(sock_net(lsk), XTCP_MIB_LISTENDROPS);
}

/* reqsk_timeout(): 1 s doubled for each expiry, at most 120 s. */
static unsigned long xtcp_req_timeout(const struct xtcp_request *req)
{
	if (req->num_timeout >= 7)
		return TCP_RTO_MAX;
	return min_t(unsigned long, TCP_TIMEOUT_INIT << req->num_timeout,
		     TCP_RTO_MAX);
}

/*
 * Take @req out of the table and off its listener's counts, and stop its
 * timer, as inet_csk_reqsk_queue_drop(). Return: true if this call took
 * it out.
 */
static bool xtcp_req_drop(struct xtcp_request *req)
{
	struct xtcp_sock *lxs = xtcp_sk(req->listener);
	bool unlinked = xtcp_ehash_del(&req->hnode);

	if (unlinked) {
		atomic_dec(&lxs->req_qlen);
		if (!req->num_timeout)
			atomic_dec(&lxs->req_young);
		xtcp_req_put(req);
	}
	if (timer_pending(&req->timer) && del_timer_sync(&req->timer))
		xtcp_req_put(req);
	return unlinked;
}

/* inet_rtx_syn_ack(): the SYN-ACK again. Return: 0 or a negative errno. */
static int xtcp_req_resend(struct sock *lsk, struct xtcp_request *req)
{
	int err = xtcp_send_synack(lsk, req, xtcp_clock_ms());

	if (!err) {
		req->num_retrans++;
		__XTCP_INC_STATS(sock_net(lsk), XTCP_MIB_SYNACKRETRANS);
	}
	return err;
}

/*
 * reqsk_timer_handler(): resend the SYN-ACK with exponential backoff, up
 * to net.xtcp.synack_retries times. While more than half the queue is
 * taken, requests that were already resent give up sooner, so that
 * fresh ones keep their room: the retries fall towards 2 as the young
 * (never yet expired) requests become a smaller share, as Linux.
 */
static void xtcp_req_timer(struct timer_list *t)
{
	struct xtcp_request *req = from_timer(req, t, timer);
	struct sock *lsk = req->listener;
	struct xtcp_sock *lxs = xtcp_sk(lsk);
	int max_retries, qlen, young;

	if (hlist_nulls_unhashed(&req->hnode.node))
		goto out;
	if (inet_sk_state_load(lsk) != TCP_LISTEN)
		goto drop;
	max_retries = xtcp_knob(sock_net(lsk), XTCP_KNOB_SYNACK_RETRIES);
	qlen = atomic_read(&lxs->req_qlen);
	if ((qlen << 1) > max(8U, READ_ONCE(lsk->sk_max_ack_backlog))) {
		young = atomic_read(&lxs->req_young) << 1;
		while (max_retries > 2) {
			if (qlen < young)
				break;
			max_retries--;
			young <<= 1;
		}
	}
	if (req->num_timeout < max_retries &&
	    (!xtcp_req_resend(lsk, req) || req->acked)) {
		if (req->num_timeout++ == 0)
			atomic_dec(&lxs->req_young);
		mod_timer(&req->timer, jiffies + xtcp_req_timeout(req));
		return;
	}
drop:
	xtcp_req_drop(req);
out:
	xtcp_req_put(req);
}

/*
 * The SYN's options, as tcp_parse_options() takes them on a listener:
 * each only if this namespace's knob allows it.
 */
static void xtcp_syn_options(const struct net *net, const struct tcphdr *th,
			     struct xtcp_rx_opts *o)
{
	xtcp_parse_options(th, o);
	if (!xtcp_knob(net, XTCP_KNOB_TIMESTAMPS))
		o->saw_tstamp = false;
	if (!xtcp_knob(net, XTCP_KNOB_SACK))
		o->sack_ok = false;
	if (!xtcp_knob(net, XTCP_KNOB_WINDOW_SCALING))
		o->wscale_ok = false;
}

/*
 * What the SYN-ACK offers, from the route: the MSS (lowered by the
 * listener's TCP_MAXSEG), the window and our window scale, as
 * tcp_openreq_init_rwin().
 */
static int xtcp_req_init_rwin(struct sock *lsk, struct xtcp_request *req)
{
	const struct xtcp_hnode *hn = &req->hnode;
	u16 user_mss = xtcp_sk(lsk)->user_mss;
	struct rtable *rt;
	u32 mss;
	u8 wscale;

	rt = xtcp_req_route(lsk, hn);
	if (IS_ERR(rt))
		return PTR_ERR(rt);
	mss = dst_metric_advmss(&rt->dst);
	ip_rt_put(rt);
	if (user_mss && user_mss < mss)
		mss = user_mss;
	req->adv_mss = mss;
	xtcp_initial_window(lsk, mss - (req->tstamp_ok ?
					TCPOLEN_TSTAMP_ALIGNED : 0),
			    req->wscale_ok, &req->rcv_wnd, &req->window_clamp,
			    &wscale);
	req->rcv_wscale = req->wscale_ok ? wscale : 0;
	return 0;
}

/*
 * The peer's MSS as tcp_parse_options() clamps it: the option lowered to
 * the listener's TCP_MAXSEG, or 536 when there is none (an option of 0
 * is ignored).
 */
static u16 xtcp_req_peer_mss(const struct sock *lsk, u16 opt_mss)
{
	u16 user_mss = xtcp_sk(lsk)->user_mss;

	if (!opt_mss)
		return TCP_MSS_DEFAULT;
	return user_mss && user_mss < opt_mss ? user_mss : opt_mss;
}

/**
 * xtcp_conn_request() - a SYN for a listener
 * @lsk: the listener
 * @skb: the SYN, data at its TCP header
 * @tw_isn: the ISN a TIME_WAIT entry chose for it, or 0
 *
 * As tcp_conn_request(): dropped (and counted in ListenDrops) when the
 * SYN is for a broadcast or multicast address, when the accept queue is
 * full (ListenOverflows), or when the request queue is full and SYN
 * cookies are off (TCPReqQFullDrop); with cookies on (the default) a
 * full request queue, or syncookies 2, answers with a cookie instead
 * (TCPReqQFullDoCookies). Without cookies, the last quarter of
 * net.xtcp.max_syn_backlog is kept from new requests, as Linux does.
 * Otherwise a request is made, put in the table and answered.
 */
static void xtcp_conn_request(struct sock *lsk, struct sk_buff *skb,
			      u32 tw_isn)
{
	const struct tcphdr *th = tcp_hdr(skb);
	const struct iphdr *iph = ip_hdr(skb);
	struct xtcp_sock *lxs = xtcp_sk(lsk);
	struct net *net = sock_net(lsk);
	struct rtable *in_rt = skb_rtable(skb);
	struct xtcp_request stack_req, *req;
	struct xtcp_rx_opts o = {};
	bool want_cookie = false;
	int syncookies, backlog;
	u32 now;

	if (in_rt && (in_rt->rt_flags & (RTCF_BROADCAST | RTCF_MULTICAST)))
		goto drop;
	syncookies = xtcp_knob(net, XTCP_KNOB_SYNCOOKIES);
	if (!tw_isn && (syncookies == 2 ||
			atomic_read(&lxs->req_qlen) >=
			READ_ONCE(lsk->sk_max_ack_backlog))) {
		if (!syncookies) {
			__XTCP_INC_STATS(net, XTCP_MIB_REQQFULLDROP);
			goto drop;
		}
		__XTCP_INC_STATS(net, XTCP_MIB_REQQFULLDOCOOKIES);
		want_cookie = true;
	}
	if (sk_acceptq_is_full(lsk)) {
		__XTCP_INC_STATS(net, XTCP_MIB_LISTENOVERFLOWS);
		goto drop;
	}
	if (!want_cookie && !tw_isn && !syncookies) {
		backlog = xtcp_knob(net, XTCP_KNOB_MAX_SYN_BACKLOG);
		if (backlog - atomic_read(&lxs->req_qlen) < (backlog >> 2))
			goto drop;
	}

	if (want_cookie) {
		req = &stack_req;
		memset(req, 0, sizeof(*req));
		req->listener = lsk;
	} else {
		req = xtcp_req_alloc(lsk);
		if (!req)
			goto drop;
	}
	xtcp_syn_options(net, th, &o);
	/* A cookie has no room for options that cannot ride in TSval. */
	if (want_cookie && !o.saw_tstamp) {
		o.sack_ok = false;
		o.wscale_ok = false;
	}
	xtcp_hnode_init(&req->hnode, net, iph->daddr, th->dest, iph->saddr,
			th->source, XTCP_HNODE_REQ);
	req->rcv_isn = ntohl(th->seq);
	req->mss = xtcp_req_peer_mss(lsk, o.mss);
	req->tstamp_ok = o.saw_tstamp;
	req->sack_ok = o.sack_ok;
	req->wscale_ok = o.wscale_ok;
	req->snd_wscale = o.wscale_ok ? o.wscale : 0;
	/* tcp_ecn_create_request(): ECE and CWR ask for ECN. */
	req->ecn_ok = th->ece && th->cwr && xtcp_knob(net, XTCP_KNOB_ECN);
	if (req->tstamp_ok) {
		req->ts_recent = o.tsval;
		req->ts_off = xtcp_ts_offset(net, iph->daddr, iph->saddr,
					     th->dest, th->source);
	}
	if (xtcp_req_init_rwin(lsk, req)) {
		__XTCP_INC_STATS(net, XTCP_MIB_OUTNOROUTE);
		goto drop_req;
	}
	now = xtcp_clock_ms();

	if (want_cookie) {
		/* Without timestamps, a cookie cannot bring ECN back. */
		if (!req->tstamp_ok)
			req->ecn_ok = 0;
		req->snt_isn = xtcp_cookie_init_seq(req);
		WRITE_ONCE(lxs->synq_overflow, jiffies);
		__XTCP_INC_STATS(net, XTCP_MIB_SYNCOOKIESSENT);
		xtcp_send_synack(lsk, req, req->tstamp_ok ?
				 xtcp_cookie_tsval(req, now) : now);
		return;
	}

	req->snt_isn = tw_isn ? : xtcp_isn(iph->daddr, iph->saddr, th->dest,
					   th->source);
	req->snt_synack = now;
	/* The table's, the timer's and ours. */
	refcount_set(&req->refcnt, 3);
	timer_setup(&req->timer, xtcp_req_timer, 0);
	atomic_inc(&lxs->req_qlen);
	atomic_inc(&lxs->req_young);
	if (!xtcp_ehash_insert_req(req)) {
		/* Another CPU's request for the same SYN, or a connection. */
		atomic_dec(&lxs->req_qlen);
		atomic_dec(&lxs->req_young);
		xtcp_req_free(req);
		return;
	}
	mod_timer(&req->timer, jiffies + TCP_TIMEOUT_INIT);
	xtcp_send_synack(lsk, req, now);
	xtcp_req_put(req);
	return;

drop_req:
	if (req != &stack_req)
		xtcp_req_free(req);
drop:
	xtcp_listendrop(lsk);
}

/* Undo a child that never became visible: closed, its port given back. */
static void xtcp_child_discard(struct sock *child)
	__releases(&child->sk_lock.slock)
{
	child->sk_state = TCP_CLOSE;
	xtcp_put_port(child);
	sock_set_flag(child, SOCK_DEAD);
	bh_unlock_sock(child);
	/* sk_clone_lock()'s two references. */
	sock_put(child);
	sock_put(child);
}

/**
 * xtcp_create_child() - the connection a completed handshake makes
 * @lsk: the listener
 * @req: the request (in the table, or a cookie's on the stack)
 * @skb: the handshake's ACK
 * @cookie: @req is a cookie's
 * @lost: set when another CPU completed the same handshake first
 *
 * As tcp_v4_syn_recv_sock() with tcp_create_openreq_child(): refused
 * when the accept queue is full (ListenOverflows); otherwise a clone of
 * the listener (buffer sizes, socket options, TCP_NODELAY, TCP_CORK,
 * TCP_MAXSEG, keepalive settings and SO_LINGER come with it) whose
 * connection state is the request's, which takes the request's place in
 * the table and a share of the listener's port, and is ESTABLISHED.
 *
 * Return: the child, bh_lock_sock() held and two references (one for
 * the accept queue, one the caller's), or NULL.
 */
static struct sock *xtcp_create_child(struct sock *lsk,
				      struct xtcp_request *req,
				      struct sk_buff *skb, bool cookie,
				      bool *lost)
{
	const struct xtcp_sock *lxs = xtcp_sk(lsk);
	const struct xtcp_hnode *hn = &req->hnode;
	const struct tcphdr *th = tcp_hdr(skb);
	struct net *net = sock_net(lsk);
	struct xtcp_rx_opts o = {};
	struct inet_sock *inet;
	struct xtcp_sock *xs;
	struct sock *child;
	struct rtable *rt;
	u32 now;

	if (sk_acceptq_is_full(lsk)) {
		__XTCP_INC_STATS(net, XTCP_MIB_LISTENOVERFLOWS);
		return NULL;
	}
	rt = xtcp_req_route(lsk, hn);
	if (IS_ERR(rt))
		return NULL;
	child = sk_clone_lock(lsk, GFP_ATOMIC);
	if (!child) {
		ip_rt_put(rt);
		return NULL;
	}
	__acquire(&child->sk_lock.slock);	/* sk_clone_lock()'s */

	/* Nothing of the listener's connection state, but its settings. */
	xs = xtcp_sk(child);
	memset((char *)child + offsetof(struct xtcp_sock, bind_bucket), 0,
	       sizeof(*xs) - offsetof(struct xtcp_sock, bind_bucket));
	xs->user_mss = lxs->user_mss;
	xs->nodelay = lxs->nodelay;
	xs->cork = lxs->cork;
	xs->recvmsg_inq = lxs->recvmsg_inq;
	xs->notsent_lowat = lxs->notsent_lowat;
	xs->user_timeout = lxs->user_timeout;
	xs->keepalive_time = lxs->keepalive_time;
	xs->keepalive_intvl = lxs->keepalive_intvl;
	xs->keepalive_probes = lxs->keepalive_probes;
	xs->ca_ops = lxs->ca_ops;	/* TCP_CONGESTION, as Linux's children */
	skb_queue_head_init(&xs->ooo_queue);
	xtcp_listen_init_sock(child);
	xtcp_init_timers(child);

	inet = inet_sk(child);
	RCU_INIT_POINTER(inet->inet_opt, NULL);
	inet->mc_list = NULL;
	inet->inet_daddr = hn->raddr;
	inet->inet_rcv_saddr = hn->laddr;
	inet->inet_saddr = hn->laddr;
	inet->inet_dport = hn->rport;
	inet->inet_sport = hn->lport;
	inet->inet_num = ntohs(hn->lport);
	atomic_set(&inet->inet_id, get_random_u16());
	child->sk_shutdown = 0;
	child->sk_ack_backlog = 0;
	child->sk_max_ack_backlog = 0;
	child->sk_state = TCP_SYN_RECV;
	xtcp_hnode_init(&xs->hnode, net, hn->laddr, hn->lport, hn->raddr,
			hn->rport, XTCP_HNODE_SOCK);

	/* The sequence spaces the handshake agreed on. */
	xs->iss = req->snt_isn;
	xs->snd_una = req->snt_isn + 1;
	xs->snd_nxt = xs->snd_una;
	xs->snd_max = xs->snd_una;
	xs->write_seq = xs->snd_una;
	xs->pushed_seq = xs->snd_una;
	xs->snd_sml = xs->snd_una;
	xs->high_seq = xs->snd_una;
	xs->irs = req->rcv_isn;
	xs->rcv_nxt = req->rcv_isn + 1;
	xs->copied_seq = xs->rcv_nxt;
	xs->rcv_wup = xs->rcv_nxt;
	xs->snd_wl1 = req->rcv_isn;
	xs->snd_wl2 = xs->snd_una;

	/* The options, and what they mean for windows and segment sizes. */
	xs->tstamp_ok = req->tstamp_ok;
	xs->sack_ok = req->sack_ok;
	xs->wscale_ok = req->wscale_ok;
	xs->ecn_ok = req->ecn_ok;
	xs->snd_wscale = req->snd_wscale;
	xs->rcv_wscale = req->rcv_wscale;
	xs->snd_wnd = (u32)ntohs(th->window) << xs->snd_wscale;
	xs->max_window = xs->snd_wnd;
	xs->rcv_wnd = req->rcv_wnd;
	xs->window_clamp = req->window_clamp;
	xs->rcv_ssthresh = req->rcv_wnd;
	xs->ts_offset = req->ts_off;
	xs->ts_recent = req->ts_recent;
	now = xtcp_clock_ms();
	xs->ts_recent_stamp = now ? : 1;
	xs->mss_clamp = req->mss;
	xs->adv_mss = req->adv_mss;
	xs->tcp_header_len = sizeof(struct tcphdr) +
			     (xs->tstamp_ok ? TCPOLEN_TSTAMP_ALIGNED : 0);

	xs->snd_cwnd = 10;			/* RFC 6928, as Linux */
	xs->snd_ssthresh = INT_MAX;
	xs->rto = TCP_TIMEOUT_INIT;
	xs->quickacks = 16;
	xs->rcv_tstamp = jiffies;
	xs->min_rtt_us = ~0U;
	/* The handshake's RTT: Karn's rule, or the echoed timestamp. */
	xtcp_parse_options(th, &o);
	if (!cookie && !req->num_retrans)
		xtcp_rtt_sample(xs, (long)(now - req->snt_synack) *
				USEC_PER_MSEC);
	else if (xs->tstamp_ok && o.saw_tstamp && o.tsecr)
		xtcp_rtt_sample(xs, (long)(now - (o.tsecr - xs->ts_offset)) *
				USEC_PER_MSEC);
	if (xs->srtt_us)
		xtcp_set_rto(xs);

	sk_setup_caps(child, &rt->dst);
	xtcp_sync_mss(child, dst_mtu(&rt->dst));

	if (xtcp_inherit_port(child, lsk))
		goto discard;
	if (cookie ? !xtcp_ehash_insert_sk(child) :
		     !xtcp_ehash_replace_req(child, req)) {
		*lost = true;
		goto discard;
	}
	xtcp_established(child);
	__XTCP_INC_STATS(net, XTCP_MIB_PASSIVEOPENS);
	__release(&child->sk_lock.slock);	/* held on, for the caller */
	return child;

discard:
	xtcp_child_discard(child);
	return NULL;
}

/*
 * The child is made: into the accept queue with the handshake's ACK
 * processed on it (it may carry data or a FIN). Consumes @skb.
 */
static void xtcp_child_process(struct sock *lsk, struct sock *child,
			       struct sk_buff *skb)
{
	__acquire(&child->sk_lock.slock);	/* held since the clone */
	if (!xtcp_accept_enqueue(lsk, child)) {
		/* The listener closed meanwhile: as its close would do. */
		xtcp_child_forget(child);
		bh_unlock_sock(child);
		sock_put(child);
		sock_put(child);
		kfree_skb(skb);
		return;
	}
	xtcp_do_rcv(child, skb);
	bh_unlock_sock(child);
	sock_put(child);
}

/* RFC 9293's window test, as tcp_in_window(). */
static bool xtcp_req_in_window(u32 seq, u32 end_seq, u32 s_win, u32 e_win)
{
	if (seq == s_win)
		return true;
	if (after(end_seq, s_win) && before(seq, e_win))
		return true;
	return seq == e_win && seq == end_seq;
}

/* tcp_v4_reqsk_send_ack(): what the request has, to a bad segment. */
static void xtcp_req_send_ack(struct xtcp_request *req, struct sk_buff *skb)
{
	u32 ts[2] = { xtcp_clock_ms() + req->ts_off, req->ts_recent };

	xtcp_send_reply(sock_net(req->listener), skb, TCPHDR_ACK,
			req->snt_isn + 1, req->rcv_isn + 1,
			min_t(u32, req->rcv_wnd >> req->rcv_wscale, U16_MAX),
			req->tstamp_ok ? ts : NULL);
}

/**
 * xtcp_req_rcv() - a segment for a request
 * @req: the request, referenced by the caller
 * @skb: the segment, data at its TCP header, checksum verified
 *
 * As tcp_check_req(). A retransmission of the SYN is answered with the
 * SYN-ACK again (at most once per net.xtcp.invalid_ratelimit); an ACK of
 * something else than our SYN draws a RST; a segment out of the window
 * or rejected by PAWS an ACK; a RST or a new SYN in the window ends the
 * request (EmbryonicRsts, with a RST answering the SYN); the ACK of our
 * SYN-ACK makes the connection, which then takes the segment. When the
 * accept queue is full the ACK is ignored and the request kept
 * (acked), so that the peer's next retransmission may find room, unless
 * net.xtcp.abort_on_overflow says to reset it.
 *
 * Return: XTCP_REQ_RELOOKUP if the segment is to be looked up again (the
 * listener has closed, or another CPU's connection took the request's
 * place), with @skb not consumed; else XTCP_REQ_CONSUMED.
 */
enum xtcp_req_verdict xtcp_req_rcv(struct xtcp_request *req,
				   struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	struct sock *lsk = req->listener;
	struct net *net = sock_net(lsk);
	u32 seq = ntohl(th->seq);
	u32 end_seq = seq + th->syn + th->fin + skb->len - th->doff * 4;
	u8 flg = tcp_flag_byte(th) & (TCPHDR_SYN | TCPHDR_RST | TCPHDR_ACK);
	struct xtcp_rx_opts o = {};
	bool paws_reject = false, lost = false;
	struct sock *child;

	if (inet_sk_state_load(lsk) != TCP_LISTEN) {
		xtcp_req_drop(req);
		return XTCP_REQ_RELOOKUP;
	}
	xtcp_parse_options(th, &o);
	if (o.saw_tstamp && req->tstamp_ok && req->ts_recent &&
	    (s32)(req->ts_recent - o.tsval) > XTCP_PAWS_WINDOW)
		paws_reject = true;

	/* A retransmission of the SYN: the SYN-ACK again. */
	if (seq == req->rcv_isn && flg == TCPHDR_SYN && !paws_reject) {
		if (!xtcp_oow_rate_limited(net, true, &req->last_oow_ack_time,
					   XTCP_MIB_ACKSKIPPEDSYNRECV) &&
		    !xtcp_req_resend(lsk, req))
			mod_timer_pending(&req->timer,
					  jiffies + xtcp_req_timeout(req));
		goto consumed;
	}
	if ((flg & TCPHDR_ACK) && ntohl(th->ack_seq) != req->snt_isn + 1) {
		xtcp_send_rst_reply(net, skb);
		goto consumed;
	}
	if (paws_reject ||
	    !xtcp_req_in_window(seq, end_seq, req->rcv_isn + 1,
				req->rcv_isn + 1 + req->rcv_wnd)) {
		if (!(flg & TCPHDR_RST) &&
		    !xtcp_oow_rate_limited(net, seq == end_seq || th->syn,
					   &req->last_oow_ack_time,
					   XTCP_MIB_ACKSKIPPEDSYNRECV))
			xtcp_req_send_ack(req, skb);
		if (paws_reject)
			__XTCP_INC_STATS(net, XTCP_MIB_PAWSESTAB);
		goto consumed;
	}
	if (o.saw_tstamp && !after(seq, req->rcv_isn + 1))
		req->ts_recent = o.tsval;
	/* The SYN's own sequence number: only its retransmission. */
	if (seq == req->rcv_isn)
		flg &= ~TCPHDR_SYN;
	if (flg & (TCPHDR_RST | TCPHDR_SYN))
		goto embryonic_reset;
	if (!(flg & TCPHDR_ACK))
		goto consumed;

	child = xtcp_create_child(lsk, req, skb, false, &lost);
	if (!child) {
		if (lost)
			return XTCP_REQ_RELOOKUP;
		xtcp_listendrop(lsk);
		if (!xtcp_knob(net, XTCP_KNOB_ABORT_ON_OVERFLOW)) {
			req->acked = 1;
			goto consumed;
		}
		goto embryonic_reset;
	}
	/* The connection has the request's place: off the listener's queue. */
	atomic_dec(&xtcp_sk(lsk)->req_qlen);
	if (!req->num_timeout)
		atomic_dec(&xtcp_sk(lsk)->req_young);
	xtcp_req_put(req);		/* the table's */
	if (del_timer_sync(&req->timer))
		xtcp_req_put(req);
	xtcp_child_process(lsk, child, skb);
	return XTCP_REQ_CONSUMED;

embryonic_reset:
	if (!(flg & TCPHDR_RST))
		xtcp_send_rst_reply(net, skb);
	if (xtcp_req_drop(req))
		__XTCP_INC_STATS(net, XTCP_MIB_EMBRYONICRSTS);
consumed:
	consume_skb(skb);
	return XTCP_REQ_CONSUMED;
}

/**
 * xtcp_req_err() - an ICMP error quoting a request's SYN-ACK
 * @req: the request, referenced by the caller
 * @seq: the sequence number the error quotes
 * @abort: the error is one that ends a request (tcp_v4_err()'s choice:
 *	network or host unreachable, parameter problem, time exceeded)
 *
 * As tcp_req_err(): the quote must be our ISN, else it is counted and
 * ignored.
 */
void xtcp_req_err(struct xtcp_request *req, u32 seq, bool abort)
{
	struct sock *lsk = req->listener;

	if (seq != req->snt_isn) {
		__XTCP_INC_STATS(sock_net(lsk), XTCP_MIB_ICMPOUTOFWINDOW);
		return;
	}
	if (abort && xtcp_req_drop(req))
		xtcp_listendrop(lsk);
}

/*
 * An ACK for a listener: a SYN cookie coming back? As cookie_v4_check()
 * with tcp_get_cookie_sock(). Return: true if it was a live cookie (the
 * segment is then consumed, a connection made if the accept queue had
 * room), false if the listener is to answer it with a RST.
 */
static bool xtcp_cookie_rcv(struct sock *lsk, struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	const struct iphdr *iph = ip_hdr(skb);
	struct net *net = sock_net(lsk);
	struct xtcp_request req = {};
	struct xtcp_rx_opts o = {};
	struct sock *child;
	bool lost = false;

	if (!xtcp_knob(net, XTCP_KNOB_SYNCOOKIES) ||
	    time_after(jiffies, READ_ONCE(xtcp_sk(lsk)->synq_overflow) +
		       2 * 60 * HZ) || !READ_ONCE(xtcp_sk(lsk)->synq_overflow))
		return false;
	req.listener = lsk;
	xtcp_hnode_init(&req.hnode, net, iph->daddr, th->dest, iph->saddr,
			th->source, XTCP_HNODE_REQ);
	req.rcv_isn = ntohl(th->seq) - 1;
	req.snt_isn = ntohl(th->ack_seq) - 1;
	req.mss = xtcp_cookie_check(&req);
	if (!req.mss) {
		__XTCP_INC_STATS(net, XTCP_MIB_SYNCOOKIESFAILED);
		return false;
	}
	__XTCP_INC_STATS(net, XTCP_MIB_SYNCOOKIESRECV);

	xtcp_parse_options(th, &o);
	if (o.saw_tstamp && xtcp_knob(net, XTCP_KNOB_TIMESTAMPS)) {
		req.ts_off = xtcp_ts_offset(net, iph->daddr, iph->saddr,
					    th->dest, th->source);
		if (!xtcp_cookie_decode_ts(net, &req, o.tsecr - req.ts_off))
			return false;
		req.tstamp_ok = 1;
		req.ts_recent = o.tsval;
	}
	if (xtcp_req_init_rwin(lsk, &req))
		goto drop;

	child = xtcp_create_child(lsk, &req, skb, true, &lost);
	if (!child)
		goto drop;
	xtcp_child_process(lsk, child, skb);
	return true;
drop:
	xtcp_listendrop(lsk);
	kfree_skb(skb);
	return true;
}

/**
 * xtcp_listen_rcv() - a segment for a listener
 * @lsk: the listener, referenced by the caller
 * @skb: the segment, data at its TCP header, checksum verified
 * @tw_isn: for a SYN that ended a TIME_WAIT entry, the ISN the entry
 *	chose (RFC 6191); else 0
 *
 * As tcp_rcv_state_process() in LISTEN: a RST is dropped; an ACK is a
 * SYN cookie coming back or answered with a RST; a SYN (without FIN)
 * asks for a connection. Softirq context; the listener's socket lock is
 * not taken. Consumes @skb.
 *
 * Return: 0.
 */
int xtcp_listen_rcv(struct sock *lsk, struct sk_buff *skb, u32 tw_isn)
{
	const struct tcphdr *th = tcp_hdr(skb);

	if (th->rst)
		goto discard;
	if (th->ack) {
		if (!th->syn && xtcp_cookie_rcv(lsk, skb))
			return 0;
		xtcp_send_rst_reply(sock_net(lsk), skb);
		goto discard;
	}
	if (th->syn && !th->fin)
		xtcp_conn_request(lsk, skb, tw_isn);
discard:
	consume_skb(skb);
	return 0;
}
