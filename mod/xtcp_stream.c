// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the byte stream as the user sees it: sendmsg(), recvmsg(),
 * shutdown(), and the wake-ups between them and the protocol.
 *
 * Sent bytes are copied into MSS-sized skbs on sk_write_queue, bounded
 * by SO_SNDBUF (sk_wmem_queued), and stay there until acknowledged;
 * xs->send_head marks the first one not sent yet. Received in-order
 * segments wait on sk_receive_queue, charged to SO_RCVBUF
 * (sk_rmem_alloc), until recvmsg() copies them; xs->copied_seq is the
 * next byte to copy.
 */
#include <linux/sched/signal.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "xtcp.h"

/**
 * xtcp_stream_memory_free() - proto.stream_memory_free: room to queue more
 * @sk: the socket
 * @wake: 1 when deciding whether to wake a writer (half the limit then)
 *
 * As tcp_stream_memory_free(): the bytes queued and not yet sent stay
 * under TCP_NOTSENT_LOWAT, or net.ipv4.tcp_notsent_lowat (unlimited by
 * default). The socket core checks sk_wmem_queued against SO_SNDBUF
 * first.
 *
 * Return: true if a writer may queue more.
 */
bool xtcp_stream_memory_free(const struct sock *sk, int wake)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 notsent = READ_ONCE(xs->write_seq) - READ_ONCE(xs->snd_nxt);
	u32 lowat = READ_ONCE(xs->notsent_lowat) ? :
		    READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_notsent_lowat);

	return (notsent << wake) < lowat;
}

/*
 * Free space in the send buffer wakes writers once a third is free, as
 * sk_stream_is_writeable().
 */
bool xtcp_stream_writeable(const struct sock *sk, int wake)
{
	return READ_ONCE(sk->sk_sndbuf) - READ_ONCE(sk->sk_wmem_queued) >=
	       READ_ONCE(sk->sk_wmem_queued) / 2 &&
	       __sk_stream_memory_free(sk, wake);
}

/**
 * xtcp_write_space() - sk_write_space: ACKs freed send buffer
 * @sk: the socket
 */
void xtcp_write_space(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;
	struct socket_wq *wq;

	if (!sock || !xtcp_stream_writeable(sk, 1))
		return;
	clear_bit(SOCK_NOSPACE, &sock->flags);
	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_poll(&wq->wait, EPOLLOUT | EPOLLWRNORM |
					   EPOLLWRBAND);
	if (wq && wq->fasync_list && !(sk->sk_shutdown & SEND_SHUTDOWN))
		sock_wake_async(wq, SOCK_WAKE_SPACE, POLL_OUT);
	rcu_read_unlock();
}

/**
 * xtcp_sndbuf_expand() - size an unlocked send buffer to the flight
 * @sk: the socket
 *
 * As tcp_sndbuf_expand(): room for twice the congestion window (at
 * least ten segments) of skbs of the MSS's truesize, up to wmem[2]. At
 * establishment that is 87040 bytes for a 1448-byte MSS, as Linux.
 */
void xtcp_sndbuf_expand(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 per_mss, sndmem;

	if (sk->sk_userlocks & SOCK_SNDBUF_LOCK)
		return;
	per_mss = max_t(u32, xs->mss_clamp, xs->mss_cache) + MAX_TCP_HEADER +
		  SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	per_mss = roundup_pow_of_two(per_mss) +
		  SKB_DATA_ALIGN(sizeof(struct sk_buff));
	sndmem = 2 * max_t(u32, TCP_INIT_CWND, xs->snd_cwnd) * per_mss;
	if (sk->sk_sndbuf < sndmem)
		WRITE_ONCE(sk->sk_sndbuf,
			   min_t(u32, sndmem, xtcp_knob_i(sock_net(sk),
							  XTCP_KNOB_WMEM, 2)));
}

/**
 * xtcp_new_space() - ACKs freed send buffer while a writer waited
 * @sk: the socket
 *
 * As tcp_new_space(): the buffer first grows with the congestion window
 * unless the user set SO_SNDBUF, memory is tight or the window is not
 * full; then writers are woken.
 */
void xtcp_new_space(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!(sk->sk_userlocks & SOCK_SNDBUF_LOCK) &&
	    !sk_under_memory_pressure(sk) &&
	    sk_memory_allocated(sk) < sk_prot_mem_limits(sk, 0) &&
	    DIV_ROUND_UP(xs->snd_nxt - xs->snd_una, xs->mss_cache) <
	    xs->snd_cwnd)
		xtcp_sndbuf_expand(sk);
	sk->sk_write_space(sk);
}

/* The tail skb if more bytes may still be appended to it. */
static struct sk_buff *xtcp_tail_for_append(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);

	if (!skb || !xs->send_head || XTCP_SKB_CB(skb)->fin ||
	    XTCP_SKB_CB(skb)->eor || skb->len >= xs->mss_cache ||
	    skb_cloned(skb) || !skb_tailroom(skb))
		return NULL;
	/* Only a segment not sent yet may grow. */
	if (before(XTCP_SKB_CB(skb)->seq, XTCP_SKB_CB(xs->send_head)->seq))
		return NULL;
	return skb;
}

/*
 * A new segment at the tail of the write queue, its memory scheduled as
 * tcp_stream_alloc_skb() does: refused (NULL) under net.xtcp.mem's or
 * the memory cgroup's pressure, the send buffer then moderated, except
 * when the queue is empty, so that a writer always makes progress.
 */
static struct sk_buff *xtcp_new_skb(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned int head = MAX_HEADER + sizeof(struct iphdr) +
			    sizeof(struct tcphdr) + MAX_TCP_OPTION_SPACE;
	struct sk_buff *skb;

	skb = alloc_skb(head + xs->mss_cache, sk->sk_allocation);
	if (skb && !skb_queue_empty(&sk->sk_write_queue) &&
	    !sk_wmem_schedule(sk, skb->truesize)) {
		kfree_skb(skb);
		skb = NULL;
	}
	if (!skb) {
		sk->sk_prot->enter_memory_pressure(sk);
		sk_stream_moderate_sndbuf(sk);
		return NULL;
	}
	skb_reserve(skb, head);
	memset(XTCP_SKB_CB(skb), 0, sizeof(struct xtcp_skb_cb));
	XTCP_SKB_CB(skb)->seq = xs->write_seq;
	XTCP_SKB_CB(skb)->end_seq = xs->write_seq;
	__skb_queue_tail(&sk->sk_write_queue, skb);
	xtcp_wmem_queued(sk, skb);
	if (!xs->send_head)
		xs->send_head = skb;
	return skb;
}

/*
 * tcp_mark_push(): the segment that ends a write carries PSH. A long
 * write is also pushed every half of the peer's largest window
 * (forced_push()), so a receiver that waits for PSH is not kept waiting.
 */
static void xtcp_mark_push(struct xtcp_sock *xs, struct sk_buff *skb)
{
	XTCP_SKB_CB(skb)->psh = 1;
	xs->pushed_seq = xs->write_seq;
}

static bool xtcp_forced_push(const struct xtcp_sock *xs)
{
	return after(xs->write_seq, xs->pushed_seq + (xs->max_window >> 1));
}

/* tcp_push()'s marking: the queue's tail ends this write. */
static void xtcp_push_mark(struct sock *sk, int flags)
{
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (skb && skb->len && (!(flags & MSG_MORE) || xtcp_forced_push(xs)))
		xtcp_mark_push(xs, skb);
}

/**
 * xtcp_sendmsg() - send(), write(): queue bytes and send what may go
 * @sock: the socket
 * @msg: the data and flags (MSG_DONTWAIT, MSG_MORE, MSG_NOSIGNAL)
 * @size: bytes
 *
 * Waits for the connection to finish (sk_stream_wait_connect()) and for
 * send buffer (sk_stream_wait_memory(), honouring SO_SNDTIMEO). After
 * shutdown(SHUT_WR), a reset or an error: EPIPE and SIGPIPE (unless
 * MSG_NOSIGNAL), or the pending error, as Linux.
 *
 * Return: bytes queued, or a negative errno if none were.
 */
int xtcp_sendmsg(struct socket *sock, struct msghdr *msg, size_t size)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	int flags = msg->msg_flags, err = 0;
	size_t copied = 0;
	long timeo;

	lock_sock(sk);
	timeo = sock_sndtimeo(sk, flags & MSG_DONTWAIT);
	if (!((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT))) {
		err = sk_stream_wait_connect(sk, &timeo);
		if (err)
			goto error;
	}

	while (msg_data_left(msg)) {
		struct sk_buff *skb;
		size_t copy;

		err = -EPIPE;
		if (sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN))
			goto error;

		skb = xtcp_tail_for_append(sk);
		/* Appended to, it no longer ends a write. */
		if (skb && !copied)
			XTCP_SKB_CB(skb)->psh = 0;
		if (!skb) {
			if (!sk_stream_memory_free(sk))
				goto wait_for_space;
			skb = xtcp_new_skb(sk);
			if (!skb)
				goto wait_for_space;
		}

		/*
		 * Up to the send MSS, and never beyond the skb's room: the
		 * MSS grows after the skb was sized for a smaller one when
		 * the peer's largest window grows (xtcp_sync_mss()).
		 */
		copy = min_t(size_t, msg_data_left(msg),
			     min_t(u32, xs->mss_cache - skb->len,
				   skb_tailroom(skb)));
		if (copy_from_iter(skb_put(skb, copy), copy, &msg->msg_iter) !=
		    copy) {
			skb_trim(skb, skb->len - copy);
			err = -EFAULT;
			goto error;
		}
		XTCP_SKB_CB(skb)->end_seq += copy;
		xs->write_seq += copy;
		copied += copy;
		if (!msg_data_left(msg)) {
			/* MSG_EOR closes the record, as in Linux's TCP. */
			if (flags & MSG_EOR)
				XTCP_SKB_CB(skb)->eor = 1;
		} else if (xtcp_forced_push(xs)) {
			xtcp_mark_push(xs, skb);
		}
		continue;

wait_for_space:
		set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		if (copied)
			xtcp_push_mark(sk, flags & ~MSG_MORE);
		xtcp_write_xmit(sk, true);
		err = sk_stream_wait_memory(sk, &timeo);
		if (err)
			goto error;
	}

	if (copied)
		xtcp_push_mark(sk, flags);
	xtcp_write_xmit(sk, !(flags & MSG_MORE));
	release_sock(sk);
	return copied;

error:
	if (copied) {
		xtcp_push_mark(sk, flags);
		xtcp_write_xmit(sk, !(flags & MSG_MORE));
		release_sock(sk);
		return copied;
	}
	err = sk_stream_error(sk, flags, err);
	release_sock(sk);
	return err;
}

/**
 * xtcp_recvmsg() - recv(), read(): copy received bytes
 * @sock: the socket
 * @msg: where to and flags (MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT)
 * @len: at most this many bytes
 * @flags: the call's flags
 *
 * Blocks (SO_RCVTIMEO) until SO_RCVLOWAT bytes (all @len with
 * MSG_WAITALL) are there, the peer's FIN (0, end of stream), an error, or
 * a signal, as tcp_recvmsg() does; a socket that never connected gives
 * ENOTCONN, one closed by a reset 0 once the error has been read.
 *
 * Return: bytes copied, 0 at end of stream, or a negative errno.
 */
int xtcp_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		 int flags)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 peek_seq, *seq;
	int copied = 0, target;
	long timeo;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (flags & MSG_ERRQUEUE)
		return sock_recv_errqueue(sk, msg, len, SOL_IP, IP_RECVERR);

	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		release_sock(sk);
		return -ENOTCONN;
	}
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);
	peek_seq = xs->copied_seq;
	seq = (flags & MSG_PEEK) ? &peek_seq : &xs->copied_seq;

	while (len > 0) {
		struct sk_buff *skb, *last = NULL;
		bool found = false;

		skb_queue_walk(&sk->sk_receive_queue, skb) {
			u32 offset = *seq - XTCP_SKB_CB(skb)->seq;
			size_t chunk;

			last = skb;
			if (offset >= skb->len)
				continue;
			found = true;
			chunk = min_t(size_t, skb->len - offset, len);
			if (skb_copy_datagram_msg(skb, offset, msg, chunk)) {
				if (!copied)
					copied = -EFAULT;
				goto out;
			}
			*seq += chunk;
			copied += chunk;
			len -= chunk;
			break;
		}
		if (found) {
			/* Free what is fully read (never on MSG_PEEK). */
			while (!(flags & MSG_PEEK) &&
			       (skb = skb_peek(&sk->sk_receive_queue)) &&
			       !before(xs->copied_seq,
				       XTCP_SKB_CB(skb)->seq + skb->len)) {
				__skb_unlink(skb, &sk->sk_receive_queue);
				__kfree_skb(skb);
			}
			continue;
		}

		if (copied >= target)
			break;
		if (copied) {
			if (sk->sk_err || sk->sk_state == TCP_CLOSE ||
			    (sk->sk_shutdown & RCV_SHUTDOWN) || !timeo ||
			    signal_pending(current))
				break;
		} else {
			/*
			 * tcp_recvmsg()'s order: end of stream (the peer's
			 * FIN), then a pending error (a reset reads as
			 * ECONNRESET once), then a local shutdown.
			 */
			if (sock_flag(sk, SOCK_DONE))
				break;
			if (sk->sk_err) {
				copied = sock_error(sk);
				break;
			}
			if (sk->sk_shutdown & RCV_SHUTDOWN)
				break;
			if (sk->sk_state == TCP_CLOSE) {
				copied = -ENOTCONN;
				break;
			}
			if (!timeo) {
				copied = -EAGAIN;
				break;
			}
			if (signal_pending(current)) {
				copied = sock_intr_errno(timeo);
				break;
			}
		}
		if (!(flags & MSG_PEEK))
			xtcp_cleanup_rbuf(sk);
		sk_wait_data(sk, &timeo, last);
	}
out:
	if (!(flags & MSG_PEEK) && copied > 0)
		xtcp_cleanup_rbuf(sk);
	/*
	 * TCP_INQ, as tcp_recvmsg() with tcp_inq_hint(): what is left to
	 * read, and 1 after the peer's FIN so that the reader goes on to
	 * see the end of the stream.
	 */
	if (xs->recvmsg_inq && copied >= 0) {
		int inq = xs->rcv_nxt - xs->copied_seq;

		if (inq == 0 && sock_flag(sk, SOCK_DONE))
			inq = 1;
		put_cmsg(msg, SOL_TCP, TCP_CM_INQ, sizeof(inq), &inq);
	}
	release_sock(sk);
	return copied;
}

/**
 * xtcp_close_send() - our side is done sending: FIN after the data
 * @sk: the socket, owned by the caller
 *
 * ESTABLISHED and SYN-RECEIVED go to FIN-WAIT-1, CLOSE-WAIT to LAST-ACK,
 * and the FIN is queued behind any unsent data (tcp_close_state() with
 * tcp_send_fin()). Other states have sent their FIN already, or have
 * nothing to close.
 */
void xtcp_close_send(struct sock *sk)
{
	if ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_SYN_RECV))
		xtcp_set_state(sk, TCP_FIN_WAIT1);
	else if (sk->sk_state == TCP_CLOSE_WAIT)
		xtcp_set_state(sk, TCP_LAST_ACK);
	else
		return;
	xtcp_queue_fin(sk);
}

/**
 * xtcp_shutdown() - shutdown()
 * @sock: the socket
 * @how: SHUT_RD, SHUT_WR or SHUT_RDWR
 *
 * As inet_shutdown() with tcp_shutdown(): SHUT_WR queues a FIN after the
 * data (FIN-WAIT-1, or LAST-ACK from CLOSE-WAIT); SHUT_RD makes recv()
 * return 0 and leaves the peer uninformed; in SYN-SENT the attempt is
 * abandoned; on a closed socket ENOTCONN (the flags are still set and
 * poll() woken, as Linux does).
 *
 * Return: 0 or a negative errno.
 */
int xtcp_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	int err = 0;

	how++;		/* SHUT_RD 0 -> RCV_SHUTDOWN 1, ... */
	if ((how & ~SHUTDOWN_MASK) || !how)
		return -EINVAL;

	lock_sock(sk);
	if (sock->state == SS_CONNECTING) {
		if ((1 << sk->sk_state) &
		    (TCPF_SYN_SENT | TCPF_SYN_RECV | TCPF_CLOSE))
			sock->state = SS_DISCONNECTING;
		else
			sock->state = SS_CONNECTED;
	}

	switch (sk->sk_state) {
	case TCP_CLOSE:
		err = -ENOTCONN;
		fallthrough;	/* as inet_shutdown(): wake poll() anyway */
	default:
		sk->sk_shutdown |= how;
		if (how & SEND_SHUTDOWN)
			xtcp_close_send(sk);
		break;
	case TCP_LISTEN:
		/* As inet_shutdown(): only SHUT_RD stops a listener. */
		if (!(how & RCV_SHUTDOWN))
			break;
		fallthrough;
	case TCP_SYN_SENT:
		err = xtcp_disconnect(sk);
		sock->state = err ? SS_DISCONNECTING : SS_UNCONNECTED;
		break;
	}
	sk->sk_state_change(sk);
	release_sock(sk);
	return err;
}
