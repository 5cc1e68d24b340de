// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the socket family and its operations (socket(), bind(), names,
 * options, poll, close).
 *
 * An xtcp socket is a struct inet_sock underneath, so the generic IPv4
 * socket options (IP_TOS, IP_TTL, IP_FREEBIND, IP_BIND_ADDRESS_NO_PORT,
 * ...) keep their meaning; its address type is AF_INET, as AF_SMC does.
 */
#include <linux/capability.h>
#include <linux/in.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/skbuff.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/l3mdev.h>
#include <net/route.h>
#include <net/sock.h>
#include <linux/xtcp.h>

#include "xtcp.h"

static void xtcp_sock_destruct(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);

	__skb_queue_purge(&sk->sk_receive_queue);
	__skb_queue_purge(&sk->sk_error_queue);

	WARN_ON_ONCE(atomic_read(&sk->sk_rmem_alloc));
	WARN_ON_ONCE(refcount_read(&sk->sk_wmem_alloc) != 1 &&
		     refcount_read(&sk->sk_wmem_alloc) != 0);

	kfree(rcu_dereference_protected(inet->inet_opt, 1));
	dst_release(rcu_dereference_protected(sk->sk_dst_cache, 1));
}

/**
 * xtcp_release() - close(): give the port back and drop the socket
 * @sock: the socket being closed
 *
 * Return: 0.
 */
static int xtcp_release(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (!sk)
		return 0;

	lock_sock(sk);
	xtcp_put_port(sk);
	inet_sk_set_state(sk, TCP_CLOSE);
	sk->sk_shutdown = SHUTDOWN_MASK;
	sock_orphan(sk);
	release_sock(sk);

	sock->sk = NULL;
	sock_put(sk);
	return 0;
}

/*
 * Addresses are struct sockaddr_in. sin_family is AF_INET or the xtcp
 * family; AF_UNSPEC is taken for INADDR_ANY only, as inet_bind() does.
 */
static int xtcp_check_addr_family(const struct sockaddr_in *addr)
{
	if (addr->sin_family == AF_INET || addr->sin_family == xtcp_family)
		return 0;
	if (addr->sin_family == AF_UNSPEC &&
	    addr->sin_addr.s_addr == htonl(INADDR_ANY))
		return 0;
	return -EAFNOSUPPORT;
}

/**
 * xtcp_bind() - bind(): claim a local address and port
 * @sock: the socket
 * @uaddr: a struct sockaddr_in
 * @addr_len: its length
 *
 * The checks and their order follow Linux's inet_bind(): length and
 * family, then the address (EADDRNOTAVAIL unless it is local, or
 * non-local binding is allowed), then the privileged port check
 * (EACCES), then, under the socket lock, a second bind (EINVAL) and the
 * port itself (EADDRINUSE, see xtcp_bind_port()).
 *
 * Return: 0 or a negative errno.
 */
static int xtcp_bind(struct socket *sock, struct sockaddr *uaddr, int addr_len)
{
	struct sockaddr_in *addr = (struct sockaddr_in *)uaddr;
	struct sock *sk = sock->sk;
	struct inet_sock *inet = inet_sk(sk);
	struct net *net = sock_net(sk);
	u32 tb_id = RT_TABLE_LOCAL;
	int chk_addr_ret;
	u16 snum;
	int err;

	if (addr_len < (int)sizeof(struct sockaddr_in))
		return -EINVAL;
	err = xtcp_check_addr_family(addr);
	if (err)
		return err;

	tb_id = l3mdev_fib_table_by_index(net, sk->sk_bound_dev_if) ? : tb_id;
	chk_addr_ret = inet_addr_type_table(net, addr->sin_addr.s_addr, tb_id);
	if (!inet_addr_valid_or_nonlocal(net, inet, addr->sin_addr.s_addr,
					 chk_addr_ret))
		return -EADDRNOTAVAIL;

	snum = ntohs(addr->sin_port);
	if (snum && inet_port_requires_bind_service(net, snum) &&
	    !ns_capable(net->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;

	lock_sock(sk);
	err = -EINVAL;
	if (sk->sk_state != TCP_CLOSE || inet->inet_num)
		goto out;

	inet->inet_rcv_saddr = addr->sin_addr.s_addr;
	inet->inet_saddr = addr->sin_addr.s_addr;
	if (chk_addr_ret == RTN_MULTICAST || chk_addr_ret == RTN_BROADCAST)
		inet->inet_saddr = 0;	/* the device's address at connect */

	if (snum || !inet->bind_address_no_port) {
		err = xtcp_bind_port(sk, snum);
		if (err) {
			inet->inet_saddr = 0;
			inet->inet_rcv_saddr = 0;
			goto out;
		}
	}

	if (inet->inet_rcv_saddr)
		sk->sk_userlocks |= SOCK_BINDADDR_LOCK;
	if (snum)
		sk->sk_userlocks |= SOCK_BINDPORT_LOCK;
	inet->inet_sport = htons(inet->inet_num);
	inet->inet_daddr = 0;
	inet->inet_dport = 0;
	sk_dst_reset(sk);
	err = 0;
out:
	release_sock(sk);
	return err;
}

static int xtcp_getname(struct socket *sock, struct sockaddr *uaddr, int peer)
{
	DECLARE_SOCKADDR(struct sockaddr_in *, sin, uaddr);
	struct sock *sk = sock->sk;
	struct inet_sock *inet = inet_sk(sk);

	sin->sin_family = AF_INET;
	lock_sock(sk);
	if (peer) {
		if (!inet->inet_dport ||
		    ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_SYN_SENT))) {
			release_sock(sk);
			return -ENOTCONN;
		}
		sin->sin_port = inet->inet_dport;
		sin->sin_addr.s_addr = inet->inet_daddr;
	} else {
		sin->sin_port = inet->inet_sport;
		sin->sin_addr.s_addr = inet->inet_rcv_saddr ? :
				       inet->inet_saddr;
	}
	release_sock(sk);
	memset(sin->sin_zero, 0, sizeof(sin->sin_zero));
	return sizeof(*sin);
}

static __poll_t xtcp_poll(struct file *file, struct socket *sock,
			  poll_table *wait)
{
	struct sock *sk = sock->sk;
	int state = inet_sk_state_load(sk);
	__poll_t mask = 0;

	sock_poll_wait(file, sock, wait);

	/* As tcp_poll(): a closed socket hangs up and is writable. */
	if (sk->sk_shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= EPOLLHUP;
	if (state == TCP_CLOSE)
		mask |= EPOLLOUT | EPOLLWRNORM;
	if (READ_ONCE(sk->sk_err) ||
	    !skb_queue_empty_lockless(&sk->sk_error_queue))
		mask |= EPOLLERR;
	return mask;
}

static int xtcp_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	/* Device ioctls (SIOCGIFADDR, ...) go on to the generic handler. */
	return -ENOIOCTLCMD;
}

/*
 * Multicast group membership makes no sense on a stream socket; Linux's
 * TCP answers EPROTO (inet->is_icsk) and so do we, which also means an
 * xtcp socket never holds an mc_list to drop at close.
 */
static bool xtcp_ip_opt_refused(int optname)
{
	switch (optname) {
	case IP_ADD_MEMBERSHIP:
	case IP_DROP_MEMBERSHIP:
	case IP_ADD_SOURCE_MEMBERSHIP:
	case IP_DROP_SOURCE_MEMBERSHIP:
	case IP_BLOCK_SOURCE:
	case IP_UNBLOCK_SOURCE:
	case IP_MSFILTER:
	case MCAST_JOIN_GROUP:
	case MCAST_LEAVE_GROUP:
	case MCAST_JOIN_SOURCE_GROUP:
	case MCAST_LEAVE_SOURCE_GROUP:
	case MCAST_BLOCK_SOURCE:
	case MCAST_UNBLOCK_SOURCE:
	case MCAST_MSFILTER:
		return true;
	}
	return false;
}

static int xtcp_setsockopt(struct socket *sock, int level, int optname,
			   sockptr_t optval, unsigned int optlen)
{
	struct sock *sk = sock->sk;

	if (level == SOL_IP) {
		if (xtcp_ip_opt_refused(optname))
			return -EPROTO;
		return ip_setsockopt(sk, level, optname, optval, optlen);
	}
	return -ENOPROTOOPT;
}

static int xtcp_getsockopt(struct socket *sock, int level, int optname,
			   char __user *optval, int __user *optlen)
{
	struct sock *sk = sock->sk;

	if (level == SOL_IP)
		return ip_getsockopt(sk, level, optname, optval, optlen);
	return -ENOPROTOOPT;
}

static const struct proto_ops xtcp_stream_ops = {
	.family		= PF_XTCP,
	.owner		= THIS_MODULE,
	.release	= xtcp_release,
	.bind		= xtcp_bind,
	.connect	= sock_no_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= sock_no_accept,
	.getname	= xtcp_getname,
	.poll		= xtcp_poll,
	.ioctl		= xtcp_ioctl,
	.listen		= sock_no_listen,
	.shutdown	= sock_no_shutdown,
	.setsockopt	= xtcp_setsockopt,
	.getsockopt	= xtcp_getsockopt,
	.sendmsg	= sock_no_sendmsg,
	.recvmsg	= sock_no_recvmsg,
	.mmap		= sock_no_mmap,
	.sendpage	= sock_no_sendpage,
};

static void xtcp_init_sock(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct inet_sock *inet = inet_sk(sk);

	inet->is_icsk = 0;
	inet->nodefrag = 0;
	inet->pmtudisc = READ_ONCE(sock_net(sk)->ipv4.sysctl_ip_no_pmtu_disc) ?
			 IP_PMTUDISC_DONT : IP_PMTUDISC_WANT;
	atomic_set(&inet->inet_id, 0);
	inet->uc_ttl = -1;
	inet->mc_loop = 1;
	inet->mc_ttl = 1;
	inet->mc_all = 1;
	inet->mc_index = 0;
	inet->mc_list = NULL;
	inet->rcv_tos = 0;

	sk->sk_protocol = IPPROTO_TCP;
	sk->sk_destruct = xtcp_sock_destruct;
	sk->sk_state = TCP_CLOSE;
	sk->sk_sndbuf = READ_ONCE(xn->sysctl_wmem[1]);
	sk->sk_rcvbuf = READ_ONCE(xn->sysctl_rmem[1]);

	xtcp_sk(sk)->bind_bucket = NULL;
}

/**
 * xtcp_create() - socket(AF_XTCP, type, protocol)
 * @net: the caller's network namespace
 * @sock: the socket being created
 * @protocol: 0 or IPPROTO_TCP
 * @kern: created by the kernel itself
 *
 * Only SOCK_STREAM exists; errors match inet_create(): an unknown type
 * is ESOCKTNOSUPPORT, an unknown protocol EPROTONOSUPPORT and a
 * protocol outside 0..IPPROTO_MAX-1 EINVAL.
 *
 * Return: 0 or a negative errno.
 */
static int xtcp_create(struct net *net, struct socket *sock, int protocol,
		       int kern)
{
	struct sock *sk;

	if (protocol < 0 || protocol >= IPPROTO_MAX)
		return -EINVAL;
	if (sock->type != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	if (protocol != IPPROTO_IP && protocol != IPPROTO_TCP)
		return -EPROTONOSUPPORT;

	sock->state = SS_UNCONNECTED;
	sk = sk_alloc(net, xtcp_family, GFP_KERNEL, &xtcp_prot, kern);
	if (!sk)
		return -ENOMEM;

	sock->ops = &xtcp_stream_ops;
	sock_init_data(sock, sk);
	xtcp_init_sock(sk);
	return 0;
}

struct net_proto_family xtcp_family_ops = {
	.family	= PF_XTCP,
	.create	= xtcp_create,
	.owner	= THIS_MODULE,
};
