// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: SYN cookies. When a listener's request queue is full (or
 * net.xtcp.syncookies is 2), a SYN is answered without keeping anything:
 * what the connection needs later is folded into our ISN, and the peer's
 * ACK, acknowledging ISN + 1, brings it back.
 *
 * The ISN (the cookie), as Linux's secure_tcp_syn_cookie() lays it out:
 *
 *	cookie = H1(4-tuple) + peer's ISN + (count << 24)
 *		 + ((H2(4-tuple, count) + mss index) mod 2^24)
 *
 * with H1 and H2 SipHashes under keys drawn at load, count the minute
 * (jiffies / 60 s) the cookie was made, and the mss index a 2-bit index
 * into xtcp_cookie_mss[], the largest entry no bigger than the peer's
 * MSS. Checking subtracts H1 and the peer's ISN (the ACK's sequence - 1),
 * reads the count from the top 8 bits, accepts it only if it is this
 * minute or the last, and then the low 24 bits less H2 of that count
 * must be a valid index. A blind attacker has to guess 24 bits of hash.
 *
 * The window scale and SACK permission of the SYN have no room in the
 * ISN; when the SYN carried timestamps they ride in the low 6 bits of
 * the SYN-ACK's TSval (bits 0-3 the peer's window scale, 0xf for none;
 * bit 4 SACK; bit 5 ECN, as Linux), which the peer echoes in its
 * ACK's TSecr. Without timestamps a cookie connection has neither, as
 * on Linux. The encoded TSval is never ahead of the clock, so the
 * connection's later TSvals only grow.
 */
#include <linux/siphash.h>
#include <linux/tcp.h>
#include <net/tcp.h>

#include "xtcp.h"

#define XTCP_COOKIE_BITS	24
#define XTCP_COOKIE_MASK	((1U << XTCP_COOKIE_BITS) - 1)
#define XTCP_COOKIE_MAX_AGE	2	/* minutes: this one and the last */
#define XTCP_COOKIE_PERIOD	(60 * HZ)

#define XTCP_TS_BITS		6
#define XTCP_TS_MASK		((1U << XTCP_TS_BITS) - 1)
#define XTCP_TS_WSCALE_MASK	0xf
#define XTCP_TS_SACK		BIT(4)
#define XTCP_TS_ECN		BIT(5)

/* The MSS a cookie can say, Linux's msstab. */
static const u16 xtcp_cookie_mss[] = { 536, 1300, 1440, 1460 };

static siphash_aligned_key_t xtcp_cookie_key[2];

static u32 xtcp_cookie_hash(const struct xtcp_hnode *hn, u32 count, int c)
{
	net_get_random_once(xtcp_cookie_key, sizeof(xtcp_cookie_key));
	return siphash_4u32((__force u32)hn->laddr, (__force u32)hn->raddr,
			    ((__force u32)hn->lport << 16) |
			    (__force u32)hn->rport, count,
			    &xtcp_cookie_key[c]);
}

static u32 xtcp_cookie_time(void)
{
	return (u32)(get_jiffies_64() / XTCP_COOKIE_PERIOD);
}

/**
 * xtcp_cookie_init_seq() - the cookie ISN for a SYN
 * @req: the request on the stack: 4-tuple, rcv_isn and mss (the peer's)
 *	set; mss becomes the table's value the cookie encodes
 *
 * Return: the ISN.
 */
u32 xtcp_cookie_init_seq(struct xtcp_request *req)
{
	u32 count = xtcp_cookie_time(), idx;

	for (idx = ARRAY_SIZE(xtcp_cookie_mss) - 1; idx; idx--)
		if (req->mss >= xtcp_cookie_mss[idx])
			break;
	req->mss = xtcp_cookie_mss[idx];
	return xtcp_cookie_hash(&req->hnode, 0, 0) + req->rcv_isn +
	       (count << XTCP_COOKIE_BITS) +
	       ((xtcp_cookie_hash(&req->hnode, count, 1) + idx) &
		XTCP_COOKIE_MASK);
}

/**
 * xtcp_cookie_check() - is this ACK's acknowledgment one of our cookies?
 * @req: the request being rebuilt: 4-tuple, rcv_isn and snt_isn (the
 *	ACK's sequence and acknowledgment, less one) set
 *
 * Return: the MSS the cookie encodes, or 0 if it is not a live cookie.
 */
u16 xtcp_cookie_check(const struct xtcp_request *req)
{
	u32 cookie = req->snt_isn - xtcp_cookie_hash(&req->hnode, 0, 0) -
		     req->rcv_isn;
	u32 count = xtcp_cookie_time(), diff, idx;

	diff = (count - (cookie >> XTCP_COOKIE_BITS)) & 0xff;
	if (diff >= XTCP_COOKIE_MAX_AGE)
		return 0;
	idx = (cookie - xtcp_cookie_hash(&req->hnode, count - diff, 1)) &
	      XTCP_COOKIE_MASK;
	return idx < ARRAY_SIZE(xtcp_cookie_mss) ? xtcp_cookie_mss[idx] : 0;
}

/**
 * xtcp_cookie_tsval() - the TSval of a cookie SYN-ACK, before ts_off
 * @req: the request: snd_wscale, wscale_ok, sack_ok and ecn_ok set
 * @now: the local ms clock
 *
 * Return: @now with its low 6 bits replaced by the options, never
 * greater than @now.
 */
u32 xtcp_cookie_tsval(const struct xtcp_request *req, u32 now)
{
	u32 options = req->wscale_ok ? req->snd_wscale : XTCP_TS_WSCALE_MASK;
	u32 ts;

	if (req->sack_ok)
		options |= XTCP_TS_SACK;
	if (req->ecn_ok)
		options |= XTCP_TS_ECN;
	ts = (now & ~XTCP_TS_MASK) | options;
	if (after(ts, now))
		ts -= 1U << XTCP_TS_BITS;
	return ts;
}

/**
 * xtcp_cookie_decode_ts() - the options a cookie ACK's TSecr brings back
 * @net: the namespace
 * @req: the request being rebuilt; its option fields are set
 * @tsecr: the ACK's TSecr less the connection's timestamp offset
 *
 * As cookie_timestamp_decode(): the options must be ones this namespace
 * would have agreed to.
 *
 * Return: false if they are not (the ACK is then no cookie of ours).
 */
bool xtcp_cookie_decode_ts(const struct net *net, struct xtcp_request *req,
			   u32 tsecr)
{
	if (!xtcp_knob(net, XTCP_KNOB_TIMESTAMPS))
		return false;
	req->sack_ok = !!(tsecr & XTCP_TS_SACK);
	if (req->sack_ok && !xtcp_knob(net, XTCP_KNOB_SACK))
		return false;
	/* cookie_ecn_ok(): ECN only while the namespace still has it. */
	req->ecn_ok = (tsecr & XTCP_TS_ECN) && xtcp_knob(net, XTCP_KNOB_ECN);
	if ((tsecr & XTCP_TS_WSCALE_MASK) == XTCP_TS_WSCALE_MASK)
		return true;
	req->wscale_ok = 1;
	req->snd_wscale = min_t(u32, tsecr & XTCP_TS_WSCALE_MASK,
				TCP_MAX_WSCALE);
	return !!xtcp_knob(net, XTCP_KNOB_WINDOW_SCALING);
}
