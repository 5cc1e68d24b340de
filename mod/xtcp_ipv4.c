// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: where IPv4 segments and ICMP errors reach xtcp.
 *
 * Segments reach xtcp through a netfilter hook at LOCAL_IN with the last
 * priority but one, so every INPUT rule of the host's firewall has had
 * its say first, and before Linux's TCP sees them (it would answer a
 * segment for a connection it does not know with a RST). A segment whose
 * 4-tuple is in xtcp's established table (a connection, a request or a
 * TIME_WAIT entry), or for which an xtcp socket listens, is taken
 * (NF_STOLEN); anything else goes on to Linux untouched. ICMP errors quoting an xtcp
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
#include <net/netfilter/nf_conntrack.h>
#include <net/tcp.h>
#include <net/xfrm.h>

#include "xtcp.h"

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

/*
 * Conntrack confirms a connection's first packet at the very end of
 * LOCAL_IN (NF_IP_PRI_CONNTRACK_CONFIRM), after this hook. A segment
 * stolen unconfirmed would leave its entry unconfirmed, every later
 * packet of the connection NEW, and "ct state established" rules would
 * drop xtcp's traffic: confirm it here, as Linux's TCP would find it
 * confirmed, through nf_ct_hook as the bridge's LOCAL_IN hook does (no
 * dependency on the conntrack module). Returns NF_ACCEPT or NF_DROP.
 */
static unsigned int xtcp_ct_confirm(struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_NF_CONNTRACK)
	struct nf_conntrack *nfct = skb_nfct(skb);
	const struct nf_ct_hook *ct_hook;
	struct nf_conn *ct;

	if (!nfct)
		return NF_ACCEPT;
	ct = container_of(nfct, struct nf_conn, ct_general);
	if (nf_ct_is_confirmed(ct) || nf_ct_is_template(ct))
		return NF_ACCEPT;
	ct_hook = rcu_dereference(nf_ct_hook);
	if (!ct_hook)
		return NF_ACCEPT;
	return ct_hook->confirm(skb) == NF_ACCEPT ? NF_ACCEPT : NF_DROP;
#else
	return NF_ACCEPT;
#endif
}

/*
 * A segment for a listener (no entry of the established table has its
 * 4-tuple): validated and policy-checked as any of ours, then handed to
 * the listener. Without a listener it goes on to Linux's TCP untouched.
 */
static unsigned int xtcp_rcv_listener(struct net *net, struct sk_buff *skb,
				      unsigned int ihl)
{
	const struct iphdr *iph = ip_hdr(skb);
	const struct tcphdr *th = (const struct tcphdr *)(skb->data + ihl);
	struct sock *lsk;

	lsk = xtcp_lookup_listener(net, iph->saddr, th->source, iph->daddr,
				   th->dest, inet_iif(skb));
	if (!lsk)
		return NF_ACCEPT;
	__XTCP_INC_STATS(net, XTCP_MIB_INSEGS);
	if (!xtcp_validate(net, skb, ihl) || xtcp_ct_confirm(skb) != NF_ACCEPT ||
	    !xfrm4_policy_check(lsk, XFRM_POLICY_IN, skb)) {
		sock_put(lsk);
		return NF_DROP;
	}
	xtcp_listen_rcv(lsk, skb, 0);
	sock_put(lsk);
	return NF_STOLEN;
}

/*
 * A segment looked up again after its request went (the listener
 * closed, or another CPU made the connection): to the connection, to a
 * listener, or answered with a RST. Consumes @skb.
 */
static struct xtcp_hnode *xtcp_relookup(struct net *net, struct sk_buff *skb)
{
	const struct iphdr *iph = ip_hdr(skb);
	const struct tcphdr *th = tcp_hdr(skb);
	struct xtcp_hnode *hn;
	struct sock *lsk;

	hn = xtcp_ehash_lookup(net, iph->saddr, th->source, iph->daddr,
			       th->dest);
	if (hn)
		return hn;
	lsk = xtcp_lookup_listener(net, iph->saddr, th->source, iph->daddr,
				   th->dest, inet_iif(skb));
	if (lsk) {
		xtcp_listen_rcv(lsk, skb, 0);
		sock_put(lsk);
	} else {
		xtcp_send_rst_reply(net, skb);
		consume_skb(skb);
	}
	return NULL;
}

/*
 * A segment for a TIME_WAIT entry. A new SYN goes to a listener, if
 * there is one, in place of the entry (RFC 6191); else it is answered
 * as tcp_v4_rcv() answers it, with the entry's ACK. Consumes @skb.
 */
static void xtcp_rcv_tw(struct net *net, struct xtcp_tw *tw,
			struct sk_buff *skb)
{
	const struct iphdr *iph = ip_hdr(skb);
	const struct tcphdr *th = tcp_hdr(skb);
	struct sock *lsk;
	u32 isn;

	isn = xtcp_tw_rcv(net, tw, skb);
	if (isn) {
		lsk = xtcp_lookup_listener(net, iph->saddr, th->source,
					   iph->daddr, th->dest,
					   inet_iif(skb));
		if (lsk) {
			xtcp_tw_kill(tw);
			xtcp_listen_rcv(lsk, skb, isn);
			sock_put(lsk);
			return;
		}
		xtcp_tw_send_ack(net, tw, skb);
	}
	consume_skb(skb);
}

static unsigned int xtcp_rcv(struct net *net, struct sk_buff *skb)
{
	const struct iphdr *iph = ip_hdr(skb);
	unsigned int ihl = iph->ihl * 4;
	const struct tcphdr *th;
	bool relooked = false;
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
		return xtcp_rcv_listener(net, skb, ihl);

	__XTCP_INC_STATS(net, XTCP_MIB_INSEGS);
	sk = hn->kind == XTCP_HNODE_SOCK ?
	     &container_of(hn, struct xtcp_sock, hnode)->inet.sk : NULL;
	/*
	 * As tcp_v4_rcv(): an IPsec policy for the flow must have been
	 * met (a plaintext segment where the policy wants ESP is dropped).
	 */
	if (!xtcp_validate(net, skb, ihl) || xtcp_ct_confirm(skb) != NF_ACCEPT ||
	    !xfrm4_policy_check(sk, XFRM_POLICY_IN, skb)) {
		xtcp_hnode_put(hn);
		return NF_DROP;
	}
process:
	switch (hn->kind) {
	case XTCP_HNODE_TW:
		xtcp_rcv_tw(net, container_of(hn, struct xtcp_tw, hnode), skb);
		xtcp_hnode_put(hn);
		return NF_STOLEN;
	case XTCP_HNODE_REQ:
		if (xtcp_req_rcv(container_of(hn, struct xtcp_request, hnode),
				 skb) == XTCP_REQ_RELOOKUP) {
			xtcp_hnode_put(hn);
			if (relooked) {
				kfree_skb(skb);
				return NF_STOLEN;
			}
			relooked = true;
			hn = xtcp_relookup(net, skb);
			if (!hn)
				return NF_STOLEN;
			goto process;
		}
		xtcp_hnode_put(hn);
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
 * updates the route's path MTU and the send MSS (xtcp_mtu_reduced()),
 * deferred to release_sock() when the user owns the socket; a redirect
 * updates the route. The hook runs before icmp_rcv(), so the message's
 * checksum is verified here first: a forged or damaged message must not
 * abort a connection.
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
	u32 seq, info = 0;
	int err;

	off = ihl + sizeof(*icmph);
	if (!pskb_may_pull(skb, off + sizeof(*inner)))
		return;
	icmph = (const struct icmphdr *)(skb->data + ihl);
	inner = (const struct iphdr *)(skb->data + off);
	if (inner->protocol != IPPROTO_TCP || inner->ihl < 5 ||
	    !pskb_may_pull(skb, off + inner->ihl * 4 + 8))
		return;
	if (csum_fold(skb_checksum(skb, ihl, skb->len - ihl, 0))) {
		__XTCP_INC_STATS(net, XTCP_MIB_ICMPCSUMERRORS);
		return;
	}
	icmph = (const struct icmphdr *)(skb->data + ihl);
	inner = (const struct iphdr *)(skb->data + off);
	th = (const struct tcphdr *)(skb->data + off + inner->ihl * 4);

	switch (icmph->type) {
	case ICMP_DEST_UNREACH:
		if (icmph->code > NR_ICMP_UNREACH)
			return;
		err = icmp_err_convert[icmph->code].errno;
		if (icmph->code == ICMP_FRAG_NEEDED) {
			/* What icmp_unreach() would pass on (ip_no_pmtu_disc). */
			switch (READ_ONCE(net->ipv4.sysctl_ip_no_pmtu_disc)) {
			case 2:
			case 3:
				return;
			case 0:
				info = ntohs(icmph->un.frag.mtu);
			}
		}
		break;
	case ICMP_TIME_EXCEEDED:
		err = EHOSTUNREACH;
		break;
	case ICMP_PARAMETERPROB:
		err = EPROTO;
		break;
	case ICMP_REDIRECT:
		err = 0;
		break;
	default:
		return;
	}

	hn = xtcp_ehash_lookup(net, inner->daddr, th->dest, inner->saddr,
			       th->source);
	if (!hn)
		return;
	if (hn->kind == XTCP_HNODE_REQ) {
		/* tcp_v4_err()'s choice of the errors that end a request. */
		xtcp_req_err(container_of(hn, struct xtcp_request, hnode),
			     ntohl(th->seq),
			     icmph->type == ICMP_PARAMETERPROB ||
			     icmph->type == ICMP_TIME_EXCEEDED ||
			     (icmph->type == ICMP_DEST_UNREACH &&
			      (icmph->code == ICMP_NET_UNREACH ||
			       icmph->code == ICMP_HOST_UNREACH)));
		xtcp_hnode_put(hn);
		return;
	}
	if (hn->kind != XTCP_HNODE_SOCK) {
		xtcp_hnode_put(hn);
		return;
	}
	xs = container_of(hn, struct xtcp_sock, hnode);
	sk = &xs->inet.sk;
	seq = ntohl(th->seq);

	bh_lock_sock(sk);
	if (sk->sk_state == TCP_CLOSE)
		goto out;
	if (before(seq, xs->snd_una) || after(seq, xs->snd_max)) {
		__XTCP_INC_STATS(net, XTCP_MIB_ICMPOUTOFWINDOW);
		goto out;
	}
	__XTCP_INC_STATS(net, XTCP_MIB_ICMPERRORS);

	if (icmph->type == ICMP_REDIRECT) {
		struct dst_entry *dst = __sk_dst_check(sk, 0);

		if (!sock_owned_by_user(sk) && dst)
			dst->ops->redirect(dst, sk, skb);
		goto out;
	}
	if (icmph->type == ICMP_DEST_UNREACH &&
	    icmph->code == ICMP_FRAG_NEEDED) {
		WRITE_ONCE(xs->mtu_info, info);
		if (!sock_owned_by_user(sk))
			xtcp_mtu_reduced(sk);
		else if (!test_and_set_bit(XTCP_MTU_REDUCED_DEFERRED,
					   &xs->deferred))
			sock_hold(sk);
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
