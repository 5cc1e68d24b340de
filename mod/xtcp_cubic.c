// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: CUBIC congestion control (RFC 9438) with HyStart++ slow start
 * (RFC 9406).
 *
 * Congestion avoidance follows the cubic window
 *
 *	W_cubic(t) = C * (t - K)^3 + W_max,  K = cbrt((W_max - cwnd_epoch) / C)
 *
 * with C = 0.4 and t the time since the epoch (the first ACK after a
 * reduction) plus the minimum RTT, so the target is where the curve will
 * be a round trip on (RFC 9438 4.2). Below the target, cwnd grows by
 * (target - cwnd) / cwnd per acknowledged segment, at most one segment
 * per two acknowledged; and never slower than the Reno-friendly estimate
 * W_est, which grows by alpha = 3 (1 - beta) / (1 + beta) per window
 * (4.3). A loss sets ssthresh to beta * cwnd with beta = 0.7, after
 * remembering W_max (lowered further with fast convergence, 4.7, when
 * the loss came below the last W_max). Times are in milliseconds,
 * windows in segments; W_est is kept in 1/2^20 segment.
 *
 * HyStart++ watches the RTT during slow start: per round trip (a window
 * of data acknowledged) the minimum of the first eight samples. When it
 * rises by more than an eighth of the previous round's (clamped to 4-16
 * ms), slow start turns conservative (a quarter of the growth); if the
 * RTT falls back below the baseline it resumes, and after five
 * conservative rounds ssthresh is set to cwnd and congestion avoidance
 * begins. A loss ends it as it ends slow start.
 *
 * Called by xtcp_cong.c with the socket owned.
 */
#include <linux/math64.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "xtcp.h"

#define CUBIC_BETA		717	/* beta = 0.7, in 1/1024 */
#define CUBIC_SCALE		1024
/* W_est is kept in 1/2^20 segment. */
#define CUBIC_EST_SHIFT		20
/* alpha = 3 (1 - beta) / (1 + beta), in 1/1024: 3 * 307 * 1024 / 1741 */
#define CUBIC_ALPHA		542
/* 1 / C in ms^3 per segment: 1e9 / 0.4 */
#define CUBIC_INV_C_MS3		2500000000ULL
/* |t - K| beyond this (about 35 min) is as far as the curve goes. */
#define CUBIC_MAX_OFFS_MS	BIT(21)

#define HSPP_MIN_RTT_THRESH_US	4000
#define HSPP_MAX_RTT_THRESH_US	16000
#define HSPP_MIN_RTT_DIVISOR	8
#define HSPP_N_RTT_SAMPLE	8
#define HSPP_CSS_GROWTH_DIV	4
#define HSPP_CSS_ROUNDS		5
/* Not paced: at most this many segments of growth per ACK (RFC 9406 4.3). */
#define HSPP_L			8

/**
 * struct xtcp_cubic - a socket's CUBIC state (in xtcp_sock.ca_priv)
 * @w_max: cwnd before the last reduction (W_max), segments
 * @origin: W at t = K: W_max, or cwnd when above it
 * @k_ms: K, ms
 * @epoch_start: ms clock at the epoch's first ACK, 0 for none
 * @w_est: the Reno-friendly window, 1/2^20 segment
 * @cnt: segments to acknowledge for the next increase
 * @round_end: snd_nxt when the HyStart++ round began; it ends when acked
 * @last_round_min_rtt: minimum RTT of the previous round, us (~0: none)
 * @cur_round_min_rtt: of this round so far, us (~0: none)
 * @css_baseline_min_rtt: the minimum RTT when conservative slow start
 *	began, us
 * @rtt_samples: samples taken this round
 * @css_rounds: rounds spent in conservative slow start
 * @in_css: in conservative slow start
 * @css_frac: acknowledged segments not yet turned into CSS growth
 */
struct xtcp_cubic {
	u32	w_max;
	u32	origin;
	u32	k_ms;
	u32	epoch_start;
	u64	w_est;
	u32	cnt;
	u32	round_end;
	u32	last_round_min_rtt;
	u32	cur_round_min_rtt;
	u32	css_baseline_min_rtt;
	u8	rtt_samples;
	u8	css_rounds;
	u8	in_css;
	u8	css_frac;
};

static struct xtcp_cubic *cubic_of(struct sock *sk)
{
	BUILD_BUG_ON(sizeof(struct xtcp_cubic) > XTCP_CA_PRIV_SIZE);
	return xtcp_ca_priv(sk);
}

/* The integer cube root of @x, rounded down (Newton's method). */
static u32 cubic_cbrt(u64 x)
{
	u64 r, next;

	if (x < 2)
		return x;
	/* A start above the root: 2^ceil(bits / 3). */
	r = 1ULL << DIV_ROUND_UP(fls64(x), 3);
	for (;;) {
		next = (2 * r + div64_u64(x, r * r)) / 3;
		if (next >= r)
			break;
		r = next;
	}
	while (r * r * r > x)
		r--;
	return r;
}

static void cubic_hystart_reset(struct sock *sk)
{
	struct xtcp_cubic *ca = cubic_of(sk);

	ca->round_end = xtcp_sk(sk)->snd_nxt;
	ca->last_round_min_rtt = ~0U;
	ca->cur_round_min_rtt = ~0U;
	ca->rtt_samples = 0;
	ca->css_rounds = 0;
	ca->in_css = 0;
	ca->css_frac = 0;
}

static void cubic_init(struct sock *sk)
{
	cubic_hystart_reset(sk);
}

/* RFC 9438 4.6 and 4.7: remember W_max, and the new ssthresh. */
static u32 cubic_ssthresh(struct sock *sk)
{
	struct xtcp_cubic *ca = cubic_of(sk);
	u32 cwnd = xtcp_sk(sk)->snd_cwnd;

	ca->epoch_start = 0;
	if (cwnd < ca->w_max)	/* fast convergence */
		ca->w_max = (u64)cwnd * (CUBIC_SCALE + CUBIC_BETA) /
			    (2 * CUBIC_SCALE);
	else
		ca->w_max = cwnd;
	ca->in_css = 0;
	return max_t(u32, (u64)cwnd * CUBIC_BETA / CUBIC_SCALE, 2);
}

/* An RTO: the curve starts over, as after a fresh start. */
static void cubic_on_rto(struct sock *sk)
{
	struct xtcp_cubic *ca = cubic_of(sk);

	ca->w_max = 0;
	ca->epoch_start = 0;
	cubic_hystart_reset(sk);
}

/*
 * Idle: the epoch moves on by the idle time, so the curve does not
 * credit the silence (the cwnd did not grow while nothing was sent).
 */
static void cubic_on_tx_start(struct sock *sk)
{
	struct xtcp_cubic *ca = cubic_of(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 now = xtcp_clock_ms();
	s32 idle;

	if (!ca->epoch_start)
		return;
	idle = (s32)jiffies_to_msecs(jiffies - xs->lsndtime);
	if (idle <= 0)
		return;
	ca->epoch_start += idle;
	if ((s32)(ca->epoch_start - now) > 0)
		ca->epoch_start = now;
	ca->epoch_start = ca->epoch_start ? : 1;
}

/* The cubic window at @t_ms since the epoch. */
static u32 cubic_window(const struct xtcp_cubic *ca, u32 t_ms)
{
	u64 offs = t_ms < ca->k_ms ? ca->k_ms - t_ms : t_ms - ca->k_ms;
	u64 delta;

	offs = min_t(u64, offs, CUBIC_MAX_OFFS_MS);
	delta = div64_u64(offs * offs * offs, CUBIC_INV_C_MS3);
	if (t_ms >= ca->k_ms)
		return min_t(u64, (u64)ca->origin + delta, U32_MAX >> 1);
	return delta >= ca->origin ? 1 : ca->origin - (u32)delta;
}

/* RFC 9438 4.2-4.4: how many segments to acknowledge per increase. */
static void cubic_update(struct sock *sk, u32 acked)
{
	struct xtcp_cubic *ca = cubic_of(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 cwnd = xs->snd_cwnd, now = xtcp_clock_ms(), target, t;
	u32 rtt_ms = xs->min_rtt_us == ~0U ? 0 : xs->min_rtt_us / 1000;
	u32 est;

	if (!ca->epoch_start) {
		ca->epoch_start = now ? : 1;
		ca->w_est = (u64)cwnd << CUBIC_EST_SHIFT;
		if (ca->w_max <= cwnd) {
			ca->k_ms = 0;
			ca->origin = cwnd;
		} else {
			ca->k_ms = cubic_cbrt((u64)(ca->w_max - cwnd) *
					      CUBIC_INV_C_MS3);
			ca->origin = ca->w_max;
		}
	}
	t = now - ca->epoch_start + rtt_ms;
	target = cubic_window(ca, t);
	if (target > cwnd)
		ca->cnt = max_t(u32, cwnd / (target - cwnd), 1);
	else
		ca->cnt = 100 * cwnd;	/* at the plateau: next to nothing */
	/* No loss yet: do not sit on the plateau of a W_max of 0. */
	if (!ca->w_max && ca->cnt > 20)
		ca->cnt = 20;

	/* The Reno-friendly region; alpha is 1 once W_est passed W_max. */
	est = ca->w_est >> CUBIC_EST_SHIFT;
	ca->w_est += div_u64(((u64)acked *
			      (est >= ca->w_max ? CUBIC_SCALE : CUBIC_ALPHA))
			     << (CUBIC_EST_SHIFT - 10), max_t(u32, cwnd, 1));
	est = ca->w_est >> CUBIC_EST_SHIFT;
	if (est > cwnd)
		ca->cnt = min_t(u32, ca->cnt, max_t(u32, cwnd / (est - cwnd), 1));
	/* At most one segment for every two acknowledged. */
	ca->cnt = max_t(u32, ca->cnt, 2);
}

/*
 * HyStart++ on an ACK in slow start; returns the segments of growth,
 * from @acked.
 */
static u32 cubic_hystart(struct sock *sk, u32 acked)
{
	struct xtcp_cubic *ca = cubic_of(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 rtt = xs->last_rtt_us;

	if (!before(xs->snd_una, ca->round_end)) {
		/* A round ended: the next one runs to what is sent now. */
		ca->round_end = xs->snd_nxt;
		if (ca->in_css && ++ca->css_rounds >= HSPP_CSS_ROUNDS) {
			xs->snd_ssthresh = xs->snd_cwnd;
			ca->in_css = 0;
			return 0;
		}
		ca->last_round_min_rtt = ca->cur_round_min_rtt;
		ca->cur_round_min_rtt = ~0U;
		ca->rtt_samples = 0;
	}

	if (rtt && xs->rtt_fresh) {
		ca->cur_round_min_rtt = min(ca->cur_round_min_rtt, rtt);
		if (ca->rtt_samples < U8_MAX)
			ca->rtt_samples++;
	}

	if (!ca->in_css) {
		if (ca->rtt_samples >= HSPP_N_RTT_SAMPLE &&
		    ca->cur_round_min_rtt != ~0U &&
		    ca->last_round_min_rtt != ~0U) {
			u32 thresh = clamp_t(u32, ca->last_round_min_rtt /
					     HSPP_MIN_RTT_DIVISOR,
					     HSPP_MIN_RTT_THRESH_US,
					     HSPP_MAX_RTT_THRESH_US);

			if (ca->cur_round_min_rtt >=
			    ca->last_round_min_rtt + thresh) {
				ca->in_css = 1;
				ca->css_rounds = 0;
				ca->css_frac = 0;
				ca->css_baseline_min_rtt = ca->cur_round_min_rtt;
			}
		}
		return min_t(u32, acked, HSPP_L);
	}

	/* Conservative slow start: the RTT fell back, a false alarm. */
	if (ca->rtt_samples >= HSPP_N_RTT_SAMPLE &&
	    ca->cur_round_min_rtt < ca->css_baseline_min_rtt) {
		ca->in_css = 0;
		return min_t(u32, acked, HSPP_L);
	}
	acked = min_t(u32, acked, HSPP_L) + ca->css_frac;
	ca->css_frac = acked % HSPP_CSS_GROWTH_DIV;
	return acked / HSPP_CSS_GROWTH_DIV;
}

static void cubic_cong_avoid(struct sock *sk, u32 acked)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->snd_cwnd < xs->snd_ssthresh) {
		u32 grow = cubic_hystart(sk, acked), cwnd;

		xs->rtt_fresh = 0;
		if (xs->snd_cwnd >= xs->snd_ssthresh)	/* CSS ended */
			return;
		cwnd = min(xs->snd_cwnd + grow, xs->snd_ssthresh);
		acked -= min(acked, cwnd - xs->snd_cwnd);
		xs->snd_cwnd = cwnd;
		if (!acked || xs->snd_cwnd < xs->snd_ssthresh)
			return;
	}
	xs->rtt_fresh = 0;
	cubic_update(sk, acked);
	xtcp_cong_avoid_ai(xs, cubic_of(sk)->cnt, acked);
}

const struct xtcp_cong_ops xtcp_cubic = {
	.name		= "cubic",
	.init		= cubic_init,
	.ssthresh	= cubic_ssthresh,
	.cong_avoid	= cubic_cong_avoid,
	.on_rto		= cubic_on_rto,
	.on_tx_start	= cubic_on_tx_start,
};
