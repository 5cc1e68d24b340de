// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: timers.
 *
 * One retransmission timer per socket. While it is pending it holds a
 * reference on the socket (sk_reset_timer()/sk_stop_timer()), so an
 * orphaned socket lives until its last timer has run.
 *
 * In SYN-SENT and SYN-RECEIVED it resends the SYN (SYN-ACK) with
 * exponential backoff from one second (RFC 6298), net.xtcp.syn_retries
 * times, then ends the attempt with ETIMEDOUT (or the soft error an ICMP
 * message left, as Linux reports it). In FIN-WAIT-1, CLOSING and
 * LAST-ACK it resends the FIN. An orphan in FIN-WAIT-2 is closed when
 * it fires.
 */
#include <net/sock.h>
#include <net/tcp.h>

#include "xtcp.h"

#define XTCP_RTO_MAX		(120 * HZ)
#define XTCP_FIN_RETRIES	8
#define XTCP_FIN_WAIT2_TIMEOUT	(60 * HZ)

/**
 * xtcp_reset_retrans_timer() - (re)arm the retransmission timer
 * @sk: the socket, owned by the caller
 *
 * An orphan in FIN-WAIT-2 waits XTCP_FIN_WAIT2_TIMEOUT; everything else
 * waits the current RTO.
 */
void xtcp_reset_retrans_timer(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long when = sk->sk_state == TCP_FIN_WAIT2 ?
			     XTCP_FIN_WAIT2_TIMEOUT : xs->rto;

	sk_reset_timer(sk, &xs->retrans_timer, jiffies + when);
}

static void xtcp_timeout(struct sock *sk)
{
	int err = READ_ONCE(sk->sk_err_soft) ? : ETIMEDOUT;

	if (sk->sk_state == TCP_SYN_SENT)
		__XTCP_INC_STATS(sock_net(sk), XTCP_MIB_CONNTIMEDOUT);
	WRITE_ONCE(sk->sk_err, err);
	sk_error_report(sk);
	xtcp_done(sk);
}

static void xtcp_retransmit_timer(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);
	int limit;

	switch (sk->sk_state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		limit = READ_ONCE(xn->sysctl_syn_retries);
		break;
	case TCP_FIN_WAIT1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		limit = XTCP_FIN_RETRIES;
		break;
	case TCP_FIN_WAIT2:
		if (sock_flag(sk, SOCK_DEAD))
			xtcp_done(sk);
		return;
	default:
		return;
	}

	if (xs->retransmits >= limit) {
		xtcp_timeout(sk);
		return;
	}
	xs->retransmits++;
	xs->rto = min_t(u32, xs->rto << 1, XTCP_RTO_MAX);
	xtcp_reset_retrans_timer(sk);
	if (sk->sk_state == TCP_SYN_SENT || sk->sk_state == TCP_SYN_RECV) {
		__XTCP_INC_STATS(sock_net(sk), XTCP_MIB_SYNRETRANS);
		xtcp_retransmit_syn(sk);
	} else {
		xtcp_transmit(sk, TCPHDR_FIN | TCPHDR_ACK, xs->snd_nxt - 1);
	}
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

void xtcp_init_timers(struct sock *sk)
{
	timer_setup(&xtcp_sk(sk)->retrans_timer, xtcp_retrans_timer_fn, 0);
}

/**
 * xtcp_clear_timers() - stop the timers, dropping their references
 * @sk: the socket, owned by the caller
 */
void xtcp_clear_timers(struct sock *sk)
{
	sk_stop_timer(sk, &xtcp_sk(sk)->retrans_timer);
}
