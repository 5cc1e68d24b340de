/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * xtcp: a second TCP implementation behind its own socket family.
 *
 * Programs open an xtcp socket with socket(AF_XTCP, SOCK_STREAM, 0) and
 * otherwise use the AF_INET address type: struct sockaddr_in goes in and
 * out, with sin_family AF_INET (AF_XTCP is also accepted on input).
 */
#ifndef _UAPI_LINUX_XTCP_H
#define _UAPI_LINUX_XTCP_H

/*
 * Default family number. 13 is AF_NETBEUI, reserved long ago for an
 * 802.2 LLC project that became AF_LLC; no kernel has ever registered it.
 * The module parameter family= moves xtcp elsewhere; read the number in
 * use from /sys/module/xtcp/parameters/family.
 */
#define AF_XTCP		13
#define PF_XTCP		AF_XTCP

/*
 * xtcp's own socket options. The socket core of Linux 6.1 refuses
 * SO_REUSEPORT (EOPNOTSUPP) for any family but AF_INET and AF_INET6;
 * XTCP_REUSEPORT (an int, 0 or 1) sets the same flag, with the same
 * meaning: sockets of one user that set it before bind() may bind and
 * listen on one address and port, and new connections are spread over
 * them by a hash of the 4-tuple. getsockopt(SOL_SOCKET, SO_REUSEPORT)
 * reads it back.
 */
#define SOL_XTCP	0x7874
#define XTCP_REUSEPORT	1

#endif /* _UAPI_LINUX_XTCP_H */
