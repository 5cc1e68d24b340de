// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: congestion control, the ops table and NewReno.
 *
 * An algorithm is a const struct xtcp_cong_ops in a file of its own,
 * listed in xtcp_cong_algos[] below; nothing is registered at run time,
 * so the ops never go away and a socket keeps a plain pointer. Each
 * socket has XTCP_CA_PRIV_SIZE bytes of private state for its algorithm
 * (xtcp_ca_priv()), zeroed before ->init().
 *
 * The namespace's default is net.xtcp.congestion_control ("cubic", as
 * Linux's default); TCP_CONGESTION chooses per socket, and a child takes
 * its listener's. The engine calls in here, all with the socket owned:
 *   ->init()        when the connection is established (and on a change
 *                   of algorithm while connected);
 *   ->ssthresh()    on a loss or an ECE, for the new ssthresh;
 *   ->cong_avoid()  on an ACK that advances snd_una outside recovery;
 *   ->on_rto()      when the retransmission timer fires (RTO);
 *   ->on_tx_start() when new data goes out with nothing in flight.
 */
#include <net/sock.h>
#include <net/tcp.h>

#include "xtcp.h"

/* ---- NewReno (RFC 5681, RFC 6582) ---- */

/* RFC 5681: half the flight, at least two segments. */
static u32 xtcp_reno_ssthresh(struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 flight = DIV_ROUND_UP(xs->snd_nxt - xs->snd_una,
				  max_t(u32, xs->mss_cache, 1));

	return max_t(u32, flight / 2, 2);
}

/* Slow start below ssthresh, then one segment per window acknowledged. */
static void xtcp_reno_cong_avoid(struct sock *sk, u32 acked)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	acked = xtcp_slow_start(xs, acked);
	if (acked)
		xtcp_cong_avoid_ai(xs, xs->snd_cwnd, acked);
}

const struct xtcp_cong_ops xtcp_reno = {
	.name		= "reno",
	.ssthresh	= xtcp_reno_ssthresh,
	.cong_avoid	= xtcp_reno_cong_avoid,
};

/* ---- the table ---- */

static const struct xtcp_cong_ops *const xtcp_cong_algos[] = {
	&xtcp_cubic,
	&xtcp_reno,
};

/**
 * xtcp_cong_find() - an algorithm by name
 * @name: as TCP_CONGESTION and the sysctl spell it
 *
 * Return: its ops, or NULL.
 */
const struct xtcp_cong_ops *xtcp_cong_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(xtcp_cong_algos); i++)
		if (!strcmp(xtcp_cong_algos[i]->name, name))
			return xtcp_cong_algos[i];
	return NULL;
}

/**
 * xtcp_cong_available() - the names of all algorithms, space separated
 * @buf: where to
 * @size: its size
 */
void xtcp_cong_available(char *buf, size_t size)
{
	size_t len = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(xtcp_cong_algos); i++)
		len += scnprintf(buf + len, size - len, "%s%s", i ? " " : "",
				 xtcp_cong_algos[i]->name);
}

/* ---- helpers for the algorithms ---- */

/**
 * xtcp_slow_start() - RFC 5681's slow start, up to ssthresh
 * @xs: the socket
 * @acked: segments newly acknowledged
 *
 * Return: the part of @acked left over once cwnd reached ssthresh.
 */
u32 xtcp_slow_start(struct xtcp_sock *xs, u32 acked)
{
	u32 cwnd;

	if (xs->snd_cwnd >= xs->snd_ssthresh)
		return acked;
	cwnd = min(xs->snd_cwnd + acked, xs->snd_ssthresh);
	acked -= cwnd - xs->snd_cwnd;
	xs->snd_cwnd = cwnd;
	return acked;
}

/**
 * xtcp_cong_avoid_ai() - additive increase: one segment per @w acked
 * @xs: the socket
 * @w: segments to acknowledge for each increase (at least 1)
 * @acked: segments newly acknowledged
 */
void xtcp_cong_avoid_ai(struct xtcp_sock *xs, u32 w, u32 acked)
{
	w = max_t(u32, w, 1);
	/* A smaller w after a growth in the meantime: start over. */
	if (xs->cwnd_cnt >= w) {
		xs->cwnd_cnt = 0;
		xs->snd_cwnd++;
	}
	xs->cwnd_cnt += acked;
	if (xs->cwnd_cnt >= w) {
		u32 delta = xs->cwnd_cnt / w;

		xs->cwnd_cnt -= delta * w;
		xs->snd_cwnd += delta;
	}
}

/* ---- the engine's side ---- */

/**
 * xtcp_ca_set() - make @ops the socket's algorithm
 * @sk: the socket, owned by the caller
 * @ops: the algorithm
 *
 * Its private state starts from zero; a connected socket starts it now.
 */
void xtcp_ca_set(struct sock *sk, const struct xtcp_cong_ops *ops)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->ca_ops = ops;
	if ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				   TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 |
				   TCPF_CLOSING | TCPF_LAST_ACK))
		xtcp_ca_init(sk);	/* zeroes the state too */
	else
		memset(xs->ca_priv, 0, sizeof(xs->ca_priv));
}

/**
 * xtcp_ca_init_sock() - a new socket takes the namespace's default
 * @sk: the socket
 */
void xtcp_ca_init_sock(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->ca_ops = READ_ONCE(xtcp_pernet(sock_net(sk))->ca_default);
	memset(xs->ca_priv, 0, sizeof(xs->ca_priv));
}

/**
 * xtcp_ca_init() - the connection is established: start the algorithm
 * @sk: the socket, owned by the caller (or a new child, not yet visible)
 */
void xtcp_ca_init(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	memset(xs->ca_priv, 0, sizeof(xs->ca_priv));
	xs->cwnd_cnt = 0;
	if (xs->ca_ops->init)
		xs->ca_ops->init(sk);
}

/**
 * xtcp_ca_ssthresh() - ssthresh after a loss or an ECE
 * @sk: the socket, owned by the caller
 *
 * Return: the algorithm's answer.
 */
u32 xtcp_ca_ssthresh(struct sock *sk)
{
	return xtcp_sk(sk)->ca_ops->ssthresh(sk);
}

/**
 * xtcp_ca_cong_avoid() - an ACK advanced snd_una outside recovery
 * @sk: the socket, owned by the caller
 * @acked: bytes newly acknowledged
 */
void xtcp_ca_cong_avoid(struct sock *sk, u32 acked)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->ca_ops->cong_avoid(sk, DIV_ROUND_UP(acked,
						max_t(u32, xs->mss_cache, 1)));
}

/**
 * xtcp_ca_on_rto() - the retransmission timer fired
 * @sk: the socket, owned by the caller
 */
void xtcp_ca_on_rto(struct sock *sk)
{
	const struct xtcp_cong_ops *ops = xtcp_sk(sk)->ca_ops;

	if (ops->on_rto)
		ops->on_rto(sk);
}

/**
 * xtcp_ca_on_tx_start() - new data goes out with nothing in flight
 * @sk: the socket, owned by the caller
 */
void xtcp_ca_on_tx_start(struct sock *sk)
{
	const struct xtcp_cong_ops *ops = xtcp_sk(sk)->ca_ops;

	if (ops->on_tx_start)
		ops->on_tx_start(sk);
}
