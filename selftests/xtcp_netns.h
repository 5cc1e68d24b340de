/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading and writing another network namespace's xtcp files from a
 * test thread: step in with setns(), open or read, step back. Counters
 * (/proc/net/xtcp_stat), sysctls, /proc/net/xtcp and
 * /proc/net/xtcp_sockstat.
 *
 * Include after xtcp_test.h.
 */
#ifndef _XTCP_NETNS_H
#define _XTCP_NETNS_H

#define XTCP_LIST	"/proc/thread-self/net/xtcp"
#define XTCP_SOCKSTAT	"/proc/thread-self/net/xtcp_sockstat"
#define XTCP_LIST_SIZE	(256 * 1024)

/* Step into @nsfd; returns the fd to come back with, or -1. */
static inline int ns_enter(int nsfd)
{
	int cur = netns_current();

	if (cur < 0)
		return -1;
	if (setns(nsfd, CLONE_NEWNET)) {
		close(cur);
		return -1;
	}
	return cur;
}

static inline void ns_leave(int cur)
{
	if (setns(cur, CLONE_NEWNET))
		abort();	/* the caller would be lost */
	close(cur);
}

/* An xtcp_stat counter of namespace @nsfd; -1 if not listed. */
static inline long long stat_in(int nsfd, const char *name)
{
	int cur = ns_enter(nsfd);
	long long val;

	if (cur < 0)
		return -1;
	val = xtcp_stat(name);
	ns_leave(cur);
	return val;
}

/* write_file() in namespace @nsfd; 0 or the errno. */
static inline int write_in(int nsfd, const char *path, const char *val)
{
	int cur = ns_enter(nsfd), err = EIO;

	if (cur >= 0) {
		err = write_file(path, val);
		ns_leave(cur);
	}
	return err;
}

/* read_file() in namespace @nsfd; the length or -errno. */
static inline int read_in(int nsfd, const char *path, char *buf, size_t size)
{
	int cur = ns_enter(nsfd), n;

	if (cur < 0)
		return -EIO;
	n = read_file(path, buf, size);
	ns_leave(cur);
	return n;
}

/**
 * struct xtcp_sockstat - /proc/net/xtcp_sockstat
 * @inuse: xtcp sockets in the namespace's tables
 * @orphan: orphans, host-wide
 * @tw: TIME_WAIT entries of the namespace
 * @alloc: xtcp sockets allocated, host-wide
 * @mem: socket memory in pages, host-wide
 */
struct xtcp_sockstat {
	int		inuse;
	int		orphan;
	int		tw;
	long long	alloc;
	long		mem;
};

/* xtcp_sockstat of namespace @nsfd into @s; 0 or -errno. */
static inline int sockstat_in(int nsfd, struct xtcp_sockstat *s)
{
	char buf[256];
	int n;

	memset(s, 0, sizeof(*s));
	n = read_in(nsfd, XTCP_SOCKSTAT, buf, sizeof(buf));
	if (n < 0)
		return n;
	if (sscanf(buf, "XTCP: inuse %d orphan %d tw %d alloc %lld mem %ld",
		   &s->inuse, &s->orphan, &s->tw, &s->alloc, &s->mem) != 5)
		return -EINVAL;
	return 0;
}

/* /proc/net/xtcp of @nsfd into @buf; its length, or -errno. */
static inline int list_read(int nsfd, char *buf, size_t size)
{
	int cur = ns_enter(nsfd), fd, n = 0;
	ssize_t r;

	buf[0] = '\0';
	if (cur < 0)
		return -EIO;
	fd = open(XTCP_LIST, O_RDONLY | O_CLOEXEC);
	ns_leave(cur);
	if (fd < 0)
		return -errno;
	while ((size_t)n < size - 1) {
		r = read(fd, buf + n, size - 1 - n);
		if (r <= 0)
			break;
		n += r;
	}
	buf[n] = '\0';
	close(fd);
	return n;
}

static inline char *next_line(char *line)
{
	char *nl = strchr(line, '\n');

	return nl ? nl + 1 : line + strlen(line);
}

/*
 * The state /proc/net/xtcp of @nsfd lists for "@local @remote" into
 * @state, "" if not listed. 1 if listed, 0 if not, -1 if unreadable.
 */
static inline int tuple_state(int nsfd, const char *local, const char *remote,
			      char *state, size_t size)
{
	static char buf[XTCP_LIST_SIZE];
	char key[80], *line;
	size_t klen, n;

	state[0] = '\0';
	if (list_read(nsfd, buf, sizeof(buf)) < 0)
		return -1;
	snprintf(key, sizeof(key), "%s %s ", local, remote);
	klen = strlen(key);
	for (line = buf; *line; line = next_line(line)) {
		if (strncmp(line, key, klen))
			continue;
		n = strcspn(line + klen, "\n ");
		if (n >= size)
			n = size - 1;
		memcpy(state, line + klen, n);
		state[n] = '\0';
		return 1;
	}
	return 0;
}

#endif /* _XTCP_NETNS_H */
