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
#include <linux/list_nulls.h>
#include <linux/mutex.h>
#include <linux/seqlock.h>
#include <linux/timer.h>
#include <net/snmp.h>
#include <net/inet_sock.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/tcp_states.h>

#define XTCP_NR_PORTS		65536

/*
 * PAWS (RFC 7323): the tolerance, and the age beyond which ts_recent is
 * no reference any more (Linux's TCP_PAWS_WINDOW, TCP_PAWS_24DAYS).
 */
#define XTCP_PAWS_WINDOW	1
#define XTCP_PAWS_24DAYS_MS	(24U * 24 * 60 * 60 * 1000)

/**
 * enum xtcp_mib_field - the counters of /proc/net/xtcp_stat
 * @XTCP_MIB_ACTIVEOPENS: connect() attempts that sent a SYN
 * @XTCP_MIB_CONNECTPORTSCANNED: ephemeral ports examined by connect()
 * @XTCP_MIB_CONNECTMAPWORDS: port map words (64 ports each) scanned
 * @XTCP_MIB_CONNECTNOPORT: connect()s that found no free port
 * @XTCP_MIB_TWREUSED: TIME_WAIT 4-tuples taken over by connect()
 * @XTCP_MIB_TIMEWAIT: TIME_WAIT entries made by active closes
 * @XTCP_MIB_ESTABLISHED: connections that reached ESTABLISHED
 * @XTCP_MIB_CONNREFUSED: connects ended by a RST (ECONNREFUSED)
 * @XTCP_MIB_CONNTIMEDOUT: connects ended by syn_retries (ETIMEDOUT)
 * @XTCP_MIB_SYNRETRANS: SYN retransmissions
 * @XTCP_MIB_INSEGS: segments taken for xtcp sockets
 * @XTCP_MIB_OUTSEGS: segments sent
 * @XTCP_MIB_OUTRSTS: RSTs sent
 * @XTCP_MIB_INCSUMERRORS: segments dropped for a bad checksum
 * @XTCP_MIB_INMALFORMED: segments dropped as malformed (header length)
 * @XTCP_MIB_INBADACK: SYN-SENT segments with an unacceptable ACK
 * @XTCP_MIB_ICMPERRORS: ICMP errors delivered to a socket
 * @XTCP_MIB_ICMPOUTOFWINDOW: ICMP errors quoting a sequence out of window
 * @XTCP_MIB_OUTNOROUTE: segments not sent for want of a route
 * @XTCP_MIB_RETRANSSEGS: data segments retransmitted
 * @XTCP_MIB_FASTRETRANS: fast retransmissions (three duplicate ACKs)
 * @XTCP_MIB_RTOS: retransmission timeouts
 * @XTCP_MIB_OFOQUEUE: segments queued out of order
 * @XTCP_MIB_PAWSESTAB: segments dropped by PAWS (Linux's PAWSEstab)
 * @XTCP_MIB_RCVPRUNED: segments dropped for want of receive buffer
 * @XTCP_MIB_ICMPCSUMERRORS: ICMP errors dropped for a bad checksum
 * @XTCP_MIB_SACKRENEGING: timeouts that found the peer had dropped data
 *	it SACKed
 * @XTCP_MIB_DSACKRECV: ACKs with a D-SACK block below the ACK (RFC 2883)
 * @XTCP_MIB_DSACKOFORECV: ACKs with a D-SACK block above it
 * @XTCP_MIB_DSACKRECVSEGS: segments those D-SACKs reported
 * @XTCP_MIB_DSACKIGNOREDDUBIOUS: D-SACKs not believed (too large, or more
 *	duplicates than retransmissions)
 * @XTCP_MIB_CHALLENGEACK: RFC 5961 challenge ACKs sent
 * @XTCP_MIB_SYNCHALLENGE: SYNs in a synchronised state (challenged)
 * @XTCP_MIB_ACKSKIPPEDCHALLENGE: challenge ACKs not sent (rate limit)
 * @XTCP_MIB_ACKSKIPPEDSEQ: dupACKs to out-of-window segments not sent
 * @XTCP_MIB_ACKSKIPPEDPAWS: dupACKs to PAWS-rejected segments not sent
 * @XTCP_MIB_ACKSKIPPEDTIMEWAIT: TIME_WAIT ACKs not sent (rate limit)
 * @XTCP_MIB_PAWSACTIVE: SYN-ACKs whose TSecr was not one of our TSvals
 * @XTCP_MIB_ABORTONDATA: connections reset for data after close()
 * @XTCP_MIB_RCVCOLLAPSED: received skbs copied into denser ones
 * @XTCP_MIB_OFOPRUNED: prunings of the out-of-order queue
 * @XTCP_MIB_PRUNECALLED: times the receive queues had to be pruned
 * @XTCP_MIB_DELAYEDACKLOST: duplicates received (our ACK was lost)
 * @XTCP_MIB_ZEROWINDOWDROP: segments dropped against a zero window
 * @XTCP_MIB_MEMORYPRESSURES: times net.xtcp.mem's pressure began
 * @XTCP_MIB_ABORTONMEMORY: orphans reset for want of memory or orphan slots
 * @XTCP_MIB_TWOVERFLOW: TIME_WAIT entries not made (max_tw_buckets)
 * @XTCP_MIB_KEEPALIVE: keepalive probes sent
 * @XTCP_MIB_ABORTONTIMEOUT: connections ended by retransmission or probe
 *	timeouts
 * @XTCP_MIB_PASSIVEOPENS: connections a listener's handshake made
 * @XTCP_MIB_LISTENOVERFLOWS: handshakes refused for a full accept queue
 * @XTCP_MIB_LISTENDROPS: SYNs and handshakes a listener dropped, for any
 *	reason (overflows included)
 * @XTCP_MIB_SYNCOOKIESSENT: SYN-ACKs sent with a SYN cookie
 * @XTCP_MIB_SYNCOOKIESRECV: ACKs carrying a valid SYN cookie
 * @XTCP_MIB_SYNCOOKIESFAILED: ACKs whose cookie did not check out
 * @XTCP_MIB_REQQFULLDOCOOKIES: SYNs answered with a cookie (queue full, or
 *	syncookies 2)
 * @XTCP_MIB_REQQFULLDROP: SYNs dropped for a full request queue
 * @XTCP_MIB_SYNACKRETRANS: SYN-ACKs sent again
 * @XTCP_MIB_ACKSKIPPEDSYNRECV: replies of a request not sent (rate limit)
 * @XTCP_MIB_EMBRYONICRSTS: requests ended by a RST or a SYN
 * @XTCP_MIB_ECNCE: CE marks received that started our ECE
 * @XTCP_MIB_ECNECE: window reductions for the peer's ECE
 * @XTCP_MIB_MAX: number of counters
 */
enum xtcp_mib_field {
	XTCP_MIB_ACTIVEOPENS,
	XTCP_MIB_CONNECTPORTSCANNED,
	XTCP_MIB_CONNECTMAPWORDS,
	XTCP_MIB_CONNECTNOPORT,
	XTCP_MIB_TWREUSED,
	XTCP_MIB_TIMEWAIT,
	XTCP_MIB_ESTABLISHED,
	XTCP_MIB_CONNREFUSED,
	XTCP_MIB_CONNTIMEDOUT,
	XTCP_MIB_SYNRETRANS,
	XTCP_MIB_INSEGS,
	XTCP_MIB_OUTSEGS,
	XTCP_MIB_OUTRSTS,
	XTCP_MIB_INCSUMERRORS,
	XTCP_MIB_INMALFORMED,
	XTCP_MIB_INBADACK,
	XTCP_MIB_ICMPERRORS,
	XTCP_MIB_ICMPOUTOFWINDOW,
	XTCP_MIB_OUTNOROUTE,
	XTCP_MIB_RETRANSSEGS,
	XTCP_MIB_FASTRETRANS,
	XTCP_MIB_RTOS,
	XTCP_MIB_OFOQUEUE,
	XTCP_MIB_PAWSESTAB,
	XTCP_MIB_RCVPRUNED,
	XTCP_MIB_ICMPCSUMERRORS,
	XTCP_MIB_SACKRENEGING,
	XTCP_MIB_DSACKRECV,
	XTCP_MIB_DSACKOFORECV,
	XTCP_MIB_DSACKRECVSEGS,
	XTCP_MIB_DSACKIGNOREDDUBIOUS,
	XTCP_MIB_CHALLENGEACK,
	XTCP_MIB_SYNCHALLENGE,
	XTCP_MIB_ACKSKIPPEDCHALLENGE,
	XTCP_MIB_ACKSKIPPEDSEQ,
	XTCP_MIB_ACKSKIPPEDPAWS,
	XTCP_MIB_ACKSKIPPEDTIMEWAIT,
	XTCP_MIB_PAWSACTIVE,
	XTCP_MIB_ABORTONDATA,
	XTCP_MIB_RCVCOLLAPSED,
	XTCP_MIB_OFOPRUNED,
	XTCP_MIB_PRUNECALLED,
	XTCP_MIB_DELAYEDACKLOST,
	XTCP_MIB_ZEROWINDOWDROP,
	XTCP_MIB_MEMORYPRESSURES,
	XTCP_MIB_ABORTONMEMORY,
	XTCP_MIB_TWOVERFLOW,
	XTCP_MIB_KEEPALIVE,
	XTCP_MIB_ABORTONTIMEOUT,
	XTCP_MIB_PASSIVEOPENS,
	XTCP_MIB_LISTENOVERFLOWS,
	XTCP_MIB_LISTENDROPS,
	XTCP_MIB_SYNCOOKIESSENT,
	XTCP_MIB_SYNCOOKIESRECV,
	XTCP_MIB_SYNCOOKIESFAILED,
	XTCP_MIB_REQQFULLDOCOOKIES,
	XTCP_MIB_REQQFULLDROP,
	XTCP_MIB_SYNACKRETRANS,
	XTCP_MIB_ACKSKIPPEDSYNRECV,
	XTCP_MIB_EMBRYONICRSTS,
	XTCP_MIB_ECNCE,
	XTCP_MIB_ECNECE,
	XTCP_MIB_MAX
};

struct xtcp_mib {
	unsigned long	mibs[XTCP_MIB_MAX];
};

/* Defaults of the per-namespace sysctls (Documentation/xtcp.rst). */
#define XTCP_PORT_RANGE_LOW	61000
#define XTCP_PORT_RANGE_HIGH	65535

/**
 * enum xtcp_knob - the sysctls xtcp shares with Linux's TCP
 *
 * Each follows the namespace's net.ipv4.tcp_<name> until written under
 * net.xtcp (xtcp_sysctl.c); read them with xtcp_knob().
 */
enum xtcp_knob {
	XTCP_KNOB_TIMESTAMPS,
	XTCP_KNOB_SACK,
	XTCP_KNOB_WINDOW_SCALING,
	XTCP_KNOB_SYN_RETRIES,
	XTCP_KNOB_SYNACK_RETRIES,
	XTCP_KNOB_FIN_TIMEOUT,		/* seconds */
	XTCP_KNOB_RETRIES2,
	XTCP_KNOB_ORPHAN_RETRIES,
	XTCP_KNOB_KEEPALIVE_TIME,	/* seconds */
	XTCP_KNOB_KEEPALIVE_INTVL,	/* seconds */
	XTCP_KNOB_KEEPALIVE_PROBES,
	XTCP_KNOB_CHALLENGE_ACK_LIMIT,
	XTCP_KNOB_INVALID_RATELIMIT,	/* milliseconds */
	XTCP_KNOB_RFC1337,
	XTCP_KNOB_MIN_SND_MSS,
	XTCP_KNOB_MAX_TW_BUCKETS,
	XTCP_KNOB_RMEM,			/* min, default, max */
	XTCP_KNOB_WMEM,
	XTCP_KNOB_SYNCOOKIES,
	XTCP_KNOB_MAX_SYN_BACKLOG,
	XTCP_KNOB_ABORT_ON_OVERFLOW,
	XTCP_KNOB_ECN,
	XTCP_KNOB_MIGRATE_REQ,
	XTCP_KNOB_MAX
};

/**
 * struct xtcp_net - xtcp's state in one network namespace
 *
 * The sysctl_* fields back xtcp's own entries of /proc/sys/net/xtcp/
 * and are read locklessly with READ_ONCE(); so are @knob and
 * @knob_pinned (xtcp_knob()). The port range is two words, so it is
 * read under @port_range_lock, a seqlock, as Linux does for
 * ip_local_port_range.
 */
struct xtcp_net {
	struct net		*net;
	struct ctl_table_header	*sysctl_hdr;

	int			sysctl_tw_reuse;
	int			sysctl_tw_reuse_delay;	/* ms */
	int			sysctl_tw_timeout;	/* s */

	/* Shared knobs written under net.xtcp, and which those are. */
	int			knob[XTCP_KNOB_MAX][3];
	unsigned long		knob_pinned;

	/* TIME_WAIT entries of the namespace (max_tw_buckets). */
	atomic_t		tw_count;

	/* Challenge ACKs left this second (challenge_ack_limit). */
	u32			challenge_timestamp;
	u32			challenge_count;

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

	/* net.xtcp.congestion_control: never freed, read locklessly. */
	const struct xtcp_cong_ops *ca_default;

	DEFINE_SNMP_STAT(struct xtcp_mib, mib);
};

#define XTCP_INC_STATS(net, field)	\
	SNMP_INC_STATS(xtcp_pernet(net)->mib, field)
#define __XTCP_INC_STATS(net, field)	\
	__SNMP_INC_STATS(xtcp_pernet(net)->mib, field)
#define XTCP_ADD_STATS(net, field, val)	\
	SNMP_ADD_STATS(xtcp_pernet(net)->mib, field, val)

extern unsigned int xtcp_net_id;

static inline struct xtcp_net *xtcp_pernet(const struct net *net)
{
	return net_generic(net, xtcp_net_id);
}

int __xtcp_knob_ipv4(const struct net *net, enum xtcp_knob k, int i);

/**
 * xtcp_knob_i() - the value in effect of a shared sysctl
 * @net: the namespace
 * @k: the knob
 * @i: which of its values (0 but for rmem and wmem)
 *
 * Return: the value written under net.xtcp, or else Linux's
 * net.ipv4.tcp_* value, in the unit the sysctl shows.
 */
static inline int xtcp_knob_i(const struct net *net, enum xtcp_knob k, int i)
{
	const struct xtcp_net *xn = xtcp_pernet(net);

	if (test_bit(k, &xn->knob_pinned))
		return READ_ONCE(xn->knob[k][i]);
	return __xtcp_knob_ipv4(net, k, i);
}

static inline int xtcp_knob(const struct net *net, enum xtcp_knob k)
{
	return xtcp_knob_i(net, k, 0);
}

struct tcphdr;
struct tcp_info;
struct xtcp_bind_bucket;
struct xtcp_dest;

/*
 * Work a softirq could not do because the user owned the socket, done
 * by release_sock() (xtcp_release_cb()), as Linux's TCP_*_DEFERRED
 * flags. Each set bit holds a socket reference.
 */
enum xtcp_deferred_bits {
	XTCP_RETRANS_TIMER_DEFERRED,
	XTCP_DELACK_TIMER_DEFERRED,
	XTCP_MTU_REDUCED_DEFERRED,
};

enum xtcp_hnode_kind {
	XTCP_HNODE_SOCK,
	XTCP_HNODE_TW,
	XTCP_HNODE_REQ,
};

/**
 * struct xtcp_hnode - an entry of the established table
 * @node: link in its slot's chain (RCU readers, slot lock writers)
 * @net: the namespace
 * @laddr: local address
 * @raddr: remote address
 * @lport: local port, network order
 * @rport: remote port, network order
 * @kind: a full socket or a TIME_WAIT entry
 *
 * struct xtcp_sock, struct xtcp_tw and struct xtcp_request embed one,
 * so one lookup finds any of them.
 */
struct xtcp_hnode {
	struct hlist_nulls_node	node;
	possible_net_t		net;
	__be32			laddr;
	__be32			raddr;
	__be16			lport;
	__be16			rport;
	u8			kind;
};

/**
 * struct xtcp_tw - a TIME_WAIT entry: what is left of a closed connection
 * @hnode: its place in the established table; first
 * @refcnt: references (the table holds one)
 * @dest: the destination's port map entry (its port stays taken)
 * @snd_nxt: the next sequence number the connection would have sent
 * @rcv_nxt: the next sequence number it expected
 * @ts_recent: the peer's last timestamp value
 * @ts_recent_stamp: local ms clock when @ts_recent was seen; 0: no TS
 * @ts_offset: the connection's timestamp offset
 * @window: the window field its ACKs carry
 * @tstamp_ok: the connection used timestamps
 * @last_oow_ack_time: jiffies of the last ACK it sent to an unacceptable
 *	segment (xtcp_oow_rate_limited())
 * @timer: ends the entry after net.xtcp.tw_timeout (holds a reference)
 * @rcu: freeing after readers are done
 *
 * Made by xtcp_time_wait(); xtcp_twsk_unique() reads them.
 */
struct xtcp_tw {
	struct xtcp_hnode	hnode;
	refcount_t		refcnt;
	struct xtcp_dest	*dest;
	u32			snd_nxt;
	u32			rcv_nxt;
	u32			ts_recent;
	u32			ts_recent_stamp;
	u32			ts_offset;
	u16			window;
	bool			tstamp_ok;
	u32			last_oow_ack_time;
	struct timer_list	timer;
	struct rcu_head		rcu;
};

/**
 * struct xtcp_request - a connection a listener is being asked for
 * @hnode: its place in the established table (kind XTCP_HNODE_REQ); first
 * @refcnt: references: the table, the timer, lookups
 * @listener: the listener the SYN came to (a reference is held)
 * @rcv_isn: the peer's ISN
 * @snt_isn: ours
 * @ts_recent: the peer's latest TSval
 * @ts_off: our timestamp offset (xtcp_ts_offset())
 * @snt_synack: local ms clock when the first SYN-ACK went out
 * @rcv_wnd: the window our SYN-ACK offers
 * @window_clamp: the largest window we would offer
 * @last_oow_ack_time: jiffies of the last reply to an unacceptable
 *	segment
 * @mss: the peer's MSS (536 if it sent none), lowered by TCP_MAXSEG
 * @adv_mss: the MSS our SYN-ACK offers
 * @snd_wscale: the peer's window scale
 * @rcv_wscale: ours
 * @wscale_ok: window scaling agreed
 * @sack_ok: SACK agreed
 * @tstamp_ok: timestamps agreed
 * @acked: the handshake's ACK came while the accept queue was full
 * @ecn_ok: ECN agreed (the SYN asked with ECE and CWR, RFC 3168)
 * @num_retrans: SYN-ACKs sent again
 * @num_timeout: times the timer fired (the request is "young" until it
 *	first does)
 * @timer: retransmits the SYN-ACK, then ends the request
 * @rcu: for freeing
 *
 * The small object of Linux's request_sock: what a SYN negotiated, kept
 * until the handshake's ACK makes a socket of it (xtcp_minisocks.c).
 */
struct xtcp_request {
	struct xtcp_hnode	hnode;
	refcount_t		refcnt;
	struct sock		*listener;
	u32			rcv_isn;
	u32			snt_isn;
	u32			ts_recent;
	u32			ts_off;
	u32			snt_synack;
	u32			rcv_wnd;
	u32			window_clamp;
	u32			last_oow_ack_time;
	u16			mss;
	u16			adv_mss;
	u8			snd_wscale;
	u8			rcv_wscale;
	u8			wscale_ok:1,
				sack_ok:1,
				tstamp_ok:1,
				acked:1,
				ecn_ok:1;
	u8			num_retrans;
	u8			num_timeout;
	struct timer_list	timer;
	struct rcu_head		rcu;
};

#define XTCP_CA_PRIV_SIZE	(12 * sizeof(u64))
#define XTCP_CA_NAME_MAX	16	/* TCP_CA_NAME_MAX */

/**
 * struct xtcp_cong_ops - a congestion control algorithm (xtcp_cong.c)
 * @name: as TCP_CONGESTION and net.xtcp.congestion_control spell it
 * @init: the connection is established; private state is zeroed (optional)
 * @ssthresh: a loss or an ECE: the new ssthresh, in segments
 * @cong_avoid: an ACK advanced snd_una outside recovery by @acked segments
 * @on_rto: the retransmission timer fired (optional)
 * @on_tx_start: new data goes out with nothing in flight (optional)
 *
 * All are called with the socket owned.
 */
struct xtcp_cong_ops {
	char	name[XTCP_CA_NAME_MAX];
	void	(*init)(struct sock *sk);
	u32	(*ssthresh)(struct sock *sk);
	void	(*cong_avoid)(struct sock *sk, u32 acked);
	void	(*on_rto)(struct sock *sk);
	void	(*on_tx_start)(struct sock *sk);
};

/**
 * struct xtcp_sock - an xtcp socket
 * @inet: the generic IPv4 socket (addresses, ports, IP options); first
 * @bind_bucket: the bind bucket this socket owns a place in, or NULL
 * @hnode: its entry in the established table, once connecting
 * @hashed: @hnode is in the table (the table then holds a reference)
 * @dest: the destination port map entry its local port is marked in
 * @iss: initial send sequence number
 * @snd_una: oldest unacknowledged sequence number
 * @snd_nxt: next sequence number to send
 * @snd_wnd: peer's receive window (scaled)
 * @irs: initial receive sequence number
 * @rcv_nxt: next sequence number expected
 * @rcv_wnd: our receive window, as last advertised
 * @rcv_wup: rcv_nxt when that window was advertised (its left edge)
 * @window_clamp: the largest window we would offer
 * @rcv_ssthresh: the window offered grows up to this (xtcp_rcvq.c)
 * @rcv_mss: estimate of the peer's segment size
 * @user_mss: TCP_MAXSEG, 0 if unset
 * @adv_mss: the MSS we advertised in our SYN
 * @mss_clamp: the peer's MSS option (536 if it sent none), lowered by
 *	TCP_MAXSEG: the most the send MSS may be, options excluded
 * @mss_cache: the MSS we send with (xtcp_sync_mss())
 * @pmtu_cookie: the path MTU @mss_cache was computed for
 * @tcp_header_len: the TCP header of every data segment: 20, 32 with
 *	timestamps
 * @max_window: the largest window the peer has offered
 * @rcv_wscale: our window scale shift
 * @snd_wscale: the peer's window scale shift
 * @tstamp_ok: timestamps negotiated (or offered, before the SYN-ACK)
 * @sack_ok: SACK negotiated (or offered)
 * @wscale_ok: window scaling negotiated (or offered)
 * @ts_offset: added to the local ms clock to make TSval
 * @ts_recent: the peer's last TSval
 * @ts_recent_stamp: local ms clock when @ts_recent was seen
 * @retrans_stamp: local ms clock when the first SYN went out
 * @last_oow_ack_time: jiffies of the last reply to an unacceptable
 *	segment (xtcp_oow_rate_limited())
 * @bytes_acked: bytes the peer has acknowledged over the connection
 * @rcv_tstamp: jiffies of the last acceptable ACK (keepalive's idle time)
 * @keepalive_time: TCP_KEEPIDLE, jiffies; 0: the sysctl
 * @keepalive_intvl: TCP_KEEPINTVL, jiffies; 0: the sysctl
 * @keepalive_probes: TCP_KEEPCNT; 0: the sysctl
 * @retransmits: retransmissions of the current segment
 * @rto: retransmission timeout, jiffies
 * @retrans_timer: the retransmission timer (holds a socket reference)
 * @retrans_deadline: when it is due, jiffies; 0 while stopped
 * @delack_timer: the delayed-ACK timer (holds a socket reference)
 * @send_head: first skb of sk_write_queue not sent yet, or NULL
 * @write_seq: sequence number after the last byte queued (FIN included)
 * @snd_max: highest sequence number sent (snd_nxt moves back after an
 *	RTO; ACKs up to @snd_max are still good)
 * @snd_sml: end of the last short segment sent (Minshall's Nagle)
 * @snd_wl1: segment sequence of the last window update (RFC 9293)
 * @snd_wl2: segment acknowledgment of the last window update
 * @snd_cwnd: congestion window, segments
 * @snd_ssthresh: slow start threshold, segments
 * @cwnd_cnt: ACKed segments counted toward the next cwnd increase
 * @high_seq: NewReno's "recover": snd_nxt when recovery started
 * @dupacks: duplicate ACKs in a row
 * @in_recovery: in fast recovery
 * @srtt_us: smoothed RTT << 3, microseconds (0: no sample yet)
 * @rttvar_us: RTT variation << 2, microseconds
 * @copied_seq: next sequence number recvmsg() copies
 * @ooo_queue: segments beyond rcv_nxt, in sequence order
 * @ack_pending: an ACK is owed (the delayed-ACK timer will send it)
 * @ack_nomem: a segment was refused for memory: offer a zero window once
 * @dsack: a D-SACK block (@dsack_seq, @dsack_end) goes in the next ACK
 * @quickacks: ACKs still to send at once (start of a connection)
 * @nodelay: TCP_NODELAY
 * @cork: TCP_CORK
 * @recvmsg_inq: TCP_INQ: recvmsg() adds a TCP_CM_INQ control message
 * @pingpong: TCP_QUICKACK 0 was asked (getsockopt() reads 0)
 * @ecn_syn: our SYN asked for ECN (ECE and CWR)
 * @ecn_ok: ECN agreed: new data goes out ECT(0) (RFC 3168)
 * @ecn_demand_cwr: a CE mark arrived: our segments carry ECE until the
 *	peer's CWR
 * @ecn_queue_cwr: our next new data segment carries CWR
 * @in_cwr: the window was reduced for an ECE; no more until @cwr_high
 * @cwr_high: snd_nxt when the window was reduced
 * @fin_queued: a FIN is in the write queue (shutdown or close)
 * @orphan_counted: counted in xtcp_orphan_count (closed by its process)
 * @probes: zero-window (or keepalive) probes sent since the last
 *	acceptable ACK
 * @backoff: zero-window probes sent since the window was last open
 * @highest_sack: highest sequence the peer has SACKed; means something
 *	only within (snd_una, snd_max], xtcp_sacktag() resets it otherwise
 * @rexmit_high: in recovery, holes below this have been retransmitted
 * @prior_cwnd: cwnd when SACK recovery began (PRR's RecoverFS)
 * @prr_delivered: segments delivered to the peer during this recovery
 * @prr_out: segments sent during this recovery
 * @last_ooo_seq: sequence of the latest out-of-order arrival (its SACK
 *	block goes first, RFC 2018)
 * @deferred: enum xtcp_deferred_bits, set from softirq (atomic bitops)
 * @notsent_lowat: TCP_NOTSENT_LOWAT, 0 for the namespace's
 * @user_timeout: TCP_USER_TIMEOUT, ms (0: the retry counts alone)
 * @ut_start: jiffies the unanswered (re)transmissions or window probes
 *	began, 0 when there are none; @user_timeout counts from it
 * @bytes_received: sequence space received in order (TCP_INFO)
 * @bytes_sent: payload bytes sent, retransmissions included
 * @bytes_retrans: payload bytes sent again
 * @segs_out: segments sent
 * @segs_in: segments received
 * @data_segs_out: segments sent with payload
 * @data_segs_in: segments received with payload
 * @total_retrans: segments sent again
 * @delivered: segments acknowledged
 * @rcv_ooopack: segments received out of order
 * @dsack_dups: segments the peer reported received twice (D-SACK)
 * @min_rtt_us: the smallest RTT sample, ~0U before the first
 * @last_rtt_us: the latest RTT sample
 * @rtt_fresh: @last_rtt_us came with the ACK being processed (the
 *	congestion control clears it)
 * @ca_ops: the congestion control algorithm
 * @ca_priv: its per-socket state
 * @lsndtime: jiffies of the last data sent
 * @lrcvtime: jiffies of the last data received
 * @mtu_info: the MTU of the latest ICMP "fragmentation needed"
 * @lnode: a listener's place in the listening table
 * @listen_hashed: @lnode is in the table
 * @accept_lock: guards @accept_queue
 * @accept_queue: a listener's connections waiting for accept(), oldest
 *	first (each holds a reference)
 * @accept_node: a connection's place in its listener's queue
 * @req_qlen: a listener's requests (SYNs answered, no ACK yet)
 * @req_young: those of them whose timer has not fired yet
 * @synq_overflow: jiffies a listener last sent a SYN cookie
 */
struct xtcp_sock {
	struct inet_sock		inet;
	struct xtcp_bind_bucket		*bind_bucket;
	struct xtcp_hnode		hnode;
	bool				hashed;
	struct xtcp_dest		*dest;

	u32				iss;
	u32				snd_una;
	u32				snd_nxt;
	u32				snd_wnd;
	u32				irs;
	u32				rcv_nxt;
	u32				rcv_wnd;
	u32				rcv_wup;
	u32				window_clamp;
	u32				rcv_ssthresh;
	u32				rcv_mss;

	u16				user_mss;
	u16				adv_mss;
	u16				mss_clamp;
	u16				mss_cache;
	u32				pmtu_cookie;
	u8				tcp_header_len;
	u32				max_window;
	u8				rcv_wscale;
	u8				snd_wscale;
	u8				tstamp_ok:1,
					sack_ok:1,
					wscale_ok:1;
	u32				ts_offset;
	u32				ts_recent;
	u32				ts_recent_stamp;
	u32				retrans_stamp;
	u32				last_oow_ack_time;
	u64				bytes_acked;
	u64				bytes_received;
	u64				bytes_sent;
	u64				bytes_retrans;
	u32				segs_out;
	u32				segs_in;
	u32				data_segs_out;
	u32				data_segs_in;
	u32				total_retrans;
	u32				delivered;
	u32				rcv_ooopack;
	u32				dsack_dups;
	u32				min_rtt_us;
	u32				last_rtt_us;
	u8				rtt_fresh;
	const struct xtcp_cong_ops	*ca_ops;
	u64				ca_priv[XTCP_CA_PRIV_SIZE / sizeof(u64)];
	u32				lsndtime;
	u32				lrcvtime;
	u32				rcv_tstamp;
	u32				keepalive_time;
	u32				keepalive_intvl;
	u8				keepalive_probes;

	u8				retransmits;
	u32				rto;
	struct timer_list		retrans_timer;
	unsigned long			retrans_deadline;
	struct timer_list		delack_timer;

	struct sk_buff			*send_head;
	u32				write_seq;
	u32				pushed_seq;
	u32				notsent_lowat;
	u32				user_timeout;
	unsigned long			ut_start;
	u32				snd_max;
	u32				snd_sml;
	u32				snd_wl1;
	u32				snd_wl2;
	u32				snd_cwnd;
	u32				snd_ssthresh;
	u32				cwnd_cnt;
	u32				high_seq;
	u32				dupacks;
	bool				in_recovery;
	u32				srtt_us;
	u32				rttvar_us;

	u32				copied_seq;
	struct sk_buff_head		ooo_queue;
	bool				ack_pending;
	u8				ack_nomem:1,
					dsack:1;
	u32				dsack_seq;
	u32				dsack_end;
	u8				quickacks;
	u8				nodelay:1,
					cork:1,
					fin_queued:1,
					orphan_counted:1,
					recvmsg_inq:1,
					pingpong:1;
	u8				ecn_syn:1,
					ecn_ok:1,
					ecn_demand_cwr:1,
					ecn_queue_cwr:1,
					in_cwr:1;
	u32				cwr_high;
	u8				probes;
	u8				backoff;
	u32				highest_sack;
	u32				rexmit_high;
	u32				prior_cwnd;
	u32				prr_delivered;
	u32				prr_out;
	u32				last_ooo_seq;
	unsigned long			deferred;
	u32				mtu_info;

	struct hlist_node		lnode;
	bool				listen_hashed;
	spinlock_t			accept_lock;	/* accept_queue */
	struct list_head		accept_queue;
	struct list_head		accept_node;
	atomic_t			req_qlen;
	atomic_t			req_young;
	unsigned long			synq_overflow;
};

/**
 * struct xtcp_skb_cb - what xtcp keeps in skb->cb of queued segments
 * @seq: first sequence number
 * @end_seq: @seq + payload length + 1 if FIN
 * @when: jiffies of the last transmission (RTT samples, Karn)
 * @fin: carries the FIN
 * @retrans: has been retransmitted (no RTT sample from it)
 * @sacked: the peer has it (SACK); not sent again
 * @psh: sent with PSH: the last segment of a write (tcp_mark_push())
 * @eor: ends a send(MSG_EOR): later writes do not join it
 */
struct xtcp_skb_cb {
	u32	seq;
	u32	end_seq;
	unsigned long when;
	u8	fin:1,
		retrans:1,
		sacked:1,
		psh:1,
		eor:1;
};

#define XTCP_SKB_CB(skb)	((struct xtcp_skb_cb *)&((skb)->cb[0]))

/**
 * struct xtcp_rx_opts - the options of a received segment
 * @mss: MSS option (SYN only), 0 if absent
 * @wscale: window scale shift (SYN only)
 * @wscale_ok: window scale option present
 * @sack_ok: SACK-permitted present
 * @saw_tstamp: timestamp option present
 * @tsval: its TSval
 * @tsecr: its TSecr
 * @num_sacks: SACK blocks present (at most 4)
 * @sacks: the blocks, [start, end) in host order
 */
struct xtcp_rx_opts {
	u16	mss;
	u8	wscale;
	bool	wscale_ok;
	bool	sack_ok;
	bool	saw_tstamp;
	u32	tsval;
	u32	tsecr;
	u8	num_sacks;
	u32	sacks[4][2];
};

static inline struct xtcp_sock *xtcp_sk(const struct sock *sk)
{
	return (struct xtcp_sock *)sk;
}

/*
 * A segment joins or leaves the write queue: sk_wmem_queued, and the
 * protocol's memory accounting (net.xtcp.mem, the memory cgroup). The
 * caller scheduled the memory (sk_wmem_schedule()), or forces it.
 */
static inline void xtcp_wmem_queued(struct sock *sk, struct sk_buff *skb)
{
	sk_wmem_queued_add(sk, skb->truesize);
	sk_mem_charge(sk, skb->truesize);
}

static inline void xtcp_wmem_free_skb(struct sock *sk, struct sk_buff *skb)
{
	sk_wmem_queued_add(sk, -skb->truesize);
	sk_mem_uncharge(sk, skb->truesize);
	kfree_skb(skb);
}

/* The part of the advertised window still open (tcp_receive_window()). */
static inline u32 xtcp_receive_window(const struct xtcp_sock *xs)
{
	s32 win = xs->rcv_wup + xs->rcv_wnd - xs->rcv_nxt;

	return win < 0 ? 0 : win;
}

/* xtcp_main.c */
#define XTCP_MAX_ORPHANS	16384	/* half the established table */
extern int xtcp_family;
extern long xtcp_sysctl_mem[3];
extern int xtcp_sysctl_max_orphans;
DECLARE_PER_CPU(unsigned int, xtcp_orphan_count);
int xtcp_orphan_count_sum(void);
long xtcp_memory_allocated_sum(void);
bool xtcp_check_oom(struct sock *sk);
void xtcp_memcg_adopt(struct sock *sk);
extern unsigned int xtcp_clock_offset_ms;
extern struct proto xtcp_prot;

/* xtcp_sock.c */
extern struct net_proto_family xtcp_family_ops;

/* xtcp_hash.c */
int xtcp_hash_init(void);
void xtcp_hash_destroy(void);
int xtcp_bind_port(struct sock *sk, u16 snum);
void xtcp_put_port(struct sock *sk);
int xtcp_recheck_port(struct sock *sk);
int xtcp_inherit_port(struct sock *child, struct sock *listener);
void xtcp_get_port_range(struct xtcp_net *xn, int *low, int *high);

/* xtcp_ehash.c */
int xtcp_ehash_init(void);
void xtcp_ehash_destroy(void);
int xtcp_hash_connect(struct sock *sk);
void xtcp_unhash(struct sock *sk);
struct xtcp_hnode *xtcp_ehash_lookup(struct net *net, __be32 raddr,
				     __be16 rport, __be32 laddr, __be16 lport);
void xtcp_hnode_put(struct xtcp_hnode *hn);
void xtcp_tw_put(struct xtcp_tw *tw);
bool xtcp_tw_unhash(struct xtcp_tw *tw);
bool xtcp_ehash_replace(struct sock *sk, struct xtcp_tw *tw);
void xtcp_tw_purge(struct net *net);
void xtcp_hnode_init(struct xtcp_hnode *hn, struct net *net, __be32 laddr,
		     __be16 lport, __be32 raddr, __be16 rport, u8 kind);
bool xtcp_ehash_insert_req(struct xtcp_request *req);
bool xtcp_ehash_del(struct xtcp_hnode *hn);
bool xtcp_ehash_replace_req(struct sock *sk, struct xtcp_request *req);
bool xtcp_ehash_insert_sk(struct sock *sk);
void xtcp_ehash_for_each(struct net *net,
			 void (*fn)(struct xtcp_hnode *hn, void *arg),
			 void *arg);

/* xtcp_listen.c */
int xtcp_listen_init(void);
void xtcp_listen_destroy(void);
struct xtcp_request *xtcp_req_alloc(struct sock *listener);
void xtcp_req_free(struct xtcp_request *req);
void xtcp_req_put(struct xtcp_request *req);
struct sock *xtcp_lookup_listener(struct net *net, __be32 saddr, __be16 sport,
				  __be32 daddr, __be16 dport, int dif);
int xtcp_listen(struct socket *sock, int backlog);
bool xtcp_accept_enqueue(struct sock *listener, struct sock *child);
int xtcp_accept(struct socket *sock, struct socket *newsock, int flags,
		bool kern);
void xtcp_child_forget(struct sock *child);
void xtcp_listen_stop(struct sock *sk);
__poll_t xtcp_listen_poll(const struct sock *sk);
void xtcp_listen_init_sock(struct sock *sk);
void xtcp_listen_for_each(struct net *net,
			  void (*fn)(struct sock *sk, void *arg), void *arg);

/* xtcp_minisocks.c */
enum xtcp_req_verdict {
	XTCP_REQ_CONSUMED,
	XTCP_REQ_RELOOKUP,
};

int xtcp_listen_rcv(struct sock *lsk, struct sk_buff *skb, u32 tw_isn);
enum xtcp_req_verdict xtcp_req_rcv(struct xtcp_request *req,
				   struct sk_buff *skb);
void xtcp_req_err(struct xtcp_request *req, u32 seq, bool abort);

/* xtcp_syncookies.c */
u32 xtcp_cookie_init_seq(struct xtcp_request *req);
u16 xtcp_cookie_check(const struct xtcp_request *req);
u32 xtcp_cookie_tsval(const struct xtcp_request *req, u32 now);
bool xtcp_cookie_decode_ts(const struct net *net, struct xtcp_request *req,
			   u32 tsecr);

/* xtcp_proc.c */
int xtcp_proc_show(struct seq_file *seq, void *v);
int xtcp_ss_show(struct seq_file *seq, void *v);

/* xtcp_timewait.c */
void xtcp_time_wait(struct sock *sk);
void xtcp_tw_kill(struct xtcp_tw *tw);
u32 xtcp_tw_rcv(struct net *net, struct xtcp_tw *tw, struct sk_buff *skb);

/**
 * struct xtcp_out_opts - the options of a segment to send
 * @mss: MSS option value, 0 for none
 * @wscale: our window scale, with @ws
 * @ws: window scale option
 * @sack_perm: SACK-permitted option
 * @ts: timestamp option, @tsval and @tsecr
 * @tsval: TSval
 * @tsecr: TSecr
 * @nsack: SACK blocks in @sack
 * @sack: [start, end) pairs
 */
struct xtcp_out_opts {
	u16	mss;
	u8	wscale;
	u8	ws:1,
		sack_perm:1,
		ts:1;
	u32	tsval;
	u32	tsecr;
	int	nsack;
	u32	sack[4][2];
};

/* xtcp_output.c */
u32 xtcp_clock_ms(void);

/* xtcp_cong.c, xtcp_cubic.c */
extern const struct xtcp_cong_ops xtcp_reno;
extern const struct xtcp_cong_ops xtcp_cubic;
const struct xtcp_cong_ops *xtcp_cong_find(const char *name);
void xtcp_cong_available(char *buf, size_t size);
u32 xtcp_slow_start(struct xtcp_sock *xs, u32 acked);
void xtcp_cong_avoid_ai(struct xtcp_sock *xs, u32 w, u32 acked);
void xtcp_ca_set(struct sock *sk, const struct xtcp_cong_ops *ops);
void xtcp_ca_init_sock(struct sock *sk);
void xtcp_ca_init(struct sock *sk);
u32 xtcp_ca_ssthresh(struct sock *sk);
void xtcp_ca_cong_avoid(struct sock *sk, u32 acked);
void xtcp_ca_on_rto(struct sock *sk);
void xtcp_ca_on_tx_start(struct sock *sk);

static inline void *xtcp_ca_priv(struct sock *sk)
{
	return xtcp_sk(sk)->ca_priv;
}

u32 xtcp_isn(__be32 saddr, __be32 daddr, __be16 sport, __be16 dport);
u32 xtcp_ts_offset(const struct net *net, __be32 saddr, __be32 daddr,
		   __be16 sport, __be16 dport);
void xtcp_init_seq(struct sock *sk);
unsigned int xtcp_build_options(__be32 *ptr, const struct xtcp_out_opts *o);
int xtcp_transmit(struct sock *sk, u8 flags, u32 seq);
int xtcp_send_syn(struct sock *sk);
int xtcp_retransmit_syn(struct sock *sk);
int xtcp_send_ack(struct sock *sk, u8 flags);
void xtcp_write_xmit(struct sock *sk, bool push);
void xtcp_retransmit_head(struct sock *sk);
int xtcp_send_queued(struct sock *sk, struct sk_buff *skb);

/* xtcp_recovery.c */
u32 xtcp_pipe(struct sock *sk);
bool xtcp_retransmit_hole(struct sock *sk);
void xtcp_sack_enter_recovery(struct sock *sk, u32 newly);
void xtcp_sack_recovery_ack(struct sock *sk, u32 newly, bool una_advanced);
void xtcp_enter_loss(struct sock *sk);
void xtcp_queue_fin(struct sock *sk);
bool xtcp_write_wakeup(struct sock *sk);
void xtcp_send_probe(struct sock *sk);
u32 xtcp_sync_mss(struct sock *sk, u32 pmtu);
void xtcp_mtu_reduced(struct sock *sk);
void xtcp_purge_write_queue(struct sock *sk);
void xtcp_send_rst_reply(struct net *net, struct sk_buff *skb);
void xtcp_send_reply(struct net *net, struct sk_buff *in, u8 flags, u32 seq,
		     u32 ack, u16 window, const u32 *ts);
struct rtable *xtcp_req_route(struct sock *lsk, const struct xtcp_hnode *hn);
int xtcp_send_synack(struct sock *lsk, const struct xtcp_request *req,
		     u32 tsval);
void xtcp_tw_send_ack(struct net *net, const struct xtcp_tw *tw,
		      struct sk_buff *skb);

/* xtcp_input.c */
int xtcp_do_rcv(struct sock *sk, struct sk_buff *skb);
void xtcp_reset(struct sock *sk, int err);
bool xtcp_oow_rate_limited(struct net *net, bool limitable, u32 *last,
			   int mib);
void xtcp_rtt_sample(struct xtcp_sock *xs, long rtt_us);
void xtcp_set_rto(struct xtcp_sock *xs);
void xtcp_established(struct sock *sk);

/* xtcp_options.c */
void xtcp_parse_options(const struct tcphdr *th, struct xtcp_rx_opts *o);

/* xtcp_ipv4.c */
int xtcp_input_init_net(struct xtcp_net *xn);
void xtcp_input_exit_net(struct xtcp_net *xn);

/* xtcp_timer.c */
void xtcp_init_timers(struct sock *sk);
void xtcp_clear_timers(struct sock *sk);
void xtcp_clear_timers_retrans(struct sock *sk);
void xtcp_reset_retrans_timer(struct sock *sk);
void xtcp_schedule_ack(struct sock *sk);
void xtcp_release_cb(struct sock *sk);
void xtcp_reset_keepalive_timer(struct sock *sk, unsigned long when);
void xtcp_keepalive_changed(struct sock *sk);
void xtcp_set_keepalive(struct sock *sk, int val);
int xtcp_keepalive_getsockopt(const struct sock *sk, int optname);

/* xtcp_info.c */
void xtcp_reset_info(struct xtcp_sock *xs);
int xtcp_get_info(struct sock *sk, char __user *optval, int __user *optlen);
bool xtcp_info_peek(struct sock *sk, struct tcp_info *info);

/* xtcp_sock.c */
void xtcp_set_state(struct sock *sk, int state);
void xtcp_done(struct sock *sk);
int xtcp_disconnect(struct sock *sk);

/* xtcp_stream.c */
int xtcp_sendmsg(struct socket *sock, struct msghdr *msg, size_t size);
int xtcp_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		 int flags);
int xtcp_shutdown(struct socket *sock, int how);
void xtcp_close_send(struct sock *sk);
void xtcp_write_space(struct sock *sk);
void xtcp_sndbuf_expand(struct sock *sk);
void xtcp_new_space(struct sock *sk);
bool xtcp_stream_writeable(const struct sock *sk, int wake);
bool xtcp_stream_memory_free(const struct sock *sk, int wake);

/* xtcp_rcvq.c */
void xtcp_init_rcv_window(struct sock *sk);
void xtcp_initial_window(const struct sock *sk, u32 mss, bool wscale_ok,
			 u32 *rcv_wnd, u32 *window_clamp, u8 *rcv_wscale);
void xtcp_init_buffer_space(struct sock *sk);
u32 xtcp_select_window(struct sock *sk);
bool xtcp_data_queue(struct sock *sk, struct sk_buff *skb,
		     const struct tcphdr *th, bool *fin, bool *ack_now);
void xtcp_ack_snd_check(struct sock *sk, bool now);
int xtcp_sack_blocks(struct xtcp_sock *xs, u32 blk[][2], int max);
void xtcp_cleanup_rbuf(struct sock *sk);
int xtcp_rmem_uncharged(struct sock *sk);

/* xtcp_mib.c */
int xtcp_mib_init_net(struct xtcp_net *xn);
void xtcp_mib_exit_net(struct xtcp_net *xn);

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
