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
#include <linux/delay.h>
#include <linux/in.h>
#include <linux/jump_label.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <asm/ioctls.h>
#include <linux/sockios.h>
#include <linux/skbuff.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/l3mdev.h>
#include <net/route.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <linux/xtcp.h>

#include "xtcp.h"
#include "xtcp_trace.h"

static void xtcp_sock_destruct(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);

	__skb_queue_purge(&sk->sk_receive_queue);
	__skb_queue_purge(&sk->sk_error_queue);
	__skb_queue_purge(&xtcp_sk(sk)->ooo_queue);
	xtcp_purge_write_queue(sk);
	sk_mem_reclaim_final(sk);

	WARN_ON_ONCE(atomic_read(&sk->sk_rmem_alloc));
	WARN_ON_ONCE(sk->sk_forward_alloc);
	if (xtcp_sk(sk)->orphan_counted)
		this_cpu_dec(xtcp_orphan_count);
	sk_sockets_allocated_dec(sk);
	WARN_ON_ONCE(refcount_read(&sk->sk_wmem_alloc) != 1 &&
		     refcount_read(&sk->sk_wmem_alloc) != 0);

	kfree(rcu_dereference_protected(inet->inet_opt, 1));
	dst_release(rcu_dereference_protected(sk->sk_dst_cache, 1));
}

/**
 * xtcp_set_state() - move @sk to @state
 * @sk: the socket, owned by the caller
 * @state: a TCP_* state
 *
 * Entering TCP_CLOSE takes the socket out of the established table.
 */
void xtcp_set_state(struct sock *sk, int state)
{
	trace_xtcp_set_state(sk, sk->sk_state, state);
	inet_sk_set_state(sk, state);
	if (state == TCP_CLOSE)
		xtcp_unhash(sk);
}

/**
 * xtcp_done() - the connection is over: stop timers, close, tell the user
 * @sk: the socket, owned by the caller, who also holds a reference
 */
void xtcp_done(struct sock *sk)
{
	xtcp_clear_timers(sk);
	xtcp_set_state(sk, TCP_CLOSE);
	sk->sk_shutdown = SHUTDOWN_MASK;
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_state_change(sk);
}

/* Abort: a RST to the peer, the connection closed (ECONNRESET-free). */
static void xtcp_abort(struct sock *sk)
{
	xtcp_send_ack(sk, TCPHDR_RST | TCPHDR_ACK);
	xtcp_done(sk);
}

/**
 * xtcp_release() - close(): end the connection and drop the socket
 * @sock: the socket being closed
 *
 * As tcp_close(): in SYN-SENT nothing is sent (a late SYN-ACK then meets
 * no xtcp socket and Linux answers it with a RST). Unread received data,
 * or SO_LINGER with a zero timeout, aborts the connection with a RST.
 * Otherwise a FIN is queued after the data not yet sent, and the socket
 * finishes as an orphan, kept alive by the established table and its
 * timers; with SO_LINGER, close() first waits up to the linger time for
 * the FIN to be acknowledged. The bound port is given back at once: an
 * orphan keeps only its 4-tuple.
 *
 * Return: 0.
 */
static int xtcp_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	bool unread;

	if (!sk)
		return 0;

	lock_sock(sk);
	sk->sk_shutdown = SHUTDOWN_MASK;
	unread = !skb_queue_empty(&sk->sk_receive_queue);
	__skb_queue_purge(&sk->sk_receive_queue);
	__skb_queue_purge(&xtcp_sk(sk)->ooo_queue);

	switch (sk->sk_state) {
	case TCP_CLOSE:
		break;
	case TCP_LISTEN:
		xtcp_listen_stop(sk);
		break;
	case TCP_SYN_SENT:
		xtcp_done(sk);
		break;
	default:
		if (unread ||
		    (sock_flag(sk, SOCK_LINGER) && !sk->sk_lingertime)) {
			xtcp_abort(sk);
			break;
		}
		xtcp_close_send(sk);
		if (sock_flag(sk, SOCK_LINGER))
			sk_stream_wait_close(sk, sk->sk_lingertime);
	}
	xtcp_put_port(sk);
	sock_orphan(sk);
	if (sk->sk_state != TCP_CLOSE) {
		/* An orphan, until it closes (tcp_close()'s accounting). */
		this_cpu_inc(xtcp_orphan_count);
		xtcp_sk(sk)->orphan_counted = 1;
		if (xtcp_check_oom(sk)) {
			XTCP_INC_STATS(sock_net(sk), XTCP_MIB_ABORTONMEMORY);
			xtcp_abort(sk);
		}
	}
	/* An orphan in FIN-WAIT-2 ends when its timer fires. */
	if (sk->sk_state == TCP_FIN_WAIT2)
		xtcp_reset_retrans_timer(sk);
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

/**
 * xtcp_v4_connect() - route, choose the 4-tuple, send the SYN
 * @sk: the socket, locked, in TCP_CLOSE
 * @uaddr: a struct sockaddr_in
 * @addr_len: its length
 *
 * Our tcp_v4_connect(). The route honours a bound address and
 * SO_BINDTODEVICE and gives the source address when none is bound;
 * multicast and broadcast destinations are ENETUNREACH.
 *
 * Return: 0 once the SYN is on its way, or a negative errno.
 */
static int xtcp_v4_connect(struct sock *sk, struct sockaddr *uaddr,
			   int addr_len)
{
	struct sockaddr_in *usin = (struct sockaddr_in *)uaddr;
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	__be16 orig_sport, orig_dport;
	struct flowi4 fl4;
	struct rtable *rt;
	int err;

	if (addr_len < (int)sizeof(struct sockaddr_in))
		return -EINVAL;
	if (usin->sin_family != AF_INET && usin->sin_family != xtcp_family)
		return -EAFNOSUPPORT;

	orig_sport = inet->inet_sport;
	orig_dport = usin->sin_port;
	rt = ip_route_connect(&fl4, usin->sin_addr.s_addr, inet->inet_saddr,
			      sk->sk_bound_dev_if, IPPROTO_TCP, orig_sport,
			      orig_dport, sk);
	if (IS_ERR(rt))
		return PTR_ERR(rt);
	if (rt->rt_flags & (RTCF_MULTICAST | RTCF_BROADCAST)) {
		ip_rt_put(rt);
		return -ENETUNREACH;
	}

	if (!inet->inet_saddr)
		inet->inet_saddr = fl4.saddr;
	sk_rcv_saddr_set(sk, inet->inet_saddr);
	inet->inet_dport = usin->sin_port;
	sk_daddr_set(sk, usin->sin_addr.s_addr);
	xs->ts_recent_stamp = 0;

	xtcp_set_state(sk, TCP_SYN_SENT);
	err = xtcp_hash_connect(sk);
	if (err)
		goto failure;

	rt = ip_route_newports(&fl4, rt, orig_sport, orig_dport,
			       inet->inet_sport, inet->inet_dport, sk);
	if (IS_ERR(rt)) {
		err = PTR_ERR(rt);
		rt = NULL;
		goto failure;
	}
	sk_setup_caps(sk, &rt->dst);
	rt = NULL;

	/* A TIME_WAIT takeover already set the sequence and timestamps. */
	if (!xs->ts_recent_stamp)
		xtcp_init_seq(sk);
	atomic_set(&inet->inet_id, get_random_u16());

	/* A lost first SYN is the retransmission timer's business. */
	xtcp_send_syn(sk);
	return 0;

failure:
	xtcp_set_state(sk, TCP_CLOSE);
	if (rt)
		ip_rt_put(rt);
	sk->sk_route_caps = 0;
	inet->inet_dport = 0;
	sk_daddr_set(sk, 0);
	if (!(sk->sk_userlocks & SOCK_BINDADDR_LOCK)) {
		inet->inet_saddr = 0;
		sk_rcv_saddr_set(sk, 0);
	}
	return err;
}

/**
 * xtcp_disconnect() - connect(AF_UNSPEC): back to an unconnected socket
 * @sk: the socket, locked
 *
 * As tcp_disconnect(): a synchronised connection is reset (RST on the
 * wire, ECONNRESET in SO_ERROR), a connect in progress is abandoned
 * silently (ECONNRESET in SO_ERROR). A bound address and port stay.
 *
 * Return: 0.
 */
int xtcp_disconnect(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	int old_state = sk->sk_state;

	if (old_state == TCP_CLOSE)
		return 0;
	if (old_state == TCP_LISTEN) {
		/* As tcp_disconnect(): an ephemeral port goes with it. */
		xtcp_listen_stop(sk);
		if (!(sk->sk_userlocks & SOCK_BINDPORT_LOCK))
			xtcp_put_port(sk);
		return 0;
	}

	if ((1 << old_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 |
				TCPF_SYN_RECV | TCPF_CLOSING | TCPF_LAST_ACK)) {
		xtcp_send_ack(sk, TCPHDR_RST | TCPHDR_ACK);
		WRITE_ONCE(sk->sk_err, ECONNRESET);
	} else if (old_state == TCP_SYN_SENT) {
		WRITE_ONCE(sk->sk_err, ECONNRESET);
	}

	xtcp_clear_timers(sk);
	xtcp_set_state(sk, TCP_CLOSE);
	__skb_queue_purge(&sk->sk_receive_queue);
	__skb_queue_purge(&xs->ooo_queue);
	xtcp_purge_write_queue(sk);
	xs->fin_queued = 0;
	sk->sk_shutdown = 0;
	sock_reset_flag(sk, SOCK_DONE);
	inet->inet_dport = 0;
	sk_daddr_set(sk, 0);
	if (!(sk->sk_userlocks & SOCK_BINDADDR_LOCK)) {
		inet->inet_saddr = 0;
		sk_rcv_saddr_set(sk, 0);
	}
	xs->ts_recent_stamp = 0;
	xs->ts_recent = 0;
	sk_dst_reset(sk);
	sk_error_report(sk);
	return 0;
}

static long xtcp_wait_for_connect(struct sock *sk, long timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	add_wait_queue(sk_sleep(sk), &wait);
	sk->sk_write_pending++;
	while ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) {
		release_sock(sk);
		timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, timeo);
		lock_sock(sk);
		if (signal_pending(current) || !timeo)
			break;
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	sk->sk_write_pending--;
	return timeo;
}

/**
 * xtcp_stream_connect() - connect()
 * @sock: the socket
 * @uaddr: the peer, a struct sockaddr_in (AF_UNSPEC disconnects)
 * @addr_len: its length
 * @flags: file flags (O_NONBLOCK)
 *
 * The socket-level state machine of Linux's __inet_stream_connect():
 * EISCONN when connected, EALREADY for a non-blocking connect in
 * progress, EINPROGRESS when a non-blocking connect starts or a blocking
 * one reaches SO_SNDTIMEO, EINTR/ERESTARTSYS on a signal, and the
 * connection's error (SO_ERROR) when it fails.
 *
 * Return: 0 or a negative errno.
 */
static int xtcp_stream_connect(struct socket *sock, struct sockaddr *uaddr,
			       int addr_len, int flags)
{
	struct sock *sk = sock->sk;
	long timeo;
	int err;

	if (addr_len < (int)sizeof(uaddr->sa_family))
		return -EINVAL;

	lock_sock(sk);
	if (uaddr->sa_family == AF_UNSPEC) {
		err = xtcp_disconnect(sk);
		sock->state = err ? SS_DISCONNECTING : SS_UNCONNECTED;
		goto out;
	}

	switch (sock->state) {
	default:
		err = -EINVAL;
		goto out;
	case SS_CONNECTED:
		err = -EISCONN;
		goto out;
	case SS_CONNECTING:
		err = -EALREADY;
		break;
	case SS_UNCONNECTED:
		err = -EISCONN;
		if (sk->sk_state != TCP_CLOSE)
			goto out;
		err = xtcp_v4_connect(sk, uaddr, addr_len);
		if (err < 0)
			goto out;
		sock->state = SS_CONNECTING;
		err = -EINPROGRESS;
		break;
	}

	timeo = sock_sndtimeo(sk, flags & O_NONBLOCK);
	if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) {
		/* err is EINPROGRESS or EALREADY */
		if (!timeo || !xtcp_wait_for_connect(sk, timeo))
			goto out;
		err = sock_intr_errno(timeo);
		if (signal_pending(current))
			goto out;
	}

	if (sk->sk_state == TCP_CLOSE) {
		err = sock_error(sk) ? : -ECONNABORTED;
		sock->state = SS_UNCONNECTED;
		goto out;
	}
	sock->state = SS_CONNECTED;
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
	if (state == TCP_LISTEN)
		return xtcp_listen_poll(sk);

	/*
	 * As tcp_poll(): a closed socket hangs up (and, never having
	 * connected, is writable); once synchronised, readable with data
	 * queued or after the peer's FIN, writable with send buffer free
	 * (and after shutdown(SHUT_WR), so that a writer meets EPIPE).
	 */
	if (sk->sk_shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= EPOLLHUP;
	if (sk->sk_shutdown & RCV_SHUTDOWN)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	if (state != TCP_SYN_SENT && state != TCP_SYN_RECV) {
		if (!skb_queue_empty_lockless(&sk->sk_receive_queue))
			mask |= EPOLLIN | EPOLLRDNORM;
		if (sk->sk_shutdown & SEND_SHUTDOWN) {
			mask |= EPOLLOUT | EPOLLWRNORM;
		} else if (xtcp_stream_writeable(sk, 0)) {
			mask |= EPOLLOUT | EPOLLWRNORM;
		} else {
			set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
			/*
			 * Order the flag before the second look: an ACK
			 * freeing space tests the flag after it frees.
			 */
			smp_mb__after_atomic();
			if (xtcp_stream_writeable(sk, 0))
				mask |= EPOLLOUT | EPOLLWRNORM;
		}
	}
	if (READ_ONCE(sk->sk_err) ||
	    !skb_queue_empty_lockless(&sk->sk_error_queue))
		mask |= EPOLLERR;
	return mask;
}

/*
 * A test hook: milliseconds SIOCINQ keeps the socket owned by the user
 * (between lock_sock() and release_sock()), so that a test can have
 * timers fire, segments wait in the backlog and ICMP errors arrive while
 * the user owns the socket, and see on the wire what release_sock() then
 * does (xtcp_release_cb()). Off (a static branch not taken) unless set.
 */
static DEFINE_STATIC_KEY_FALSE(xtcp_own_delay_key);
static unsigned int xtcp_own_delay_ms;

static int xtcp_own_delay_set(const char *val, const struct kernel_param *kp)
{
	int err = param_set_uint_minmax(val, kp, 0, 10000);

	if (err)
		return err;
	if (READ_ONCE(xtcp_own_delay_ms))
		static_branch_enable(&xtcp_own_delay_key);
	else
		static_branch_disable(&xtcp_own_delay_key);
	return 0;
}

static const struct kernel_param_ops xtcp_own_delay_ops = {
	.set	= xtcp_own_delay_set,
	.get	= param_get_uint,
};
module_param_cb(own_delay_ms, &xtcp_own_delay_ops, &xtcp_own_delay_ms, 0644);
MODULE_PARM_DESC(own_delay_ms, "testing: ms SIOCINQ holds the socket owned (default 0)");

/*
 * SIOCINQ: bytes readable; SIOCOUTQ: bytes not yet acknowledged;
 * SIOCOUTQNSD: bytes not yet sent. Device ioctls (SIOCGIFADDR, ...) go
 * on to the generic handler. With the own_delay_ms test hook set,
 * SIOCINQ sleeps that long with the socket owned.
 */
static int xtcp_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	int answ;

	switch (cmd) {
	case SIOCINQ:
		if (sk->sk_state == TCP_LISTEN)
			return -EINVAL;
		lock_sock(sk);
		if (static_branch_unlikely(&xtcp_own_delay_key))
			msleep(READ_ONCE(xtcp_own_delay_ms));
		answ = xs->rcv_nxt - xs->copied_seq;
		if (sock_flag(sk, SOCK_DONE) && answ)
			answ--;			/* the FIN */
		if (sk->sk_state == TCP_SYN_SENT || sk->sk_state == TCP_CLOSE)
			answ = skb_queue_empty(&sk->sk_receive_queue) ? 0 : answ;
		release_sock(sk);
		break;
	case SIOCOUTQ:
		answ = sk->sk_state == TCP_CLOSE || sk->sk_state == TCP_SYN_SENT ?
		       0 : READ_ONCE(xs->write_seq) - READ_ONCE(xs->snd_una);
		break;
	case SIOCOUTQNSD:
		answ = sk->sk_state == TCP_CLOSE || sk->sk_state == TCP_SYN_SENT ?
		       0 : READ_ONCE(xs->write_seq) - READ_ONCE(xs->snd_nxt);
		break;
	default:
		return -ENOIOCTLCMD;
	}
	return put_user(answ, (int __user *)arg);
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

/*
 * SOL_TCP options. TCP_MAXSEG as Linux: 0 clears it, otherwise
 * TCP_MIN_MSS..MAX_TCP_WINDOW, else EINVAL; it lowers the MSS the SYN
 * offers. TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT override the
 * namespace's keepalive sysctls for the socket, with Linux's bounds.
 * TCP_CONGESTION takes an algorithm's name (xtcp_cong.c).
 */
static int xtcp_tcp_setsockopt(struct sock *sk, int optname, sockptr_t optval,
			       unsigned int optlen)
{
	int val, err = 0;

	if (optname == TCP_CONGESTION) {
		/* As Linux: a name, not an int; ENOENT for one xtcp lacks. */
		const struct xtcp_cong_ops *ops;
		char name[XTCP_CA_NAME_MAX];
		long n;

		if (optlen < 1)
			return -EINVAL;
		n = strncpy_from_sockptr(name, optval,
					 min_t(long, XTCP_CA_NAME_MAX - 1, optlen));
		if (n < 0)
			return -EFAULT;
		name[n] = '\0';
		ops = xtcp_cong_find(name);
		if (!ops)
			return -ENOENT;
		lock_sock(sk);
		if (ops != xtcp_sk(sk)->ca_ops)
			xtcp_ca_set(sk, ops);
		release_sock(sk);
		return 0;
	}
	if (optlen < sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;

	lock_sock(sk);
	switch (optname) {
	case TCP_MAXSEG:
		if (val && (val < TCP_MIN_MSS || val > MAX_TCP_WINDOW))
			err = -EINVAL;
		else
			xtcp_sk(sk)->user_mss = val;
		break;
	case TCP_NODELAY:
		xtcp_sk(sk)->nodelay = !!val;
		if (val && sk->sk_state != TCP_CLOSE)
			xtcp_write_xmit(sk, true);
		break;
	case TCP_CORK:
		xtcp_sk(sk)->cork = !!val;
		if (!val && sk->sk_state != TCP_CLOSE)
			xtcp_write_xmit(sk, true);
		break;
	case TCP_USER_TIMEOUT:
		/* ms; 0 restores the retry counts alone, as Linux. */
		if (val < 0)
			err = -EINVAL;
		else
			WRITE_ONCE(xtcp_sk(sk)->user_timeout, val);
		break;
	case TCP_QUICKACK:
		/* As tcp_setsockopt(): 1 sends owed ACKs now and quickly. */
		xtcp_sk(sk)->pingpong = !val;
		if (val) {
			xtcp_sk(sk)->quickacks = 16;
			if (xtcp_sk(sk)->ack_pending &&
			    sk->sk_state != TCP_CLOSE && sk->sk_state != TCP_LISTEN)
				xtcp_send_ack(sk, TCPHDR_ACK);
		} else {
			xtcp_sk(sk)->quickacks = 0;
		}
		break;
	case TCP_NOTSENT_LOWAT:
		WRITE_ONCE(xtcp_sk(sk)->notsent_lowat, val);
		sk->sk_write_space(sk);
		break;
	case TCP_INQ:
		if (val < 0 || val > 1)
			err = -EINVAL;
		else
			xtcp_sk(sk)->recvmsg_inq = val;
		break;
	/* The keepalive times, with Linux's bounds. */
	case TCP_KEEPIDLE:
		if (val < 1 || val > MAX_TCP_KEEPIDLE) {
			err = -EINVAL;
			break;
		}
		xtcp_sk(sk)->keepalive_time = val * HZ;
		xtcp_keepalive_changed(sk);
		break;
	case TCP_KEEPINTVL:
		if (val < 1 || val > MAX_TCP_KEEPINTVL)
			err = -EINVAL;
		else
			xtcp_sk(sk)->keepalive_intvl = val * HZ;
		break;
	case TCP_KEEPCNT:
		if (val < 1 || val > MAX_TCP_KEEPCNT)
			err = -EINVAL;
		else
			xtcp_sk(sk)->keepalive_probes = val;
		break;
	default:
		err = -ENOPROTOOPT;
	}
	release_sock(sk);
	return err;
}

static int xtcp_tcp_getsockopt(struct sock *sk, int optname,
			       char __user *optval, int __user *optlen)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int val, len;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	if (optname == TCP_INFO)
		return xtcp_get_info(sk, optval, optlen);
	if (optname == TCP_CC_INFO) {
		/* Neither reno nor cubic has any to give, as in Linux. */
		if (put_user(0, optlen))
			return -EFAULT;
		return 0;
	}
	if (optname == TCP_CONGESTION) {
		/* The algorithm's name, zero-padded as Linux's ca_ops name. */
		len = min_t(unsigned int, len, XTCP_CA_NAME_MAX);
		if (put_user(len, optlen) ||
		    copy_to_user(optval, xs->ca_ops->name, len))
			return -EFAULT;
		return 0;
	}
	len = min_t(unsigned int, len, sizeof(int));

	switch (optname) {
	case TCP_MAXSEG:
		/* As Linux: the send MSS, or TCP_MAXSEG before connecting. */
		val = xs->mss_cache;
		if (xs->user_mss &&
		    ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN)))
			val = xs->user_mss;
		break;
	case TCP_NODELAY:
		val = xs->nodelay;
		break;
	case TCP_CORK:
		val = xs->cork;
		break;
	case TCP_INQ:
		val = xs->recvmsg_inq;
		break;
	case TCP_NOTSENT_LOWAT:
		val = READ_ONCE(xs->notsent_lowat);
		break;
	case TCP_USER_TIMEOUT:
		val = READ_ONCE(xs->user_timeout);
		break;
	case TCP_QUICKACK:
		val = !xs->pingpong;
		break;
	case TCP_KEEPIDLE:
	case TCP_KEEPINTVL:
	case TCP_KEEPCNT:
		val = xtcp_keepalive_getsockopt(sk, optname);
		break;
	default:
		return -ENOPROTOOPT;
	}
	if (put_user(len, optlen) || copy_to_user(optval, &val, len))
		return -EFAULT;
	return 0;
}

/*
 * SOL_XTCP: XTCP_REUSEPORT is SO_REUSEPORT, which the socket core of
 * Linux 6.1 refuses to sockets of other families than AF_INET and
 * AF_INET6. Like SO_REUSEPORT, it counts at bind() and listen().
 */
static int xtcp_own_setsockopt(struct sock *sk, int optname, sockptr_t optval,
			       unsigned int optlen)
{
	int val;

	if (optname != XTCP_REUSEPORT)
		return -ENOPROTOOPT;
	if (optlen < sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;
	lock_sock(sk);
	sk->sk_reuseport = !!val;
	release_sock(sk);
	return 0;
}

static int xtcp_own_getsockopt(struct sock *sk, int optname,
			       char __user *optval, int __user *optlen)
{
	int val, len;

	if (optname != XTCP_REUSEPORT)
		return -ENOPROTOOPT;
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	len = min_t(unsigned int, len, sizeof(int));
	val = sk->sk_reuseport;
	if (put_user(len, optlen) || copy_to_user(optval, &val, len))
		return -EFAULT;
	return 0;
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
	if (level == SOL_TCP)
		return xtcp_tcp_setsockopt(sk, optname, optval, optlen);
	if (level == SOL_XTCP)
		return xtcp_own_setsockopt(sk, optname, optval, optlen);
	return -ENOPROTOOPT;
}

static int xtcp_getsockopt(struct socket *sock, int level, int optname,
			   char __user *optval, int __user *optlen)
{
	struct sock *sk = sock->sk;

	if (level == SOL_IP)
		return ip_getsockopt(sk, level, optname, optval, optlen);
	if (level == SOL_TCP)
		return xtcp_tcp_getsockopt(sk, optname, optval, optlen);
	if (level == SOL_XTCP)
		return xtcp_own_getsockopt(sk, optname, optval, optlen);
	return -ENOPROTOOPT;
}

static const struct proto_ops xtcp_stream_ops = {
	.family		= PF_XTCP,
	.owner		= THIS_MODULE,
	.release	= xtcp_release,
	.bind		= xtcp_bind,
	.connect	= xtcp_stream_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= xtcp_accept,
	.getname	= xtcp_getname,
	.poll		= xtcp_poll,
	.ioctl		= xtcp_ioctl,
	.listen		= xtcp_listen,
	.shutdown	= xtcp_shutdown,
	.setsockopt	= xtcp_setsockopt,
	.getsockopt	= xtcp_getsockopt,
	.sendmsg	= xtcp_sendmsg,
	.recvmsg	= xtcp_recvmsg,
	.mmap		= sock_no_mmap,
	.sendpage	= sock_no_sendpage,
};

static void xtcp_init_sock(struct sock *sk)
{
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
	sk->sk_backlog_rcv = xtcp_do_rcv;
	sk->sk_write_space = xtcp_write_space;
	skb_queue_head_init(&xtcp_sk(sk)->ooo_queue);
	xtcp_listen_init_sock(sk);
	xtcp_sk(sk)->mss_cache = TCP_MSS_DEFAULT;
	/* What TCP_INFO shows before a connection, as tcp_init_sock(). */
	xtcp_sk(sk)->rto = TCP_TIMEOUT_INIT;
	xtcp_sk(sk)->rttvar_us = jiffies_to_usecs(TCP_TIMEOUT_INIT);
	xtcp_sk(sk)->snd_cwnd = TCP_INIT_CWND;
	xtcp_sk(sk)->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	xtcp_ca_init_sock(sk);
	xtcp_reset_info(xtcp_sk(sk));
	sk_sockets_allocated_inc(sk);
	/* Input finds sockets under RCU (xtcp_ehash_lookup()). */
	sock_set_flag(sk, SOCK_RCU_FREE);
	sk->sk_state = TCP_CLOSE;
	sk->sk_sndbuf = xtcp_knob_i(sock_net(sk), XTCP_KNOB_WMEM, 1);
	sk->sk_rcvbuf = xtcp_knob_i(sock_net(sk), XTCP_KNOB_RMEM, 1);

	xtcp_init_timers(sk);
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
