// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: living beside Linux's own TCP in the same namespace.
 *
 * Two TCP stacks share one port space. The policy (Documentation/xtcp.rst,
 * "Coexistence with Linux's TCP"):
 *
 * - A port an xtcp socket bind()s is held against Linux's TCP on every
 *   address of the namespace by a "shadow": an ordinary kernel TCP socket
 *   bound to 0.0.0.0:port without SO_REUSEADDR or SO_REUSEPORT, created
 *   with the first xtcp owner of the port and released with the last. It
 *   never listens, connects or carries a byte; it is a reservation the
 *   kernel's own bind and port choice respect. If Linux's TCP already
 *   uses the port on any address, creating the shadow fails and so does
 *   the xtcp bind, with EADDRINUSE.
 *
 * - xtcp's ephemeral range (net.xtcp.ip_local_port_range) is added to the
 *   namespace's net.ipv4.ip_local_reserved_ports while the module is
 *   loaded, so Linux never picks those ports for its own connect() or
 *   bind(0). xtcp remembers which bits it set and clears only those,
 *   and none at all once the administrator has rewritten the list.
 */
#define pr_fmt(fmt) "xtcp: " fmt

#include <linux/in.h>
#include <linux/net.h>
#include <net/sock.h>

#include "xtcp.h"

/**
 * xtcp_shadow_bind() - hold @port against Linux's TCP in @net
 * @net: the namespace
 * @port: the port, host order
 * @err: set on failure: -EADDRINUSE if Linux's TCP uses the port
 *
 * May sleep. The shadow does not pin @net: the xtcp sockets that own
 * the port do, and the shadow goes with the last of them.
 *
 * Return: the shadow socket, or NULL.
 */
struct socket *xtcp_shadow_bind(struct net *net, u16 port, int *err)
{
	struct sockaddr_in sin = {
		.sin_family	 = AF_INET,
		.sin_port	 = htons(port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	struct socket *shadow;

	*err = sock_create_kern(net, PF_INET, SOCK_STREAM, IPPROTO_TCP,
				&shadow);
	if (*err)
		return NULL;

	/*
	 * A kernel socket passes the privileged port check by itself; the
	 * xtcp caller has been checked already. IP_FREEBIND is not needed
	 * for the wildcard address.
	 */
	*err = kernel_bind(shadow, (struct sockaddr *)&sin, sizeof(sin));
	if (*err) {
		sock_release(shadow);
		return NULL;
	}
	return shadow;
}

void xtcp_shadow_release(struct socket *shadow)
{
	sock_release(shadow);
}

static unsigned long *xtcp_kernel_reserved(struct xtcp_net *xn)
{
	return xn->net->ipv4.sysctl_local_reserved_ports;
}

/*
 * Writing net.ipv4.ip_local_reserved_ports replaces the whole list. If
 * a bit xtcp set is clear now, someone rewrote the list since: its bits
 * are the administrator's from then on, xtcp's record is forgotten, and
 * nothing xtcp does later clears them (an unload included).
 */
static void xtcp_forget_if_rewritten(struct xtcp_net *xn, unsigned long *kbits)
{
	unsigned int i;

	for (i = 0; i < BITS_TO_LONGS(XTCP_NR_PORTS); i++)
		if (xn->reserved[i] & ~kbits[i]) {
			bitmap_zero(xn->reserved, XTCP_NR_PORTS);
			return;
		}
}

/**
 * xtcp_reserve_range() - make [@low, @high] xtcp's reservation
 * @xn: the namespace's xtcp state
 * @low: first port
 * @high: last port
 *
 * Clears the bits xtcp set for its previous range, then sets the ones of
 * the new range that the administrator had not set already.
 *
 * Called with @xn->range_mutex held.
 */
void xtcp_reserve_range(struct xtcp_net *xn, int low, int high)
	__must_hold(&xn->range_mutex)
{
	unsigned long *kbits = xtcp_kernel_reserved(xn);
	int port;

	lockdep_assert_held(&xn->range_mutex);
	if (!kbits)
		return;
	xtcp_forget_if_rewritten(xn, kbits);

	for_each_set_bit(port, xn->reserved, XTCP_NR_PORTS) {
		if (port >= low && port <= high)
			continue;
		clear_bit(port, kbits);
		clear_bit(port, xn->reserved);
	}
	for (port = low; port <= high; port++) {
		if (test_bit(port, xn->reserved) || test_bit(port, kbits))
			continue;
		set_bit(port, kbits);
		set_bit(port, xn->reserved);
	}
}

/**
 * xtcp_unreserve_all() - give back every bit xtcp set
 * @xn: the namespace's xtcp state
 */
void xtcp_unreserve_all(struct xtcp_net *xn)
{
	unsigned long *kbits = xtcp_kernel_reserved(xn);
	int port;

	if (!kbits)
		return;

	mutex_lock(&xn->range_mutex);
	xtcp_forget_if_rewritten(xn, kbits);
	for_each_set_bit(port, xn->reserved, XTCP_NR_PORTS)
		clear_bit(port, kbits);
	bitmap_zero(xn->reserved, XTCP_NR_PORTS);
	mutex_unlock(&xn->range_mutex);
}

/**
 * xtcp_port_reserved_by_admin() - is @port in ip_local_reserved_ports
 * for a reason other than xtcp's own range?
 * @xn: the namespace's xtcp state
 * @port: the port
 *
 * Lockless: a racing range change can make the answer stale, which only
 * means one candidate port more or less is tried.
 *
 * Return: true if xtcp's port choice must skip @port.
 */
bool xtcp_port_reserved_by_admin(struct xtcp_net *xn, u16 port)
{
	unsigned long *kbits = xtcp_kernel_reserved(xn);

	return kbits && test_bit(port, kbits) && !test_bit(port, xn->reserved);
}
