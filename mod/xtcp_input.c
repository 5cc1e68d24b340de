// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: segment input.
 *
 * Segments reach xtcp through a netfilter hook at LOCAL_IN with the last
 * priority but one, so every INPUT rule of the host's firewall has had
 * its say first, and before Linux's TCP sees them (it would answer a
 * segment for a connection it does not know with a RST). A segment whose
 * 4-tuple is in xtcp's established table is taken (NF_STOLEN); anything
 * else goes on to Linux untouched. ICMP errors quoting an xtcp
 * connection are delivered to it and then go on to Linux as well, which
 * finds no socket of its own for them and only counts them.
 */
#include <linux/icmp.h>
#include <linux/ip.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/tcp.h>
#include <net/icmp.h>
#include <net/ip.h>
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
 */
struct xtcp_rx_opts {
	u16	mss;
	u8	wscale;
	bool	wscale_ok;
	bool	sack_ok;
	bool	saw_tstamp;
	u32	tsval;
	u32	tsecr;
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
		}
		p += size - 2;
		len -= size;
	}
}

/* The connection was refused or reset: report @err and close. */
static void xtcp_reset(struct sock *sk, int err)
{
	WRITE_ONCE(sk->sk_err, err);
	sk_error_report(sk);
	xtcp_done(sk);
}

/* Record what the peer's SYN (or SYN-ACK) negotiated. */
static void xtcp_apply_syn_options(struct sock *sk, const struct tcphdr *th,
				   const struct xtcp_rx_opts *o)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->irs = ntohl(th->seq);
	xs->rcv_nxt = xs->irs + 1;
	xs->snd_wnd = ntohs(th->window);	/* never scaled in a SYN */
	xs->rx_mss = o->mss ? : TCP_MSS_DEFAULT;
	xs->mss_cache = min(xs->adv_mss, xs->rx_mss);

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
}

static void xtcp_established(struct sock *sk)
{
	xtcp_set_state(sk, TCP_ESTABLISHED);
	__XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ESTABLISHED);
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
			__XTCP_INC_STATS(net, XTCP_MIB_INBADACK);
			xtcp_send_rst_reply(net, skb);
			return;
		}
		if (th->rst) {
			__XTCP_INC_STATS(net, XTCP_MIB_CONNREFUSED);
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

/*
 * The synchronised states, as far as the connect path needs them: the
 * peer's RST (RFC 5961: exact sequence resets, anything else in the
 * window gets a challenge ACK), acknowledgment of our FIN, and the
 * peer's FIN. Payload is not accepted (not acknowledged) here yet: the
 * data transfer issue adds the receive queue.
 */
static void xtcp_rcv_synchronized(struct sock *sk, struct sk_buff *skb,
				  const struct tcphdr *th)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 seq = ntohl(th->seq);
	u32 len = skb->len - th->doff * 4;

	if (xs->tstamp_ok && !th->rst) {
		struct xtcp_rx_opts o = {};

		/* RFC 7323: remember TSval of segments at rcv_nxt. */
		xtcp_parse_options(th, &o);
		if (o.saw_tstamp && seq == xs->rcv_nxt &&
		    !before(o.tsval, xs->ts_recent)) {
			xs->ts_recent = o.tsval;
			xs->ts_recent_stamp = xtcp_clock_ms();
		}
	}

	if (th->rst) {
		if (seq == xs->rcv_nxt)
			xtcp_reset(sk, sk->sk_state == TCP_CLOSE_WAIT ?
				   EPIPE : ECONNRESET);
		else if (!before(seq, xs->rcv_nxt) &&
			 before(seq, xs->rcv_nxt + max_t(u32, xs->rcv_wnd, 1)))
			xtcp_send_ack(sk, TCPHDR_ACK);	/* challenge */
		return;
	}
	if (th->syn) {
		xtcp_send_ack(sk, TCPHDR_ACK);		/* challenge */
		return;
	}
	if (!th->ack)
		return;

	if (after(ntohl(th->ack_seq), xs->snd_una) &&
	    !after(ntohl(th->ack_seq), xs->snd_nxt)) {
		xs->snd_una = ntohl(th->ack_seq);
		if (xs->snd_una == xs->snd_nxt) {
			switch (sk->sk_state) {
			case TCP_FIN_WAIT1:
				xtcp_clear_timers(sk);
				xtcp_set_state(sk, TCP_FIN_WAIT2);
				if (sock_flag(sk, SOCK_DEAD))
					xtcp_reset_retrans_timer(sk);
				break;
			case TCP_CLOSING:
				xtcp_time_wait(sk);
				return;
			case TCP_LAST_ACK:
				xtcp_done(sk);
				return;
			}
		}
	}
	xs->snd_wnd = (u32)ntohs(th->window) << xs->snd_wscale;

	if (len) {
		/* Not taken yet: ask for it again later. */
		xtcp_send_ack(sk, TCPHDR_ACK);
		return;
	}
	if (!th->fin || seq != xs->rcv_nxt)
		return;

	xs->rcv_nxt++;
	sk->sk_shutdown |= RCV_SHUTDOWN;
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
		return;
	}
	if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_HUP);
	}
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
		xtcp_rcv_synchronized(sk, skb, th);
		break;
	}
	consume_skb(skb);
	return 0;
}

/*
 * Checks that only make sense once the segment is known to be ours:
 * header length and checksum. Leaves skb->data at the TCP header.
 */
static bool xtcp_validate(struct net *net, struct sk_buff *skb,
			  unsigned int ihl)
{
	const struct tcphdr *th = (const struct tcphdr *)(skb->data + ihl);
	unsigned int thlen = th->doff * 4;

	if (thlen < sizeof(*th) || !pskb_may_pull(skb, ihl + thlen)) {
		__XTCP_INC_STATS(net, XTCP_MIB_INMALFORMED);
		return false;
	}
	__skb_pull(skb, ihl);
	skb_reset_transport_header(skb);
	if (skb_checksum_validate(skb, IPPROTO_TCP, inet_compute_pseudo)) {
		__XTCP_INC_STATS(net, XTCP_MIB_INCSUMERRORS);
		return false;
	}
	return true;
}

static unsigned int xtcp_rcv(struct net *net, struct sk_buff *skb)
{
	const struct iphdr *iph = ip_hdr(skb);
	unsigned int ihl = iph->ihl * 4;
	const struct tcphdr *th;
	struct xtcp_hnode *hn;
	struct sock *sk;

	if (skb->pkt_type != PACKET_HOST ||
	    !pskb_may_pull(skb, ihl + sizeof(*th)))
		return NF_ACCEPT;
	iph = ip_hdr(skb);
	th = (const struct tcphdr *)(skb->data + ihl);

	hn = xtcp_ehash_lookup(net, iph->saddr, th->source, iph->daddr,
			       th->dest);
	if (!hn)
		return NF_ACCEPT;

	__XTCP_INC_STATS(net, XTCP_MIB_INSEGS);
	if (!xtcp_validate(net, skb, ihl)) {
		xtcp_hnode_put(hn);
		return NF_DROP;
	}
	if (hn->kind == XTCP_HNODE_TW) {
		xtcp_tw_rcv(net, container_of(hn, struct xtcp_tw, hnode), skb);
		xtcp_hnode_put(hn);
		consume_skb(skb);
		return NF_STOLEN;
	}

	sk = &container_of(hn, struct xtcp_sock, hnode)->inet.sk;
	bh_lock_sock_nested(sk);
	if (!sock_owned_by_user(sk)) {
		xtcp_do_rcv(sk, skb);
	} else {
		skb_dst_force(skb);
		if (sk_add_backlog(sk, skb, READ_ONCE(sk->sk_rcvbuf) +
					    READ_ONCE(sk->sk_sndbuf))) {
			bh_unlock_sock(sk);
			sock_put(sk);
			return NF_DROP;
		}
	}
	bh_unlock_sock(sk);
	sock_put(sk);
	return NF_STOLEN;
}

/*
 * An ICMP error quoting one of our segments. As Linux's tcp_v4_err():
 * the quoted sequence number must lie in [snd_una, snd_nxt]; while
 * connecting, unreachables end the attempt with the mapped errno; once
 * connected they are soft errors (reported by IP_RECVERR, or as the
 * reason when the connection later times out). Fragmentation needed
 * lowers the MSS.
 */
static void xtcp_icmp_rcv(struct net *net, struct sk_buff *skb)
{
	unsigned int ihl = ip_hdrlen(skb), off;
	const struct icmphdr *icmph;
	const struct iphdr *inner;
	const struct tcphdr *th;
	struct xtcp_hnode *hn;
	struct xtcp_sock *xs;
	struct sock *sk;
	int err;
	u32 seq;

	off = ihl + sizeof(*icmph);
	if (!pskb_may_pull(skb, off + sizeof(*inner)))
		return;
	icmph = (const struct icmphdr *)(skb->data + ihl);
	inner = (const struct iphdr *)(skb->data + off);
	if (inner->protocol != IPPROTO_TCP || inner->ihl < 5 ||
	    !pskb_may_pull(skb, off + inner->ihl * 4 + 8))
		return;
	icmph = (const struct icmphdr *)(skb->data + ihl);
	inner = (const struct iphdr *)(skb->data + off);
	th = (const struct tcphdr *)(skb->data + off + inner->ihl * 4);

	switch (icmph->type) {
	case ICMP_DEST_UNREACH:
		if (icmph->code > NR_ICMP_UNREACH)
			return;
		err = icmp_err_convert[icmph->code].errno;
		break;
	case ICMP_TIME_EXCEEDED:
		err = EHOSTUNREACH;
		break;
	case ICMP_PARAMETERPROB:
		err = EPROTO;
		break;
	default:
		return;
	}

	hn = xtcp_ehash_lookup(net, inner->daddr, th->dest, inner->saddr,
			       th->source);
	if (!hn)
		return;
	if (hn->kind != XTCP_HNODE_SOCK) {
		xtcp_hnode_put(hn);
		return;
	}
	xs = container_of(hn, struct xtcp_sock, hnode);
	sk = &xs->inet.sk;
	seq = ntohl(th->seq);

	bh_lock_sock(sk);
	if (before(seq, xs->snd_una) || after(seq, xs->snd_nxt)) {
		__XTCP_INC_STATS(net, XTCP_MIB_ICMPOUTOFWINDOW);
		goto out;
	}
	__XTCP_INC_STATS(net, XTCP_MIB_ICMPERRORS);

	if (icmph->type == ICMP_DEST_UNREACH &&
	    icmph->code == ICMP_FRAG_NEEDED) {
		u32 mtu = ntohs(icmph->un.frag.mtu);

		if (mtu >= 68 + sizeof(struct tcphdr) && mtu < 0xffff &&
		    mtu - sizeof(struct iphdr) - sizeof(struct tcphdr) <
		    xs->mss_cache)
			xs->mss_cache = mtu - sizeof(struct iphdr) -
					sizeof(struct tcphdr);
		goto out;
	}

	switch (sk->sk_state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		if (!sock_owned_by_user(sk))
			xtcp_reset(sk, err);
		else
			WRITE_ONCE(sk->sk_err_soft, err);
		break;
	default:
		if (!sock_owned_by_user(sk) && inet_sk(sk)->recverr) {
			WRITE_ONCE(sk->sk_err, err);
			sk_error_report(sk);
		} else {
			WRITE_ONCE(sk->sk_err_soft, err);
		}
	}
out:
	bh_unlock_sock(sk);
	sock_put(sk);
}

static unsigned int xtcp_nf_local_in(void *priv, struct sk_buff *skb,
				     const struct nf_hook_state *state)
{
	switch (ip_hdr(skb)->protocol) {
	case IPPROTO_TCP:
		return xtcp_rcv(state->net, skb);
	case IPPROTO_ICMP:
		xtcp_icmp_rcv(state->net, skb);
		return NF_ACCEPT;
	}
	return NF_ACCEPT;
}

static const struct nf_hook_ops xtcp_nf_ops[] = {
	{
		.hook		= xtcp_nf_local_in,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_LOCAL_IN,
		.priority	= NF_IP_PRI_LAST - 1,
	},
};

int xtcp_input_init_net(struct xtcp_net *xn)
{
	return nf_register_net_hooks(xn->net, xtcp_nf_ops,
				     ARRAY_SIZE(xtcp_nf_ops));
}

void xtcp_input_exit_net(struct xtcp_net *xn)
{
	nf_unregister_net_hooks(xn->net, xtcp_nf_ops, ARRAY_SIZE(xtcp_nf_ops));
}
