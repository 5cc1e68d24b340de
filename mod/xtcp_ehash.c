// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the established table and connect()'s choice of a source port.
 *
 * The established table holds every connection that has a 4-tuple: full
 * sockets from connect() on (or from the handshake a listener
 * completed), requests (a listener's answered SYNs, xtcp_minisocks.c)
 * and TIME_WAIT entries after them. Readers
 * (segment and ICMP input, in softirq) walk a slot under RCU and take a
 * reference; writers hold the slot's spinlock with bh disabled.
 *
 * Port choice is our version of __inet_hash_connect(): RFC 6056's
 * algorithm 5 (a keyed hash of the destination plus a perturbation table
 * picks where the search starts), searched not port by port through bind
 * buckets but through a bitmap per destination. A destination is
 * (namespace, source address, destination address, destination port);
 * its map has a bit per port of the ephemeral range that some entry of
 * the established table uses toward it. Finding a free port is then a
 * word-at-a-time scan, about as cheap with the range 99% used toward
 * that destination as with it empty, and only the port found is checked
 * against the table (xtcp_check_established()), which stays the
 * authority: the map is a hint kept exact in the common case.
 */
#include <linux/delay.h>
#include <linux/hash.h>
#include <linux/jump_label.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/siphash.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <net/sock.h>

#include "xtcp.h"
#include "xtcp_trace.h"

#define XTCP_DHASH_BITS		12
#define XTCP_PERTURB_BITS	8

/*
 * A slot of the established table. Readers walk @chain under RCU; a
 * node taken out keeps its next pointer (hlist_nulls_del_init_rcu()), so
 * a reader standing on it walks on; a node that moved to another chain
 * (a socket connected again) leads the reader to another slot's nulls
 * marker, and the lookup starts over, as __inet_lookup_established().
 */
struct xtcp_ehash_slot {
	spinlock_t		lock;	/* writers of chain */
	struct hlist_nulls_head	chain;
};

/* A slot of the destination table: writers and readers hold @lock. */
struct xtcp_dhash_slot {
	spinlock_t		lock;	/* guards chain */
	struct hlist_head	chain;
};

/**
 * struct xtcp_dest - connect()'s port map toward one destination
 * @node: link in its dhash slot
 * @net: the namespace
 * @saddr: local address
 * @daddr: remote address
 * @dport: remote port, network order
 * @refcnt: established-table entries (and connects in progress) using it;
 *	changed only under the dhash slot's lock
 * @lock: guards @used
 * @base: the port of bit 0 (a multiple of BITS_PER_LONG)
 * @nbits: bits in @used (a multiple of BITS_PER_LONG)
 * @rcu: for freeing
 * @used: a bit per port in use toward this destination
 */
struct xtcp_dest {
	struct hlist_node	node;
	possible_net_t		net;
	__be32			saddr;
	__be32			daddr;
	__be16			dport;
	unsigned int		refcnt;
	spinlock_t		lock;	/* guards used */
	u32			base;
	u32			nbits;
	struct rcu_head		rcu;
	unsigned long		used[];
};

/*
 * The established table's size, a power of two (Linux's thash_entries);
 * a table of one slot puts every connection on one chain, which tests
 * use to make lookups meet concurrent changes.
 */
static unsigned int ehash_entries = 32768;
module_param(ehash_entries, uint, 0444);
MODULE_PARM_DESC(ehash_entries, "slots of the established table, a power of two up to 1048576 (default 32768)");
static unsigned int xtcp_ehash_bits __read_mostly;

/*
 * A test hook: microseconds a lookup lingers on each full socket it
 * passes that is not the one it looks for, so that a test can make
 * lookups meet concurrent changes to the chain. Off (a static branch
 * not taken) unless set.
 */
static DEFINE_STATIC_KEY_FALSE(xtcp_lookup_delay_key);
static unsigned int xtcp_lookup_delay_us;

static int xtcp_lookup_delay_set(const char *val, const struct kernel_param *kp)
{
	int err = param_set_uint_minmax(val, kp, 0, 10000);

	if (err)
		return err;
	if (READ_ONCE(xtcp_lookup_delay_us))
		static_branch_enable(&xtcp_lookup_delay_key);
	else
		static_branch_disable(&xtcp_lookup_delay_key);
	return 0;
}

static const struct kernel_param_ops xtcp_lookup_delay_ops = {
	.set	= xtcp_lookup_delay_set,
	.get	= param_get_uint,
};
module_param_cb(lookup_delay_us, &xtcp_lookup_delay_ops,
		&xtcp_lookup_delay_us, 0644);
MODULE_PARM_DESC(lookup_delay_us, "testing: us a lookup lingers on each other socket it passes (default 0)");

static struct xtcp_ehash_slot *xtcp_ehash;
static struct xtcp_dhash_slot *xtcp_dhash;
static siphash_key_t xtcp_ehash_key __read_mostly;
static siphash_key_t xtcp_port_key __read_mostly;
static u32 xtcp_perturb[1 << XTCP_PERTURB_BITS];

int xtcp_ehash_init(void)
{
	unsigned int i;

	get_random_bytes(&xtcp_ehash_key, sizeof(xtcp_ehash_key));
	get_random_bytes(&xtcp_port_key, sizeof(xtcp_port_key));
	get_random_bytes(xtcp_perturb, sizeof(xtcp_perturb));

	if (!ehash_entries || !is_power_of_2(ehash_entries) ||
	    ehash_entries > (1U << 20)) {
		pr_err("xtcp: ehash_entries=%u is not a power of two up to 1048576\n",
		       ehash_entries);
		return -EINVAL;
	}
	xtcp_ehash_bits = ilog2(ehash_entries);
	xtcp_ehash = kvcalloc(1U << xtcp_ehash_bits, sizeof(*xtcp_ehash),
			      GFP_KERNEL);
	xtcp_dhash = kvcalloc(1U << XTCP_DHASH_BITS, sizeof(*xtcp_dhash),
			      GFP_KERNEL);
	if (xtcp_ehash)
		for (i = 0; i < 1U << xtcp_ehash_bits; i++) {
			spin_lock_init(&xtcp_ehash[i].lock);
			INIT_HLIST_NULLS_HEAD(&xtcp_ehash[i].chain, i);
		}
	if (xtcp_dhash)
		for (i = 0; i < 1U << XTCP_DHASH_BITS; i++) {
			spin_lock_init(&xtcp_dhash[i].lock);
			INIT_HLIST_HEAD(&xtcp_dhash[i].chain);
		}
	if (!xtcp_ehash || !xtcp_dhash) {
		kvfree(xtcp_ehash);
		kvfree(xtcp_dhash);
		return -ENOMEM;
	}
	return 0;
}

void xtcp_ehash_destroy(void)
{
	unsigned int i;

	for (i = 0; i < 1U << xtcp_ehash_bits; i++)
		WARN_ON_ONCE(!hlist_nulls_empty(&xtcp_ehash[i].chain));
	for (i = 0; i < 1U << XTCP_DHASH_BITS; i++)
		WARN_ON_ONCE(!hlist_empty(&xtcp_dhash[i].chain));
	kvfree(xtcp_ehash);
	kvfree(xtcp_dhash);
}

static u32 xtcp_ehash_index(const struct net *net, __be32 laddr,
			    __be16 lport, __be32 raddr, __be16 rport)
{
	u32 h = siphash_3u32((__force u32)laddr, (__force u32)raddr,
			     ((__force u32)lport << 16) | (__force u32)rport,
			     &xtcp_ehash_key);

	return xtcp_ehash_bits ? hash_32(h + net_hash_mix(net), xtcp_ehash_bits) :
				 0;
}

static struct xtcp_ehash_slot *
xtcp_ehash_slot(const struct net *net, __be32 laddr, __be16 lport,
		__be32 raddr, __be16 rport)
{
	return &xtcp_ehash[xtcp_ehash_index(net, laddr, lport, raddr, rport)];
}

static bool xtcp_hnode_match(const struct xtcp_hnode *hn, const struct net *net,
			     __be32 laddr, __be16 lport, __be32 raddr,
			     __be16 rport)
{
	return hn->laddr == laddr && hn->raddr == raddr &&
	       hn->lport == lport && hn->rport == rport &&
	       net_eq(read_pnet(&hn->net), net);
}

static struct sock *xtcp_hnode_sk(struct xtcp_hnode *hn)
{
	return &container_of(hn, struct xtcp_sock, hnode)->inet.sk;
}

/* Take a reference on @hn unless it is being freed. */
static bool xtcp_hnode_hold(struct xtcp_hnode *hn)
{
	switch (hn->kind) {
	case XTCP_HNODE_SOCK:
		return refcount_inc_not_zero(&xtcp_hnode_sk(hn)->sk_refcnt);
	case XTCP_HNODE_TW:
		return refcount_inc_not_zero(&container_of(hn, struct xtcp_tw,
							   hnode)->refcnt);
	default:
		return refcount_inc_not_zero(&container_of(hn,
							   struct xtcp_request,
							   hnode)->refcnt);
	}
}

/**
 * xtcp_ehash_lookup() - find the connection a segment belongs to
 * @net: the namespace the segment arrived in
 * @raddr: the segment's source address (the connection's remote)
 * @rport: its source port
 * @laddr: its destination address (local)
 * @lport: its destination port
 *
 * Called under rcu_read_lock() (softirq input). Sockets are freed after
 * a grace period (SOCK_RCU_FREE) and TIME_WAIT entries with kfree_rcu(),
 * so a node found here stays readable while its reference is taken; a
 * socket may meanwhile have been disconnected and hashed again under
 * another 4-tuple, so the match is made again once the reference is
 * held, and a walk that ended on another slot's nulls marker (it
 * followed a node that moved) starts over.
 *
 * Return: the entry with a reference held (xtcp_hnode_put()), or NULL.
 */
struct xtcp_hnode *xtcp_ehash_lookup(struct net *net, __be32 raddr,
				     __be16 rport, __be32 laddr, __be16 lport)
{
	u32 index = xtcp_ehash_index(net, laddr, lport, raddr, rport);
	struct xtcp_ehash_slot *slot = &xtcp_ehash[index];
	struct hlist_nulls_node *pos;
	struct xtcp_hnode *hn;

begin:
	hlist_nulls_for_each_entry_rcu(hn, pos, &slot->chain, node) {
		if (!xtcp_hnode_match(hn, net, laddr, lport, raddr, rport)) {
			if (static_branch_unlikely(&xtcp_lookup_delay_key) &&
			    hn->kind == XTCP_HNODE_SOCK)
				udelay(READ_ONCE(xtcp_lookup_delay_us));
			continue;
		}
		if (unlikely(!xtcp_hnode_hold(hn)))
			return NULL;
		if (unlikely(!xtcp_hnode_match(hn, net, laddr, lport, raddr,
					       rport))) {
			xtcp_hnode_put(hn);
			goto begin;
		}
		return hn;
	}
	if (get_nulls_value(pos) != index)
		goto begin;
	return NULL;
}

void xtcp_tw_put(struct xtcp_tw *tw)
{
	if (refcount_dec_and_test(&tw->refcnt)) {
		atomic_dec(&xtcp_pernet(read_pnet(&tw->hnode.net))->tw_count);
		kfree_rcu(tw, rcu);
	}
}

void xtcp_hnode_put(struct xtcp_hnode *hn)
{
	switch (hn->kind) {
	case XTCP_HNODE_SOCK:
		sock_put(xtcp_hnode_sk(hn));
		break;
	case XTCP_HNODE_TW:
		xtcp_tw_put(container_of(hn, struct xtcp_tw, hnode));
		break;
	default:
		xtcp_req_put(container_of(hn, struct xtcp_request, hnode));
	}
}

/**
 * xtcp_hnode_init() - give an entry its 4-tuple before it is inserted
 * @hn: the entry
 * @net: its namespace
 * @laddr: local address
 * @lport: local port, network order
 * @raddr: remote address
 * @rport: remote port, network order
 * @kind: enum xtcp_hnode_kind
 */
void xtcp_hnode_init(struct xtcp_hnode *hn, struct net *net, __be32 laddr,
		     __be16 lport, __be32 raddr, __be16 rport, u8 kind)
{
	write_pnet(&hn->net, net);
	hn->laddr = laddr;
	hn->lport = lport;
	hn->raddr = raddr;
	hn->rport = rport;
	hn->kind = kind;
}

static struct xtcp_ehash_slot *xtcp_hnode_slot(const struct xtcp_hnode *hn)
{
	return xtcp_ehash_slot(read_pnet(&hn->net), hn->laddr, hn->lport,
			       hn->raddr, hn->rport);
}

/* Is @hn's 4-tuple taken in @slot? */
static bool xtcp_ehash_taken(struct xtcp_ehash_slot *slot,
			     const struct xtcp_hnode *hn)
	__must_hold(&slot->lock)
{
	const struct net *net = read_pnet(&hn->net);
	struct hlist_nulls_node *pos;
	struct xtcp_hnode *hn2;

	hlist_nulls_for_each_entry(hn2, pos, &slot->chain, node)
		if (xtcp_hnode_match(hn2, net, hn->laddr, hn->lport,
				     hn->raddr, hn->rport))
			return true;
	return false;
}

/**
 * xtcp_ehash_insert_req() - put a request in the table
 * @req: the request, 4-tuple set, its references counted (the table's
 *	among them)
 *
 * Fails when the 4-tuple is taken: another CPU made a request for the
 * same SYN a moment ago, or a connection has it. Any context.
 *
 * Return: true if inserted.
 */
bool xtcp_ehash_insert_req(struct xtcp_request *req)
{
	struct xtcp_ehash_slot *slot = xtcp_hnode_slot(&req->hnode);
	bool taken;

	spin_lock_bh(&slot->lock);
	taken = xtcp_ehash_taken(slot, &req->hnode);
	if (!taken)
		hlist_nulls_add_head_rcu(&req->hnode.node, &slot->chain);
	spin_unlock_bh(&slot->lock);
	return !taken;
}

/**
 * xtcp_ehash_del() - take a request (or TIME_WAIT-free entry) out
 * @hn: the entry
 *
 * Return: true if this call took it out (its table reference is then
 * the caller's to drop), false if it was out already.
 */
bool xtcp_ehash_del(struct xtcp_hnode *hn)
{
	struct xtcp_ehash_slot *slot = xtcp_hnode_slot(hn);
	bool hashed;

	spin_lock_bh(&slot->lock);
	hashed = !hlist_nulls_unhashed(&hn->node);
	if (hashed)
		hlist_nulls_del_init_rcu(&hn->node);
	spin_unlock_bh(&slot->lock);
	return hashed;
}

/**
 * xtcp_ehash_replace_req() - a connection takes its request's place
 * @sk: the new connection, hnode set to the request's 4-tuple
 * @req: the request
 *
 * As inet_ehash_insert() with the request to remove: the socket goes in
 * before the request comes out, under the slot's lock, so a segment of
 * the connection finds one or the other. Of two CPUs completing the
 * same handshake, only the first finds the request still there.
 *
 * Return: true if @sk took the place (the table then holds a reference
 * on it, and the request's table reference is the caller's to drop).
 */
bool xtcp_ehash_replace_req(struct sock *sk, struct xtcp_request *req)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_ehash_slot *slot = xtcp_hnode_slot(&req->hnode);

	spin_lock_bh(&slot->lock);
	if (hlist_nulls_unhashed(&req->hnode.node)) {
		spin_unlock_bh(&slot->lock);
		return false;
	}
	sock_hold(sk);
	hlist_nulls_add_head_rcu(&xs->hnode.node, &slot->chain);
	hlist_nulls_del_init_rcu(&req->hnode.node);
	xs->hashed = true;
	sock_prot_inuse_add(sock_net(sk), sk->sk_prot, 1);
	spin_unlock_bh(&slot->lock);
	return true;
}

/**
 * xtcp_ehash_insert_sk() - put a connection made without a request in
 * @sk: the connection (a SYN cookie's), hnode set
 *
 * Return: true if inserted (the table holds a reference), false if the
 * 4-tuple is taken.
 */
bool xtcp_ehash_insert_sk(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_ehash_slot *slot = xtcp_hnode_slot(&xs->hnode);
	bool taken;

	spin_lock_bh(&slot->lock);
	taken = xtcp_ehash_taken(slot, &xs->hnode);
	if (!taken) {
		sock_hold(sk);
		hlist_nulls_add_head_rcu(&xs->hnode.node, &slot->chain);
		xs->hashed = true;
		sock_prot_inuse_add(sock_net(sk), sk->sk_prot, 1);
	}
	spin_unlock_bh(&slot->lock);
	return !taken;
}

/* ---- destinations ---- */

static struct xtcp_dhash_slot *xtcp_dest_slot(const struct net *net,
					      __be32 saddr, __be32 daddr,
					      __be16 dport)
{
	u32 h = siphash_3u32((__force u32)saddr, (__force u32)daddr,
			     (__force u32)dport, &xtcp_ehash_key);

	return &xtcp_dhash[hash_32(h + net_hash_mix(net), XTCP_DHASH_BITS)];
}

static struct xtcp_dest *xtcp_dest_find(struct xtcp_dhash_slot *slot,
					const struct net *net, __be32 saddr,
					__be32 daddr, __be16 dport)
{
	struct xtcp_dest *d;

	hlist_for_each_entry(d, &slot->chain, node)
		if (d->saddr == saddr && d->daddr == daddr &&
		    d->dport == dport && net_eq(read_pnet(&d->net), net))
			return d;
	return NULL;
}

/**
 * xtcp_dest_get() - the port map toward a destination, made if needed
 * @net: the namespace
 * @saddr: local address
 * @daddr: remote address
 * @dport: remote port
 * @low: first port of the current ephemeral range
 * @high: its last port
 *
 * A new map covers [@low, @high] rounded out to whole words. Process
 * context (connect()); may sleep.
 *
 * Return: the map with a reference held, or NULL when out of memory.
 */
static struct xtcp_dest *xtcp_dest_get(struct net *net, __be32 saddr,
				       __be32 daddr, __be16 dport,
				       int low, int high)
{
	struct xtcp_dhash_slot *slot = xtcp_dest_slot(net, saddr, daddr,
						       dport);
	struct xtcp_dest *d, *new;
	u32 base, nbits;

	spin_lock_bh(&slot->lock);
	d = xtcp_dest_find(slot, net, saddr, daddr, dport);
	if (d)
		d->refcnt++;
	spin_unlock_bh(&slot->lock);
	if (d)
		return d;

	base = round_down(low, BITS_PER_LONG);
	nbits = round_up(high + 1 - base, BITS_PER_LONG);
	new = kzalloc(struct_size(new, used, BITS_TO_LONGS(nbits)),
		      GFP_KERNEL);
	if (!new)
		return NULL;
	write_pnet(&new->net, net);
	new->saddr = saddr;
	new->daddr = daddr;
	new->dport = dport;
	new->refcnt = 1;
	spin_lock_init(&new->lock);
	new->base = base;
	new->nbits = nbits;

	spin_lock_bh(&slot->lock);
	d = xtcp_dest_find(slot, net, saddr, daddr, dport);
	if (d)
		d->refcnt++;
	else
		hlist_add_head(&new->node, &slot->chain);
	spin_unlock_bh(&slot->lock);
	if (d) {
		kfree(new);
		return d;
	}
	return new;
}

static void xtcp_dest_put(struct xtcp_dest *d)
{
	struct xtcp_dhash_slot *slot = xtcp_dest_slot(read_pnet(&d->net),
						      d->saddr, d->daddr,
						      d->dport);
	bool last;

	spin_lock_bh(&slot->lock);
	last = !--d->refcnt;
	if (last)
		hlist_del(&d->node);
	spin_unlock_bh(&slot->lock);
	if (last)
		kfree_rcu(d, rcu);
}

static bool xtcp_dest_covers(const struct xtcp_dest *d, u32 port)
{
	return port >= d->base && port < d->base + d->nbits;
}

/* Mark or clear @port in @d's map; returns the bit's old value. */
static bool xtcp_dest_mark(struct xtcp_dest *d, u32 port, bool used)
{
	bool old;

	if (!xtcp_dest_covers(d, port))
		return false;
	spin_lock_bh(&d->lock);
	if (used)
		old = __test_and_set_bit(port - d->base, d->used);
	else
		old = __test_and_clear_bit(port - d->base, d->used);
	spin_unlock_bh(&d->lock);
	return old;
}

/*
 * First port in [@pos, @end) free in @d's map, not bound by an xtcp
 * bind() and not reserved by the administrator; 0 if none.
 */
static u32 xtcp_dest_scan(const struct xtcp_dest *d, const struct xtcp_net *xn,
			  u32 pos, u32 end, u32 *words)
	__must_hold(&d->lock)
{
	const unsigned long *kres = xn->net->ipv4.sysctl_local_reserved_ports;

	while (pos < end) {
		u32 aw = pos / BITS_PER_LONG;
		unsigned long busy, free;

		busy = d->used[(pos - d->base) / BITS_PER_LONG] |
		       xn->bound_ports[aw];
		if (kres)
			busy |= kres[aw] & ~xn->reserved[aw];
		free = ~busy & (~0UL << (pos % BITS_PER_LONG));
		(*words)++;
		if (free) {
			u32 port = aw * BITS_PER_LONG + __ffs(free);

			return port < end ? port : 0;
		}
		pos = (aw + 1) * BITS_PER_LONG;
	}
	return 0;
}

/**
 * xtcp_dest_claim() - take the first free port at or after @from
 * @d: the map, whose window covers [@low, @high]
 * @xn: the namespace (ports bound by bind() and reserved by the admin)
 * @from: where to start, in [@low, @high]
 * @low: first port of the range
 * @high: last port of the range
 * @words: incremented per word of the map examined
 *
 * Scans from @from to @high, then from @low, a word (64 ports) at a
 * time, and marks the port it returns.
 *
 * Return: the port, or 0 if every port of the range is taken.
 */
static u32 xtcp_dest_claim(struct xtcp_dest *d, const struct xtcp_net *xn,
			   u32 from, u32 low, u32 high, u32 *words)
{
	u32 port;

	spin_lock_bh(&d->lock);
	port = xtcp_dest_scan(d, xn, from, high + 1, words);
	if (!port && from > low)
		port = xtcp_dest_scan(d, xn, low, from, words);
	if (port)
		__set_bit(port - d->base, d->used);
	spin_unlock_bh(&d->lock);
	return port;
}

/* ---- TIME_WAIT takeover and the 4-tuple check ---- */

/**
 * xtcp_twsk_unique() - may @sk take over TIME_WAIT entry @tw's 4-tuple?
 * @sk: the connecting socket
 * @tw: the TIME_WAIT entry with the same 4-tuple
 * @ephemeral: the port is being chosen by connect() (not bound by the user)
 *
 * As Linux's tcp_twsk_unique(): only an entry that saw timestamps can be
 * reused, since PAWS then tells old duplicates from new segments. When
 * connect() chooses the port, net.xtcp.tw_reuse must allow it (2: only
 * for loopback traffic) and more than tw_reuse_delay ms must have passed
 * since the entry's last timestamp. With a port the user bound, the
 * timestamps alone suffice, as on Linux.
 *
 * On success the new connection starts 65535 + 2 past the old send
 * sequence and inherits the timestamp state, so its segments are newer
 * than anything the old one sent.
 *
 * Called with the entry's slot lock held.
 *
 * Return: true if @sk may take the 4-tuple.
 */
static bool xtcp_twsk_unique(struct sock *sk, struct xtcp_tw *tw,
			     bool ephemeral)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);
	int reuse = READ_ONCE(xn->sysctl_tw_reuse);

	if (!tw->ts_recent_stamp)
		return false;

	if (ephemeral) {
		u32 delay = READ_ONCE(xn->sysctl_tw_reuse_delay);

		if (reuse == 2 && !ipv4_is_loopback(tw->hnode.laddr) &&
		    !ipv4_is_loopback(tw->hnode.raddr))
			reuse = 0;
		if (!reuse)
			return false;
		if (!time_after32(xtcp_clock_ms(), tw->ts_recent_stamp + delay))
			return false;
	}

	xs->iss = tw->snd_nxt + 65535 + 2;
	if (!xs->iss)
		xs->iss = 1;
	xs->ts_offset = tw->ts_offset;
	xs->ts_recent = tw->ts_recent;
	xs->ts_recent_stamp = tw->ts_recent_stamp;
	return true;
}

/**
 * xtcp_check_established() - claim @sk's 4-tuple in the established table
 * @sk: the connecting socket; addresses and ports set
 * @ephemeral: the local port is connect()'s choice, not the user's
 *
 * Our __inet_check_established(): under the slot's lock, the 4-tuple
 * must be free, or held by a TIME_WAIT entry that xtcp_twsk_unique()
 * lets us take over. On success @sk is in the table (which holds a
 * reference) and a taken-over entry is gone from it; two racing connects
 * serialise on the slot lock, so they never get the same 4-tuple.
 *
 * Called from process context; takes the slot lock with bh disabled.
 *
 * Return: 0, or -EADDRNOTAVAIL when the 4-tuple is in use.
 */
static int xtcp_check_established(struct sock *sk, bool ephemeral)
{
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	struct xtcp_hnode *hn, *self = &xs->hnode;
	struct hlist_nulls_node *pos;
	struct xtcp_ehash_slot *slot;
	struct xtcp_tw *tw = NULL;

	write_pnet(&self->net, net);
	self->laddr = inet->inet_rcv_saddr;
	self->raddr = inet->inet_daddr;
	self->lport = inet->inet_sport;
	self->rport = inet->inet_dport;
	self->kind = XTCP_HNODE_SOCK;

	slot = xtcp_ehash_slot(net, self->laddr, self->lport, self->raddr,
			       self->rport);
	spin_lock_bh(&slot->lock);
	hlist_nulls_for_each_entry(hn, pos, &slot->chain, node) {
		if (!xtcp_hnode_match(hn, net, self->laddr, self->lport,
				      self->raddr, self->rport))
			continue;
		if (hn->kind == XTCP_HNODE_TW) {
			tw = container_of(hn, struct xtcp_tw, hnode);
			if (xtcp_twsk_unique(sk, tw, ephemeral))
				break;
		}
		spin_unlock_bh(&slot->lock);
		return -EADDRNOTAVAIL;
	}

	sock_hold(sk);
	hlist_nulls_add_head_rcu(&self->node, &slot->chain);
	xs->hashed = true;
	sock_prot_inuse_add(net, sk->sk_prot, 1);
	if (tw)
		hlist_nulls_del_init_rcu(&tw->hnode.node);
	spin_unlock_bh(&slot->lock);

	if (tw) {
		struct xtcp_dest *d = tw->dest;

		/* The entry's mark in the map now stands for @sk. */
		tw->dest = NULL;
		if (d && xs->dest)
			xtcp_dest_put(d);
		else if (d)
			xs->dest = d;
		if (del_timer_sync(&tw->timer))
			xtcp_tw_put(tw);
		xtcp_tw_put(tw);
		XTCP_INC_STATS(net, XTCP_MIB_TWREUSED);
	}
	return 0;
}

static void xtcp_set_local_port(struct sock *sk, u16 port)
{
	inet_sk(sk)->inet_num = port;
	inet_sk(sk)->inet_sport = htons(port);
}

/*
 * The range is outside the destination's map (it moved since the map was
 * made): try the ports one by one against the table, as Linux does.
 */
static int xtcp_hash_connect_slow(struct sock *sk, struct xtcp_net *xn,
				  u32 low, u32 n, u32 offset, u32 *tried)
{
	u32 i;

	for (i = 0; i < n; i++) {
		u32 port = low + (offset + i) % n;

		if (test_bit(port, xn->bound_ports) ||
		    xtcp_port_reserved_by_admin(xn, port))
			continue;
		(*tried)++;
		xtcp_set_local_port(sk, port);
		if (!xtcp_check_established(sk, true)) {
			xtcp_dest_mark(xtcp_sk(sk)->dest, port, true);
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

/*
 * Every port is marked: the only hope is a TIME_WAIT entry that
 * net.xtcp.tw_reuse lets us take over.
 */
static int xtcp_hash_connect_reuse(struct sock *sk, struct xtcp_dest *d,
				   u32 low, u32 high, u32 *tried)
{
	u32 port;

	for (port = low; port <= high; port++) {
		if (!test_bit(port - d->base, d->used))
			continue;
		(*tried)++;
		xtcp_set_local_port(sk, port);
		if (!xtcp_check_established(sk, true))
			return 0;
	}
	return -EADDRNOTAVAIL;
}

/**
 * xtcp_hash_connect() - give a connecting socket its 4-tuple
 * @sk: the socket, locked, addresses and remote port set
 *
 * Our inet_hash_connect(). With a bound port only the 4-tuple is
 * checked. Otherwise a port of net.xtcp.ip_local_port_range is chosen:
 * the search starts at an offset from a keyed hash of (source,
 * destination, destination port) plus a perturbation that moves on
 * after every choice (RFC 6056, algorithm 5), so ports are hard to
 * predict from outside and successive connects to one destination
 * spread; the destination's map gives the next free port directly.
 *
 * Return: 0, or -EADDRNOTAVAIL when no port is free toward that
 * destination, or -ENOMEM.
 */
int xtcp_hash_connect(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	struct xtcp_net *xn = xtcp_pernet(net);
	u32 low, high, n, offset, index, port, tried = 0, words = 0;
	struct xtcp_dest *d;
	int lo, hi, err;
	u64 h;

	xtcp_get_port_range(xn, &lo, &hi);
	low = lo;
	high = hi;
	n = high - low + 1;

	if (inet->inet_num) {
		err = xtcp_check_established(sk, false);
		if (err || xs->dest)	/* xs->dest: inherited from TIME_WAIT */
			return err;
		d = xtcp_dest_get(net, inet->inet_rcv_saddr, inet->inet_daddr,
				  inet->inet_dport, low, high);
		if (d && xtcp_dest_mark(d, inet->inet_num, true)) {
			/* Marked for another entry already: not ours. */
			xtcp_dest_put(d);
			d = NULL;
		}
		xs->dest = d;
		return 0;
	}

	d = xtcp_dest_get(net, inet->inet_rcv_saddr, inet->inet_daddr,
			  inet->inet_dport, low, high);
	if (!d)
		return -ENOMEM;
	xs->dest = d;

	h = siphash_3u32((__force u32)inet->inet_rcv_saddr,
			 (__force u32)inet->inet_daddr,
			 (__force u32)inet->inet_dport, &xtcp_port_key);
	index = h & ((1 << XTCP_PERTURB_BITS) - 1);
	offset = (u32)(h >> 32) + READ_ONCE(xtcp_perturb[index]);

	if (!xtcp_dest_covers(d, low) || !xtcp_dest_covers(d, high)) {
		err = xtcp_hash_connect_slow(sk, xn, low, n, offset % n,
					     &tried);
		goto out;
	}

	port = low + offset % n;
	err = -EADDRNOTAVAIL;
	while ((port = xtcp_dest_claim(d, xn, port, low, high, &words))) {
		tried++;
		xtcp_set_local_port(sk, port);
		err = xtcp_check_established(sk, true);
		if (!err)
			break;
		/* Taken outside the map's knowledge: leave it, look on. */
		xtcp_dest_mark(d, port, false);
		if (port == high || tried >= n)
			break;
		port++;
	}
	if (err)
		err = xtcp_hash_connect_reuse(sk, d, low, high, &tried);
out:
	WRITE_ONCE(xtcp_perturb[index],
		   READ_ONCE(xtcp_perturb[index]) + tried + 2);
	XTCP_ADD_STATS(net, XTCP_MIB_CONNECTPORTSCANNED, tried);
	XTCP_ADD_STATS(net, XTCP_MIB_CONNECTMAPWORDS, words);
	trace_xtcp_connect_port(sk, tried, err);
	if (err) {
		XTCP_INC_STATS(net, XTCP_MIB_CONNECTNOPORT);
		xtcp_set_local_port(sk, 0);
		xs->dest = NULL;
		xtcp_dest_put(d);
	}
	return err;
}

/**
 * xtcp_unhash() - take @sk out of the established table
 * @sk: the socket
 *
 * Frees its port toward the destination and drops the table's
 * reference, so the caller must hold one of its own. A port chosen by
 * connect() goes back to the range; a bound port stays bound.
 *
 * Any context; takes the slot lock with bh disabled.
 */
void xtcp_unhash(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_hnode *self = &xs->hnode;
	struct xtcp_ehash_slot *slot;
	struct xtcp_dest *d;

	if (!xs->hashed)
		return;

	slot = xtcp_ehash_slot(read_pnet(&self->net), self->laddr,
			       self->lport, self->raddr, self->rport);
	spin_lock_bh(&slot->lock);
	hlist_nulls_del_init_rcu(&self->node);
	xs->hashed = false;
	sock_prot_inuse_add(sock_net(sk), sk->sk_prot, -1);
	spin_unlock_bh(&slot->lock);

	d = xs->dest;
	xs->dest = NULL;
	if (d) {
		xtcp_dest_mark(d, ntohs(self->lport), false);
		xtcp_dest_put(d);
	}
	if (!xs->bind_bucket)
		xtcp_set_local_port(sk, 0);
	__sock_put(sk);
}

/**
 * xtcp_ehash_replace() - put TIME_WAIT entry @tw in @sk's place
 * @sk: a socket in the table
 * @tw: its TIME_WAIT entry, same 4-tuple
 *
 * The entry takes over the socket's mark in the destination's port map;
 * the table's reference on @sk is dropped (the caller holds another).
 * The entry goes in before the socket comes out, under the slot's lock,
 * as inet_twsk_hashdance(): a lookup finds one or the other, and one
 * standing on the socket's node walks on to the rest of the chain.
 *
 * Return: false if @sk was not in the table.
 */
bool xtcp_ehash_replace(struct sock *sk, struct xtcp_tw *tw)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_hnode *self = &xs->hnode;
	struct xtcp_ehash_slot *slot;

	slot = xtcp_ehash_slot(read_pnet(&self->net), self->laddr,
			       self->lport, self->raddr, self->rport);
	spin_lock_bh(&slot->lock);
	if (!xs->hashed) {
		spin_unlock_bh(&slot->lock);
		return false;
	}
	hlist_nulls_add_head_rcu(&tw->hnode.node, &slot->chain);
	hlist_nulls_del_init_rcu(&self->node);
	xs->hashed = false;
	sock_prot_inuse_add(sock_net(sk), sk->sk_prot, -1);
	tw->dest = xs->dest;
	xs->dest = NULL;
	spin_unlock_bh(&slot->lock);
	__sock_put(sk);
	return true;
}

/**
 * xtcp_tw_unhash() - take a TIME_WAIT entry out of the table
 * @tw: the entry
 *
 * Gives its port back to the destination's map. Any context.
 *
 * Return: true if this call took it out (the caller then drops the
 * table's reference), false if it was out already.
 */
bool xtcp_tw_unhash(struct xtcp_tw *tw)
{
	struct xtcp_hnode *hn = &tw->hnode;
	struct xtcp_ehash_slot *slot;
	struct xtcp_dest *d;

	slot = xtcp_ehash_slot(read_pnet(&hn->net), hn->laddr, hn->lport,
			       hn->raddr, hn->rport);
	spin_lock_bh(&slot->lock);
	if (hlist_nulls_unhashed(&hn->node)) {
		spin_unlock_bh(&slot->lock);
		return false;
	}
	hlist_nulls_del_init_rcu(&hn->node);
	d = tw->dest;
	tw->dest = NULL;
	spin_unlock_bh(&slot->lock);

	if (d) {
		xtcp_dest_mark(d, ntohs(hn->lport), false);
		xtcp_dest_put(d);
	}
	return true;
}

/**
 * xtcp_tw_purge() - end every TIME_WAIT entry of a namespace
 * @net: the namespace, going away (or the module unloading)
 *
 * Process context; may sleep (waits for running timers).
 */
void xtcp_tw_purge(struct net *net)
{
	unsigned int i;

	for (i = 0; i < 1U << xtcp_ehash_bits; i++) {
		struct xtcp_ehash_slot *slot = &xtcp_ehash[i];
		struct hlist_nulls_node *pos;
		struct xtcp_hnode *hn;
		struct xtcp_tw *tw;

restart:
		spin_lock_bh(&slot->lock);
		hlist_nulls_for_each_entry(hn, pos, &slot->chain, node) {
			if (hn->kind != XTCP_HNODE_TW ||
			    !net_eq(read_pnet(&hn->net), net))
				continue;
			tw = container_of(hn, struct xtcp_tw, hnode);
			refcount_inc(&tw->refcnt);
			spin_unlock_bh(&slot->lock);
			xtcp_tw_kill(tw);
			xtcp_tw_put(tw);
			goto restart;
		}
		spin_unlock_bh(&slot->lock);
	}
}

/**
 * xtcp_ehash_for_each() - call @fn for each entry of @net in the table
 * @net: the namespace
 * @fn: called under rcu_read_lock(), must not sleep
 * @arg: its argument
 *
 * For /proc/net/xtcp and /proc/net/xtcp_ss (xtcp_proc.c). Entries come
 * and go meanwhile, as in any lockless walk of Linux's tables.
 */
void xtcp_ehash_for_each(struct net *net,
			 void (*fn)(struct xtcp_hnode *hn, void *arg),
			 void *arg)
{
	unsigned int i;

	rcu_read_lock();
	for (i = 0; i < 1U << xtcp_ehash_bits; i++) {
		struct hlist_nulls_node *pos;
		struct xtcp_hnode *hn;

		hlist_nulls_for_each_entry_rcu(hn, pos, &xtcp_ehash[i].chain,
					       node)
			if (net_eq(read_pnet(&hn->net), net))
				fn(hn, arg);
	}
	rcu_read_unlock();
}
