// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: /proc/sys/net/xtcp/, one table per network namespace.
 *
 * The template's .data fields hold offsets into struct xtcp_net; each
 * namespace gets a copy rebased onto its own struct. Every handler
 * validates the whole write before storing anything: a bad value is
 * refused with EINVAL and the old value stays.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/sysctl.h>
#include <net/net_namespace.h>

#include "xtcp.h"

#define XTCP_OFF(field)	((void *)offsetof(struct xtcp_net, field))

static int xtcp_tw_reuse_delay_max = 60000;
static int xtcp_tw_timeout_max = 600;
static int xtcp_fin_timeout_max = 3600;
static int xtcp_syn_retries_max = 127;	/* MAX_TCP_SYNCNT */
static int xtcp_port_min[] = { 1, 1 };
static int xtcp_port_max[] = { 65535, 65535 };

static struct xtcp_net *xtcp_table_net(struct ctl_table *table, void *field)
{
	return (struct xtcp_net *)((char *)table->data - (size_t)field);
}

/*
 * ip_local_port_range: two ports, low <= high, low not below
 * net.ipv4.ip_unprivileged_port_start, as Linux's own sysctl checks.
 * The kernel's reservation follows the range (xtcp_coexist.c).
 */
static int xtcp_proc_port_range(struct ctl_table *table, int write,
				void *buffer, size_t *lenp, loff_t *ppos)
{
	struct xtcp_net *xn = xtcp_table_net(table, XTCP_OFF(port_range));
	int range[2];
	struct ctl_table tmp = {
		.data	= &range,
		.maxlen	= sizeof(range),
		.mode	= table->mode,
		.extra1	= &xtcp_port_min,
		.extra2	= &xtcp_port_max,
	};
	int ret;

	xtcp_get_port_range(xn, &range[0], &range[1]);
	ret = proc_dointvec_minmax(&tmp, write, buffer, lenp, ppos);
	if (!write || ret)
		return ret;

	if (range[1] < range[0] ||
	    range[0] < READ_ONCE(xn->net->ipv4.sysctl_ip_prot_sock))
		return -EINVAL;

	mutex_lock(&xn->range_mutex);
	write_seqlock_bh(&xn->port_range_lock);
	xn->port_range[0] = range[0];
	xn->port_range[1] = range[1];
	write_sequnlock_bh(&xn->port_range_lock);
	xtcp_reserve_range(xn, range[0], range[1]);
	mutex_unlock(&xn->range_mutex);
	return 0;
}

/*
 * rmem, wmem: "min default max", all three, each at least 1, in that
 * order. (Linux's tcp_rmem takes a partial write; xtcp refuses it.)
 */
static int xtcp_proc_mem(struct ctl_table *table, int write, void *buffer,
			 size_t *lenp, loff_t *ppos)
{
	int *data = table->data;
	int val[3];
	struct ctl_table tmp = {
		.data	= val,
		.maxlen	= sizeof(val),
		.mode	= table->mode,
		.extra1	= SYSCTL_ONE,
		.extra2	= SYSCTL_INT_MAX,
	};
	int ret, i;

	for (i = 0; i < 3; i++)
		val[i] = write ? 0 : READ_ONCE(data[i]);
	ret = proc_dointvec_minmax(&tmp, write, buffer, lenp, ppos);
	if (!write || ret)
		return ret;
	if (!val[2] || val[0] > val[1] || val[1] > val[2])
		return -EINVAL;
	for (i = 0; i < 3; i++)
		WRITE_ONCE(data[i], val[i]);
	return 0;
}

/*
 * Integer sysctls go through proc_dointvec_minmax() on a copy, so that a
 * write that fails to parse leaves the value as it was.
 */
static int xtcp_proc_int(struct ctl_table *table, int write, void *buffer,
			 size_t *lenp, loff_t *ppos)
{
	struct ctl_table tmp = *table;
	int val = READ_ONCE(*(int *)table->data);
	int ret;

	tmp.data = &val;
	ret = proc_dointvec_minmax(&tmp, write, buffer, lenp, ppos);
	if (write && !ret)
		WRITE_ONCE(*(int *)table->data, val);
	return ret;
}

static struct ctl_table xtcp_sysctl_template[] = {
	{
		.procname	= "tw_reuse",
		.data		= XTCP_OFF(sysctl_tw_reuse),
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= xtcp_proc_int,
		.extra1		= SYSCTL_ZERO,
		.extra2		= SYSCTL_TWO,
	},
	{
		.procname	= "tw_reuse_delay",
		.data		= XTCP_OFF(sysctl_tw_reuse_delay),
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= xtcp_proc_int,
		.extra1		= SYSCTL_ONE,
		.extra2		= &xtcp_tw_reuse_delay_max,
	},
	{
		.procname	= "tw_timeout",
		.data		= XTCP_OFF(sysctl_tw_timeout),
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= xtcp_proc_int,
		.extra1		= SYSCTL_ONE,
		.extra2		= &xtcp_tw_timeout_max,
	},
	{
		.procname	= "fin_timeout",
		.data		= XTCP_OFF(sysctl_fin_timeout),
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= xtcp_proc_int,
		.extra1		= SYSCTL_ONE,
		.extra2		= &xtcp_fin_timeout_max,
	},
	{
		.procname	= "ip_local_port_range",
		.data		= XTCP_OFF(port_range),
		.maxlen		= sizeof(int) * 2,
		.mode		= 0644,
		.proc_handler	= xtcp_proc_port_range,
	},
	{
		.procname	= "syn_retries",
		.data		= XTCP_OFF(sysctl_syn_retries),
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= xtcp_proc_int,
		.extra1		= SYSCTL_ONE,
		.extra2		= &xtcp_syn_retries_max,
	},
	{
		.procname	= "timestamps",
		.data		= XTCP_OFF(sysctl_timestamps),
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= xtcp_proc_int,
		.extra1		= SYSCTL_ZERO,
		.extra2		= SYSCTL_TWO,
	},
	{
		.procname	= "sack",
		.data		= XTCP_OFF(sysctl_sack),
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= xtcp_proc_int,
		.extra1		= SYSCTL_ZERO,
		.extra2		= SYSCTL_ONE,
	},
	{
		.procname	= "window_scaling",
		.data		= XTCP_OFF(sysctl_window_scaling),
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= xtcp_proc_int,
		.extra1		= SYSCTL_ZERO,
		.extra2		= SYSCTL_ONE,
	},
	{
		.procname	= "rmem",
		.data		= XTCP_OFF(sysctl_rmem),
		.maxlen		= sizeof(int) * 3,
		.mode		= 0644,
		.proc_handler	= xtcp_proc_mem,
	},
	{
		.procname	= "wmem",
		.data		= XTCP_OFF(sysctl_wmem),
		.maxlen		= sizeof(int) * 3,
		.mode		= 0644,
		.proc_handler	= xtcp_proc_mem,
	},
	{ }
};

/**
 * xtcp_sysctl_init_net() - register /proc/sys/net/xtcp for a namespace
 * @xn: the namespace's xtcp state, defaults already set
 *
 * Return: 0 or -ENOMEM.
 */
int xtcp_sysctl_init_net(struct xtcp_net *xn)
{
	struct ctl_table *table;
	unsigned int i;

	table = kmemdup(xtcp_sysctl_template, sizeof(xtcp_sysctl_template),
			GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(xtcp_sysctl_template) - 1; i++)
		table[i].data = (char *)xn + (uintptr_t)table[i].data;

	xn->sysctl_hdr = register_net_sysctl(xn->net, "net/xtcp", table);
	if (!xn->sysctl_hdr) {
		kfree(table);
		return -ENOMEM;
	}
	return 0;
}

void xtcp_sysctl_exit_net(struct xtcp_net *xn)
{
	struct ctl_table *table = xn->sysctl_hdr->ctl_table_arg;

	unregister_net_sysctl_table(xn->sysctl_hdr);
	kfree(table);
}
