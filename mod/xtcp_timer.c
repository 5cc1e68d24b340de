// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: timers.
 *
 * Two timers per socket, each holding a socket reference while pending
 * (sk_reset_timer()/sk_stop_timer()), so an orphaned socket lives until
 * its last timer has run.
 *
 * The retransmission timer: in SYN-SENT and SYN-RECEIVED it resends the
 * SYN (SYN-ACK) with exponential backoff from one second (RFC 6298),
 * net.xtcp.syn_retries times, then ends the attempt with ETIMEDOUT (or
 * the soft error an ICMP message left, as Linux reports it). Once
 * synchronised it is RFC 6298's RTO: on expiry everything in flight is
 * taken as lost and sent again from snd_una with cwnd 1 (RFC 5681),
 * backing off, 15 times (Linux's tcp_retries2; 8 for an orphan, as
 * tcp_orphan_retries' default) before ETIMEDOUT. With data queued
 * behind a zero window it sends window probes instead. An orphan in
 * FIN-WAIT-2 is closed when it fires, net.xtcp.fin_timeout after
 * entering that state.
 *
 * The delayed-ACK timer sends an ACK owed for at most 40 ms (Linux's
 * TCP_DELACK_MIN).
 */
#include <net/sock.h>
#include <net/tcp.h>

#include "xtcp.h"

#define XTCP_RTO_MAX		(120 * HZ)
#define XTCP_RETRIES		15
#define XTCP_ORPHAN_RETRIES	8
#define XTCP_DELACK		(HZ / 25)

/**
 * xtcp_reset_retrans_timer() - (re)arm the retransmission timer
 * @sk: the socket, owned by the caller
 *
 * An orphan in FIN-WAIT-2 waits net.xtcp.fin_timeout; everything else
 * waits the current RTO.
 */
void xtcp_reset_retrans_timer(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long when = sk->sk_state == TCP_FIN_WAIT2 ?
			     READ_ONCE(xn->sysctl_fin_timeout) * HZ : xs->rto;

	sk_reset_timer(sk, &xs->retrans_timer, jiffies + when);
}

/**
 * xtcp_schedule_ack() - owe the peer an ACK, sent within 40 ms
 * @sk: the socket, owned by the caller
 */
void xtcp_schedule_ack(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->ack_pending = true;
	if (!timer_pending(&xs->delack_timer))
		sk_reset_timer(sk, &xs->delack_timer, jiffies + XTCP_DELACK);
}

static void xtcp_timeout(struct sock *sk)
{
	int err = READ_ONCE(sk->sk_err_soft) ? : ETIMEDOUT;

	if (sk->sk_state == TCP_SYN_SENT)
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_CONNTIMEDOUT);
	WRITE_ONCE(sk->sk_err, err);
	xtcp_done(sk);		/* closed first, as xtcp_reset() */
	if (!sock_flag(sk, SOCK_DEAD))
		sk_error_report(sk);
}

static void xtcp_backoff(struct xtcp_sock *xs)
{
	xs->rto = min_t(u32, xs->rto << 1, XTCP_RTO_MAX);
}

/* Data waits behind a zero window: probe it (RFC 9293 3.8.6.1). */
static void xtcp_probe_timer(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int limit = sock_flag(sk, SOCK_DEAD) ? XTCP_ORPHAN_RETRIES :
					       XTCP_RETRIES;

	if (xs->snd_wnd) {
		xtcp_write_xmit(sk, true);
		return;
	}
	if (xs->probes >= limit) {
		xtcp_timeout(sk);
		return;
	}
	xs->probes++;
	xtcp_send_probe(sk);
	xtcp_backoff(xs);
	xtcp_reset_retrans_timer(sk);
}

static void xtcp_retransmit_timer(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);
	int limit;

	switch (sk->sk_state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		if (xs->retransmits >= READ_ONCE(xn->sysctl_syn_retries)) {
			xtcp_timeout(sk);
			return;
		}
		xs->retransmits++;
		xtcp_backoff(xs);
		xtcp_reset_retrans_timer(sk);
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_SYNRETRANS);
		xtcp_retransmit_syn(sk);
		return;
	case TCP_FIN_WAIT2:
		if (sock_flag(sk, SOCK_DEAD))
			xtcp_done(sk);
		return;
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		break;
	default:
		return;
	}

	if (xs->snd_una == xs->snd_max) {
		if (xs->send_head)
			xtcp_probe_timer(sk);
		return;
	}

	limit = sock_flag(sk, SOCK_DEAD) ? XTCP_ORPHAN_RETRIES : XTCP_RETRIES;
	if (xs->retransmits >= limit) {
		xtcp_timeout(sk);
		return;
	}
	xs->retransmits++;
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_RTOS);
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_RETRANSSEGS);
	xtcp_enter_loss(sk);
	xtcp_backoff(xs);
	xtcp_write_xmit(sk, true);
	if (!timer_pending(&xs->retrans_timer))
		xtcp_reset_retrans_timer(sk);
}

static void xtcp_retrans_timer_fn(struct timer_list *t)
{
	struct xtcp_sock *xs = from_timer(xs, t, retrans_timer);
	struct sock *sk = &xs->inet.sk;

	bh_lock_sock(sk);
	if (sock_owned_by_user(sk)) {
		/* Try again shortly; the owner may change the state. */
		sk_reset_timer(sk, &xs->retrans_timer, jiffies + HZ / 20);
	} else {
		xtcp_retransmit_timer(sk);
	}
	bh_unlock_sock(sk);
	sock_put(sk);
}

static void xtcp_delack_timer_fn(struct timer_list *t)
{
	struct xtcp_sock *xs = from_timer(xs, t, delack_timer);
	struct sock *sk = &xs->inet.sk;

	bh_lock_sock(sk);
	if (sock_owned_by_user(sk))
		sk_reset_timer(sk, &xs->delack_timer, jiffies + HZ / 50);
	else if (xs->ack_pending && sk->sk_state != TCP_CLOSE)
		xtcp_send_ack(sk, TCPHDR_ACK);
	bh_unlock_sock(sk);
	sock_put(sk);
}

void xtcp_init_timers(struct sock *sk)
{
	timer_setup(&xtcp_sk(sk)->retrans_timer, xtcp_retrans_timer_fn, 0);
	timer_setup(&xtcp_sk(sk)->delack_timer, xtcp_delack_timer_fn, 0);
}

/**
 * xtcp_clear_timers_retrans() - stop the retransmission timer
 * @sk: the socket, owned by the caller
 */
void xtcp_clear_timers_retrans(struct sock *sk)
{
	sk_stop_timer(sk, &xtcp_sk(sk)->retrans_timer);
}

/**
 * xtcp_clear_timers() - stop the timers, dropping their references
 * @sk: the socket, owned by the caller
 */
void xtcp_clear_timers(struct sock *sk)
{
	sk_stop_timer(sk, &xtcp_sk(sk)->retrans_timer);
	sk_stop_timer(sk, &xtcp_sk(sk)->delack_timer);
	xtcp_sk(sk)->ack_pending = false;
}
