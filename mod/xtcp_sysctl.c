// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: /proc/sys/net/xtcp/, one table per network namespace.
 *
 * Two kinds of entries:
 *
 * - xtcp's own (tw_reuse, tw_reuse_delay, tw_timeout,
 *   ip_local_port_range): xtcp's alone, with their own defaults.
 *
 * - knobs shared with Linux's TCP (timestamps, sack, rmem, syn_retries,
 *   ...: the table xtcp_knobs[]). Each follows the namespace's
 *   net.ipv4.tcp_* value until it is written under net.xtcp, which pins
 *   it to its own value; writing its name to net.xtcp.follow_ipv4 makes
 *   it follow again. Reading a knob gives the value in effect either way,
 *   and reading follow_ipv4 lists the knobs that follow Linux's. So a
 *   script tuning net.ipv4.tcp_rmem tunes xtcp too, unless xtcp was told
 *   otherwise.
 *
 * Every handler validates the whole write before storing anything: a
 * bad value is refused with EINVAL and the old value (and the pinned or
 * following state) stays.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysctl.h>
#include <linux/tcp.h>
#include <net/net_namespace.h>
#include <net/tcp.h>

#include "xtcp.h"

#define XTCP_OFF(field)	((void *)offsetof(struct xtcp_net, field))

/* How Linux stores a shared knob's value. */
enum xtcp_knob_unit {
	XTCP_UNIT_PLAIN,	/* as shown */
	XTCP_UNIT_SEC,		/* jiffies, shown in seconds */
	XTCP_UNIT_MS,		/* jiffies, shown in milliseconds */
};

/**
 * struct xtcp_knob_desc - a knob shared with Linux's TCP
 * @name: its name under net.xtcp (Linux's is tcp_<name>)
 * @ipv4_off: offset of Linux's value in struct net
 * @ipv4_size: its size, 1 (u8) or 4 (int)
 * @nvals: values, 1 or 3
 * @unit: how Linux stores it
 * @min: smallest value a write under net.xtcp may give
 * @max: largest
 */
struct xtcp_knob_desc {
	const char	*name;
	u32		ipv4_off;
	u8		ipv4_size;
	u8		nvals;
	u8		unit;
	int		min;
	int		max;
};

/* @_size is Linux's element size; xtcp_knob_sizes checks each one. */
#define XTCP_KNOB(_k, _name, _field, _size, _n, _unit, _min, _max)	\
	[_k] = {							\
		.name = _name,						\
		.ipv4_off = offsetof(struct net, ipv4._field),		\
		.ipv4_size = _size,					\
		.nvals = _n,						\
		.unit = _unit,						\
		.min = _min,						\
		.max = _max,						\
	}

#define XTCP_KNOB_SIZE(_field, _bytes)					\
	static_assert(sizeof_field(struct net, ipv4._field) == (_bytes))

XTCP_KNOB_SIZE(sysctl_tcp_timestamps, 1);
XTCP_KNOB_SIZE(sysctl_tcp_sack, 1);
XTCP_KNOB_SIZE(sysctl_tcp_window_scaling, 1);
XTCP_KNOB_SIZE(sysctl_tcp_syn_retries, 1);
XTCP_KNOB_SIZE(sysctl_tcp_synack_retries, 1);
XTCP_KNOB_SIZE(sysctl_tcp_fin_timeout, 4);
XTCP_KNOB_SIZE(sysctl_tcp_retries2, 1);
XTCP_KNOB_SIZE(sysctl_tcp_orphan_retries, 1);
XTCP_KNOB_SIZE(sysctl_tcp_keepalive_time, 4);
XTCP_KNOB_SIZE(sysctl_tcp_keepalive_intvl, 4);
XTCP_KNOB_SIZE(sysctl_tcp_keepalive_probes, 1);
XTCP_KNOB_SIZE(sysctl_tcp_challenge_ack_limit, 4);
XTCP_KNOB_SIZE(sysctl_tcp_invalid_ratelimit, 4);
XTCP_KNOB_SIZE(sysctl_tcp_rfc1337, 1);
XTCP_KNOB_SIZE(sysctl_tcp_min_snd_mss, 4);
XTCP_KNOB_SIZE(tcp_death_row.sysctl_max_tw_buckets, 4);
XTCP_KNOB_SIZE(sysctl_tcp_rmem, 12);
XTCP_KNOB_SIZE(sysctl_tcp_wmem, 12);
XTCP_KNOB_SIZE(sysctl_tcp_syncookies, 1);
XTCP_KNOB_SIZE(sysctl_max_syn_backlog, 4);
XTCP_KNOB_SIZE(sysctl_tcp_abort_on_overflow, 1);
XTCP_KNOB_SIZE(sysctl_tcp_ecn, 1);
XTCP_KNOB_SIZE(sysctl_tcp_migrate_req, 1);

static const struct xtcp_knob_desc xtcp_knobs[XTCP_KNOB_MAX] = {
	XTCP_KNOB(XTCP_KNOB_TIMESTAMPS, "timestamps", sysctl_tcp_timestamps, 1,
		  1, XTCP_UNIT_PLAIN, 0, 2),
	XTCP_KNOB(XTCP_KNOB_SACK, "sack", sysctl_tcp_sack, 1,
		  1, XTCP_UNIT_PLAIN, 0, 1),
	XTCP_KNOB(XTCP_KNOB_WINDOW_SCALING, "window_scaling",
		  sysctl_tcp_window_scaling, 1, 1, XTCP_UNIT_PLAIN, 0, 1),
	XTCP_KNOB(XTCP_KNOB_SYN_RETRIES, "syn_retries", sysctl_tcp_syn_retries, 1,
		  1, XTCP_UNIT_PLAIN, 1, MAX_TCP_SYNCNT),
	XTCP_KNOB(XTCP_KNOB_SYNACK_RETRIES, "synack_retries",
		  sysctl_tcp_synack_retries, 1, 1, XTCP_UNIT_PLAIN, 0, 255),
	XTCP_KNOB(XTCP_KNOB_FIN_TIMEOUT, "fin_timeout", sysctl_tcp_fin_timeout, 4,
		  1, XTCP_UNIT_SEC, 1, 3600),
	XTCP_KNOB(XTCP_KNOB_RETRIES2, "retries2", sysctl_tcp_retries2, 1,
		  1, XTCP_UNIT_PLAIN, 1, 255),
	XTCP_KNOB(XTCP_KNOB_ORPHAN_RETRIES, "orphan_retries",
		  sysctl_tcp_orphan_retries, 1, 1, XTCP_UNIT_PLAIN, 0, 255),
	XTCP_KNOB(XTCP_KNOB_KEEPALIVE_TIME, "keepalive_time",
		  sysctl_tcp_keepalive_time, 4, 1, XTCP_UNIT_SEC, 1,
		  MAX_TCP_KEEPIDLE),
	XTCP_KNOB(XTCP_KNOB_KEEPALIVE_INTVL, "keepalive_intvl",
		  sysctl_tcp_keepalive_intvl, 4, 1, XTCP_UNIT_SEC, 1,
		  MAX_TCP_KEEPINTVL),
	XTCP_KNOB(XTCP_KNOB_KEEPALIVE_PROBES, "keepalive_probes",
		  sysctl_tcp_keepalive_probes, 1, 1, XTCP_UNIT_PLAIN, 1,
		  MAX_TCP_KEEPCNT),
	XTCP_KNOB(XTCP_KNOB_CHALLENGE_ACK_LIMIT, "challenge_ack_limit",
		  sysctl_tcp_challenge_ack_limit, 4, 1, XTCP_UNIT_PLAIN, 0,
		  INT_MAX),
	XTCP_KNOB(XTCP_KNOB_INVALID_RATELIMIT, "invalid_ratelimit",
		  sysctl_tcp_invalid_ratelimit, 4, 1, XTCP_UNIT_MS, 0, 600000),
	XTCP_KNOB(XTCP_KNOB_RFC1337, "rfc1337", sysctl_tcp_rfc1337, 1,
		  1, XTCP_UNIT_PLAIN, 0, 1),
	XTCP_KNOB(XTCP_KNOB_MIN_SND_MSS, "min_snd_mss", sysctl_tcp_min_snd_mss, 4,
		  1, XTCP_UNIT_PLAIN, TCP_MIN_SND_MSS, 65535),
	XTCP_KNOB(XTCP_KNOB_MAX_TW_BUCKETS, "max_tw_buckets",
		  tcp_death_row.sysctl_max_tw_buckets, 4, 1, XTCP_UNIT_PLAIN,
		  0, INT_MAX),
	XTCP_KNOB(XTCP_KNOB_RMEM, "rmem", sysctl_tcp_rmem, 4,
		  3, XTCP_UNIT_PLAIN, 1, INT_MAX),
	XTCP_KNOB(XTCP_KNOB_WMEM, "wmem", sysctl_tcp_wmem, 4,
		  3, XTCP_UNIT_PLAIN, 1, INT_MAX),
	XTCP_KNOB(XTCP_KNOB_SYNCOOKIES, "syncookies", sysctl_tcp_syncookies, 1,
		  1, XTCP_UNIT_PLAIN, 0, 2),
	XTCP_KNOB(XTCP_KNOB_MAX_SYN_BACKLOG, "max_syn_backlog",
		  sysctl_max_syn_backlog, 4, 1, XTCP_UNIT_PLAIN, 0, INT_MAX),
	XTCP_KNOB(XTCP_KNOB_ABORT_ON_OVERFLOW, "abort_on_overflow",
		  sysctl_tcp_abort_on_overflow, 1, 1, XTCP_UNIT_PLAIN, 0, 1),
	XTCP_KNOB(XTCP_KNOB_ECN, "ecn", sysctl_tcp_ecn, 1, 1, XTCP_UNIT_PLAIN,
		  0, 2),
	XTCP_KNOB(XTCP_KNOB_MIGRATE_REQ, "migrate_req", sysctl_tcp_migrate_req,
		  1, 1, XTCP_UNIT_PLAIN, 0, 1),
};

/**
 * __xtcp_knob_ipv4() - a shared knob's value as Linux's TCP has it
 * @net: the namespace
 * @k: the knob
 * @i: which value (0 unless the knob is a vector)
 *
 * Return: the value in the unit net.xtcp shows it in.
 */
int __xtcp_knob_ipv4(const struct net *net, enum xtcp_knob k, int i)
{
	const struct xtcp_knob_desc *d = &xtcp_knobs[k];
	const void *p = (const char *)net + d->ipv4_off + i * d->ipv4_size;
	int val = d->ipv4_size == 1 ? READ_ONCE(*(const u8 *)p) :
				      READ_ONCE(*(const int *)p);

	switch (d->unit) {
	case XTCP_UNIT_SEC:
		return val / HZ;
	case XTCP_UNIT_MS:
		return jiffies_to_msecs(val);
	}
	return val;
}

static struct xtcp_net *xtcp_table_net(struct ctl_table *table, void *field)
{
	return (struct xtcp_net *)((char *)table->data - (size_t)field);
}

/*
 * A shared knob. .data is &xn->knob[k][0], .extra1 its descriptor.
 * Reading gives the value in effect; a write is parsed whole, checked
 * against the descriptor's bounds (and, for rmem and wmem, all three
 * values in order min <= default <= max, as xtcp has always required),
 * then stored and pinned.
 */
static int xtcp_proc_knob(struct ctl_table *table, int write, void *buffer,
			  size_t *lenp, loff_t *ppos)
{
	const struct xtcp_knob_desc *d = table->extra1;
	enum xtcp_knob k = d - xtcp_knobs;
	struct xtcp_net *xn = (struct xtcp_net *)((char *)table->data -
			      offsetof(struct xtcp_net, knob) -
			      k * sizeof(xn->knob[0]));
	int val[3], min = d->min, max = d->max;
	struct ctl_table tmp = {
		.data	= val,
		.maxlen	= d->nvals * sizeof(int),
		.mode	= table->mode,
		.extra1	= &min,
		.extra2	= &max,
	};
	int ret, i;

	if (write && !*lenp)
		return 0;	/* nothing written: nothing pinned */
	/* No knob's minimum is below 0: INT_MIN marks a value not written. */
	for (i = 0; i < d->nvals; i++)
		val[i] = write ? INT_MIN : xtcp_knob_i(xn->net, k, i);
	ret = proc_dointvec_minmax(&tmp, write, buffer, lenp, ppos);
	if (!write || ret)
		return ret;
	/*
	 * Nothing parsed: a write at a non-zero offset, which
	 * proc_dointvec_minmax() ignores (returning success) under
	 * sysctl_writes_strict. The value and its pinned state stay, as
	 * they would for Linux's own knob.
	 */
	if (val[0] == INT_MIN)
		return 0;
	if (d->nvals == 3 && (val[2] == INT_MIN || val[0] > val[1] ||
			      val[1] > val[2]))
		return -EINVAL;
	for (i = 0; i < d->nvals; i++)
		WRITE_ONCE(xn->knob[k][i], val[i]);
	set_bit(k, &xn->knob_pinned);
	return 0;
}

/*
 * follow_ipv4: reads as the names of the knobs that follow net.ipv4,
 * space separated; a write of one or more knob names makes them follow
 * again. An unknown name refuses the whole write.
 */
static int xtcp_proc_follow(struct ctl_table *table, int write, void *buffer,
			    size_t *lenp, loff_t *ppos)
{
	struct xtcp_net *xn = table->data;
	unsigned long follow = 0;
	char *buf, *p, *tok;
	struct ctl_table tmp;
	int k, ret;

	if (!write) {
		size_t len = 0, size = 512;

		buf = kzalloc(size, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		for (k = 0; k < XTCP_KNOB_MAX; k++)
			if (!test_bit(k, &xn->knob_pinned))
				len += scnprintf(buf + len, size - len, "%s%s",
						 len ? " " : "",
						 xtcp_knobs[k].name);
		tmp = *table;
		tmp.data = buf;
		tmp.maxlen = size;
		ret = proc_dostring(&tmp, 0, buffer, lenp, ppos);
		kfree(buf);
		return ret;
	}

	if (*ppos || !*lenp || *lenp > 4096)
		return -EINVAL;
	buf = kmemdup_nul(buffer, *lenp, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	p = buf;
	ret = 0;
	while ((tok = strsep(&p, " \t\n"))) {
		if (!*tok)
			continue;
		for (k = 0; k < XTCP_KNOB_MAX; k++)
			if (!strcmp(tok, xtcp_knobs[k].name))
				break;
		if (k == XTCP_KNOB_MAX) {
			ret = -EINVAL;
			break;
		}
		follow |= BIT(k);
	}
	kfree(buf);
	if (ret || !follow)
		return -EINVAL;
	for_each_set_bit(k, &follow, XTCP_KNOB_MAX)
		clear_bit(k, &xn->knob_pinned);
	*ppos += *lenp;
	return 0;
}

static int xtcp_tw_reuse_delay_max = 60000;
static int xtcp_tw_timeout_max = 600;
static int xtcp_port_min[] = { 1, 1 };
static int xtcp_port_max[] = { 65535, 65535 };

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

/*
 * mem (pages, three longs) and max_orphans: one value for the whole
 * host, as Linux's tcp_mem and tcp_max_orphans, so only the initial
 * namespace lists them. Parsed into a copy: a bad write keeps the old.
 */
static int xtcp_proc_mem(struct ctl_table *table, int write, void *buffer,
			 size_t *lenp, loff_t *ppos)
{
	unsigned long val[3];
	struct ctl_table tmp = *table;
	int ret, i;

	/*
	 * A write at a non-zero offset is ignored, as sysctl_writes_strict
	 * (the default) has it for Linux's tcp_mem; parsing it would leave
	 * val[] zero and refuse it.
	 */
	if (write && (!*lenp || *ppos))
		return 0;
	for (i = 0; i < 3; i++)
		val[i] = write ? 0 : READ_ONCE(xtcp_sysctl_mem[i]);
	tmp.data = val;
	ret = proc_doulongvec_minmax(&tmp, write, buffer, lenp, ppos);
	if (!write || ret)
		return ret;
	if (!val[0] || val[0] > val[1] || val[1] > val[2] ||
	    val[2] > LONG_MAX)
		return -EINVAL;
	for (i = 0; i < 3; i++)
		WRITE_ONCE(xtcp_sysctl_mem[i], val[i]);
	return 0;
}

/*
 * congestion_control: the algorithm new sockets of the namespace get,
 * by name; a name xtcp does not have is refused with ENOENT and the old
 * choice kept, as Linux's tcp_congestion_control.
 */
static int xtcp_proc_cong(struct ctl_table *table, int write, void *buffer,
			  size_t *lenp, loff_t *ppos)
{
	struct xtcp_net *xn = xtcp_table_net(table, XTCP_OFF(ca_default));
	const struct xtcp_cong_ops *ops;
	char name[XTCP_CA_NAME_MAX];
	struct ctl_table tmp = {
		.data	= name,
		.maxlen	= sizeof(name),
	};
	int ret;

	strscpy(name, READ_ONCE(xn->ca_default)->name, sizeof(name));
	ret = proc_dostring(&tmp, write, buffer, lenp, ppos);
	if (!write || ret)
		return ret;
	ops = xtcp_cong_find(name);
	if (!ops)
		return -ENOENT;
	WRITE_ONCE(xn->ca_default, ops);
	return 0;
}

/* available_congestion_control: every algorithm xtcp has. */
static int xtcp_proc_cong_available(struct ctl_table *table, int write,
				    void *buffer, size_t *lenp, loff_t *ppos)
{
	char names[8 * XTCP_CA_NAME_MAX];
	struct ctl_table tmp = {
		.data	= names,
		.maxlen	= sizeof(names),
	};

	xtcp_cong_available(names, sizeof(names));
	return proc_dostring(&tmp, write, buffer, lenp, ppos);
}

static const struct ctl_table xtcp_global_template[] = {
	{
		.procname	= "mem",
		.data		= &xtcp_sysctl_mem,
		.maxlen		= sizeof(xtcp_sysctl_mem),
		.mode		= 0644,
		.proc_handler	= xtcp_proc_mem,
	},
	{
		.procname	= "max_orphans",
		.data		= &xtcp_sysctl_max_orphans,
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= xtcp_proc_int,
		.extra1		= SYSCTL_ZERO,
		.extra2		= SYSCTL_INT_MAX,
	},
};

/* xtcp's own entries; the shared knobs and follow_ipv4 are appended. */
static const struct ctl_table xtcp_own_template[] = {
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
		.procname	= "congestion_control",
		.data		= XTCP_OFF(ca_default),
		.maxlen		= XTCP_CA_NAME_MAX,
		.mode		= 0644,
		.proc_handler	= xtcp_proc_cong,
	},
	{
		.procname	= "available_congestion_control",
		.data		= XTCP_OFF(ca_default),
		.maxlen		= 8 * XTCP_CA_NAME_MAX,
		.mode		= 0444,
		.proc_handler	= xtcp_proc_cong_available,
	},
	{
		.procname	= "ip_local_port_range",
		.data		= XTCP_OFF(port_range),
		.maxlen		= sizeof(int) * 2,
		.mode		= 0644,
		.proc_handler	= xtcp_proc_port_range,
	},
};

/**
 * xtcp_sysctl_init_net() - register /proc/sys/net/xtcp for a namespace
 * @xn: the namespace's xtcp state, defaults already set
 *
 * Return: 0 or -ENOMEM.
 */
int xtcp_sysctl_init_net(struct xtcp_net *xn)
{
	unsigned int nown = ARRAY_SIZE(xtcp_own_template);
	struct ctl_table *table, *t;
	unsigned int i;

	/* own entries, the knobs, follow_ipv4, global ones, the terminator */
	table = kcalloc(nown + XTCP_KNOB_MAX + 2 +
			ARRAY_SIZE(xtcp_global_template), sizeof(*table),
			GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	memcpy(table, xtcp_own_template, sizeof(xtcp_own_template));
	for (i = 0; i < nown; i++)
		table[i].data = (char *)xn + (uintptr_t)table[i].data;
	for (i = 0, t = table + nown; i < XTCP_KNOB_MAX; i++, t++) {
		t->procname = xtcp_knobs[i].name;
		t->data = &xn->knob[i][0];
		t->maxlen = xtcp_knobs[i].nvals * sizeof(int);
		t->mode = 0644;
		t->proc_handler = xtcp_proc_knob;
		t->extra1 = (void *)&xtcp_knobs[i];
	}
	t->procname = "follow_ipv4";
	t->data = xn;
	t->maxlen = 512;
	t->mode = 0644;
	t->proc_handler = xtcp_proc_follow;
	if (net_eq(xn->net, &init_net))
		memcpy(t + 1, xtcp_global_template,
		       sizeof(xtcp_global_template));

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
