// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: module glue. The protocol, the per-namespace state and the
 * address family are registered here, and undone in reverse order.
 */
#define pr_fmt(fmt) "xtcp: " fmt

#include <linux/module.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/xtcp.h>

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

struct proto xtcp_prot = {
	.name		= "XTCP",
	.owner		= THIS_MODULE,
	.obj_size	= sizeof(struct xtcp_sock),
	.release_cb	= xtcp_release_cb,
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

	err = proto_register(&xtcp_prot, 1);
	if (err)
		return err;

	err = xtcp_hash_init();
	if (err)
		goto err_proto;

	err = xtcp_ehash_init();
	if (err)
		goto err_hash;

	err = register_pernet_subsys(&xtcp_net_ops);
	if (err)
		goto err_ehash;

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
err_ehash:
	xtcp_ehash_destroy();
err_hash:
	xtcp_hash_destroy();
err_proto:
	proto_unregister(&xtcp_prot);
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
	xtcp_ehash_destroy();
	xtcp_hash_destroy();
	proto_unregister(&xtcp_prot);
}

module_init(xtcp_init);
module_exit(xtcp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xtcp: a second TCP implementation behind AF_XTCP");
MODULE_ALIAS_NETPROTO(AF_XTCP);
