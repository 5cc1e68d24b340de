// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: parsing the TCP options of received segments, for sockets and
 * for TIME_WAIT entries alike.
 */
#include <linux/tcp.h>
#include <net/tcp.h>

#include "xtcp.h"

/*
 * As Linux's parser, a malformed option list is not a reason to drop
 * the segment: parsing just stops at the first option that does not fit.
 */
void xtcp_parse_options(const struct tcphdr *th, struct xtcp_rx_opts *o)
{
	const u8 *p = (const u8 *)(th + 1);
	int len = th->doff * 4 - sizeof(*th);

	while (len > 0) {
		u8 kind = *p++, size;

		if (kind == TCPOPT_EOL)
			return;
		if (kind == TCPOPT_NOP) {
			len--;
			continue;
		}
		if (len < 2)
			return;
		size = *p++;
		if (size < 2 || size > len)
			return;
		switch (kind) {
		case TCPOPT_MSS:
			if (size == TCPOLEN_MSS && th->syn)
				o->mss = get_unaligned_be16(p);
			break;
		case TCPOPT_WINDOW:
			if (size == TCPOLEN_WINDOW && th->syn) {
				o->wscale_ok = true;
				o->wscale = min_t(u8, *p, TCP_MAX_WSCALE);
			}
			break;
		case TCPOPT_SACK_PERM:
			if (size == TCPOLEN_SACK_PERM && th->syn)
				o->sack_ok = true;
			break;
		case TCPOPT_TIMESTAMP:
			if (size == TCPOLEN_TIMESTAMP) {
				o->saw_tstamp = true;
				o->tsval = get_unaligned_be32(p);
				o->tsecr = get_unaligned_be32(p + 4);
			}
			break;
		case TCPOPT_SACK:
			if (th->syn || size < TCPOLEN_SACK_BASE +
					    TCPOLEN_SACK_PERBLOCK ||
			    (size - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_PERBLOCK)
				break;
			for (o->num_sacks = 0;
			     o->num_sacks < (size - 2) / 8 && o->num_sacks < 4;
			     o->num_sacks++) {
				o->sacks[o->num_sacks][0] =
					get_unaligned_be32(p + 8 * o->num_sacks);
				o->sacks[o->num_sacks][1] =
					get_unaligned_be32(p + 8 * o->num_sacks + 4);
			}
			break;
		}
		p += size - 2;
		len -= size;
	}
}
