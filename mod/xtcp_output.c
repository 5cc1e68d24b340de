// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: segment output. Our tcp_connect() and transmit path: the TCP
 * header and options, the IP header and the checksums; the datagram then
 * leaves as any local one does (ip_local_out(): netfilter's OUTPUT and
 * POSTROUTING hooks, xfrm, the neighbour layer, dev_queue_xmit()).
 */
#include <linux/ip.h>
#include <linux/netdevice.h>
#include <linux/siphash.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/arp.h>
#include <net/dst.h>
#include <net/ip.h>
#include <net/neighbour.h>
#include <net/route.h>
#include <net/tcp.h>

#include "xtcp.h"
#include "xtcp_trace.h"

/* Room for the TCP header with the largest option block. */
#define XTCP_MAX_HDR	(sizeof(struct tcphdr) + MAX_TCP_OPTION_SPACE)

static siphash_aligned_key_t xtcp_isn_key;
static siphash_aligned_key_t xtcp_ts_key;

/**
 * xtcp_clock_ms() - the millisecond clock behind TSval and tw_reuse_delay
 *
 * Return: milliseconds since boot, truncated to 32 bits.
 */
u32 xtcp_clock_ms(void)
{
	return (u32)div_u64(ktime_get_ns(), NSEC_PER_MSEC) +
	       READ_ONCE(xtcp_clock_offset_ms);
}

/**
 * xtcp_isn() - an initial sequence number for a 4-tuple (RFC 6528)
 * @saddr: our address
 * @daddr: the peer's
 * @sport: our port
 * @dport: the peer's
 *
 * ISN = M + F(localip, localport, remoteip, remoteport, key), F a
 * SipHash under a key drawn once, M the clock in 64 ns ticks (it wraps
 * in about 4.6 minutes, faster than the MSL-based bound needs).
 *
 * Return: the ISN.
 */
u32 xtcp_isn(__be32 saddr, __be32 daddr, __be16 sport, __be16 dport)
{
	u32 h;

	net_get_random_once(&xtcp_isn_key, sizeof(xtcp_isn_key));
	h = siphash_3u32((__force u32)saddr, (__force u32)daddr,
			 ((__force u32)sport << 16) | (__force u32)dport,
			 &xtcp_isn_key);
	return h + (u32)(ktime_get_real_ns() >> 6);
}

/**
 * xtcp_ts_offset() - the timestamp offset of a passive connection
 * @net: its namespace
 * @saddr: our address
 * @daddr: the peer's
 * @sport: our port
 * @dport: the peer's
 *
 * A keyed hash of the 4-tuple (0 with net.xtcp.timestamps 2): the same
 * for every SYN-ACK of a request, and found again from the 4-tuple alone
 * when a SYN cookie comes back.
 *
 * Return: the offset.
 */
u32 xtcp_ts_offset(const struct net *net, __be32 saddr, __be32 daddr,
		   __be16 sport, __be16 dport)
{
	if (xtcp_knob(net, XTCP_KNOB_TIMESTAMPS) != 1)
		return 0;
	net_get_random_once(&xtcp_ts_key, sizeof(xtcp_ts_key));
	return siphash_3u32((__force u32)saddr, (__force u32)daddr,
			    ((__force u32)sport << 16) | (__force u32)dport,
			    &xtcp_ts_key);
}

/**
 * xtcp_init_seq() - choose the ISN and the timestamp offset
 * @sk: a connecting socket whose 4-tuple is set
 *
 * The ISN of xtcp_isn(); the timestamp offset random per connection (0
 * with timestamps=2).
 */
void xtcp_init_seq(struct sock *sk)
{
	const struct inet_sock *inet = inet_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->iss = xtcp_isn(inet->inet_saddr, inet->inet_daddr,
			   inet->inet_sport, inet->inet_dport);
	xs->ts_offset = xtcp_knob(sock_net(sk), XTCP_KNOB_TIMESTAMPS) == 1 ?
			get_random_u32() : 0;
}

/*
 * The send MSS for path MTU @pmtu, as Linux's tcp_mtu_to_mss(): the MTU
 * less the IP and TCP headers, no more than the peer's MSS option, no
 * less than net.ipv4.tcp_min_snd_mss (48 by default, which leaves room
 * for a full option block and 8 bytes of data), then less the options
 * every segment carries. A peer announcing an MSS of 12 with timestamps
 * thus gets 36-byte segments, as from Linux, instead of a send MSS of 0.
 */
static int xtcp_mtu_to_mss(const struct sock *sk, int pmtu)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	int mss = pmtu - (int)sizeof(struct iphdr) - (int)sizeof(struct tcphdr);

	if (mss > xs->mss_clamp)
		mss = xs->mss_clamp;
	mss = max(mss, xtcp_knob(sock_net(sk), XTCP_KNOB_MIN_SND_MSS));
	return mss - (xs->tcp_header_len - (int)sizeof(struct tcphdr));
}

/**
 * xtcp_sync_mss() - recompute the send MSS for a path MTU
 * @sk: the socket, owned by the caller
 * @pmtu: the path MTU
 *
 * As Linux's tcp_sync_mss(): xtcp_mtu_to_mss(), then no more than half
 * the largest window the peer offered (a peer with a tiny window still
 * gets two segments into it), and remembered with the MTU it was
 * computed for.
 *
 * Return: the new send MSS.
 */
u32 xtcp_sync_mss(struct sock *sk, u32 pmtu)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int mss = xtcp_mtu_to_mss(sk, pmtu);
	u32 cutoff;

	cutoff = xs->max_window > TCP_MSS_DESIRED ? xs->max_window >> 1 :
						    xs->max_window;
	if (cutoff && mss > cutoff)
		mss = max_t(int, cutoff, 68 - xs->tcp_header_len);
	xs->pmtu_cookie = pmtu;
	xs->mss_cache = mss;
	return mss;
}

/* The window field of a header: unscaled in a SYN, as RFC 7323 says. */
static u16 xtcp_window_field(struct sock *sk, bool syn)
{
	if (syn)
		return min_t(u32, xtcp_sk(sk)->rcv_wnd, U16_MAX);
	return xtcp_select_window(sk);
}

/*
 * Options, in the order and packing Linux uses, so that a capture of
 * our SYN reads like a capture of Linux's: MSS, SACK-permitted folded
 * into the timestamp word, NOP + window scale.
 */
/**
 * xtcp_build_options() - write a TCP option block
 * @ptr: where, 32-bit aligned, room for MAX_TCP_OPTION_SPACE bytes
 * @o: what
 *
 * In the order and packing Linux uses (tcp_options_write()), so that a
 * capture of our segments reads like one of Linux's: MSS, SACK-permitted
 * folded into the timestamp word (or NOP NOP SACK-permitted), NOP and
 * window scale, then NOP NOP and the SACK blocks.
 *
 * Return: the length in bytes, a multiple of 4.
 */
unsigned int xtcp_build_options(__be32 *ptr, const struct xtcp_out_opts *o)
{
	__be32 *start = ptr;
	int i;

	if (o->mss)
		*ptr++ = htonl((TCPOPT_MSS << 24) | (TCPOLEN_MSS << 16) |
			       o->mss);
	if (o->ts) {
		if (o->sack_perm)
			*ptr++ = htonl((TCPOPT_SACK_PERM << 24) |
				       (TCPOLEN_SACK_PERM << 16) |
				       (TCPOPT_TIMESTAMP << 8) |
				       TCPOLEN_TIMESTAMP);
		else
			*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
				       (TCPOPT_TIMESTAMP << 8) |
				       TCPOLEN_TIMESTAMP);
		*ptr++ = htonl(o->tsval);
		*ptr++ = htonl(o->tsecr);
	} else if (o->sack_perm) {
		*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
			       (TCPOPT_SACK_PERM << 8) | TCPOLEN_SACK_PERM);
	}
	if (o->ws)
		*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_WINDOW << 16) |
			       (TCPOLEN_WINDOW << 8) | o->wscale);
	if (o->nsack) {
		*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
			       (TCPOPT_SACK << 8) |
			       (TCPOLEN_SACK_BASE +
				o->nsack * TCPOLEN_SACK_PERBLOCK));
		for (i = 0; i < o->nsack; i++) {
			*ptr++ = htonl(o->sack[i][0]);
			*ptr++ = htonl(o->sack[i][1]);
		}
	}
	return (ptr - start) * 4;
}

/* The options of a segment of @xs: the SYN's, or timestamps and SACK. */
static unsigned int xtcp_write_options(struct xtcp_sock *xs,
				       __be32 *ptr, bool syn, bool sack)
{
	struct xtcp_out_opts o = {};

	if (syn) {
		o.mss = xs->adv_mss;
		o.sack_perm = xs->sack_ok;
		o.ws = xs->wscale_ok;
		o.wscale = xs->rcv_wscale;
	}
	if (xs->tstamp_ok) {
		o.ts = 1;
		o.tsval = xtcp_clock_ms() + xs->ts_offset;
		o.tsecr = xs->ts_recent;
	}
	if (sack && !syn && xs->sack_ok &&
	    (xs->dsack || !skb_queue_empty(&xs->ooo_queue)))
		o.nsack = xtcp_sack_blocks(xs, o.sack, xs->tstamp_ok ? 3 : 4);
	return xtcp_build_options(ptr, &o);
}

static void xtcp_tcp_csum(struct sk_buff *skb, __be32 saddr, __be32 daddr)
{
	struct tcphdr *th = tcp_hdr(skb);

	th->check = 0;
	th->check = tcp_v4_check(skb->len, saddr, daddr,
				 csum_partial(th, skb->len, 0));
	skb->ip_summed = CHECKSUM_NONE;
}

/**
 * xtcp_ip_output() - push the IPv4 header and hand the datagram to IP
 * @net: the namespace
 * @sk: the sending socket, or NULL for a reply without one (a RST)
 * @skb: the segment, data at its TCP header
 * @rt: its route; the reference passes to @skb
 * @saddr: source address
 * @daddr: destination address
 * @ecn: the ECN codepoint (INET_ECN_ECT_0 for new data of an ECN
 *	connection, else INET_ECN_NOT_ECT)
 *
 * The header is ours (no IP options; DF as IP_MTU_DISCOVER says; TTL
 * from IP_TTL or the route; the ID from the socket's counter, as Linux
 * numbers a TCP socket's datagrams, and 0 with DF when there is no
 * socket, as Linux's control socket sends its RSTs, or for a listener's
 * SYN-ACK). From there the
 * datagram takes the kernel's own way out, ip_local_out(): netfilter's
 * LOCAL_OUT and POST_ROUTING hooks (so OUTPUT rules, conntrack, NAT and
 * marks apply), the route's output (an xfrm bundle encrypts it as for
 * any socket), cgroup egress programs, then the neighbour layer and
 * dev_queue_xmit() on the route's device. Consumes @skb.
 *
 * Return: 0, or a negative errno or positive NET_XMIT code when the
 * datagram did not leave (the retransmission timer repairs that).
 */
static int xtcp_ip_output(struct net *net, struct sock *sk,
			  struct sk_buff *skb, struct rtable *rt,
			  __be32 saddr, __be32 daddr, u8 ecn)
{
	struct inet_sock *inet = sk ? inet_sk(sk) : NULL;
	struct iphdr *iph;

	iph = skb_push(skb, sizeof(*iph));
	skb_reset_network_header(skb);
	iph->version = 4;
	iph->ihl = 5;
	iph->tos = (inet ? inet->tos & ~INET_ECN_MASK : 0) | ecn;
	iph->frag_off = (!sk || ip_dont_fragment(sk, &rt->dst)) ?
			htons(IP_DF) : 0;
	iph->ttl = inet && inet->uc_ttl >= 0 ? inet->uc_ttl :
		   ip4_dst_hoplimit(&rt->dst);
	iph->protocol = IPPROTO_TCP;
	iph->saddr = saddr;
	iph->daddr = daddr;
	if (inet && sk->sk_state == TCP_LISTEN) {
		/* A SYN-ACK, as ip_build_and_send_pkt() numbers it. */
		iph->id = iph->frag_off ? 0 : (__force __be16)get_random_u16();
	} else if (inet) {
		int id = atomic_read(&inet->inet_id);

		/* The caller owns the socket: no atomic increment needed. */
		atomic_set(&inet->inet_id, id + 1);
		iph->id = htons(id);
	} else {
		iph->id = 0;
	}

	if (sk) {
		skb->priority = sk->sk_priority;
		skb->mark = sk->sk_mark;
	}
	skb_dst_set(skb, &rt->dst);
	XTCP_INC_STATS(net, XTCP_MIB_OUTSEGS);
	/* ip_local_out() sets tot_len and the header checksum. */
	return ip_local_out(net, sk, skb);
}

/* The socket's route, made again if it went stale. Holds a reference. */
static struct rtable *xtcp_sk_route(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);
	struct dst_entry *dst = __sk_dst_check(sk, 0);
	struct flowi4 fl4;
	struct rtable *rt;

	if (dst) {
		dst_hold(dst);
		return (struct rtable *)dst;
	}
	rt = ip_route_output_ports(sock_net(sk), &fl4, sk, inet->inet_daddr,
				   inet->inet_saddr, inet->inet_dport,
				   inet->inet_sport, IPPROTO_TCP,
				   RT_CONN_FLAGS(sk), sk->sk_bound_dev_if);
	if (IS_ERR(rt))
		return rt;
	dst_hold(&rt->dst);
	sk_dst_set(sk, &rt->dst);
	return rt;
}

/*
 * Push the TCP header (with options) onto @skb, whose data is the payload
 * if any, checksum it and send it. Consumes @skb.
 */
static int xtcp_transmit_skb(struct sock *sk, struct sk_buff *skb, u8 flags,
			     u32 seq)
{
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	bool syn = flags & TCPHDR_SYN;
	__be32 opts[MAX_TCP_OPTION_SPACE / 4];
	unsigned int optlen, len;
	u8 ecn = INET_ECN_NOT_ECT;
	struct tcphdr *th;
	struct rtable *rt;

	rt = xtcp_sk_route(sk);
	if (IS_ERR(rt)) {
		kfree_skb(skb);
		XTCP_INC_STATS(net, XTCP_MIB_OUTNOROUTE);
		return PTR_ERR(rt);
	}

	/*
	 * SACK blocks ride on ACKs; on a data segment only if they fit in
	 * what the MSS budget left (the send MSS counts timestamps only).
	 */
	optlen = xtcp_write_options(xs, opts, syn,
				    skb->len + 4 + 8 * 3 <= xs->mss_cache);
	/*
	 * ECN (RFC 3168), as tcp_ecn_send(): a SYN may ask for it; once
	 * agreed, new data goes out ECT(0) (never a retransmission or a
	 * bare ACK), the first one after a window reduction with CWR, and
	 * while a CE mark waits for the peer's CWR every segment says ECE.
	 */
	if (syn && !(flags & TCPHDR_ACK) && xs->ecn_syn) {
		flags |= TCPHDR_ECE | TCPHDR_CWR;
	} else if (!syn && xs->ecn_ok) {
		if (skb->len && !before(seq, xs->snd_max)) {
			ecn = INET_ECN_ECT_0;
			if (xs->ecn_queue_cwr) {
				xs->ecn_queue_cwr = 0;
				flags |= TCPHDR_CWR;
			}
		}
		if (xs->ecn_demand_cwr)
			flags |= TCPHDR_ECE;
	}

	th = skb_push(skb, sizeof(*th) + optlen);
	skb_reset_transport_header(skb);
	memset(th, 0, sizeof(*th));
	th->source = inet->inet_sport;
	th->dest = inet->inet_dport;
	th->seq = htonl(seq);
	if (flags & TCPHDR_ACK)
		th->ack_seq = htonl(xs->rcv_nxt);
	th->doff = (sizeof(*th) + optlen) / 4;
	tcp_flag_byte(th) = flags;
	th->window = htons(xtcp_window_field(sk, syn));
	memcpy(th + 1, opts, optlen);

	len = skb->len;
	if (len > sizeof(*th) + optlen) {
		/* Data: let the device (or dev_queue_xmit()) finish it. */
		th->check = ~tcp_v4_check(len, inet->inet_saddr,
					  inet->inet_daddr, 0);
		skb->ip_summed = CHECKSUM_PARTIAL;
		skb->csum_start = skb_transport_header(skb) - skb->head;
		skb->csum_offset = offsetof(struct tcphdr, check);
	} else {
		xtcp_tcp_csum(skb, inet->inet_saddr, inet->inet_daddr);
	}
	if (!skb->sk)
		skb_set_owner_w(skb, sk);
	xs->segs_out++;

	/* Whatever we send carries our ACK: none is owed any more. */
	if (flags & TCPHDR_ACK)
		xs->ack_pending = false;
	if (flags & TCPHDR_RST) {
		XTCP_INC_STATS(net, XTCP_MIB_OUTRSTS);
		trace_xtcp_send_reset(sk, inet->inet_saddr, inet->inet_sport,
				      inet->inet_daddr, inet->inet_dport, seq);
	}
	return xtcp_ip_output(net, sk, skb, rt, inet->inet_saddr,
			      inet->inet_daddr, ecn);
}

/**
 * xtcp_transmit() - build and send a header-only segment of @sk
 * @sk: the socket (locked, or its timer running with bh_lock_sock held)
 * @flags: TCPHDR_* flags
 * @seq: the sequence number to send
 *
 * Return: 0 or a negative errno (the segment is then lost, which the
 * retransmission timer repairs).
 */
int xtcp_transmit(struct sock *sk, u8 flags, u32 seq)
{
	struct sk_buff *skb;

	skb = alloc_skb(MAX_HEADER + sizeof(struct iphdr) + XTCP_MAX_HDR,
			GFP_ATOMIC);
	if (!skb)
		return -ENOBUFS;
	skb_reserve(skb, MAX_HEADER + sizeof(struct iphdr) + XTCP_MAX_HDR);
	return xtcp_transmit_skb(sk, skb, flags, seq);
}

/**
 * xtcp_send_queued() - send a segment of the write queue
 * @sk: the socket, owned by the caller
 * @skb: the segment (its first transmission or a retransmission)
 *
 * The queue keeps the original; what goes out is a clone sharing its
 * data, or a copy while an earlier clone is still on its way (the header
 * goes in front of the shared data). Counted as PRR's prr_out while in
 * recovery.
 *
 * Return: 0, or a negative errno if nothing went out.
 */
int xtcp_send_queued(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *out;
	u8 flags = TCPHDR_ACK;

	if (skb_cloned(skb))
		out = pskb_copy(skb, GFP_ATOMIC);
	else
		out = skb_clone(skb, GFP_ATOMIC);
	if (!out)
		return -ENOBUFS;
	if (cb->fin)
		flags |= TCPHDR_FIN;
	if (cb->psh)
		flags |= TCPHDR_PSH;
	cb->when = jiffies;
	if (xs->in_recovery)
		xs->prr_out++;
	if (skb->len) {
		xs->data_segs_out++;
		xs->bytes_sent += skb->len;
		xs->lsndtime = jiffies;
		if (before(cb->seq, xs->snd_max)) {
			xs->total_retrans++;
			xs->bytes_retrans += skb->len;
			trace_xtcp_retransmit(sk, cb->seq, cb->end_seq);
		}
	}
	return xtcp_transmit_skb(sk, out, flags, cb->seq);
}

/*
 * Segments sent and not yet acknowledged, counted in MSS units; in SACK
 * recovery, RFC 6675's pipe (what is SACKed or lost is not in flight).
 */
static u32 xtcp_packets_in_flight(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 bytes = xs->snd_nxt - xs->snd_una;

	if (xs->in_recovery && xs->sack_ok)
		return xtcp_pipe(sk);

	return DIV_ROUND_UP(bytes, max_t(u32, xs->mss_cache, 1));
}

/*
 * @skb, the send head, went out for the first time (or again after a
 * rewind): move snd_nxt, snd_max and the send head past it, and have
 * the retransmission timer watch it.
 */
static void xtcp_advance_send_head(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->snd_nxt = XTCP_SKB_CB(skb)->end_seq;
	if (after(xs->snd_nxt, xs->snd_max))
		xs->snd_max = xs->snd_nxt;
	xs->send_head = skb_queue_is_last(&sk->sk_write_queue, skb) ?
			NULL : skb->next;
	if (!timer_pending(&xs->retrans_timer))
		xtcp_reset_retrans_timer(sk);
}

/**
 * xtcp_write_xmit() - send what the windows allow from the write queue
 * @sk: the socket, owned by the caller
 * @push: send a last short segment now (no more data is coming)
 *
 * A segment goes out when it fits in the peer's window and the
 * congestion window has room. Nagle (RFC 896): a short segment waits
 * while data is unacknowledged, unless TCP_NODELAY; TCP_CORK and
 * MSG_MORE (@push false) hold short segments back. With data waiting and
 * a zero window, the timer probes the window.
 */
void xtcp_write_xmit(struct sock *sk, bool push)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	while ((skb = xs->send_head)) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
		bool short_seg = skb->len < xs->mss_cache && !cb->fin;

		if (cb->sacked) {
			/* The peer has it: step over without sending. */
			xs->snd_nxt = cb->end_seq;
			xs->send_head = skb_queue_is_last(&sk->sk_write_queue,
							  skb) ? NULL : skb->next;
			continue;
		}

		if (skb->len &&
		    after(cb->end_seq - cb->fin, xs->snd_una + xs->snd_wnd))
			break;
		if (xtcp_packets_in_flight(sk) >= xs->snd_cwnd)
			break;
		/*
		 * Nagle, with Minshall's refinement as Linux has it
		 * (tcp_minshall_check()): a short last segment waits only
		 * while an earlier short segment is unacknowledged. New
		 * data only: a segment sent before goes again at once after
		 * an RTO (its own transmission is the short segment
		 * unacknowledged).
		 */
		if (short_seg && skb_queue_is_last(&sk->sk_write_queue, skb) &&
		    !before(cb->seq, xs->snd_max)) {
			if (!push || xs->cork)
				break;
			if (!xs->nodelay && after(xs->snd_sml, xs->snd_una) &&
			    !after(xs->snd_sml, xs->snd_max))
				break;
		}
		/* New data after a silence: the algorithm may restart. */
		if (xs->snd_una == xs->snd_max && skb->len &&
		    !before(cb->seq, xs->snd_max))
			xtcp_ca_on_tx_start(sk);
		if (xtcp_send_queued(sk, skb))
			break;
		if (short_seg)
			xs->snd_sml = cb->end_seq;
		xtcp_advance_send_head(sk, skb);
	}

	/*
	 * Nothing in flight and data waiting (behind a window too small for
	 * it, or held by the cork): the timer probes (xtcp_write_wakeup()).
	 */
	if (xs->send_head && xs->snd_max == xs->snd_una &&
	    !timer_pending(&xs->retrans_timer))
		xtcp_reset_retrans_timer(sk);
}

/**
 * xtcp_retransmit_head() - send the oldest unacknowledged segment again
 * @sk: the socket, owned by the caller
 */
void xtcp_retransmit_head(struct sock *sk)
{
	struct sk_buff *skb = skb_peek(&sk->sk_write_queue);

	if (!skb || skb == xtcp_sk(sk)->send_head)
		return;
	XTCP_SKB_CB(skb)->retrans = 1;
	if (after(XTCP_SKB_CB(skb)->end_seq, xtcp_sk(sk)->rexmit_high))
		xtcp_sk(sk)->rexmit_high = XTCP_SKB_CB(skb)->end_seq;
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_RETRANSSEGS);
	xtcp_send_queued(sk, skb);
}

/*
 * Everything sent goes out again from snd_una as the windows allow (what
 * is SACKed is stepped over by xtcp_write_xmit()), as retransmissions.
 */
static void xtcp_rewind(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		if (!before(XTCP_SKB_CB(skb)->seq, xs->snd_max))
			break;
		XTCP_SKB_CB(skb)->retrans = 1;
	}
	xs->send_head = skb_peek(&sk->sk_write_queue);
	xs->snd_nxt = xs->snd_una;
	xs->rexmit_high = xs->snd_una;
}

/**
 * xtcp_enter_loss() - a retransmission timeout: start again from snd_una
 * @sk: the socket, owned by the caller
 *
 * RFC 5681: ssthresh becomes half the flight, cwnd one segment; every
 * segment in flight that the peer has not SACKed is taken as lost and
 * sent again as the window opens. A SACKed head means the receiver
 * reneged (RFC 2018 section 8: it may discard what it SACKed, and Linux
 * does under memory pressure): then no SACK mark is trusted any more,
 * as Linux's tcp_timeout_mark_lost(), and the head goes out first.
 */
void xtcp_enter_loss(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = skb_peek(&sk->sk_write_queue);

	/*
	 * As Linux's tcp_enter_loss(): the first expiry outside recovery
	 * sets ssthresh; one during fast recovery keeps the reduction that
	 * recovery made, and those that follow (backing off) keep theirs.
	 */
	if (xs->retransmits <= 1 && !xs->in_recovery)
		xs->snd_ssthresh = xtcp_ca_ssthresh(sk);
	xtcp_ca_on_rto(sk);
	xs->snd_cwnd = 1;
	xs->cwnd_cnt = 0;
	xs->in_recovery = false;
	xs->dupacks = 0;
	xs->high_seq = xs->snd_max;
	if (skb && XTCP_SKB_CB(skb)->sacked) {
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_SACKRENEGING);
		skb_queue_walk(&sk->sk_write_queue, skb)
			XTCP_SKB_CB(skb)->sacked = 0;
		xs->highest_sack = xs->snd_una;
	}
	xtcp_rewind(sk);
}

/**
 * xtcp_fragment() - cut a write-queue segment in two
 * @sk: the socket, owned by the caller
 * @skb: the segment, on sk_write_queue, longer than @len bytes of payload
 * @len: payload bytes @skb keeps; the rest moves to a new segment after it
 *
 * The new segment inherits the FIN and the retransmission marks. Queued
 * segments are linear (xtcp_new_skb()); the original may still have a
 * clone in flight, whose data is left alone: only the tail is copied.
 *
 * Return: 0 or -ENOMEM (the segment is then left whole).
 */
static int xtcp_fragment(struct sock *sk, struct sk_buff *skb, u32 len)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb), *ncb;
	u32 tail = skb->len - len;
	struct sk_buff *buff;

	buff = alloc_skb(MAX_HEADER + sizeof(struct iphdr) + XTCP_MAX_HDR + tail,
			 GFP_ATOMIC);
	if (!buff)
		return -ENOMEM;
	skb_reserve(buff, MAX_HEADER + sizeof(struct iphdr) + XTCP_MAX_HDR);
	skb_copy_bits(skb, len, skb_put(buff, tail), tail);
	skb_trim(skb, len);

	ncb = XTCP_SKB_CB(buff);
	*ncb = *cb;
	ncb->seq = cb->seq + len;
	cb->end_seq = ncb->seq;
	cb->fin = 0;
	cb->psh = 0;		/* the second part ends the write */
	cb->eor = 0;
	__skb_queue_after(&sk->sk_write_queue, skb, buff);
	xtcp_wmem_queued(sk, buff);
	return 0;
}

/* Cut every queued segment longer than the send MSS. */
static void xtcp_fragment_queue(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_write_queue, skb)
		while (skb->len > xs->mss_cache &&
		       !xtcp_fragment(sk, skb, xs->mss_cache))
			;
}

/*
 * The socket's route after a path MTU report: the route's own PMTU
 * update (which clamps to net.ipv4.route.min_pmtu and locks the MTU
 * below it, as for Linux's TCP), on a route made again if needed. As
 * inet_csk_update_pmtu(). Returns the route (the socket holds it), or
 * NULL.
 */
static struct dst_entry *xtcp_update_pmtu(struct sock *sk, u32 mtu)
{
	struct dst_entry *dst = __sk_dst_check(sk, 0);
	struct rtable *rt;

	if (!dst) {
		rt = xtcp_sk_route(sk);
		if (IS_ERR(rt))
			return NULL;
		ip_rt_put(rt);
		dst = &rt->dst;
	}
	dst->ops->update_pmtu(dst, sk, NULL, mtu, true);
	dst = __sk_dst_check(sk, 0);
	if (!dst) {
		rt = xtcp_sk_route(sk);
		if (IS_ERR(rt))
			return NULL;
		ip_rt_put(rt);
		dst = &rt->dst;
	}
	return dst;
}

/**
 * xtcp_mtu_reduced() - act on an ICMP "fragmentation needed"
 * @sk: the socket, owned by the caller (softirq, or release_sock())
 *
 * As tcp_v4_mtu_reduced(): the route learns the MTU; if the socket does
 * path MTU discovery and the send MSS was computed for a larger MTU, it
 * is recomputed (timestamps included: the segments then fit), queued
 * segments are cut to it, and everything in flight is sent again at the
 * new size, the segments that were too big having been dropped on the
 * way. The congestion window is left alone: no more data is in the
 * network, only in smaller units.
 */
void xtcp_mtu_reduced(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct dst_entry *dst;
	u32 mtu;

	if ((1 << sk->sk_state) & (TCPF_LISTEN | TCPF_CLOSE))
		return;
	mtu = READ_ONCE(xs->mtu_info);
	dst = xtcp_update_pmtu(sk, mtu);
	if (!dst)
		return;
	/* Kept as the reason if the connection cannot recover. */
	if (mtu < dst_mtu(dst) && ip_dont_fragment(sk, dst))
		WRITE_ONCE(sk->sk_err_soft, EMSGSIZE);
	mtu = dst_mtu(dst);
	if (inet->pmtudisc == IP_PMTUDISC_DONT || !ip_sk_accept_pmtu(sk) ||
	    xs->pmtu_cookie <= mtu)
		return;

	xtcp_sync_mss(sk, mtu);
	xtcp_fragment_queue(sk);
	if (xs->snd_una == xs->snd_max)
		return;
	/* Go back to snd_una at the new size (tcp_simple_retransmit()). */
	xtcp_rewind(sk);
	xtcp_write_xmit(sk, true);
}

/**
 * xtcp_queue_fin() - put a FIN at the end of the write queue
 * @sk: the socket, owned by the caller
 *
 * On the last unsent segment if there is one, else on an empty segment
 * of its own; it goes out after all queued data.
 */
void xtcp_queue_fin(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);

	if (xs->fin_queued)
		return;
	if (!skb || !xs->send_head) {
		skb = alloc_skb(MAX_HEADER + sizeof(struct iphdr) + XTCP_MAX_HDR,
				sk->sk_allocation | __GFP_NOFAIL);
		skb_reserve(skb, MAX_HEADER + sizeof(struct iphdr) +
			    XTCP_MAX_HDR);
		XTCP_SKB_CB(skb)->seq = xs->write_seq;
		XTCP_SKB_CB(skb)->end_seq = xs->write_seq;
		XTCP_SKB_CB(skb)->retrans = 0;
		XTCP_SKB_CB(skb)->fin = 0;
		__skb_queue_tail(&sk->sk_write_queue, skb);
		xtcp_wmem_queued(sk, skb);
		if (!xs->send_head)
			xs->send_head = skb;
	}
	XTCP_SKB_CB(skb)->fin = 1;
	XTCP_SKB_CB(skb)->end_seq++;
	xs->write_seq++;
	xs->fin_queued = 1;
	xtcp_write_xmit(sk, true);
}

/**
 * xtcp_write_wakeup() - the probe timer's segment, as tcp_write_wakeup()
 * @sk: the socket, owned by the caller; nothing in flight
 *
 * The head of the send queue has waited an RTO: behind a zero window,
 * behind a window smaller than the segment, or held by TCP_CORK,
 * MSG_MORE or Nagle. If the peer's window has room, as much of the head
 * as fits goes out now, whatever the cork, Nagle and cwnd say (so a cork
 * holds data for at most an RTO, and a window smaller than a segment is
 * used rather than waited on for ever); otherwise a zero-window probe.
 *
 * Return: true if new data (or the FIN) went out.
 */
bool xtcp_write_wakeup(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = xs->send_head;
	u32 wnd_end = xs->snd_una + xs->snd_wnd;
	struct xtcp_skb_cb *cb;

	if (!skb)
		return false;
	cb = XTCP_SKB_CB(skb);
	if (!before(cb->seq, wnd_end) && skb->len)
		goto probe;
	if (skb->len > wnd_end - cb->seq &&
	    xtcp_fragment(sk, skb, wnd_end - cb->seq))
		goto probe;
	if (xs->snd_una == xs->snd_max && skb->len)
		xtcp_ca_on_tx_start(sk);
	if (xtcp_send_queued(sk, skb))
		goto probe;
	if (skb->len < xs->mss_cache)
		xs->snd_sml = cb->end_seq;
	xtcp_advance_send_head(sk, skb);
	return true;
probe:
	xtcp_send_probe(sk);
	return false;
}

/**
 * xtcp_send_probe() - a zero-window probe
 * @sk: the socket, owned by the caller
 *
 * An ACK with sequence snd_una - 1, which the peer must answer with its
 * current window (as Linux's tcp_xmit_probe_skb()).
 */
void xtcp_send_probe(struct sock *sk)
{
	xtcp_transmit(sk, TCPHDR_ACK, xtcp_sk(sk)->snd_una - 1);
}

/**
 * xtcp_purge_write_queue() - drop everything queued for sending
 * @sk: the socket, owned by the caller
 */
void xtcp_purge_write_queue(struct sock *sk)
{
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(&sk->sk_write_queue)))
		xtcp_wmem_free_skb(sk, skb);
	sk_mem_reclaim(sk);
	xtcp_sk(sk)->send_head = NULL;
}

/**
 * xtcp_send_syn() - our tcp_connect(): set up and send the first SYN
 * @sk: a socket in SYN-SENT with its route (sk_dst) and 4-tuple set
 *
 * The SYN offers the MSS of the route's MTU (lowered by TCP_MAXSEG),
 * and SACK-permitted, timestamps and window scale as net.xtcp.sack,
 * timestamps and window_scaling say. The retransmission timer starts at
 * one second (RFC 6298).
 *
 * Called with the socket locked.
 *
 * Return: 0 or a negative errno.
 */
int xtcp_send_syn(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct dst_entry *dst = __sk_dst_get(sk);
	u32 mss = dst ? dst_metric_advmss(dst) : TCP_MSS_DEFAULT;

	if (xs->user_mss && xs->user_mss < mss)
		mss = xs->user_mss;
	xs->adv_mss = mss;
	xs->tstamp_ok = !!xtcp_knob(sock_net(sk), XTCP_KNOB_TIMESTAMPS);
	xs->sack_ok = !!xtcp_knob(sock_net(sk), XTCP_KNOB_SACK);
	xs->wscale_ok = !!xtcp_knob(sock_net(sk), XTCP_KNOB_WINDOW_SCALING);
	xs->ecn_syn = xtcp_knob(sock_net(sk), XTCP_KNOB_ECN) == 1;
	xs->ecn_ok = 0;
	xs->ecn_demand_cwr = 0;
	xs->ecn_queue_cwr = 0;
	xs->in_cwr = 0;
	/* Until the SYN-ACK says more, as tcp_connect_init(). */
	xs->mss_clamp = xs->user_mss ? : TCP_MSS_DEFAULT;
	xs->tcp_header_len = sizeof(struct tcphdr) +
			     (xs->tstamp_ok ? TCPOLEN_TSTAMP_ALIGNED : 0);
	xs->max_window = 0;
	xtcp_sync_mss(sk, dst ? dst_mtu(dst) : IPV4_MIN_MTU);
	xtcp_init_rcv_window(sk);

	xs->snd_una = xs->iss;
	xs->snd_nxt = xs->iss + 1;
	xs->write_seq = xs->iss + 1;
	xs->pushed_seq = xs->write_seq;
	xs->snd_max = xs->iss + 1;
	xs->snd_cwnd = 10;			/* RFC 6928, as Linux */
	xs->snd_ssthresh = INT_MAX;
	xs->srtt_us = 0;
	xtcp_reset_info(xs);
	xs->rcv_nxt = 0;
	xs->retransmits = 0;
	xs->rto = HZ;
	xs->retrans_stamp = xtcp_clock_ms();
	xs->ut_start = jiffies;
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ACTIVEOPENS);
	xtcp_reset_retrans_timer(sk);
	return xtcp_transmit(sk, TCPHDR_SYN, xs->iss);
}

/**
 * xtcp_retransmit_syn() - send the SYN (or SYN-ACK) again
 * @sk: a socket in SYN-SENT or SYN-RECEIVED
 *
 * Return: 0 or a negative errno.
 */
int xtcp_retransmit_syn(struct sock *sk)
{
	u8 flags = sk->sk_state == TCP_SYN_RECV ? TCPHDR_SYN | TCPHDR_ACK :
						 TCPHDR_SYN;

	/* A SYN sent again asks no more for ECN (tcp_ecn_clear_syn()). */
	xtcp_sk(sk)->ecn_syn = 0;
	trace_xtcp_retransmit(sk, xtcp_sk(sk)->iss, xtcp_sk(sk)->iss + 1);
	return xtcp_transmit(sk, flags, xtcp_sk(sk)->iss);
}

/**
 * xtcp_send_ack() - send a header-only segment at snd_nxt
 * @sk: the socket
 * @flags: TCPHDR_ACK, possibly with TCPHDR_FIN or TCPHDR_RST
 *
 * Return: 0 or a negative errno.
 */
int xtcp_send_ack(struct sock *sk, u8 flags)
{
	return xtcp_transmit(sk, flags, xtcp_sk(sk)->snd_nxt);
}

/**
 * xtcp_send_reply() - a header-only segment answering @in, without a
 *	socket
 * @net: the namespace @in arrived in
 * @in: the segment, data at its TCP header
 * @flags: TCPHDR_* flags
 * @seq: the sequence number
 * @ack: the acknowledgment number
 * @window: the window field
 * @ts: TSval and TSecr, or NULL for no timestamp option
 *
 * A RST, an ACK from a TIME_WAIT entry or from a request. Softirq
 * context.
 */
void xtcp_send_reply(struct net *net, struct sk_buff *in, u8 flags, u32 seq,
		     u32 ack, u16 window, const u32 *ts)
{
	const struct iphdr *iph = ip_hdr(in);
	const struct tcphdr *ith = tcp_hdr(in);
	unsigned int thlen = sizeof(struct tcphdr) + (ts ? 12 : 0);
	struct sk_buff *skb;
	struct tcphdr *th;
	struct flowi4 fl4;
	struct rtable *rt;

	rt = ip_route_output_ports(net, &fl4, NULL, iph->saddr, iph->daddr,
				   ith->source, ith->dest, IPPROTO_TCP, 0, 0);
	if (IS_ERR(rt)) {
		XTCP_INC_STATS(net, XTCP_MIB_OUTNOROUTE);
		return;
	}
	skb = alloc_skb(MAX_HEADER + sizeof(struct iphdr) + thlen, GFP_ATOMIC);
	if (!skb) {
		ip_rt_put(rt);
		return;
	}
	skb_reserve(skb, MAX_HEADER + sizeof(struct iphdr) + thlen);
	th = skb_push(skb, thlen);
	skb_reset_transport_header(skb);
	memset(th, 0, sizeof(*th));
	th->source = ith->dest;
	th->dest = ith->source;
	th->seq = htonl(seq);
	th->ack_seq = htonl(ack);
	th->doff = thlen / 4;
	tcp_flag_byte(th) = flags;
	th->window = htons(window);
	if (ts) {
		__be32 *opt = (__be32 *)(th + 1);

		opt[0] = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
			       (TCPOPT_TIMESTAMP << 8) | TCPOLEN_TIMESTAMP);
		opt[1] = htonl(ts[0]);
		opt[2] = htonl(ts[1]);
	}
	xtcp_tcp_csum(skb, iph->daddr, iph->saddr);
	if (flags & TCPHDR_RST) {
		XTCP_INC_STATS(net, XTCP_MIB_OUTRSTS);
		trace_xtcp_send_reset(NULL, iph->daddr, ith->dest, iph->saddr,
				      ith->source, seq);
	}
	xtcp_ip_output(net, NULL, skb, rt, iph->daddr, iph->saddr,
		       INET_ECN_NOT_ECT);
}

/**
 * xtcp_send_rst_reply() - answer a segment with a RST, without a socket
 * @net: the namespace it arrived in
 * @in: the segment, data at its TCP header
 *
 * RFC 9293: if the segment carries an ACK, the RST takes its sequence
 * number from it; otherwise the RST has sequence 0 and acknowledges
 * everything the segment occupied. A RST is never answered.
 */
void xtcp_send_rst_reply(struct net *net, struct sk_buff *in)
{
	const struct tcphdr *ith = tcp_hdr(in);

	if (ith->rst)
		return;
	if (ith->ack)
		xtcp_send_reply(net, in, TCPHDR_RST, ntohl(ith->ack_seq), 0, 0,
				NULL);
	else
		xtcp_send_reply(net, in, TCPHDR_RST | TCPHDR_ACK, 0,
				ntohl(ith->seq) + ith->syn + ith->fin +
				in->len - ith->doff * 4, 0, NULL);
}

/**
 * xtcp_tw_send_ack() - acknowledge a segment from a TIME_WAIT entry
 * @net: the namespace
 * @tw: the entry
 * @in: the segment, data at its TCP header
 */
void xtcp_tw_send_ack(struct net *net, const struct xtcp_tw *tw,
		      struct sk_buff *in)
{
	u32 ts[2] = { xtcp_clock_ms() + tw->ts_offset, tw->ts_recent };

	xtcp_send_reply(net, in, TCPHDR_ACK, tw->snd_nxt, tw->rcv_nxt,
			tw->window, tw->tstamp_ok ? ts : NULL);
}

/**
 * xtcp_req_route() - the route of a request's segments
 * @lsk: the listener
 * @hn: the request's 4-tuple
 *
 * As the listener would route them: its bound device, mark and TOS.
 *
 * Return: the route (a reference held) or an ERR_PTR().
 */
struct rtable *xtcp_req_route(struct sock *lsk, const struct xtcp_hnode *hn)
{
	struct flowi4 fl4;

	return ip_route_output_ports(sock_net(lsk), &fl4, lsk, hn->raddr,
				     hn->laddr, hn->rport, hn->lport,
				     IPPROTO_TCP, RT_CONN_FLAGS(lsk),
				     lsk->sk_bound_dev_if);
}

/**
 * xtcp_send_synack() - send a request's SYN-ACK
 * @lsk: the listener
 * @req: the request
 * @tsval: the TSval to send, before the request's offset (ignored
 *	without timestamps)
 *
 * As tcp_make_synack() with ip_build_and_send_pkt(): routed as the
 * listener would route it (its bound device, mark, TOS, TTL), options
 * MSS, SACK-permitted, timestamps and window scale as the request agreed,
 * the window unscaled (RFC 7323). The listener owns the skb, so its
 * cgroup and netfilter "owner" rules apply. Softirq context, or a timer.
 *
 * Return: 0 or a negative errno (the timer sends it again).
 */
int xtcp_send_synack(struct sock *lsk, const struct xtcp_request *req,
		     u32 tsval)
{
	const struct xtcp_hnode *hn = &req->hnode;
	struct net *net = sock_net(lsk);
	struct xtcp_out_opts o = {};
	__be32 opts[MAX_TCP_OPTION_SPACE / 4];
	unsigned int optlen;
	struct sk_buff *skb;
	struct tcphdr *th;
	struct rtable *rt;

	rt = xtcp_req_route(lsk, hn);
	if (IS_ERR(rt)) {
		XTCP_INC_STATS(net, XTCP_MIB_OUTNOROUTE);
		return PTR_ERR(rt);
	}
	skb = alloc_skb(MAX_HEADER + sizeof(struct iphdr) + XTCP_MAX_HDR,
			GFP_ATOMIC);
	if (!skb) {
		ip_rt_put(rt);
		return -ENOBUFS;
	}
	skb_reserve(skb, MAX_HEADER + sizeof(struct iphdr) + XTCP_MAX_HDR);

	o.mss = req->adv_mss;
	o.sack_perm = req->sack_ok;
	o.ws = req->wscale_ok;
	o.wscale = req->rcv_wscale;
	if (req->tstamp_ok) {
		o.ts = 1;
		o.tsval = tsval + req->ts_off;
		o.tsecr = req->ts_recent;
	}
	optlen = xtcp_build_options(opts, &o);
	th = skb_push(skb, sizeof(*th) + optlen);
	skb_reset_transport_header(skb);
	memset(th, 0, sizeof(*th));
	th->source = hn->lport;
	th->dest = hn->rport;
	th->seq = htonl(req->snt_isn);
	th->ack_seq = htonl(req->rcv_isn + 1);
	th->doff = (sizeof(*th) + optlen) / 4;
	tcp_flag_byte(th) = TCPHDR_SYN | TCPHDR_ACK |
			    (req->ecn_ok ? TCPHDR_ECE : 0);
	th->window = htons(min_t(u32, req->rcv_wnd, U16_MAX));
	memcpy(th + 1, opts, optlen);
	xtcp_tcp_csum(skb, hn->laddr, hn->raddr);
	skb_set_owner_w(skb, lsk);
	return xtcp_ip_output(net, lsk, skb, rt, hn->laddr, hn->raddr,
			      INET_ECN_NOT_ECT);
}
