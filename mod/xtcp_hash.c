// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the bind table and the choice of a port for bind().
 *
 * One global table of bind buckets, keyed by (namespace, port). A bucket
 * exists while at least one socket has bind()ed that port and lists
 * those sockets; it also holds the port against Linux's own TCP in that
 * namespace (see xtcp_coexist.c). Each hash slot has a mutex: bind() and
 * close() may sleep while they hold it, to create or release that hold.
 */
#include <linux/hash.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
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
 */
struct xtcp_bind_bucket {
	possible_net_t		net;
	u16			port;
	struct hlist_node	node;
	struct hlist_head	owners;
	struct socket		*shadow;
};

/**
 * struct xtcp_bind_slot - one slot of the bind hash
 * @lock: guards @chain, the buckets on it and their owner lists
 * @chain: the buckets whose (netns, port) hash here
 */
struct xtcp_bind_slot {
	struct mutex		lock;	/* guards chain and its buckets */
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
		mutex_init(&xtcp_bhash[i].lock);
		INIT_HLIST_HEAD(&xtcp_bhash[i].chain);
	}
	return 0;
}

void xtcp_hash_destroy(void)
{
	unsigned int i;

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
 * The rules of Linux's TCP for an explicit bind: two sockets whose
 * devices and addresses overlap conflict unless both set SO_REUSEADDR
 * and the one already there is not listening. (Linux's SO_REUSEPORT
 * exception cannot arise: 6.1's socket core refuses SO_REUSEPORT on
 * any family but AF_INET and AF_INET6; see Documentation/xtcp.rst.)
 *
 * Return: true if the bind must fail with EADDRINUSE.
 */
static bool xtcp_bind_conflict(const struct sock *sk,
			       const struct xtcp_bind_bucket *tb)
{
	struct sock *sk2;

	sk_for_each_bound(sk2, &tb->owners) {
		int dev2 = READ_ONCE(sk2->sk_bound_dev_if);

		if (sk->sk_bound_dev_if && dev2 && sk->sk_bound_dev_if != dev2)
			continue;
		if (!xtcp_rcv_saddr_overlap(sk, sk2))
			continue;
		if (sk->sk_reuse && sk2->sk_reuse &&
		    sk2->sk_state != TCP_LISTEN)
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

/**
 * xtcp_bind_bucket_create() - start a bucket for a port nobody holds
 * @slot: the port's hash slot, locked
 * @net: the namespace
 * @port: the port
 *
 * Return: the bucket; an ERR_PTR: -EADDRINUSE when Linux's own TCP holds
 * the port in this namespace, -ENOMEM.
 */
static struct xtcp_bind_bucket *
xtcp_bind_bucket_create(struct xtcp_bind_slot *slot, struct net *net, u16 port)
	__must_hold(&slot->lock)
{
	struct xtcp_bind_bucket *tb;
	int err;

	tb = kmalloc(sizeof(*tb), GFP_KERNEL);
	if (!tb)
		return ERR_PTR(-ENOMEM);

	tb->shadow = xtcp_shadow_bind(net, port, &err);
	if (!tb->shadow) {
		kfree(tb);
		return ERR_PTR(err);
	}
	write_pnet(&tb->net, net);
	tb->port = port;
	INIT_HLIST_HEAD(&tb->owners);
	hlist_add_head(&tb->node, &slot->chain);
	set_bit(port, xtcp_pernet(net)->bound_ports);
	return tb;
}

static void xtcp_bind_bucket_destroy(struct xtcp_bind_bucket *tb)
{
	struct net *net = read_pnet(&tb->net);

	clear_bit(tb->port, xtcp_pernet(net)->bound_ports);
	hlist_del(&tb->node);
	xtcp_shadow_release(tb->shadow);
	kfree(tb);
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
		struct xtcp_bind_slot *slot;
		struct xtcp_bind_bucket *tb;

		if (test_bit(port, xn->bound_ports) ||
		    xtcp_port_reserved_by_admin(xn, port))
			continue;

		slot = xtcp_bind_slot(net, port);
		mutex_lock(&slot->lock);
		if (xtcp_bind_bucket_find(slot, net, port)) {
			mutex_unlock(&slot->lock);
			continue;
		}
		tb = xtcp_bind_bucket_create(slot, net, port);
		if (!IS_ERR(tb))
			xtcp_bind_bucket_add(tb, sk);
		mutex_unlock(&slot->lock);

		if (!IS_ERR(tb))
			return 0;
		err = PTR_ERR(tb);
		if (err != -EADDRINUSE)
			return err;
		cond_resched();
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
	struct net *net = sock_net(sk);
	struct xtcp_bind_slot *slot;
	struct xtcp_bind_bucket *tb;
	int err = 0;

	if (!snum)
		return xtcp_bind_ephemeral(sk);

	slot = xtcp_bind_slot(net, snum);
	mutex_lock(&slot->lock);
	tb = xtcp_bind_bucket_find(slot, net, snum);
	if (tb) {
		if (xtcp_bind_conflict(sk, tb))
			err = -EADDRINUSE;
	} else {
		tb = xtcp_bind_bucket_create(slot, net, snum);
		if (IS_ERR(tb))
			err = PTR_ERR(tb);
	}
	if (!err)
		xtcp_bind_bucket_add(tb, sk);
	mutex_unlock(&slot->lock);
	return err;
}

/**
 * xtcp_put_port() - leave the bind bucket, freeing it if it empties
 * @sk: the socket, locked by the caller
 *
 * Called with the socket lock held; may sleep.
 */
void xtcp_put_port(struct sock *sk)
{
	struct xtcp_bind_bucket *tb = xtcp_sk(sk)->bind_bucket;
	struct xtcp_bind_slot *slot;

	if (!tb)
		return;

	slot = xtcp_bind_slot(sock_net(sk), tb->port);
	mutex_lock(&slot->lock);
	__sk_del_bind_node(sk);
	xtcp_sk(sk)->bind_bucket = NULL;
	inet_sk(sk)->inet_num = 0;
	if (hlist_empty(&tb->owners))
		xtcp_bind_bucket_destroy(tb);
	mutex_unlock(&slot->lock);
}
