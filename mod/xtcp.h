/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtcp: a second TCP implementation behind its own socket family.
 *
 * Shared definitions: the socket, the per-namespace state and the
 * entry points each file offers to the others.
 */
#ifndef _XTCP_H
#define _XTCP_H

#include <linux/bitmap.h>
#include <linux/mutex.h>
#include <linux/seqlock.h>
#include <net/inet_sock.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/tcp_states.h>

#define XTCP_NR_PORTS		65536

/* Defaults of the per-namespace sysctls (Documentation/xtcp.rst). */
#define XTCP_PORT_RANGE_LOW	61000
#define XTCP_PORT_RANGE_HIGH	65535

/**
 * struct xtcp_net - xtcp's state in one network namespace
 *
 * The sysctl_* fields back /proc/sys/net/xtcp/ and are read locklessly
 * with READ_ONCE(); the port range is two words, so it is read under
 * @port_range_lock, a seqlock, as Linux does for ip_local_port_range.
 */
struct xtcp_net {
	struct net		*net;
	struct ctl_table_header	*sysctl_hdr;

	int			sysctl_tw_reuse;
	int			sysctl_tw_reuse_delay;	/* ms */
	int			sysctl_syn_retries;
	int			sysctl_timestamps;
	int			sysctl_sack;
	int			sysctl_window_scaling;
	int			sysctl_rmem[3];
	int			sysctl_wmem[3];

	seqlock_t		port_range_lock;
	int			port_range[2];

	/*
	 * @range_mutex serialises writers of the port range with the
	 * bookkeeping of @reserved: the ports xtcp set in the kernel's own
	 * ip_local_reserved_ports bitmap, so that only those are cleared
	 * again when the range moves or the namespace goes away.
	 */
	struct mutex		range_mutex;
	unsigned long		*reserved;

	/*
	 * A bit per port that has an xtcp bind bucket (an explicit bind or
	 * bind(0)). Set and cleared under the bind bucket's lock; read
	 * without it by the ephemeral port search, which rechecks under
	 * the lock before taking a port.
	 */
	unsigned long		*bound_ports;
};

extern unsigned int xtcp_net_id;

static inline struct xtcp_net *xtcp_pernet(const struct net *net)
{
	return net_generic(net, xtcp_net_id);
}

struct xtcp_bind_bucket;

/**
 * struct xtcp_sock - an xtcp socket
 * @inet: the generic IPv4 socket (addresses, ports, IP options); first
 * @bind_bucket: the bind bucket this socket owns a place in, or NULL
 */
struct xtcp_sock {
	struct inet_sock		inet;
	struct xtcp_bind_bucket		*bind_bucket;
};

static inline struct xtcp_sock *xtcp_sk(const struct sock *sk)
{
	return (struct xtcp_sock *)sk;
}

/* xtcp_main.c */
extern int xtcp_family;
extern struct proto xtcp_prot;

/* xtcp_sock.c */
extern struct net_proto_family xtcp_family_ops;

/* xtcp_hash.c */
int xtcp_hash_init(void);
void xtcp_hash_destroy(void);
int xtcp_bind_port(struct sock *sk, u16 snum);
void xtcp_put_port(struct sock *sk);
void xtcp_get_port_range(struct xtcp_net *xn, int *low, int *high);

/* xtcp_coexist.c */
struct socket *xtcp_shadow_bind(struct net *net, u16 port, int *err);
void xtcp_shadow_release(struct socket *shadow);
void xtcp_reserve_range(struct xtcp_net *xn, int low, int high);
void xtcp_unreserve_all(struct xtcp_net *xn);
bool xtcp_port_reserved_by_admin(struct xtcp_net *xn, u16 port);

/* xtcp_sysctl.c */
int xtcp_sysctl_init_net(struct xtcp_net *xn);
void xtcp_sysctl_exit_net(struct xtcp_net *xn);

#endif /* _XTCP_H */
