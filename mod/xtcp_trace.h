/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtcp: tracepoints, the "xtcp" system of /sys/kernel/tracing/events/
 * (perf record -e 'xtcp:*', trace-cmd record -e xtcp). Modelled on
 * Linux's include/trace/events/tcp.h: state changes, connect()'s port
 * choice, resets sent and received, retransmissions, and a probe of the
 * sender's state on every ACK, like tcp_probe.
 *
 * Each is a static key: a disabled tracepoint costs one not-taken
 * branch in the paths that call it.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM xtcp

#if !defined(_XTCP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _XTCP_TRACE_H

#include <linux/tracepoint.h>
#include <net/inet_sock.h>
#include <net/tcp_states.h>

#include "xtcp.h"

#define xtcp_state_name(state)					\
	__print_symbolic(state,					\
			 { TCP_ESTABLISHED, "ESTABLISHED" },	\
			 { TCP_SYN_SENT, "SYN_SENT" },		\
			 { TCP_SYN_RECV, "SYN_RECV" },		\
			 { TCP_FIN_WAIT1, "FIN_WAIT1" },	\
			 { TCP_FIN_WAIT2, "FIN_WAIT2" },	\
			 { TCP_TIME_WAIT, "TIME_WAIT" },	\
			 { TCP_CLOSE, "CLOSE" },		\
			 { TCP_CLOSE_WAIT, "CLOSE_WAIT" },	\
			 { TCP_LAST_ACK, "LAST_ACK" },		\
			 { TCP_LISTEN, "LISTEN" },		\
			 { TCP_CLOSING, "CLOSING" })

/* The 4-tuple of a socket, as every event below records it. */
#define XTCP_TP_TUPLE_FIELDS				\
	__field(const void *, skaddr)			\
	__array(__u8, saddr, 4)				\
	__array(__u8, daddr, 4)				\
	__field(__u16, sport)				\
	__field(__u16, dport)

#define XTCP_TP_TUPLE_ASSIGN(sk)				\
	do {							\
		const struct inet_sock *__inet = inet_sk(sk);	\
								\
		__entry->skaddr = __inet;			\
		memcpy(__entry->saddr, &__inet->inet_saddr, 4);	\
		memcpy(__entry->daddr, &__inet->inet_daddr, 4);	\
		__entry->sport = ntohs(__inet->inet_sport);	\
		__entry->dport = ntohs(__inet->inet_dport);	\
	} while (0)

TRACE_EVENT(xtcp_set_state,

	TP_PROTO(const struct sock *sk, int oldstate, int newstate),

	TP_ARGS(sk, oldstate, newstate),

	TP_STRUCT__entry(
		XTCP_TP_TUPLE_FIELDS
		__field(int, oldstate)
		__field(int, newstate)
	),

	TP_fast_assign(
		XTCP_TP_TUPLE_ASSIGN(sk);
		__entry->oldstate = oldstate;
		__entry->newstate = newstate;
	),

	TP_printk("sk=%p %pI4:%u -> %pI4:%u %s -> %s", __entry->skaddr,
		  __entry->saddr, __entry->sport, __entry->daddr,
		  __entry->dport, xtcp_state_name(__entry->oldstate),
		  xtcp_state_name(__entry->newstate))
);

TRACE_EVENT(xtcp_connect_port,

	TP_PROTO(const struct sock *sk, unsigned int scanned, int err),

	TP_ARGS(sk, scanned, err),

	TP_STRUCT__entry(
		XTCP_TP_TUPLE_FIELDS
		__field(unsigned int, scanned)
		__field(int, err)
	),

	TP_fast_assign(
		XTCP_TP_TUPLE_ASSIGN(sk);
		__entry->scanned = scanned;
		__entry->err = err;
	),

	TP_printk("sk=%p %pI4:%u -> %pI4:%u scanned=%u err=%d",
		  __entry->skaddr, __entry->saddr, __entry->sport,
		  __entry->daddr, __entry->dport, __entry->scanned,
		  __entry->err)
);

TRACE_EVENT(xtcp_send_reset,

	TP_PROTO(const struct sock *sk, __be32 saddr, __be16 sport,
		 __be32 daddr, __be16 dport, u32 seq),

	TP_ARGS(sk, saddr, sport, daddr, dport, seq),

	TP_STRUCT__entry(
		__field(const void *, skaddr)
		__array(__u8, saddr, 4)
		__array(__u8, daddr, 4)
		__field(__u16, sport)
		__field(__u16, dport)
		__field(__u32, seq)
	),

	TP_fast_assign(
		__entry->skaddr = sk;
		memcpy(__entry->saddr, &saddr, 4);
		memcpy(__entry->daddr, &daddr, 4);
		__entry->sport = ntohs(sport);
		__entry->dport = ntohs(dport);
		__entry->seq = seq;
	),

	TP_printk("sk=%p %pI4:%u -> %pI4:%u seq=%u", __entry->skaddr,
		  __entry->saddr, __entry->sport, __entry->daddr,
		  __entry->dport, __entry->seq)
);

TRACE_EVENT(xtcp_receive_reset,

	TP_PROTO(const struct sock *sk),

	TP_ARGS(sk),

	TP_STRUCT__entry(
		XTCP_TP_TUPLE_FIELDS
		__field(int, state)
	),

	TP_fast_assign(
		XTCP_TP_TUPLE_ASSIGN(sk);
		__entry->state = sk->sk_state;
	),

	TP_printk("sk=%p %pI4:%u -> %pI4:%u state=%s", __entry->skaddr,
		  __entry->saddr, __entry->sport, __entry->daddr,
		  __entry->dport, xtcp_state_name(__entry->state))
);

TRACE_EVENT(xtcp_retransmit,

	TP_PROTO(const struct sock *sk, u32 seq, u32 end_seq),

	TP_ARGS(sk, seq, end_seq),

	TP_STRUCT__entry(
		XTCP_TP_TUPLE_FIELDS
		__field(__u32, seq)
		__field(__u32, end_seq)
		__field(__u8, retransmits)
	),

	TP_fast_assign(
		XTCP_TP_TUPLE_ASSIGN(sk);
		__entry->seq = seq;
		__entry->end_seq = end_seq;
		__entry->retransmits = xtcp_sk(sk)->retransmits;
	),

	TP_printk("sk=%p %pI4:%u -> %pI4:%u seq=%u end_seq=%u retransmits=%u",
		  __entry->skaddr, __entry->saddr, __entry->sport,
		  __entry->daddr, __entry->dport, __entry->seq,
		  __entry->end_seq, __entry->retransmits)
);

TRACE_EVENT(xtcp_probe,

	TP_PROTO(const struct sock *sk),

	TP_ARGS(sk),

	TP_STRUCT__entry(
		XTCP_TP_TUPLE_FIELDS
		__field(__u32, snd_nxt)
		__field(__u32, snd_una)
		__field(__u32, snd_cwnd)
		__field(__u32, ssthresh)
		__field(__u32, snd_wnd)
		__field(__u32, srtt)
		__field(__u32, rcv_wnd)
		__field(__u16, mss)
	),

	TP_fast_assign(
		const struct xtcp_sock *xs = xtcp_sk(sk);

		XTCP_TP_TUPLE_ASSIGN(sk);
		__entry->snd_nxt = xs->snd_nxt;
		__entry->snd_una = xs->snd_una;
		__entry->snd_cwnd = xs->snd_cwnd;
		__entry->ssthresh = xs->snd_ssthresh;
		__entry->snd_wnd = xs->snd_wnd;
		__entry->srtt = xs->srtt_us >> 3;
		__entry->rcv_wnd = xs->rcv_wnd;
		__entry->mss = xs->mss_cache;
	),

	TP_printk("src=%pI4:%u dest=%pI4:%u mss=%u snd_nxt=%#x snd_una=%#x snd_cwnd=%u ssthresh=%u snd_wnd=%u srtt=%u rcv_wnd=%u",
		  __entry->saddr, __entry->sport, __entry->daddr,
		  __entry->dport, __entry->mss, __entry->snd_nxt,
		  __entry->snd_una, __entry->snd_cwnd, __entry->ssthresh,
		  __entry->snd_wnd, __entry->srtt, __entry->rcv_wnd)
);

#endif /* _XTCP_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE xtcp_trace
#include <trace/define_trace.h>
