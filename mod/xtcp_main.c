// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: module glue. The protocol, the per-namespace state and the
 * address family are registered here, and undone in reverse order.
 */
#define pr_fmt(fmt) "xtcp: " fmt

#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/percpu_counter.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/xtcp.h>

#include <net/sock.h>
#include <net/tcp.h>

#include "xtcp.h"

int xtcp_family = AF_XTCP;
module_param_named(family, xtcp_family, int, 0444);
MODULE_PARM_DESC(family, "socket family number (default 13, must be free and below AF_MAX)");

/*
 * A test hook: milliseconds added to xtcp's timestamp clock, so that a
 * test can age ts_recent by weeks (PAWS's 24-day rule) without waiting.
 */
unsigned int xtcp_clock_offset_ms;
module_param_named(clock_offset_ms, xtcp_clock_offset_ms, uint, 0644);
MODULE_PARM_DESC(clock_offset_ms, "testing: ms added to the TCP timestamp clock (default 0)");

unsigned int xtcp_net_id __read_mostly;

/*
 * Memory accounting, as Linux's TCP has it (sk_mem_charge() and its
 * kin then work, and the memory cgroup sees xtcp's buffers): all xtcp
 * sockets' buffers, in pages, against net.xtcp.mem; the pressure flag;
 * the live sockets and the orphans (against net.xtcp.max_orphans).
 */
static atomic_long_t xtcp_memory_allocated;
static DEFINE_PER_CPU(int, xtcp_memory_per_cpu_fw_alloc);
static struct percpu_counter xtcp_sockets_allocated;
static unsigned long xtcp_memory_pressure;
DEFINE_PER_CPU(unsigned int, xtcp_orphan_count);
long xtcp_sysctl_mem[3] __read_mostly;
int xtcp_sysctl_max_orphans __read_mostly;

static void xtcp_enter_memory_pressure(struct sock *sk)
{
	if (READ_ONCE(xtcp_memory_pressure))
		return;
	WRITE_ONCE(xtcp_memory_pressure, jiffies ? : 1);
	XTCP_INC_STATS(sock_net(sk), XTCP_MIB_MEMORYPRESSURES);
}

static void xtcp_leave_memory_pressure(struct sock *sk)
{
	WRITE_ONCE(xtcp_memory_pressure, 0);
}

/**
 * xtcp_memory_allocated_sum() - pages of socket memory, exactly
 *
 * The shared counter moves in per-CPU batches of up to a megabyte
 * (sk_memory_allocated_add()): add what the CPUs hold back.
 *
 * Return: the pages.
 */
long xtcp_memory_allocated_sum(void)
{
	long pages = atomic_long_read(&xtcp_memory_allocated);
	int cpu;

	for_each_possible_cpu(cpu)
		pages += per_cpu(xtcp_memory_per_cpu_fw_alloc, cpu);
	return max(pages, 0L);
}

/**
 * xtcp_orphan_count_sum() - orphaned xtcp sockets, all namespaces
 *
 * Return: the count.
 */
int xtcp_orphan_count_sum(void)
{
	int i, total = 0;

	for_each_possible_cpu(i)
		total += per_cpu(xtcp_orphan_count, i);
	return max(total, 0);
}

/*
 * Sockets over the line: too many orphans, or more socket memory than
 * net.xtcp.mem's hard limit (tcp_check_oom()).
 */
bool xtcp_check_oom(struct sock *sk)
{
	if (xtcp_orphan_count_sum() > READ_ONCE(xtcp_sysctl_max_orphans)) {
		net_info_ratelimited("xtcp: too many orphaned sockets\n");
		return true;
	}
	if (sk->sk_wmem_queued > SOCK_MIN_SNDBUF &&
	    sk_memory_allocated(sk) > sk_prot_mem_limits(sk, 2)) {
		net_info_ratelimited("xtcp: out of memory -- consider tuning net.xtcp.mem\n");
		return true;
	}
	return false;
}

/**
 * xtcp_memcg_adopt() - an accepted connection joins the accepting task's
 *	memory cgroup
 * @sk: the connection, just taken off the accept queue, owned by the
 *	caller
 *
 * sk_clone_lock() leaves a passive child without a memory cgroup. As
 * inet_csk_accept() does with mem_cgroup_sk_alloc(), the connection
 * takes the accepting task's (unless that is the root, or on cgroup v1
 * one without tcp accounting), and what it already holds is charged to
 * it, so that the uncharges to come balance. 6.1 exports neither
 * mem_cgroup_sk_alloc() nor mem_cgroup_charge_skmem(): the cgroup is
 * found with mem_cgroup_from_task() and pinned with css_tryget() (the
 * reference sk_prot_free() drops), and the pages the socket holds are
 * taken out of xtcp's own counter and scheduled again through
 * __sk_mem_schedule(), which charges them to the cgroup as well. Linux
 * forces that charge (__GFP_NOFAIL); when it is refused here (the
 * cgroup or net.xtcp.mem at their limits) the pages go back to xtcp's
 * counter and the connection stays outside any memory cgroup.
 */
void xtcp_memcg_adopt(struct sock *sk)
{
	struct mem_cgroup *memcg;
	int bytes;

	if (!mem_cgroup_sockets_enabled || sk->sk_memcg || !in_task())
		return;
	rcu_read_lock();
	memcg = mem_cgroup_from_task(current);
	/* The root has no parent (mem_cgroup_is_root() is not for modules). */
	if (memcg && (!memcg->css.parent ||
		      (!cgroup_subsys_on_dfl(memory_cgrp_subsys) &&
		       !memcg->tcpmem_active) ||
		      !css_tryget(&memcg->css)))
		memcg = NULL;
	rcu_read_unlock();
	if (!memcg)
		return;

	/* Scheduled pages: the spare forward allocation and what is charged. */
	bytes = sk->sk_forward_alloc + atomic_read(&sk->sk_rmem_alloc) -
		xtcp_rmem_uncharged(sk) + READ_ONCE(sk->sk_wmem_queued);
	if (WARN_ON_ONCE(bytes < 0 || !PAGE_ALIGNED(bytes))) {
		css_put(&memcg->css);
		return;
	}
	sk->sk_memcg = memcg;
	if (!bytes)
		return;
	atomic_long_sub(bytes >> PAGE_SHIFT, &xtcp_memory_allocated);
	if (__sk_mem_schedule(sk, bytes, SK_MEM_RECV)) {
		sk_forward_alloc_add(sk, -bytes);
		return;
	}
	atomic_long_add(bytes >> PAGE_SHIFT, &xtcp_memory_allocated);
	sk->sk_memcg = NULL;
	css_put(&memcg->css);
}

struct proto xtcp_prot = {
	.name			= "XTCP",
	.owner			= THIS_MODULE,
	.obj_size		= sizeof(struct xtcp_sock),
	.release_cb		= xtcp_release_cb,
	.keepalive		= xtcp_set_keepalive,
	.enter_memory_pressure	= xtcp_enter_memory_pressure,
	.stream_memory_free	= xtcp_stream_memory_free,
	.leave_memory_pressure	= xtcp_leave_memory_pressure,
	.sockets_allocated	= &xtcp_sockets_allocated,
	.orphan_count		= &xtcp_orphan_count,
	.memory_allocated	= &xtcp_memory_allocated,
	.per_cpu_fw_alloc	= &xtcp_memory_per_cpu_fw_alloc,
	.memory_pressure	= &xtcp_memory_pressure,
	.sysctl_mem		= xtcp_sysctl_mem,
	/* Under pressure, each socket keeps Linux's tcp_rmem/wmem[0]. */
	.sysctl_wmem_offset	= offsetof(struct net, ipv4.sysctl_tcp_wmem),
	.sysctl_rmem_offset	= offsetof(struct net, ipv4.sysctl_tcp_rmem),
	.max_header		= MAX_TCP_HEADER,
};

static int __net_init xtcp_net_init(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	int err = -ENOMEM;

	xn->net = net;
	seqlock_init(&xn->port_range_lock);
	mutex_init(&xn->range_mutex);
	xn->port_range[0] = XTCP_PORT_RANGE_LOW;
	xn->port_range[1] = XTCP_PORT_RANGE_HIGH;
	xn->sysctl_tw_reuse = 2;
	xn->ca_default = &xtcp_cubic;
	xn->sysctl_tw_reuse_delay = 1000;
	xn->sysctl_tw_timeout = 60;
	/* Shared knobs start out following net.ipv4 (knob_pinned 0). */

	xn->reserved = bitmap_zalloc(XTCP_NR_PORTS, GFP_KERNEL);
	xn->bound_ports = bitmap_zalloc(XTCP_NR_PORTS, GFP_KERNEL);
	if (!xn->reserved || !xn->bound_ports)
		goto err_free;

	mutex_lock(&xn->range_mutex);
	xtcp_reserve_range(xn, xn->port_range[0], xn->port_range[1]);
	mutex_unlock(&xn->range_mutex);

	err = xtcp_mib_init_net(xn);
	if (err)
		goto err_unreserve;
	err = xtcp_sysctl_init_net(xn);
	if (err)
		goto err_mib;
	err = xtcp_input_init_net(xn);
	if (err)
		goto err_sysctl;
	return 0;

err_sysctl:
	xtcp_sysctl_exit_net(xn);
err_mib:
	xtcp_mib_exit_net(xn);
err_unreserve:
	xtcp_unreserve_all(xn);
err_free:
	bitmap_free(xn->bound_ports);
	bitmap_free(xn->reserved);
	return err;
}

static void __net_exit xtcp_net_exit(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);

	xtcp_input_exit_net(xn);
	xtcp_tw_purge(net);
	xtcp_sysctl_exit_net(xn);
	xtcp_mib_exit_net(xn);
	xtcp_unreserve_all(xn);
	/* Every socket holds its namespace: no port can still be bound. */
	WARN_ON_ONCE(!bitmap_empty(xn->bound_ports, XTCP_NR_PORTS));
	bitmap_free(xn->bound_ports);
	bitmap_free(xn->reserved);
}

static struct pernet_operations xtcp_net_ops = {
	.init	= xtcp_net_init,
	.exit	= xtcp_net_exit,
	.id	= &xtcp_net_id,
	.size	= sizeof(struct xtcp_net),
};

static int __init xtcp_init(void)
{
	int err;

	if (xtcp_family <= AF_UNSPEC || xtcp_family >= AF_MAX) {
		pr_err("family=%d is out of range (1..%d)\n",
		       xtcp_family, AF_MAX - 1);
		return -EINVAL;
	}

	/* Linux's own defaults for tcp_mem and tcp_max_orphans' scale. */
	xtcp_sysctl_mem[0] = READ_ONCE(sysctl_tcp_mem[0]);
	xtcp_sysctl_mem[1] = READ_ONCE(sysctl_tcp_mem[1]);
	xtcp_sysctl_mem[2] = READ_ONCE(sysctl_tcp_mem[2]);
	xtcp_sysctl_max_orphans = XTCP_MAX_ORPHANS;
	err = percpu_counter_init(&xtcp_sockets_allocated, 0, GFP_KERNEL);
	if (err)
		return err;

	err = proto_register(&xtcp_prot, 1);
	if (err)
		goto err_counter;

	err = xtcp_hash_init();
	if (err)
		goto err_proto;

	err = xtcp_ehash_init();
	if (err)
		goto err_hash;

	err = xtcp_listen_init();
	if (err)
		goto err_ehash;

	err = register_pernet_subsys(&xtcp_net_ops);
	if (err)
		goto err_listen;

	/* Last: once the family is visible, sockets can be created. */
	xtcp_family_ops.family = xtcp_family;
	err = sock_register(&xtcp_family_ops);
	if (err) {
		if (err == -EEXIST)
			pr_err("address family %d is already registered by another protocol; load with family=N to choose a free one\n",
			       xtcp_family);
		goto err_pernet;
	}

	pr_info("loaded, address family %d\n", xtcp_family);
	return 0;

err_pernet:
	unregister_pernet_subsys(&xtcp_net_ops);
err_listen:
	xtcp_listen_destroy();
err_ehash:
	xtcp_ehash_destroy();
err_hash:
	xtcp_hash_destroy();
err_proto:
	proto_unregister(&xtcp_prot);
err_counter:
	percpu_counter_destroy(&xtcp_sockets_allocated);
	return err;
}

static void __exit xtcp_exit(void)
{
	/*
	 * Every socket holds a reference on this module (through its
	 * proto_ops owner), so by now none is left; sock_unregister()
	 * waits for concurrent socket() calls to finish.
	 */
	sock_unregister(xtcp_family);
	unregister_pernet_subsys(&xtcp_net_ops);
	/* Let RCU callbacks freeing sockets and entries run out. */
	rcu_barrier();
	xtcp_listen_destroy();
	xtcp_ehash_destroy();
	xtcp_hash_destroy();
	proto_unregister(&xtcp_prot);
	WARN_ON_ONCE(xtcp_memory_allocated_sum());
	percpu_counter_destroy(&xtcp_sockets_allocated);
}

module_init(xtcp_init);
module_exit(xtcp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xtcp: a second TCP implementation behind AF_XTCP");
MODULE_ALIAS_NETPROTO(AF_XTCP);
/* From dkms.conf's PACKAGE_VERSION, through Kbuild. */
MODULE_VERSION(XTCP_VERSION);
