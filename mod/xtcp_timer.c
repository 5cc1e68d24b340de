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
 * tcp_orphan_retries' default) before ETIMEDOUT. With data waiting
 * and nothing in flight (a zero window or one too small for the next
 * segment, a cork) it probes instead: xtcp_probe_timer(). An orphan in
 * FIN-WAIT-2 is closed when it fires, net.xtcp.fin_timeout after
 * entering that state.
 *
 * The delayed-ACK timer sends an ACK owed for at most 40 ms (Linux's
 * TCP_DELACK_MIN).
 *
 * A timer that fires while the user owns the socket does not re-arm
 * itself: it leaves its work to release_sock(), which calls
 * xtcp_release_cb(), as Linux's TCP_WRITE_TIMER_DEFERRED and
 * TCP_DELACK_TIMER_DEFERRED. An ICMP "fragmentation needed" is deferred
 * the same way.
 */
#include <net/sock.h>
#include <net/tcp.h>

#include "xtcp.h"

#define XTCP_RTO_MAX		(120 * HZ)
#define XTCP_DELACK		(HZ / 25)

/*
 * How many retransmissions (or window probes) before giving up:
 * net.xtcp.retries2, or for an orphan net.xtcp.orphan_retries, where 0
 * means 8 (more than 100 s from a 200 ms RTO) while the peer looks
 * alive, as Linux's tcp_orphan_retries().
 */
static int xtcp_max_retries(const struct sock *sk, bool alive)
{
	struct net *net = sock_net(sk);
	int retries;

	if (!sock_flag(sk, SOCK_DEAD))
		return xtcp_knob(net, XTCP_KNOB_RETRIES2);
	retries = xtcp_knob(net, XTCP_KNOB_ORPHAN_RETRIES);
	if (READ_ONCE(sk->sk_err_soft) && !alive)
		retries = 0;
	if (!retries && alive)
		retries = 8;
	return retries;
}

/**
 * xtcp_reset_retrans_timer() - (re)arm the retransmission timer
 * @sk: the socket, owned by the caller
 *
 * An orphan in FIN-WAIT-2 waits net.xtcp.fin_timeout; everything else
 * waits the current RTO.
 */
void xtcp_reset_retrans_timer(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long when = sk->sk_state == TCP_FIN_WAIT2 ?
			     xtcp_knob(sock_net(sk), XTCP_KNOB_FIN_TIMEOUT) * HZ : xs->rto;
	u32 ut = READ_ONCE(xs->user_timeout);

	/*
	 * tcp_clamp_rto_to_user_timeout(): with TCP_USER_TIMEOUT the timer
	 * does not sleep past the moment the connection is to give up.
	 */
	if (ut && xs->ut_start && sk->sk_state != TCP_FIN_WAIT2) {
		long left = (long)(xs->ut_start + msecs_to_jiffies(ut) -
				   jiffies);

		when = left <= 0 ? 1 : min_t(unsigned long, when, left);
	}

	xs->retrans_deadline = jiffies + when;
	sk_reset_timer(sk, &xs->retrans_timer, xs->retrans_deadline);
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

/*
 * TCP_USER_TIMEOUT: have (re)transmissions or probes gone unanswered
 * for longer than the user allows (retransmits_timed_out() with the
 * user's timeout)?
 */
static bool xtcp_user_timed_out(const struct xtcp_sock *xs)
{
	u32 ut = READ_ONCE(xs->user_timeout);

	return ut && xs->ut_start &&
	       !time_before(jiffies, xs->ut_start + msecs_to_jiffies(ut));
}

static void xtcp_timeout(struct sock *sk)
{
	int err = READ_ONCE(sk->sk_err_soft) ? : ETIMEDOUT;

	if (sk->sk_state == TCP_SYN_SENT)
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_CONNTIMEDOUT);
	else
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ABORTONTIMEOUT);
	WRITE_ONCE(sk->sk_err, err);
	xtcp_done(sk);		/* closed first, as xtcp_reset() */
	if (!sock_flag(sk, SOCK_DEAD))
		sk_error_report(sk);
}

/*
 * An orphan over the limits (too many orphans, or socket memory beyond
 * net.xtcp.mem): reset it rather than let it linger, as
 * tcp_out_of_resources(). Returns true if it is gone.
 */
static bool xtcp_out_of_resources(struct sock *sk)
{
	if (!sock_flag(sk, SOCK_DEAD) || !xtcp_check_oom(sk))
		return false;
	xtcp_send_ack(sk, TCPHDR_RST | TCPHDR_ACK);
	xtcp_done(sk);
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ABORTONMEMORY);
	return true;
}

static void xtcp_backoff(struct xtcp_sock *xs)
{
	xs->rto = min_t(u32, xs->rto << 1, XTCP_RTO_MAX);
}

/*
 * Data waits with nothing in flight: behind a zero window, a window too
 * small for the head segment, or held back by the cork or Nagle. As
 * tcp_probe_timer() and tcp_send_probe0(): what fits in the window goes
 * out (xtcp_write_wakeup()), else a zero-window probe (RFC 9293
 * 3.8.6.1), with the RTO backing off. A receiver that answers the probes
 * is alive (every acceptable ACK resets @probes) and is probed as long
 * as it answers; net.xtcp.retries2 probes in a row unanswered end the
 * connection. An orphan also ends once its backoff has reached the 120 s
 * maximum and it has sent its orphan_retries probes.
 */
static void xtcp_probe_timer(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int limit;

	if (xtcp_out_of_resources(sk))
		return;
	if (sock_flag(sk, SOCK_DEAD)) {
		bool alive = xs->rto < XTCP_RTO_MAX;

		limit = xtcp_max_retries(sk, alive);
		if (!alive && xs->backoff >= limit) {
			xtcp_timeout(sk);
			return;
		}
	} else {
		limit = xtcp_max_retries(sk, true);
	}
	if (!xs->probes)
		xs->ut_start = jiffies;
	if (xs->probes >= limit || xtcp_user_timed_out(xs)) {
		xtcp_timeout(sk);
		return;
	}
	if (xtcp_write_wakeup(sk)) {
		/* In flight now: the RTO watches it (tcp_send_probe0()). */
		xs->probes = 0;
		xs->backoff = 0;
		return;
	}
	xs->probes++;
	if (xs->backoff < xtcp_knob(sock_net(sk), XTCP_KNOB_RETRIES2))
		xs->backoff++;
	xtcp_backoff(xs);
	xtcp_reset_retrans_timer(sk);
}

static void xtcp_retransmit_timer(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int limit;

	switch (sk->sk_state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		if (xs->retransmits >= xtcp_knob(sock_net(sk), XTCP_KNOB_SYN_RETRIES) ||
		    xtcp_user_timed_out(xs)) {
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

	if (xtcp_out_of_resources(sk))
		return;
	limit = xtcp_max_retries(sk, xs->rto < XTCP_RTO_MAX);
	/* The user's timeout counts from the head's first transmission. */
	if (!xs->retransmits) {
		struct sk_buff *head = skb_peek(&sk->sk_write_queue);

		xs->ut_start = head ? XTCP_SKB_CB(head)->when : jiffies;
	}
	if (xs->retransmits >= limit || xtcp_user_timed_out(xs)) {
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

/*
 * The retransmission timer's work, if it is still due: the timer may
 * have been stopped or moved since it fired (by an ACK from the backlog,
 * when the work was deferred).
 */
static void xtcp_retrans_timer_expired(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->retrans_deadline || timer_pending(&xs->retrans_timer))
		return;
	if (time_before(jiffies, xs->retrans_deadline)) {
		sk_reset_timer(sk, &xs->retrans_timer, xs->retrans_deadline);
		return;
	}
	xs->retrans_deadline = 0;
	xtcp_retransmit_timer(sk);
}

static void xtcp_delack_expired(struct sock *sk)
{
	if (xtcp_sk(sk)->ack_pending && sk->sk_state != TCP_CLOSE)
		xtcp_send_ack(sk, TCPHDR_ACK);
}

static void xtcp_retrans_timer_fn(struct timer_list *t)
{
	struct xtcp_sock *xs = from_timer(xs, t, retrans_timer);
	struct sock *sk = &xs->inet.sk;

	bh_lock_sock(sk);
	if (!sock_owned_by_user(sk))
		xtcp_retrans_timer_expired(sk);
	else if (!test_and_set_bit(XTCP_RETRANS_TIMER_DEFERRED, &xs->deferred))
		sock_hold(sk);
	bh_unlock_sock(sk);
	sock_put(sk);
}

static void xtcp_delack_timer_fn(struct timer_list *t)
{
	struct xtcp_sock *xs = from_timer(xs, t, delack_timer);
	struct sock *sk = &xs->inet.sk;

	bh_lock_sock(sk);
	if (!sock_owned_by_user(sk))
		xtcp_delack_expired(sk);
	else if (!test_and_set_bit(XTCP_DELACK_TIMER_DEFERRED, &xs->deferred))
		sock_hold(sk);
	bh_unlock_sock(sk);
	sock_put(sk);
}

/**
 * xtcp_release_cb() - proto->release_cb: the work deferred while the
 *	user owned the socket
 * @sk: the socket
 *
 * Called by release_sock() with the socket still owned, its spinlock
 * held and bottom halves disabled. Each deferred bit carries a socket
 * reference, dropped here; the caller holds one of its own.
 */
void xtcp_release_cb(struct sock *sk)
	__must_hold(&sk->sk_lock.slock)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned long flags;

	if (!READ_ONCE(xs->deferred))
		return;
	flags = xchg(&xs->deferred, 0);
	if (flags & BIT(XTCP_RETRANS_TIMER_DEFERRED)) {
		xtcp_retrans_timer_expired(sk);
		__sock_put(sk);
	}
	if (flags & BIT(XTCP_DELACK_TIMER_DEFERRED)) {
		xtcp_delack_expired(sk);
		__sock_put(sk);
	}
	if (flags & BIT(XTCP_MTU_REDUCED_DEFERRED)) {
		xtcp_mtu_reduced(sk);
		__sock_put(sk);
	}
}

/* ---- keepalive ---- */

/* Per socket (TCP_KEEPIDLE/INTVL/CNT), else the namespace's sysctls. */
static u32 xtcp_keepalive_time(const struct sock *sk)
{
	return xtcp_sk(sk)->keepalive_time ? :
	       xtcp_knob(sock_net(sk), XTCP_KNOB_KEEPALIVE_TIME) * HZ;
}

static u32 xtcp_keepalive_intvl(const struct sock *sk)
{
	return xtcp_sk(sk)->keepalive_intvl ? :
	       xtcp_knob(sock_net(sk), XTCP_KNOB_KEEPALIVE_INTVL) * HZ;
}

static int xtcp_keepalive_probes(const struct sock *sk)
{
	return xtcp_sk(sk)->keepalive_probes ? :
	       xtcp_knob(sock_net(sk), XTCP_KNOB_KEEPALIVE_PROBES);
}

/**
 * xtcp_reset_keepalive_timer() - (re)arm the keepalive timer
 * @sk: the socket, owned by the caller
 * @when: jiffies from now
 */
void xtcp_reset_keepalive_timer(struct sock *sk, unsigned long when)
{
	sk_reset_timer(sk, &sk->sk_timer, jiffies + when);
}

/*
 * After a change of TCP_KEEPIDLE: the next probe comes when the
 * connection has been idle for the new time (tcp_sock_set_keepidle).
 */
void xtcp_keepalive_changed(struct sock *sk)
{
	u32 idle = jiffies - xtcp_sk(sk)->rcv_tstamp, time;

	if (!sock_flag(sk, SOCK_KEEPOPEN) ||
	    ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN)))
		return;
	time = xtcp_keepalive_time(sk);
	xtcp_reset_keepalive_timer(sk, time > idle ? time - idle : 0);
}

/**
 * xtcp_set_keepalive() - proto->keepalive: SO_KEEPALIVE was set or cleared
 * @sk: the socket, locked by the socket core
 * @val: on or off
 */
void xtcp_set_keepalive(struct sock *sk, int val)
{
	if ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN))
		return;
	if (val && !sock_flag(sk, SOCK_KEEPOPEN))
		xtcp_reset_keepalive_timer(sk, xtcp_keepalive_time(sk));
	else if (!val)
		sk_stop_timer(sk, &sk->sk_timer);
}

/*
 * As tcp_keepalive_timer(): an idle connection (nothing in flight or
 * queued) that has heard nothing from the peer for keepalive_time gets a
 * probe (an ACK at snd_una - 1, which the peer must answer) every
 * keepalive_intvl; keepalive_probes unanswered in a row reset it with
 * ETIMEDOUT. Any acceptable ACK resets the count.
 */
static void xtcp_keepalive_timer_fn(struct timer_list *t)
{
	struct sock *sk = from_timer(sk, t, sk_timer);
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 time, idle;

	bh_lock_sock(sk);
	if (sock_owned_by_user(sk)) {
		/* Linux tries again shortly, too. */
		xtcp_reset_keepalive_timer(sk, HZ / 20);
		goto out;
	}
	if (!sock_flag(sk, SOCK_KEEPOPEN) ||
	    ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_SYN_SENT | TCPF_LISTEN)))
		goto out;
	time = xtcp_keepalive_time(sk);
	if (xs->snd_una != xs->snd_max || xs->send_head) {
		xtcp_reset_keepalive_timer(sk, time);
		goto out;
	}
	idle = jiffies - xs->rcv_tstamp;
	if (idle >= time) {
		if (xs->probes >= xtcp_keepalive_probes(sk)) {
			xtcp_send_ack(sk, TCPHDR_RST | TCPHDR_ACK);
			xtcp_timeout(sk);
			goto out;
		}
		xtcp_send_probe(sk);
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_KEEPALIVE);
		xs->probes++;
		time = xtcp_keepalive_intvl(sk);
	} else {
		time -= idle;
	}
	xtcp_reset_keepalive_timer(sk, time);
out:
	bh_unlock_sock(sk);
	sock_put(sk);
}

void xtcp_init_timers(struct sock *sk)
{
	timer_setup(&xtcp_sk(sk)->retrans_timer, xtcp_retrans_timer_fn, 0);
	timer_setup(&xtcp_sk(sk)->delack_timer, xtcp_delack_timer_fn, 0);
	timer_setup(&sk->sk_timer, xtcp_keepalive_timer_fn, 0);
}

/**
 * xtcp_keepalive_getsockopt() - TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT
 * @sk: the socket
 * @optname: which
 *
 * Return: the value in effect (seconds, or a count).
 */
int xtcp_keepalive_getsockopt(const struct sock *sk, int optname)
{
	switch (optname) {
	case TCP_KEEPIDLE:
		return xtcp_keepalive_time(sk) / HZ;
	case TCP_KEEPINTVL:
		return xtcp_keepalive_intvl(sk) / HZ;
	default:
		return xtcp_keepalive_probes(sk);
	}
}

/**
 * xtcp_clear_timers_retrans() - stop the retransmission timer
 * @sk: the socket, owned by the caller
 */
void xtcp_clear_timers_retrans(struct sock *sk)
{
	xtcp_sk(sk)->retrans_deadline = 0;
	sk_stop_timer(sk, &xtcp_sk(sk)->retrans_timer);
}

/**
 * xtcp_clear_timers() - stop the timers, dropping their references
 * @sk: the socket, owned by the caller
 */
void xtcp_clear_timers(struct sock *sk)
{
	xtcp_sk(sk)->retrans_deadline = 0;
	sk_stop_timer(sk, &xtcp_sk(sk)->retrans_timer);
	sk_stop_timer(sk, &xtcp_sk(sk)->delack_timer);
	sk_stop_timer(sk, &sk->sk_timer);
	xtcp_sk(sk)->ack_pending = false;
}
