// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: listening sockets. Our inet_connection_sock.c for the server
 * side: listen(), the listening table and its lookup, the accept queue
 * and accept(), and what closing a listener does to the connections
 * and requests it has.
 *
 * The listening table is one hash of chains keyed by (namespace, port),
 * read under RCU by segment input (softirq) and written under each
 * slot's spinlock. A SYN finds the listener whose address is the most
 * specific match (its own address before the wildcard, a bound device
 * before none), as Linux's compute_score() ranks them; listeners that
 * set XTCP_REUSEPORT on one port, address and device, for one user, form
 * a group, and a hash of the connection's 4-tuple picks one of them.
 *
 * Each listener's accept queue is a list under its own spinlock: a
 * connection joins it in softirq when the handshake completes
 * (xtcp_minisocks.c) and leaves it in accept(); sk_ack_backlog counts
 * it, against sk_max_ack_backlog (listen()'s backlog, which the socket
 * core caps at net.core.somaxconn). Requests are counted in req_qlen.
 *
 * Requests (struct xtcp_request) are allocated here from their own slab
 * cache and freed after an RCU grace period, since input finds them in
 * the established table without a lock (xtcp_minisocks.c says what they
 * do); each holds a reference on its listener.
 *
 * Locking: listen(), accept() and close() own the listener (lock_sock);
 * input never takes the listener's socket lock, only its queue's
 * spinlock, as Linux's lockless listeners. A listener leaving LISTEN
 * (close(), shutdown(SHUT_RD)) sets its state before it drains its
 * queue under that spinlock, and xtcp_accept_enqueue() tests the state
 * under the same spinlock, so no connection is queued to a listener
 * that will never look at its queue again.
 */
#include <linux/hash.h>
#include <linux/reciprocal_div.h>
#include <linux/sched/signal.h>
#include <linux/siphash.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <linux/xtcp.h>

#include "xtcp.h"

#define XTCP_LHASH_BITS		9

struct xtcp_lhash_slot {
	spinlock_t		lock;	/* writers of chain */
	struct hlist_head	chain;
};

static struct xtcp_lhash_slot *xtcp_lhash;
static siphash_key_t xtcp_reuseport_key __read_mostly;
static struct kmem_cache *xtcp_request_cachep __read_mostly;

int xtcp_listen_init(void)
{
	unsigned int i;

	get_random_bytes(&xtcp_reuseport_key, sizeof(xtcp_reuseport_key));
	xtcp_request_cachep = kmem_cache_create("xtcp_request",
						sizeof(struct xtcp_request), 0,
						SLAB_HWCACHE_ALIGN, NULL);
	if (!xtcp_request_cachep)
		return -ENOMEM;
	xtcp_lhash = kvcalloc(1U << XTCP_LHASH_BITS, sizeof(*xtcp_lhash),
			      GFP_KERNEL);
	if (!xtcp_lhash) {
		kmem_cache_destroy(xtcp_request_cachep);
		return -ENOMEM;
	}
	for (i = 0; i < 1U << XTCP_LHASH_BITS; i++) {
		spin_lock_init(&xtcp_lhash[i].lock);
		INIT_HLIST_HEAD(&xtcp_lhash[i].chain);
	}
	return 0;
}

/* Called after rcu_barrier(): no request is left, nor its freeing. */
void xtcp_listen_destroy(void)
{
	unsigned int i;

	for (i = 0; i < 1U << XTCP_LHASH_BITS; i++)
		WARN_ON_ONCE(!hlist_empty(&xtcp_lhash[i].chain));
	kvfree(xtcp_lhash);
	kmem_cache_destroy(xtcp_request_cachep);
}

/* ---- requests ---- */

/**
 * xtcp_req_alloc() - a request for @listener
 * @listener: the listener a SYN came to; the request holds a reference
 *
 * Softirq context. The caller fills in the rest (xtcp_minisocks.c).
 *
 * Return: the zeroed request with no reference counted yet, or NULL.
 */
struct xtcp_request *xtcp_req_alloc(struct sock *listener)
{
	struct xtcp_request *req;

	req = kmem_cache_zalloc(xtcp_request_cachep, GFP_ATOMIC | __GFP_NOWARN);
	if (!req)
		return NULL;
	sock_hold(listener);
	req->listener = listener;
	return req;
}

static void xtcp_req_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(xtcp_request_cachep,
			container_of(head, struct xtcp_request, rcu));
}

/**
 * xtcp_req_free() - free a request no lookup can have seen
 * @req: the request, never in the established table (or its refcount
 *	never set)
 */
void xtcp_req_free(struct xtcp_request *req)
{
	sock_put(req->listener);
	kmem_cache_free(xtcp_request_cachep, req);
}

/**
 * xtcp_req_put() - drop a reference on a request
 * @req: the request
 *
 * The last one frees it after a grace period (a lookup may still be
 * reading it) and drops its reference on the listener. Any context.
 */
void xtcp_req_put(struct xtcp_request *req)
{
	if (refcount_dec_and_test(&req->refcnt)) {
		sock_put(req->listener);
		call_rcu(&req->rcu, xtcp_req_free_rcu);
	}
}

static struct xtcp_lhash_slot *xtcp_lhash_slot(const struct net *net, u16 port)
{
	return &xtcp_lhash[hash_32(net_hash_mix(net) + port, XTCP_LHASH_BITS)];
}

/* ---- the listening table ---- */

static void xtcp_listen_hash(struct sock *sk)
{
	struct xtcp_lhash_slot *slot = xtcp_lhash_slot(sock_net(sk),
						       inet_sk(sk)->inet_num);

	spin_lock_bh(&slot->lock);
	hlist_add_head_rcu(&xtcp_sk(sk)->lnode, &slot->chain);
	xtcp_sk(sk)->listen_hashed = true;
	sock_prot_inuse_add(sock_net(sk), sk->sk_prot, 1);
	spin_unlock_bh(&slot->lock);
}

static void xtcp_listen_unhash(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_lhash_slot *slot;

	if (!xs->listen_hashed)
		return;
	slot = xtcp_lhash_slot(sock_net(sk), inet_sk(sk)->inet_num);
	spin_lock_bh(&slot->lock);
	hlist_del_init_rcu(&xs->lnode);
	xs->listen_hashed = false;
	sock_prot_inuse_add(sock_net(sk), sk->sk_prot, -1);
	spin_unlock_bh(&slot->lock);
}

/*
 * compute_score(): -1 if @sk cannot take a segment to @daddr on device
 * @dif, else higher for a more specific match.
 */
static int xtcp_listen_score(const struct sock *sk, const struct net *net,
			     u16 hnum, __be32 daddr, int dif)
{
	int score;

	if (!net_eq(sock_net(sk), net) || inet_sk(sk)->inet_num != hnum ||
	    READ_ONCE(sk->sk_state) != TCP_LISTEN)
		return -1;
	if (sk->sk_rcv_saddr && sk->sk_rcv_saddr != daddr)
		return -1;
	if (sk->sk_bound_dev_if && sk->sk_bound_dev_if != dif)
		return -1;
	score = sk->sk_rcv_saddr ? 4 : 1;
	if (sk->sk_bound_dev_if)
		score += 2;
	return score;
}

/* Are @a and @b members of one reuseport group? */
static bool xtcp_reuseport_peers(const struct sock *a, const struct sock *b)
{
	return a->sk_reuseport && b->sk_reuseport &&
	       a->sk_rcv_saddr == b->sk_rcv_saddr &&
	       a->sk_bound_dev_if == b->sk_bound_dev_if &&
	       uid_eq(sock_i_uid((struct sock *)a),
		      sock_i_uid((struct sock *)b));
}

/**
 * xtcp_lookup_listener() - the listener for a segment to @daddr:@dport
 * @net: the namespace
 * @saddr: the segment's source address
 * @sport: its source port
 * @daddr: its destination address
 * @dport: its destination port
 * @dif: the device it arrived on
 *
 * Called under rcu_read_lock(). The best match by xtcp_listen_score();
 * in a reuseport group, the member a hash of the 4-tuple picks, so that
 * a connection's segments always reach the same member.
 *
 * Return: the listener with a reference held, or NULL.
 */
struct sock *xtcp_lookup_listener(struct net *net, __be32 saddr, __be16 sport,
				  __be32 daddr, __be16 dport, int dif)
{
	u16 hnum = ntohs(dport);
	struct xtcp_lhash_slot *slot = xtcp_lhash_slot(net, hnum);
	struct sock *best = NULL, *sk;
	int best_score = -1, members = 0;
	struct xtcp_sock *xs;
	u32 pick;

	hlist_for_each_entry_rcu(xs, &slot->chain, lnode) {
		int score = xtcp_listen_score(&xs->inet.sk, net, hnum, daddr,
					      dif);

		sk = &xs->inet.sk;
		if (score > best_score) {
			best = sk;
			best_score = score;
			members = 1;
		} else if (score == best_score && best &&
			   xtcp_reuseport_peers(best, sk)) {
			members++;
		}
	}
	if (best && members > 1) {
		pick = reciprocal_scale(siphash_3u32((__force u32)saddr,
						     (__force u32)daddr,
						     ((__force u32)sport << 16) |
						     hnum,
						     &xtcp_reuseport_key),
					members);
		hlist_for_each_entry_rcu(xs, &slot->chain, lnode) {
			sk = &xs->inet.sk;
			if (sk != best && (xtcp_listen_score(sk, net, hnum, daddr,
							     dif) != best_score ||
					   !xtcp_reuseport_peers(best, sk)))
				continue;
			if (!pick--) {
				best = sk;
				break;
			}
		}
	}
	if (best && !refcount_inc_not_zero(&best->sk_refcnt))
		best = NULL;
	return best;
}

/* Another live member of @sk's reuseport group, referenced, or NULL. */
static struct sock *xtcp_reuseport_sibling(struct sock *sk)
{
	struct xtcp_lhash_slot *slot;
	struct sock *found = NULL;
	struct xtcp_sock *xs;

	if (!sk->sk_reuseport)
		return NULL;
	slot = xtcp_lhash_slot(sock_net(sk), inet_sk(sk)->inet_num);
	rcu_read_lock();
	hlist_for_each_entry_rcu(xs, &slot->chain, lnode) {
		struct sock *sk2 = &xs->inet.sk;

		if (sk2 == sk || !net_eq(sock_net(sk2), sock_net(sk)) ||
		    inet_sk(sk2)->inet_num != inet_sk(sk)->inet_num ||
		    READ_ONCE(sk2->sk_state) != TCP_LISTEN ||
		    !xtcp_reuseport_peers(sk, sk2))
			continue;
		if (refcount_inc_not_zero(&sk2->sk_refcnt)) {
			found = sk2;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/* ---- listen() ---- */

/**
 * xtcp_listen() - listen()
 * @sock: the socket
 * @backlog: the accept queue's length (the socket core has capped it at
 *	net.core.somaxconn)
 *
 * As inet_listen(): from CLOSE, bound or not (an unbound socket takes an
 * ephemeral port, as Linux), or again on a listener, which only changes
 * the backlog. A bound port is checked again, as a listener: SO_REUSEADDR
 * shares it with sockets that set it too unless they listen
 * (EADDRINUSE). Any other state is EINVAL.
 *
 * Return: 0 or a negative errno.
 */
int xtcp_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	struct inet_sock *inet = inet_sk(sk);
	int old_state, err;

	lock_sock(sk);
	err = -EINVAL;
	if (sock->state != SS_UNCONNECTED)
		goto out;
	old_state = sk->sk_state;
	if (!((1 << old_state) & (TCPF_CLOSE | TCPF_LISTEN)))
		goto out;

	WRITE_ONCE(sk->sk_max_ack_backlog, backlog);
	err = 0;
	if (old_state == TCP_LISTEN)
		goto out;

	xtcp_set_state(sk, TCP_LISTEN);
	if (!inet->inet_num)
		err = xtcp_bind_port(sk, 0);
	else
		err = xtcp_recheck_port(sk);
	if (err) {
		xtcp_set_state(sk, TCP_CLOSE);
		goto out;
	}
	inet->inet_sport = htons(inet->inet_num);
	sk->sk_ack_backlog = 0;
	sk_dst_reset(sk);
	xtcp_listen_hash(sk);
out:
	release_sock(sk);
	return err;
}

/* ---- the accept queue ---- */

/**
 * xtcp_accept_enqueue() - a connection joins its listener's accept queue
 * @listener: the listener
 * @child: the new socket; the queue takes over a reference
 *
 * Softirq context (the handshake's ACK), or a closing listener handing
 * its connections to a sibling. Wakes accept() and poll(). The queue
 * may run over sk_max_ack_backlog by the connections completing at the
 * same moment; the handshake checked the limit just before.
 *
 * Return: false if the listener no longer listens (@child was not
 * queued and the reference is still the caller's).
 */
bool xtcp_accept_enqueue(struct sock *listener, struct sock *child)
{
	struct xtcp_sock *lxs = xtcp_sk(listener);

	spin_lock_bh(&lxs->accept_lock);
	if (unlikely(READ_ONCE(listener->sk_state) != TCP_LISTEN)) {
		spin_unlock_bh(&lxs->accept_lock);
		return false;
	}
	list_add_tail(&xtcp_sk(child)->accept_node, &lxs->accept_queue);
	sk_acceptq_added(listener);
	spin_unlock_bh(&lxs->accept_lock);
	listener->sk_data_ready(listener);
	return true;
}

static struct sock *xtcp_accept_dequeue(struct sock *listener)
{
	struct xtcp_sock *lxs = xtcp_sk(listener), *cxs;

	spin_lock_bh(&lxs->accept_lock);
	cxs = list_first_entry_or_null(&lxs->accept_queue, struct xtcp_sock,
				       accept_node);
	if (cxs) {
		list_del_init(&cxs->accept_node);
		sk_acceptq_removed(listener);
	}
	spin_unlock_bh(&lxs->accept_lock);
	return cxs ? &cxs->inet.sk : NULL;
}

static bool xtcp_accept_queue_empty(const struct sock *listener)
{
	return list_empty_careful(&xtcp_sk(listener)->accept_queue);
}

/*
 * inet_csk_wait_for_connect(): sleep until a connection is queued, the
 * listener closes, the timeout ends or a signal comes.
 */
static int xtcp_wait_for_connect(struct sock *sk, long timeo)
{
	DEFINE_WAIT(wait);
	int err;

	for (;;) {
		prepare_to_wait_exclusive(sk_sleep(sk), &wait,
					  TASK_INTERRUPTIBLE);
		release_sock(sk);
		if (xtcp_accept_queue_empty(sk))
			timeo = schedule_timeout(timeo);
		lock_sock(sk);
		err = 0;
		if (!xtcp_accept_queue_empty(sk))
			break;
		err = -EINVAL;
		if (sk->sk_state != TCP_LISTEN)
			break;
		err = sock_intr_errno(timeo);
		if (signal_pending(current))
			break;
		err = -EAGAIN;
		if (!timeo)
			break;
	}
	finish_wait(sk_sleep(sk), &wait);
	return err;
}

/**
 * xtcp_accept() - accept(), accept4()
 * @sock: the listening socket
 * @newsock: the socket to give the connection to
 * @flags: file flags (O_NONBLOCK; the socket core applies accept4()'s
 *	SOCK_NONBLOCK and SOCK_CLOEXEC to the new file)
 * @kern: for a kernel caller
 *
 * As inet_accept() with inet_csk_accept(): EINVAL unless listening;
 * without a connection queued, EAGAIN if non-blocking, else a wait up to
 * SO_RCVTIMEO (EAGAIN when it ends), broken by a signal (EINTR or a
 * restart, as Linux) or by the listener closing or shutting down
 * (EINVAL). A connection reset while queued is still returned; the
 * first recv() reports the reset. The connection joins the accepting
 * task's memory cgroup (xtcp_memcg_adopt()).
 *
 * Return: 0 or a negative errno.
 */
int xtcp_accept(struct socket *sock, struct socket *newsock, int flags,
		bool kern)
{
	struct sock *sk = sock->sk, *child;
	int err = 0;

	lock_sock(sk);
	if (sk->sk_state != TCP_LISTEN) {
		err = -EINVAL;
		goto out;
	}
	if (xtcp_accept_queue_empty(sk)) {
		long timeo = sock_rcvtimeo(sk, flags & O_NONBLOCK);

		if (!timeo) {
			err = -EAGAIN;
			goto out;
		}
		err = xtcp_wait_for_connect(sk, timeo);
		if (err)
			goto out;
	}
	child = xtcp_accept_dequeue(sk);
	if (!child) {
		err = -EAGAIN;
		goto out;
	}
	release_sock(sk);

	lock_sock(child);
	/* As inet_csk_accept(): charged to the accepting task's cgroup. */
	xtcp_memcg_adopt(child);
	sock_graft(child, newsock);
	newsock->state = SS_CONNECTED;
	release_sock(child);
	/* The queue's reference is now the new socket's. */
	return 0;
out:
	release_sock(sk);
	return err;
}

/* ---- closing a listener ---- */

/**
 * xtcp_child_forget() - reset a connection nobody will accept
 * @child: the connection, bh_lock_sock() held, never grafted to a file
 *
 * As inet_child_forget() with the abort of inet_csk_listen_stop(): a
 * RST to the peer, the connection closed (out of the established
 * table), its port given back. The caller still drops its reference.
 * Called with bottom halves disabled.
 */
void xtcp_child_forget(struct sock *child)
{
	sock_orphan(child);
	if (child->sk_state != TCP_CLOSE) {
		xtcp_send_ack(child, TCPHDR_RST | TCPHDR_ACK);
		xtcp_done(child);
	}
	xtcp_put_port(child);
}

/**
 * xtcp_listen_stop() - the listener closes (close(), or shutdown(SHUT_RD))
 * @sk: the listener, owned by the caller
 *
 * As inet_csk_listen_stop(): it leaves the listening table, so no new
 * request reaches it; with net.xtcp.migrate_req (Linux's
 * tcp_migrate_req, 0 by default) its queued connections move to another
 * member of its reuseport group if there is one, else each is reset;
 * its requests end when next touched (their ACK finds no listener and
 * Linux answers with a RST; their timer finds it closed). Blocked
 * accept()s wake with EINVAL.
 */
void xtcp_listen_stop(struct sock *sk)
{
	struct sock *sibling = NULL, *child;

	xtcp_listen_unhash(sk);
	xtcp_set_state(sk, TCP_CLOSE);
	if (xtcp_knob(sock_net(sk), XTCP_KNOB_MIGRATE_REQ))
		sibling = xtcp_reuseport_sibling(sk);
	while ((child = xtcp_accept_dequeue(sk))) {
		if (sibling && xtcp_accept_enqueue(sibling, child))
			continue;
		local_bh_disable();
		bh_lock_sock(child);
		xtcp_child_forget(child);
		bh_unlock_sock(child);
		local_bh_enable();
		sock_put(child);
	}
	if (sibling)
		sock_put(sibling);
	sk->sk_state_change(sk);
}

/**
 * xtcp_listen_poll() - poll() on a listener
 * @sk: the listener
 *
 * Return: EPOLLIN | EPOLLRDNORM when a connection waits to be accepted.
 */
__poll_t xtcp_listen_poll(const struct sock *sk)
{
	return xtcp_accept_queue_empty(sk) ? 0 : EPOLLIN | EPOLLRDNORM;
}

/**
 * xtcp_listen_init_sock() - the listener's parts of a new socket
 * @sk: the socket
 */
void xtcp_listen_init_sock(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	spin_lock_init(&xs->accept_lock);
	INIT_LIST_HEAD(&xs->accept_queue);
	INIT_LIST_HEAD(&xs->accept_node);
	INIT_HLIST_NODE(&xs->lnode);
	xs->listen_hashed = false;
	atomic_set(&xs->req_qlen, 0);
	atomic_set(&xs->req_young, 0);
}

/**
 * xtcp_listen_for_each() - call @fn for each listener of @net
 * @net: the namespace
 * @fn: called under rcu_read_lock(), must not sleep
 * @arg: its argument
 *
 * For /proc/net/xtcp and /proc/net/xtcp_ss (xtcp_proc.c).
 */
void xtcp_listen_for_each(struct net *net,
			  void (*fn)(struct sock *sk, void *arg), void *arg)
{
	unsigned int i;

	rcu_read_lock();
	for (i = 0; i < 1U << XTCP_LHASH_BITS; i++) {
		struct xtcp_sock *xs;

		hlist_for_each_entry_rcu(xs, &xtcp_lhash[i].chain, lnode)
			if (net_eq(sock_net(&xs->inet.sk), net))
				fn(&xs->inet.sk, arg);
	}
	rcu_read_unlock();
}
