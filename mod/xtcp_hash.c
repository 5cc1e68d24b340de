// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the bind table and the choice of a port for bind().
 *
 * One global table of bind buckets, keyed by (namespace, port). A bucket
 * exists while at least one socket has bind()ed that port and lists
 * those sockets; it also holds the port against Linux's own TCP in that
 * namespace, through a shadow kernel socket (xtcp_coexist.c), created
 * before the slot lock is taken (it may sleep) and released after it is
 * dropped, from a workqueue when the last owner leaves in softirq. The
 * owners are the sockets that bind() (or listen on) the port, and the
 * connections a listener accepted, which inherit its port. Each hash
 * slot has a spinlock, taken with bottom halves disabled.
 */
#include <linux/hash.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <net/sock.h>

#include "xtcp.h"

#define XTCP_BHASH_BITS		10

/**
 * struct xtcp_bind_bucket - the sockets bound to one port of one netns
 * @net: the namespace
 * @port: the port, host order
 * @node: link in its hash slot's chain
 * @owners: the sockets, through sk_bind_node
 * @shadow: the kernel TCP socket that holds @port against Linux's TCP
 * @free_work: releases @shadow and frees the bucket, when it empties in
 *	softirq
 */
struct xtcp_bind_bucket {
	possible_net_t		net;
	u16			port;
	struct hlist_node	node;
	struct hlist_head	owners;
	struct socket		*shadow;
	struct work_struct	free_work;
};

/**
 * struct xtcp_bind_slot - one slot of the bind hash
 * @lock: guards @chain, the buckets on it and their owner lists
 * @chain: the buckets whose (netns, port) hash here
 */
struct xtcp_bind_slot {
	spinlock_t		lock;	/* guards chain and its buckets */
	struct hlist_head	chain;
};

static struct xtcp_bind_slot *xtcp_bhash;

static struct xtcp_bind_slot *xtcp_bind_slot(const struct net *net, u16 port)
{
	return &xtcp_bhash[hash_32(net_hash_mix(net) + port, XTCP_BHASH_BITS)];
}

int xtcp_hash_init(void)
{
	unsigned int i;

	xtcp_bhash = kvcalloc(1U << XTCP_BHASH_BITS, sizeof(*xtcp_bhash),
			      GFP_KERNEL);
	if (!xtcp_bhash)
		return -ENOMEM;
	for (i = 0; i < 1U << XTCP_BHASH_BITS; i++) {
		spin_lock_init(&xtcp_bhash[i].lock);
		INIT_HLIST_HEAD(&xtcp_bhash[i].chain);
	}
	return 0;
}

void xtcp_hash_destroy(void)
{
	unsigned int i;

	/* Buckets emptied in softirq may still have their work queued. */
	flush_scheduled_work();
	for (i = 0; i < 1U << XTCP_BHASH_BITS; i++)
		WARN_ON_ONCE(!hlist_empty(&xtcp_bhash[i].chain));
	kvfree(xtcp_bhash);
	xtcp_bhash = NULL;
}

/**
 * xtcp_get_port_range() - read net.xtcp.ip_local_port_range
 * @xn: the namespace's xtcp state
 * @low: first port
 * @high: last port
 */
void xtcp_get_port_range(struct xtcp_net *xn, int *low, int *high)
{
	unsigned int seq;

	do {
		seq = read_seqbegin(&xn->port_range_lock);
		*low = xn->port_range[0];
		*high = xn->port_range[1];
	} while (read_seqretry(&xn->port_range_lock, seq));
}

static struct xtcp_bind_bucket *
xtcp_bind_bucket_find(struct xtcp_bind_slot *slot, const struct net *net,
		      u16 port)
	__must_hold(&slot->lock)
{
	struct xtcp_bind_bucket *tb;

	hlist_for_each_entry(tb, &slot->chain, node)
		if (tb->port == port && net_eq(read_pnet(&tb->net), net))
			return tb;
	return NULL;
}

/* Do the two sockets' local addresses overlap (equal, or a wildcard)? */
static bool xtcp_rcv_saddr_overlap(const struct sock *sk,
				   const struct sock *sk2)
{
	__be32 a = sk->sk_rcv_saddr, b = sk2->sk_rcv_saddr;

	return !a || !b || a == b;
}

/**
 * xtcp_bind_conflict() - may @sk share @tb's port with its owners?
 * @sk: the socket being bound (its address already in sk_rcv_saddr)
 * @tb: the bucket of the port it asks for
 *
 * The rules of Linux's TCP (inet_bind_conflict() as inet_csk_get_port()
 * applies it, at bind() and again at listen()): two sockets whose
 * devices and addresses overlap conflict unless both set SO_REUSEADDR
 * and the one already there is not listening, or both set reuseport
 * (xtcp's XTCP_REUSEPORT, see xtcp_listen.c) and belong to the same
 * user. Only the other socket's state counts: @sk itself may be
 * listening (xtcp_recheck_port()), so that of two SO_REUSEADDR sockets
 * bound to one port the first to listen() keeps it and the second's
 * listen() fails, and a new listener may share its port with the
 * connections an old one accepted.
 *
 * Return: true if the bind must fail with EADDRINUSE.
 */
static bool xtcp_bind_conflict(struct sock *sk,
			       const struct xtcp_bind_bucket *tb)
{
	bool reuse = sk->sk_reuse;
	kuid_t uid = sock_i_uid(sk);
	struct sock *sk2;

	sk_for_each_bound(sk2, &tb->owners) {
		int dev2 = READ_ONCE(sk2->sk_bound_dev_if);

		if (sk2 == sk)
			continue;
		if (sk->sk_bound_dev_if && dev2 && sk->sk_bound_dev_if != dev2)
			continue;
		if (!xtcp_rcv_saddr_overlap(sk, sk2))
			continue;
		if (reuse && sk2->sk_reuse && sk2->sk_state != TCP_LISTEN)
			continue;
		if (sk->sk_reuseport && sk2->sk_reuseport &&
		    uid_eq(uid, sock_i_uid(sk2)))
			continue;
		return true;
	}
	return false;
}

static void xtcp_bind_bucket_add(struct xtcp_bind_bucket *tb, struct sock *sk)
{
	inet_sk(sk)->inet_num = tb->port;
	sk_add_bind_node(sk, &tb->owners);
	xtcp_sk(sk)->bind_bucket = tb;
}

/*
 * A bucket and the shadow holding its port, ready to insert; may sleep.
 * Return: 0, -EADDRINUSE when Linux's TCP uses the port, -ENOMEM.
 */
static int xtcp_bind_bucket_prepare(struct net *net, u16 port,
				    struct xtcp_bind_bucket **tbp)
{
	struct xtcp_bind_bucket *tb;
	int err;

	tb = kmalloc(sizeof(*tb), GFP_KERNEL);
	if (!tb)
		return -ENOMEM;
	tb->shadow = xtcp_shadow_bind(net, port, &err);
	if (!tb->shadow) {
		kfree(tb);
		return err;
	}
	*tbp = tb;
	return 0;
}

/* Insert a bucket made by xtcp_bind_bucket_prepare() for @port. */
static void xtcp_bind_bucket_insert(struct xtcp_bind_slot *slot,
				    struct net *net, u16 port,
				    struct xtcp_bind_bucket *tb)
	__must_hold(&slot->lock)
{
	write_pnet(&tb->net, net);
	tb->port = port;
	INIT_HLIST_HEAD(&tb->owners);
	hlist_add_head(&tb->node, &slot->chain);
	set_bit(port, xtcp_pernet(net)->bound_ports);
}

static void xtcp_bind_bucket_free_work(struct work_struct *work)
{
	struct xtcp_bind_bucket *tb = container_of(work, struct xtcp_bind_bucket,
						   free_work);

	xtcp_shadow_release(tb->shadow);
	kfree(tb);
	module_put(THIS_MODULE);
}

/*
 * Free a bucket no longer in the table (or never inserted): its shadow
 * at once where we may sleep, else (softirq, or bottom halves disabled)
 * from a workqueue, which holds the module until it has run.
 */
static void xtcp_bind_bucket_free(struct xtcp_bind_bucket *tb)
{
	if (preemptible()) {
		xtcp_shadow_release(tb->shadow);
		kfree(tb);
		return;
	}
	__module_get(THIS_MODULE);
	INIT_WORK(&tb->free_work, xtcp_bind_bucket_free_work);
	schedule_work(&tb->free_work);
}

/*
 * bind(port 0): a port of net.xtcp.ip_local_port_range that no xtcp
 * socket has bound, that the administrator did not reserve and that
 * Linux's TCP does not hold, starting from a random point. Unlike
 * Linux, odd and even ports are not told apart: connect() finds its
 * ports by 4-tuple, not among bind()'s.
 */
static int xtcp_bind_ephemeral(struct sock *sk)
{
	struct net *net = sock_net(sk);
	struct xtcp_net *xn = xtcp_pernet(net);
	int low, high, err = -EADDRINUSE;
	u32 remaining, offset, i;

	xtcp_get_port_range(xn, &low, &high);
	remaining = high - low + 1;
	offset = get_random_u32_below(remaining);

	for (i = 0; i < remaining; i++) {
		u16 port = low + (offset + i) % remaining;
		struct xtcp_bind_bucket *tb;
		struct xtcp_bind_slot *slot;

		if (test_bit(port, xn->bound_ports) ||
		    xtcp_port_reserved_by_admin(xn, port))
			continue;

		err = xtcp_bind_bucket_prepare(net, port, &tb);
		if (err == -EADDRINUSE) {
			cond_resched();
			continue;
		}
		if (err)
			return err;
		slot = xtcp_bind_slot(net, port);
		spin_lock_bh(&slot->lock);
		if (xtcp_bind_bucket_find(slot, net, port)) {
			spin_unlock_bh(&slot->lock);
			xtcp_bind_bucket_free(tb);
			continue;
		}
		xtcp_bind_bucket_insert(slot, net, port, tb);
		xtcp_bind_bucket_add(tb, sk);
		spin_unlock_bh(&slot->lock);
		return 0;
	}
	return -EADDRINUSE;
}

/**
 * xtcp_bind_port() - bind @sk to port @snum, or to a free one if 0
 * @sk: the socket, locked by the caller, with sk_rcv_saddr set
 * @snum: the port, host order, or 0
 *
 * Called with the socket lock held; may sleep.
 *
 * Return: 0, -EADDRINUSE or -ENOMEM.
 */
int xtcp_bind_port(struct sock *sk, u16 snum)
{
	struct xtcp_bind_bucket *tb, *fresh = NULL;
	struct net *net = sock_net(sk);
	struct xtcp_bind_slot *slot;
	int err = 0;

	if (!snum)
		return xtcp_bind_ephemeral(sk);

	slot = xtcp_bind_slot(net, snum);
again:
	spin_lock_bh(&slot->lock);
	tb = xtcp_bind_bucket_find(slot, net, snum);
	if (tb) {
		if (xtcp_bind_conflict(sk, tb))
			err = -EADDRINUSE;
	} else if (fresh) {
		xtcp_bind_bucket_insert(slot, net, snum, fresh);
		tb = fresh;
		fresh = NULL;
	} else {
		/* Make the bucket and its shadow, which may sleep. */
		spin_unlock_bh(&slot->lock);
		err = xtcp_bind_bucket_prepare(net, snum, &fresh);
		if (err)
			return err;
		goto again;
	}
	if (!err)
		xtcp_bind_bucket_add(tb, sk);
	spin_unlock_bh(&slot->lock);
	if (fresh)		/* another bind made the bucket meanwhile */
		xtcp_bind_bucket_free(fresh);
	return err;
}

/**
 * xtcp_recheck_port() - may @sk keep its port now that it listens?
 * @sk: the bound socket, locked, now TCP_LISTEN
 *
 * As inet_csk_get_port() at listen(): SO_REUSEADDR lets @sk listen
 * beside sockets that set it too and do not listen (bound ones, and
 * connections in any state), but not beside another listener.
 *
 * Return: 0 or -EADDRINUSE.
 */
int xtcp_recheck_port(struct sock *sk)
{
	struct xtcp_bind_bucket *tb = xtcp_sk(sk)->bind_bucket;
	struct xtcp_bind_slot *slot;
	int err = 0;

	slot = xtcp_bind_slot(sock_net(sk), tb->port);
	spin_lock_bh(&slot->lock);
	if (xtcp_bind_conflict(sk, tb))
		err = -EADDRINUSE;
	spin_unlock_bh(&slot->lock);
	return err;
}

/**
 * xtcp_inherit_port() - an accepted connection joins its listener's port
 * @child: the new socket (its bind node not yet used)
 * @listener: the listener
 *
 * As __inet_inherit_port(): the port stays owned while the connection
 * lives, even after the listener closes. Softirq or process context.
 *
 * Return: 0, or -ENOENT if the listener has left its port meanwhile.
 */
int xtcp_inherit_port(struct sock *child, struct sock *listener)
{
	struct xtcp_bind_bucket *tb = READ_ONCE(xtcp_sk(listener)->bind_bucket);
	struct xtcp_bind_slot *slot;
	int err = -ENOENT;

	xtcp_sk(child)->bind_bucket = NULL;
	if (!tb)
		return err;
	slot = xtcp_bind_slot(sock_net(listener), tb->port);
	spin_lock_bh(&slot->lock);
	if (xtcp_sk(listener)->bind_bucket == tb) {
		xtcp_bind_bucket_add(tb, child);
		err = 0;
	}
	spin_unlock_bh(&slot->lock);
	return err;
}

/**
 * xtcp_put_port() - leave the bind bucket, freeing it if it empties
 * @sk: the socket, owned by the caller
 *
 * Any context (see xtcp_bind_bucket_free()).
 */
void xtcp_put_port(struct sock *sk)
{
	struct xtcp_bind_bucket *tb = xtcp_sk(sk)->bind_bucket;
	struct xtcp_bind_slot *slot;
	bool empty;

	if (!tb)
		return;

	slot = xtcp_bind_slot(sock_net(sk), tb->port);
	spin_lock_bh(&slot->lock);
	__sk_del_bind_node(sk);
	xtcp_sk(sk)->bind_bucket = NULL;
	inet_sk(sk)->inet_num = 0;
	empty = hlist_empty(&tb->owners);
	if (empty) {
		clear_bit(tb->port, xtcp_pernet(sock_net(sk))->bound_ports);
		hlist_del(&tb->node);
	}
	spin_unlock_bh(&slot->lock);
	if (empty)
		xtcp_bind_bucket_free(tb);
}
