// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: getsockopt(TCP_INFO), struct tcp_info as Linux 6.1 lays it out
 * and fills it (tcp_get_info()). A field xtcp does not keep is 0:
 * tcpi_rcv_rtt, tcpi_rcv_space, tcpi_delivery_rate, tcpi_delivered_ce,
 * tcpi_busy_time, tcpi_rwnd_limited, tcpi_sndbuf_limited,
 * tcpi_reord_seen and tcpi_fastopen_client_fail. tcpi_reordering is Linux's default (3),
 * tcpi_ato the delayed-ACK timeout (40 ms), and the pacing rates are the
 * socket's (unlimited unless SO_MAX_PACING_RATE), since xtcp does not
 * pace.
 */
#include <linux/tcp.h>
#include <net/tcp.h>

#include "xtcp.h"

/**
 * xtcp_reset_info() - the TCP_INFO counters of a new connection
 * @xs: the socket
 */
void xtcp_reset_info(struct xtcp_sock *xs)
{
	xs->bytes_acked = 0;
	xs->bytes_received = 0;
	xs->bytes_sent = 0;
	xs->bytes_retrans = 0;
	xs->segs_out = 0;
	xs->segs_in = 0;
	xs->data_segs_out = 0;
	xs->data_segs_in = 0;
	xs->total_retrans = 0;
	xs->delivered = 0;
	xs->rcv_ooopack = 0;
	xs->dsack_dups = 0;
	xs->min_rtt_us = ~0U;
}

/* tcpi_ca_state: Linux's enum tcp_ca_state for what xtcp is doing. */
static u8 xtcp_ca_state(const struct xtcp_sock *xs)
{
	if (xs->retransmits && !xs->in_recovery)
		return TCP_CA_Loss;
	if (xs->in_recovery)
		return TCP_CA_Recovery;
	if (xs->in_cwr)
		return TCP_CA_CWR;
	if (xs->dupacks)
		return TCP_CA_Disorder;
	return TCP_CA_Open;
}

/*
 * Segments in flight, SACKed, sent again and taken for lost: the write
 * queue counted, from its tail. Lost, as Linux's lost_out: after an RTO
 * every segment in flight the peer has not SACKed (tcp_timeout_mark_lost());
 * in SACK recovery those with DupThresh SACKed segments above (IsLost());
 * in NewReno recovery the head.
 */
static void xtcp_info_queue(struct sock *sk, struct tcp_info *info)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	bool rto = xs->retransmits && !xs->in_recovery;
	u32 sacked_above = 0;
	struct sk_buff *skb;

	skb_queue_reverse_walk(&sk->sk_write_queue, skb) {
		const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (!before(cb->seq, xs->snd_max))
			continue;	/* never sent */
		info->tcpi_unacked++;
		if (cb->sacked) {
			info->tcpi_sacked++;
			sacked_above++;
			continue;
		}
		if (cb->retrans)
			info->tcpi_retrans++;
		if (rto || (xs->in_recovery && xs->sack_ok &&
			    sacked_above >= TCP_FASTRETRANS_THRESH) ||
		    (xs->in_recovery && !xs->sack_ok &&
		     skb == skb_peek(&sk->sk_write_queue)))
			info->tcpi_lost++;
	}
}

/*
 * struct tcp_info from the socket's fields. With @queue the write queue
 * is walked for unacked, sacked and retrans: the caller then keeps both
 * the process and softirq off the socket (the socket lock, or its
 * spinlock with the socket not owned by a process). Without it those
 * three stay 0 and the rest are plain reads of fields that may be
 * changing, a snapshot as /proc/net/tcp's.
 */
static void xtcp_fill_info(struct sock *sk, struct tcp_info *info, bool queue)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long rate;
	u32 now = jiffies;

	memset(info, 0, sizeof(*info));
	info->tcpi_state = inet_sk_state_load(sk);
	rate = READ_ONCE(sk->sk_pacing_rate);
	info->tcpi_pacing_rate = rate != ~0UL ? rate : ~0ULL;
	rate = READ_ONCE(sk->sk_max_pacing_rate);
	info->tcpi_max_pacing_rate = rate != ~0UL ? rate : ~0ULL;
	info->tcpi_reordering = TCP_FASTRETRANS_THRESH;
	info->tcpi_snd_cwnd = xs->snd_cwnd;
	if (info->tcpi_state == TCP_LISTEN) {
		/* As Linux: the accept queue and the backlog. */
		info->tcpi_unacked = READ_ONCE(sk->sk_ack_backlog);
		info->tcpi_sacked = READ_ONCE(sk->sk_max_ack_backlog);
		return;
	}

	info->tcpi_ca_state = xtcp_ca_state(xs);
	info->tcpi_retransmits = xs->retransmits;
	info->tcpi_probes = xs->probes;
	info->tcpi_backoff = xs->backoff;
	if (xs->tstamp_ok)
		info->tcpi_options |= TCPI_OPT_TIMESTAMPS;
	if (xs->sack_ok)
		info->tcpi_options |= TCPI_OPT_SACK;
	if (xs->wscale_ok) {
		info->tcpi_options |= TCPI_OPT_WSCALE;
		info->tcpi_snd_wscale = xs->snd_wscale;
		info->tcpi_rcv_wscale = xs->rcv_wscale;
	}
	if (xs->ecn_ok)
		info->tcpi_options |= TCPI_OPT_ECN;

	info->tcpi_rto = jiffies_to_usecs(xs->rto);
	info->tcpi_ato = jiffies_to_usecs(HZ / 25);
	info->tcpi_snd_mss = xs->mss_cache;
	info->tcpi_rcv_mss = xs->rcv_mss;
	if (queue)
		xtcp_info_queue(sk, info);
	info->tcpi_last_data_sent = jiffies_to_msecs(now - xs->lsndtime);
	info->tcpi_last_data_recv = jiffies_to_msecs(now - xs->lrcvtime);
	info->tcpi_last_ack_recv = jiffies_to_msecs(now - xs->rcv_tstamp);
	info->tcpi_pmtu = xs->pmtu_cookie;
	info->tcpi_rcv_ssthresh = xs->rcv_ssthresh;
	info->tcpi_rtt = xs->srtt_us >> 3;
	info->tcpi_rttvar = xs->rttvar_us >> 2;
	info->tcpi_snd_ssthresh = xs->snd_ssthresh;
	/* As Linux, less the timestamps once they are agreed. */
	info->tcpi_advmss = xs->adv_mss;
	if (xs->tstamp_ok && info->tcpi_state != TCP_SYN_SENT)
		info->tcpi_advmss -= TCPOLEN_TSTAMP_ALIGNED;
	info->tcpi_total_retrans = xs->total_retrans;
	info->tcpi_bytes_acked = xs->bytes_acked;
	info->tcpi_bytes_received = xs->bytes_received;
	info->tcpi_notsent_bytes = max_t(int, 0, xs->write_seq - xs->snd_nxt);
	info->tcpi_segs_out = xs->segs_out;
	info->tcpi_segs_in = READ_ONCE(xs->segs_in);
	info->tcpi_data_segs_in = READ_ONCE(xs->data_segs_in);
	info->tcpi_min_rtt = xs->min_rtt_us;
	info->tcpi_data_segs_out = xs->data_segs_out;
	info->tcpi_delivered = xs->delivered;
	info->tcpi_bytes_sent = xs->bytes_sent;
	info->tcpi_bytes_retrans = xs->bytes_retrans;
	info->tcpi_rcv_ooopack = xs->rcv_ooopack;
	info->tcpi_dsack_dups = READ_ONCE(xs->dsack_dups);
	info->tcpi_snd_wnd = xs->snd_wnd;
}

/**
 * xtcp_get_info() - getsockopt(IPPROTO_TCP, TCP_INFO)
 * @sk: the socket
 * @optval: the user's buffer
 * @optlen: its length; a shorter one gets a prefix, as Linux
 *
 * Called in process context; takes the socket lock.
 *
 * Return: 0 or -EFAULT / -EINVAL.
 */
int xtcp_get_info(struct sock *sk, char __user *optval, int __user *optlen)
{
	struct tcp_info info;
	int len;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	lock_sock(sk);
	xtcp_fill_info(sk, &info, true);
	release_sock(sk);
	len = min_t(unsigned int, len, sizeof(info));
	if (put_user(len, optlen) || copy_to_user(optval, &info, len))
		return -EFAULT;
	return 0;
}

/**
 * xtcp_info_peek() - struct tcp_info for /proc/net/xtcp_ss
 * @sk: the socket, found in a table walked under rcu_read_lock()
 * @info: filled in
 *
 * Lock rule: called under rcu_read_lock() (the socket is SOCK_RCU_FREE,
 * so it stays readable), never sleeps, and does not take the socket
 * lock. It takes the socket's spinlock with bottom halves off, as a
 * softirq would: if no process owns the socket, nothing can change it
 * meanwhile and the figures are the ones TCP_INFO would give. If a
 * process owns it, the fields are read without waiting (a snapshot that
 * may mix values from before and after what the process is doing) and
 * unacked, sacked and retrans, which need the write queue, are 0.
 *
 * Return: true if the figures are complete, false if they are the
 * lockless snapshot.
 */
bool xtcp_info_peek(struct sock *sk, struct tcp_info *info)
{
	bool queue;

	spin_lock_bh(&sk->sk_lock.slock);
	queue = !sock_owned_by_user(sk);
	xtcp_fill_info(sk, info, queue);
	spin_unlock_bh(&sk->sk_lock.slock);
	return queue;
}
