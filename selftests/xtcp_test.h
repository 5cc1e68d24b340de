/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the xtcp selftests: the family in use, sockaddr_in
 * builders, sysctl reads and writes with errno, and network namespace
 * setup. Include after kselftest_harness.h.
 */
#ifndef _XTCP_TEST_H
#define _XTCP_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/xtcp.h>

#define XTCP_SYSCTL_DIR		"/proc/sys/net/xtcp/"
#define XTCP_FAMILY_PARAM	"/sys/module/xtcp/parameters/family"

/* The family number xtcp is registered under, AF_XTCP if unknown. */
static inline int xtcp_family(void)
{
	static int family;
	char buf[32] = "";
	ssize_t n;
	int fd;

	if (family)
		return family;
	family = AF_XTCP;
	fd = open(XTCP_FAMILY_PARAM, O_RDONLY);
	if (fd < 0)
		return family;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0 && atoi(buf) > 0)
		family = atoi(buf);
	return family;
}

static inline const char *fam_name(int family)
{
	return family == AF_INET ? "Linux TCP" : "xtcp";
}

static inline struct sockaddr_in sin_make(const char *addr, int port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		abort();
	return sin;
}

/* bind() returning 0 or the errno it failed with. */
static inline int bind_err(int fd, const char *addr, int port)
{
	struct sockaddr_in sin = sin_make(addr, port);

	return bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ? errno : 0;
}

static inline int setsockopt_int(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val)) ? errno : 0;
}

/* getsockopt() of an int; returns the value, or -errno on failure. */
static inline int getsockopt_int(int fd, int level, int opt)
{
	socklen_t len = sizeof(int);
	int val = 0;

	if (getsockopt(fd, level, opt, &val, &len))
		return -errno;
	return val;
}

/* The local port of a bound socket, or -errno. */
static inline int local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len))
		return -errno;
	return ntohs(sin.sin_port);
}

/* A socket of @family with @opts (SO_* at SOL_SOCKET) set to 1. */
static inline int stream_socket(int family, int so_reuseaddr,
				int so_reuseport)
{
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		return -errno;
	if ((so_reuseaddr &&
	     setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)) ||
	    (so_reuseport &&
	     setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1))) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

/*
 * Read a sysctl (or any small file) into @buf, NUL terminated.
 * Returns the length read or -errno.
 */
static inline int read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		n = -errno;
		buf[0] = '\0';
	} else {
		buf[n] = '\0';
	}
	close(fd);
	return n;
}

/*
 * Write @val to a sysctl in a single write(2), the way a program would.
 * Returns 0 when the whole string was written, else the errno.
 */
static inline int write_file(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno;
	n = write(fd, val, len);
	if (n < 0)
		err = errno;
	else if ((size_t)n != len)
		err = EIO;
	if (close(fd) && !err)
		err = errno;
	return err;
}

/* Collapse runs of blanks to one space and drop the trailing newline. */
static inline void normalize_ws(char *s)
{
	char *out = s;
	int space = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n') {
			space = 1;
			continue;
		}
		if (space)
			*out++ = ' ';
		space = 0;
		*out++ = *s;
	}
	*out = '\0';
}

/* Read two ints such as a port range; returns 0 or -errno/-EINVAL. */
static inline int read_range(const char *path, int *lo, int *hi)
{
	char buf[128];
	int n = read_file(path, buf, sizeof(buf));

	if (n < 0)
		return n;
	if (sscanf(buf, "%d %d", lo, hi) != 2)
		return -EINVAL;
	return 0;
}

/*
 * Is @port listed in /proc/sys/net/ipv4/ip_local_reserved_ports (a
 * comma separated list of ports and lo-hi ranges)? 1, 0, or -errno.
 */
static inline int port_reserved(int port)
{
	static char buf[65536];
	char *tok, *save;
	int n;

	n = read_file("/proc/sys/net/ipv4/ip_local_reserved_ports", buf,
		      sizeof(buf));
	if (n < 0)
		return n;
	for (tok = strtok_r(buf, ",\n", &save); tok;
	     tok = strtok_r(NULL, ",\n", &save)) {
		int lo, hi;

		if (sscanf(tok, "%d-%d", &lo, &hi) == 2) {
			if (port >= lo && port <= hi)
				return 1;
		} else if (atoi(tok) == port) {
			return 1;
		}
	}
	return 0;
}

/* How many ports of [lo, hi] are in ip_local_reserved_ports, or -errno. */
static inline int count_reserved(int lo, int hi)
{
	int port, n = 0, r;

	for (port = lo; port <= hi; port++) {
		r = port_reserved(port);
		if (r < 0)
			return r;
		n += r;
	}
	return n;
}

/* Set IFF_UP on @ifname in the current namespace; 0 or errno. */
static inline int link_up(const char *ifname)
{
	struct ifreq ifr;
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		err = errno;
	} else {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr))
			err = errno;
	}
	close(fd);
	return err;
}

/* Run a shell command quietly; 0 when it exited 0. */
static inline int run_cmd(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " >/dev/null 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	fflush(stdout);
	fflush(stderr);
	ret = system(cmd);
	if (ret == -1 || !WIFEXITED(ret))
		return -1;
	return WEXITSTATUS(ret);
}

/*
 * Move the calling process into a new network namespace with lo up.
 * Returns an fd for the namespace (for setns()) or -errno.
 */
static inline int new_netns(void)
{
	int err, fd;

	if (unshare(CLONE_NEWNET))
		return -errno;
	err = link_up("lo");
	if (err)
		return -err;
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fd;
}

/*
 * Fork; the child drops to uid/gid 65534 (which clears every
 * capability), runs @fn(@arg) and exits with its return value (an errno
 * or 0). Returns that value, or -1 if the child did not exit normally.
 */
static inline int run_as_nobody(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(250);
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

#endif /* _XTCP_TEST_H */
