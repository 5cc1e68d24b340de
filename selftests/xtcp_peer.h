/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A scripted TCP peer for the xtcp selftests: the test itself plays the
 * remote end of an xtcp connection, byte by byte.
 *
 * Two network namespaces joined by a veth pair. A holds xtcp (the test
 * thread lives there) with PEER_XTCP_ADDR on va. B has no IP address at
 * all: a packet socket on vb reads every frame xtcp sends and writes the
 * frames the test builds, so no kernel stack answers in the peer's
 * place. A static neighbour entry in A points PEER_ADDR at vb's MAC.
 *
 * The packet socket uses PACKET_VNET_HDR, which lets a test shape the
 * skb that arrives in A: by default a frame is one linear skb; with
 * @nonlinear its payload lands in page fragments (the kernel's packet
 * socket does this only for frames of a page or more, hence the 9000
 * byte MTU of the link); with @gso_size it is one GSO packet of several
 * segments, as GRO hands them to a local stack.
 *
 * Include after kselftest_harness.h and xtcp_test.h.
 */
#ifndef _XTCP_PEER_H
#define _XTCP_PEER_H

#include <linux/virtio_net.h>
#include <netinet/ip_icmp.h>

#define PEER_XTCP_ADDR	"192.0.2.1"
#define PEER_ADDR	"192.0.2.2"
#define PEER_MTU	9000
#define PEER_MAXFRAME	(65536 + 64)

/**
 * struct peer - the link and the peer's packet socket
 * @ns_a: xtcp's namespace
 * @ns_b: the peer's namespace (no IP configured)
 * @pfd: packet socket on vb, PACKET_VNET_HDR
 * @ifindex: vb's index in B
 * @xaddr: xtcp's address, network order
 * @paddr: the peer's address, network order
 * @refcnt: xtcp.ko's reference count before the test
 * @rcvbuf: SO_RCVBUF for the client sockets pconn_open() makes (0: none)
 * @synack_win: the window of pconn_open()'s SYN-ACK (0: 65535)
 * @synack_delay_ms: how long pconn_open() holds its SYN-ACK back (the
 *	handshake's RTT sample, and so the RTO, grows with it)
 */
struct peer {
	int		ns_a;
	int		ns_b;
	int		pfd;
	int		ifindex;
	uint32_t	xaddr;
	uint32_t	paddr;
	int		refcnt;
	int		rcvbuf;
	unsigned int	synack_win;
	unsigned int	synack_delay_ms;
};

/**
 * struct pseg - a TCP segment, parsed (read from xtcp) or to build
 * @flags: SEG_* bits (and 0x40 ECE, 0x80 CWR)
 * @sport: source port, host order
 * @dport: destination port, host order
 * @seq: sequence number
 * @ack: acknowledgment number
 * @win: the window field (unscaled)
 * @opt: the option bytes
 * @optlen: their length (a multiple of 4 when built by the test)
 * @data: payload
 * @len: payload length
 * @mss: parsed MSS option, 0 if absent
 * @wscale: parsed window scale, -1 if absent
 * @sackok: SACK-permitted seen
 * @ts: timestamp option seen
 * @tsval: its TSval
 * @tsecr: its TSecr
 * @nsack: SACK blocks
 * @sack: the blocks
 * @ipid: IP identification
 * @iplen: IP total length
 * @tos: IP TOS byte
 * @df: IP don't-fragment bit
 * @gso_size: read: the frame was a GSO packet of this segment size
 * @rx_ns: read: when the frame reached vb (CLOCK_REALTIME, ns), if the
 *	packet socket has SO_TIMESTAMPNS on; 0 otherwise
 */
struct pseg {
	unsigned int	flags;
	unsigned int	sport, dport;
	uint32_t	seq, ack;
	unsigned int	win;
	uint8_t		opt[40];
	unsigned int	optlen;
	uint8_t		data[PEER_MAXFRAME];
	unsigned int	len;
	unsigned int	mss;
	int		wscale;
	int		sackok;
	int		ts;
	uint32_t	tsval, tsecr;
	int		nsack;
	uint32_t	sack[4][2];
	unsigned int	ipid, iplen, tos, df;
	unsigned int	gso_size;
	long long	rx_ns;
};

/**
 * struct pout - how to send a built segment
 * @nonlinear: the payload goes to page fragments (frame >= a page)
 * @gso_size: send one GSO packet cut at this size (0: a plain frame)
 * @bad_csum: corrupt the TCP checksum
 * @ip_tot_len: override the IP total length (0: the right one)
 * @raw_len: send only this many bytes of the IP datagram (0: all)
 * @tos: the IP TOS byte (its low two bits the ECN codepoint)
 */
struct pout {
	int		nonlinear;
	unsigned int	gso_size;
	int		bad_csum;
	unsigned int	ip_tot_len;
	unsigned int	raw_len;
	unsigned int	tos;
};

static const uint8_t peer_mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t peer_mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };

/* Set up both namespaces; the calling thread ends up in A. */
static inline const char *peer_setup(struct peer *p)
{
	struct sockaddr_ll sll = {};
	int one = 1, cur;

	p->refcnt = xtcp_module_refcnt();
	p->rcvbuf = 0;
	p->synack_delay_ms = 0;
	p->ns_a = -1;
	p->ns_b = -1;
	p->pfd = -1;
	inet_pton(AF_INET, PEER_XTCP_ADDR, &p->xaddr);
	inet_pton(AF_INET, PEER_ADDR, &p->paddr);
	p->ns_b = new_netns();
	if (p->ns_b < 0)
		return "namespace B";
	netpair_no_ipv6();
	p->ns_a = new_netns();
	if (p->ns_a < 0)
		return "namespace A";
	netpair_no_ipv6();
	if (run_cmd("ip link add va mtu %d address 02:00:00:00:00:0a type veth "
		    "peer name vb mtu %d address 02:00:00:00:00:0b netns /proc/%d/fd/%d",
		    PEER_MTU, PEER_MTU, getpid(), p->ns_b))
		return "ip link add ... type veth";
	if (run_cmd("ip addr add %s/24 dev va", PEER_XTCP_ADDR) ||
	    link_up("va"))
		return "address of A";
	if (run_cmd("ip neigh replace %s lladdr 02:00:00:00:00:0b dev va nud permanent",
		    PEER_ADDR))
		return "neighbour entry";
	if (run_cmd_in_netns(p->ns_b, "ip link set vb up"))
		return "vb up";

	p->pfd = socket_in_netns(p->ns_b, AF_PACKET, SOCK_RAW | SOCK_CLOEXEC,
				 htons(ETH_P_ALL));
	if (p->pfd < 0)
		return "packet socket";
	cur = netns_current();
	if (cur < 0 || setns(p->ns_b, CLONE_NEWNET))
		return "setns B";
	p->ifindex = if_nametoindex("vb");
	if (setns(cur, CLONE_NEWNET))
		abort();
	close(cur);
	if (setsockopt(p->pfd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)))
		return "PACKET_VNET_HDR";
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = p->ifindex;
	if (!p->ifindex || bind(p->pfd, (struct sockaddr *)&sll, sizeof(sll)))
		return "bind the packet socket";
	return NULL;
}

/*
 * Abort every socket of the test (SO_LINGER 0: a RST, no orphan left
 * retransmitting toward a peer that no longer answers), then wait for
 * xtcp's sockets to be gone. Returns xtcp.ko's reference count.
 */
static inline int peer_teardown(struct peer *p)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct stat st;
	int fd, refcnt;

	for (fd = 3; fd < 1024; fd++)
		if (!fstat(fd, &st) && S_ISSOCK(st.st_mode))
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	refcnt = close_sockets_wait(p->refcnt);
	if (p->ns_a >= 0)
		close(p->ns_a);
	if (p->ns_b >= 0)
		close(p->ns_b);
	return refcnt;
}

/* ---- building segments ---- */

static inline unsigned int opt_nop(uint8_t *o)
{
	o[0] = 1;
	return 1;
}

static inline unsigned int opt_mss(uint8_t *o, unsigned int mss)
{
	o[0] = 2;
	o[1] = 4;
	o[2] = mss >> 8;
	o[3] = mss;
	return 4;
}

static inline unsigned int opt_wscale(uint8_t *o, unsigned int shift)
{
	o[0] = 1;
	o[1] = 3;
	o[2] = 3;
	o[3] = shift;
	return 4;
}

static inline unsigned int opt_sackok(uint8_t *o)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 4;
	o[3] = 2;
	return 4;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static inline unsigned int opt_ts(uint8_t *o, uint32_t val, uint32_t ecr)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	put_be32(o + 4, val);
	put_be32(o + 8, ecr);
	return 12;
}

/* A SACK option with @n blocks [start, end), NOP-padded to 4 bytes. */
static inline unsigned int opt_sack(uint8_t *o, int n, const uint32_t blk[][2])
{
	int i;

	o[0] = 1;
	o[1] = 1;
	o[2] = 5;
	o[3] = 2 + 8 * n;
	for (i = 0; i < n; i++) {
		put_be32(o + 4 + 8 * i, blk[i][0]);
		put_be32(o + 8 + 8 * i, blk[i][1]);
	}
	return 4 + 8 * n;
}

/*
 * Send @s from the peer to xtcp. The frame is Ethernet + IPv4 (no
 * options, DF) + TCP, checksums right unless @o says otherwise.
 * Returns 0 or -errno.
 */
static inline int peer_send(struct peer *p, const struct pseg *s,
			    const struct pout *o)
{
	static uint8_t frame[sizeof(struct virtio_net_hdr) + 14 + PEER_MAXFRAME];
	static const struct pout plain;
	struct virtio_net_hdr *vh = (struct virtio_net_hdr *)frame;
	uint8_t *eth = frame + sizeof(*vh), *ip = eth + 14, *th = ip + 20;
	unsigned int thlen = 20 + s->optlen, iplen = 20 + thlen + s->len;
	static uint16_t ipid = 1;
	uint32_t sum;
	ssize_t n;
	size_t len;

	if (!o)
		o = &plain;
	if (s->optlen > 40 || iplen > PEER_MAXFRAME)
		return -EINVAL;
	memset(frame, 0, sizeof(*vh) + 14 + 20 + thlen);
	memcpy(eth, peer_mac_a, 6);
	memcpy(eth + 6, peer_mac_b, 6);
	eth[12] = 0x08;
	eth[13] = 0x00;

	ip[0] = 0x45;
	ip[1] = o->tos;
	ip[2] = (o->ip_tot_len ? : iplen) >> 8;
	ip[3] = (o->ip_tot_len ? : iplen);
	ip[4] = ipid >> 8;
	ip[5] = ipid++;
	ip[6] = 0x40;		/* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, &p->paddr, 4);
	memcpy(ip + 16, &p->xaddr, 4);
	sum = inet_sum(0, ip, 20);
	ip[10] = inet_fold(sum) >> 8;
	ip[11] = inet_fold(sum);

	th[0] = s->sport >> 8;
	th[1] = s->sport;
	th[2] = s->dport >> 8;
	th[3] = s->dport;
	put_be32(th + 4, s->seq);
	put_be32(th + 8, s->ack);
	th[12] = (thlen / 4) << 4;
	th[13] = s->flags;
	th[14] = s->win >> 8;
	th[15] = s->win;
	memcpy(th + 20, s->opt, s->optlen);
	memcpy(th + thlen, s->data, s->len);

	sum = inet_sum(0, ip + 12, 8);
	sum += IPPROTO_TCP + thlen + s->len;
	if (o->gso_size) {
		/* The device finishes it: pseudo-header sum only. */
		sum = inet_fold(sum);
		sum = ~sum & 0xffff;
		th[16] = sum >> 8;
		th[17] = sum;
		vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh->csum_start = 14 + 20;
		vh->csum_offset = 16;
		vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		vh->gso_size = o->gso_size;
		vh->hdr_len = 14 + 20 + thlen;
	} else {
		sum = inet_fold(inet_sum(sum, th, thlen + s->len));
		if (o->bad_csum)
			sum ^= 0x5a5a;
		th[16] = sum >> 8;
		th[17] = sum;
		vh->gso_type = VIRTIO_NET_HDR_GSO_NONE;
		/* The linear part: the Ethernet header alone, or all. */
		vh->hdr_len = o->nonlinear ? 14 : 0;
	}
	len = sizeof(*vh) + 14 + (o->raw_len ? o->raw_len : iplen);
	n = send(p->pfd, frame, len, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/*
 * Send an ICMP error from the peer to xtcp quoting the first 28 bytes
 * (IP header and 8 bytes of TCP) of segment @q as xtcp sent it.
 */
static inline int peer_send_icmp(struct peer *p, const struct pseg *q,
				 int type, int code, unsigned int mtu,
				 int bad_csum)
{
	static uint8_t frame[sizeof(struct virtio_net_hdr) + 14 + 20 + 8 + 28];
	struct virtio_net_hdr *vh = (struct virtio_net_hdr *)frame;
	uint8_t *eth = frame + sizeof(*vh), *ip = eth + 14, *ic = ip + 20;
	uint8_t *in = ic + 8, *ith = in + 20;
	uint32_t sum;

	memset(frame, 0, sizeof(frame));
	memcpy(eth, peer_mac_a, 6);
	memcpy(eth + 6, peer_mac_b, 6);
	eth[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 20 + 8 + 28;
	ip[8] = 64;
	ip[9] = IPPROTO_ICMP;
	memcpy(ip + 12, &p->paddr, 4);
	memcpy(ip + 16, &p->xaddr, 4);
	sum = inet_fold(inet_sum(0, ip, 20));
	ip[10] = sum >> 8;
	ip[11] = sum;

	ic[0] = type;
	ic[1] = code;
	ic[6] = mtu >> 8;
	ic[7] = mtu;
	/* The quoted datagram: xtcp's header as it sent it. */
	in[0] = 0x45;
	in[2] = (q->iplen ? q->iplen : 40) >> 8;
	in[3] = (q->iplen ? q->iplen : 40);
	in[6] = 0x40;
	in[8] = 64;
	in[9] = IPPROTO_TCP;
	memcpy(in + 12, &p->xaddr, 4);
	memcpy(in + 16, &p->paddr, 4);
	ith[0] = q->sport >> 8;
	ith[1] = q->sport;
	ith[2] = q->dport >> 8;
	ith[3] = q->dport;
	put_be32(ith + 4, q->seq);
	sum = inet_fold(inet_sum(0, ic, 8 + 28));
	if (bad_csum)
		sum ^= 0x1234;
	ic[2] = sum >> 8;
	ic[3] = sum;
	vh->gso_type = VIRTIO_NET_HDR_GSO_NONE;
	return send(p->pfd, frame, sizeof(frame), 0) == sizeof(frame) ?
	       0 : -errno;
}

/* ---- reading what xtcp sends ---- */

static inline void pseg_parse_opts(struct pseg *s)
{
	unsigned int i = 0;

	s->mss = 0;
	s->wscale = -1;
	s->sackok = 0;
	s->ts = 0;
	s->nsack = 0;
	while (i < s->optlen) {
		uint8_t kind = s->opt[i], size;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= s->optlen)
			break;
		size = s->opt[i + 1];
		if (size < 2 || i + size > s->optlen)
			break;
		switch (kind) {
		case 2:
			if (size == 4)
				s->mss = s->opt[i + 2] << 8 | s->opt[i + 3];
			break;
		case 3:
			if (size == 3)
				s->wscale = s->opt[i + 2];
			break;
		case 4:
			s->sackok = 1;
			break;
		case 5:
			for (s->nsack = 0; s->nsack < (size - 2) / 8 &&
			     s->nsack < 4; s->nsack++) {
				s->sack[s->nsack][0] =
					cap_be32(s->opt + i + 2 + 8 * s->nsack);
				s->sack[s->nsack][1] =
					cap_be32(s->opt + i + 6 + 8 * s->nsack);
			}
			break;
		case 8:
			if (size == 10) {
				s->ts = 1;
				s->tsval = cap_be32(s->opt + i + 2);
				s->tsecr = cap_be32(s->opt + i + 6);
			}
			break;
		}
		i += size;
	}
}

/*
 * The next TCP segment xtcp sent toward the peer, waiting up to
 * @timeout_ms. Returns 1 with @s filled, 0 on timeout, -errno, or -EBADMSG
 * for a datagram whose checksums are wrong.
 */
static inline int peer_recv(struct peer *p, struct pseg *s, int timeout_ms)
{
	static uint8_t frame[sizeof(struct virtio_net_hdr) + 14 + PEER_MAXFRAME];
	struct virtio_net_hdr *vh = (struct virtio_net_hdr *)frame;
	char cbuf[CMSG_SPACE(sizeof(struct timespec))];
	long long end = now_ms() + timeout_ms;

	for (;;) {
		struct iovec iov = { .iov_base = frame, .iov_len = sizeof(frame) };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		uint8_t *eth = frame + sizeof(*vh), *ip = eth + 14, *th;
		long long left = end - now_ms(), rx_ns = 0;
		unsigned int ihl, tot, doff;
		struct cmsghdr *cm;
		uint32_t sum;
		ssize_t n;

		if (!(poll_one(p->pfd, POLLIN, left > 0 ? left : 0) & POLLIN))
			return 0;
		n = recvmsg(p->pfd, &msg, MSG_DONTWAIT);
		for (cm = n < 0 ? NULL : CMSG_FIRSTHDR(&msg); cm;
		     cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec ts;

				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				rx_ns = ts.tv_sec * 1000000000LL + ts.tv_nsec;
			}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		n -= sizeof(*vh) + 14;
		if (n < 40 || eth[12] != 0x08 || eth[13] != 0 ||
		    (ip[0] >> 4) != 4 || ip[9] != IPPROTO_TCP ||
		    memcmp(ip + 12, &p->xaddr, 4))
			continue;
		ihl = (ip[0] & 0xf) * 4;
		tot = ip[2] << 8 | ip[3];
		if (tot > n || tot < ihl + 20)
			return -EBADMSG;
		th = ip + ihl;
		doff = (th[12] >> 4) * 4;
		if (doff < 20 || ihl + doff > tot)
			return -EBADMSG;
		if (inet_fold(inet_sum(0, ip, ihl)))
			return -EBADMSG;
		/* A GSO packet from xtcp carries a partial checksum. */
		if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
			sum = inet_sum(0, ip + 12, 8);
			sum += IPPROTO_TCP + tot - ihl;
			if (inet_fold(inet_sum(sum, th, tot - ihl)))
				return -EBADMSG;
		}
		memset(s, 0, offsetof(struct pseg, data));
		s->rx_ns = rx_ns;
		s->gso_size = vh->gso_type != VIRTIO_NET_HDR_GSO_NONE ?
			      vh->gso_size : 0;
		s->tos = ip[1];
		s->iplen = tot;
		s->ipid = ip[4] << 8 | ip[5];
		s->df = !!(ip[6] & 0x40);
		s->sport = th[0] << 8 | th[1];
		s->dport = th[2] << 8 | th[3];
		s->seq = cap_be32(th + 4);
		s->ack = cap_be32(th + 8);
		s->flags = th[13];
		s->win = th[14] << 8 | th[15];
		s->optlen = doff - 20;
		memcpy(s->opt, th + 20, s->optlen);
		s->len = tot - ihl - doff;
		memcpy(s->data, th + doff, s->len);
		pseg_parse_opts(s);
		return 1;
	}
}

/* Drop whatever xtcp sent that the test has not read. */
static inline void peer_drain(struct peer *p)
{
	static uint8_t frame[sizeof(struct virtio_net_hdr) + 14 + PEER_MAXFRAME];

	while (recv(p->pfd, frame, sizeof(frame), MSG_DONTWAIT) > 0)
		;
}

/* ---- a connection from xtcp to the peer ---- */

/**
 * struct pconn - one connection, from the peer's point of view
 * @fd: the xtcp socket (in A)
 * @xport: xtcp's port
 * @pport: the peer's port
 * @xisn: xtcp's ISN
 * @snd_nxt: the peer's next sequence number to send
 * @rcv_nxt: the next sequence number the peer expects from xtcp
 * @ts: timestamps negotiated
 * @tsval: the peer's TSval for its next segment
 * @xtsval: xtcp's latest TSval (for the peer's TSecr)
 * @syn: xtcp's SYN as read
 */
struct pconn {
	int		fd;
	unsigned int	xport, pport;
	uint32_t	xisn;
	uint32_t	snd_nxt, rcv_nxt;
	int		ts;
	uint32_t	tsval, xtsval;
	struct pseg	syn;
};

/* A segment of @c from the peer with @flags, at snd_nxt, ACKing rcv_nxt. */
static inline void pconn_seg(const struct pconn *c, struct pseg *s,
			     unsigned int flags)
{
	memset(s, 0, offsetof(struct pseg, data));
	s->sport = c->pport;
	s->dport = c->xport;
	s->flags = flags;
	s->seq = c->snd_nxt;
	s->ack = c->rcv_nxt;
	s->win = 65535;
	if (c->ts)
		s->optlen = opt_ts(s->opt, c->tsval, c->xtsval);
}

/*
 * Send @len bytes of @data at @seq from the peer (with an ACK of
 * rcv_nxt), shaped as @o says. Does not move snd_nxt.
 */
static inline int pconn_send_data(struct pconn *c, struct peer *p, uint32_t seq,
				  const void *data, unsigned int len,
				  const struct pout *o)
{
	static struct pseg s;

	pconn_seg(c, &s, SEG_ACK | (len ? SEG_PSH : 0));
	s.seq = seq;
	memcpy(s.data, data, len);
	s.len = len;
	c->tsval++;
	return peer_send(p, &s, o);
}

/*
 * The next segment xtcp sent on @c, skipping anything else; keeps
 * @c->xtsval current. 1, 0 on timeout, or -errno.
 */
static inline int pconn_recv(struct pconn *c, struct peer *p, struct pseg *s,
			     int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	int ret;

	do {
		long long left = end - now_ms();

		ret = peer_recv(p, s, left > 0 ? left : 0);
		if (ret <= 0)
			return ret;
	} while (s->sport != c->xport || s->dport != c->pport);
	if (s->ts)
		c->xtsval = s->tsval;
	return 1;
}

/*
 * connect() a socket of @family (xtcp, or AF_INET for Linux's TCP as the
 * reference) to the peer, port @pport, and answer its SYN with a SYN-ACK
 * carrying the options @opt (@optlen bytes; in a timestamp option the
 * TSval and TSecr are filled in). With @ts, the connection's segments
 * from the peer carry timestamps. Reads the client's ACK. Returns NULL or
 * what failed.
 */
static inline const char *pconn_open(struct pconn *c, struct peer *p,
				     int family, unsigned int pport,
				     const uint8_t *opt, unsigned int optlen,
				     int ts)
{
	struct sockaddr_in sin;
	static struct pseg s;
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->pport = pport;
	c->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return "socket";
	if (p->rcvbuf && setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &p->rcvbuf,
				    sizeof(p->rcvbuf)))
		return "SO_RCVBUF";
	sin = sin_make(PEER_ADDR, pport);
	if (!connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    errno != EINPROGRESS)
		return "connect did not return EINPROGRESS";
	do {
		if (peer_recv(p, &c->syn, 3000) != 1)
			return "no SYN";
	} while (c->syn.dport != pport || c->syn.flags != SEG_SYN);
	c->xport = c->syn.sport;
	c->xisn = c->syn.seq;
	c->rcv_nxt = c->xisn + 1;
	c->snd_nxt = 1000000;
	c->ts = ts && c->syn.ts;
	c->tsval = 5000;
	c->xtsval = c->syn.tsval;

	pconn_seg(c, &s, SEG_SYN | SEG_ACK);
	s.optlen = optlen;
	memcpy(s.opt, opt, optlen);
	/* Fill in the TSecr of a timestamp option. */
	for (i = 0; i + 10 <= optlen; i++)
		if (opt[i] == 8 && opt[i + 1] == 10) {
			put_be32(s.opt + i + 2, c->tsval);
			put_be32(s.opt + i + 6, c->syn.tsval);
			break;
		}
	s.win = p->synack_win ? : 65535;
	if (p->synack_delay_ms)
		usleep(p->synack_delay_ms * 1000);
	if (peer_send(p, &s, NULL))
		return "send SYN-ACK";
	c->snd_nxt++;
	c->tsval++;
	if (pconn_recv(c, p, &s, 3000) != 1 || s.flags != SEG_ACK)
		return "no ACK of the SYN-ACK";
	if (!(poll_one(c->fd, POLLOUT, 3000) & POLLOUT))
		return "connect did not complete";
	return NULL;
}

/* The SYN-ACK options Linux sends: MSS, SACK-permitted, TS, wscale 7. */
static inline unsigned int peer_linux_synack_opts(uint8_t *o, unsigned int mss)
{
	unsigned int n = 0;

	n += opt_mss(o + n, mss);
	o[n++] = 4;		/* SACK-permitted, folded before TS */
	o[n++] = 2;
	o[n++] = 8;
	o[n++] = 10;
	memset(o + n, 0, 8);
	n += 8;
	n += opt_wscale(o + n, 7);
	return n;
}

#endif /* _XTCP_PEER_H */
