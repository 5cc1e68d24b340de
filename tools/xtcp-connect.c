// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp-connect: open an AF_XTCP connection to HOST:PORT, print both ends
 * of it, then close it. For the demo and for trying xtcp by hand.
 *
 *   xtcp-connect [-b ADDR[:PORT]] [-m MSS] [-w MS] [-s] HOST PORT
 *
 *   -b  bind to ADDR (and PORT) first
 *   -m  TCP_MAXSEG before connecting
 *   -w  stay connected MS milliseconds before closing (default 0)
 *   -s  stream: send standard input, then shutdown(SHUT_WR), and copy
 *       everything received to standard output until the peer closes
 *       (the connection lines then go to standard error)
 *
 * Exit status: 0 when connected, 1 with the connect() errno printed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/xtcp.h>

static int xtcp_family(void)
{
	FILE *f = fopen("/sys/module/xtcp/parameters/family", "r");
	int fam = AF_XTCP;

	if (f) {
		if (fscanf(f, "%d", &fam) != 1)
			fam = AF_XTCP;
		fclose(f);
	}
	return fam;
}

static int parse_addr(const char *s, struct sockaddr_in *sin)
{
	char buf[64], *colon;

	snprintf(buf, sizeof(buf), "%s", s);
	colon = strchr(buf, ':');
	if (colon) {
		*colon = '\0';
		sin->sin_port = htons(atoi(colon + 1));
	}
	sin->sin_family = AF_INET;
	return inet_pton(AF_INET, buf, &sin->sin_addr) == 1 ? 0 : -1;
}

static FILE *info;

static void print_end(const char *what, const struct sockaddr_in *sin)
{
	char buf[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
	fprintf(info, "%s %s:%u\n", what, buf, ntohs(sin->sin_port));
}

/* Write all of @buf to @fd; 0 or -1. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/*
 * A child sends standard input and shuts the sending side down; this
 * process copies what arrives to standard output until end of stream.
 */
static int stream(int fd)
{
	static char buf[65536];
	int status = 0, ret = 0;
	pid_t child;
	ssize_t n;

	child = fork();
	if (child < 0)
		return 1;
	if (!child) {
		while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
			if (write_all(fd, buf, n)) {
				perror("send");
				_exit(1);
			}
		if (shutdown(fd, SHUT_WR)) {
			perror("shutdown");
			_exit(1);
		}
		_exit(n < 0);
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write_all(STDOUT_FILENO, buf, n))
			ret = 1;
	if (n < 0) {
		perror("recv");
		ret = 1;
	}
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		ret = 1;
	return ret;
}

int main(int argc, char **argv)
{
	struct sockaddr_in local = {}, peer = {}, bindto = {};
	socklen_t len = sizeof(local);
	int opt, fd, mss = 0, wait_ms = 0, bind_first = 0, streaming = 0;

	info = stdout;
	while ((opt = getopt(argc, argv, "b:m:w:s")) != -1) {
		switch (opt) {
		case 'b':
			if (parse_addr(optarg, &bindto))
				goto usage;
			bind_first = 1;
			break;
		case 'm':
			mss = atoi(optarg);
			break;
		case 'w':
			wait_ms = atoi(optarg);
			break;
		case 's':
			streaming = 1;
			info = stderr;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || parse_addr(argv[optind], &peer))
		goto usage;
	peer.sin_port = htons(atoi(argv[optind + 1]));

	fd = socket(xtcp_family(), SOCK_STREAM, 0);
	if (fd < 0) {
		perror("socket(AF_XTCP)");
		return 1;
	}
	if (mss && setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss))) {
		perror("TCP_MAXSEG");
		return 1;
	}
	if (bind_first && bind(fd, (struct sockaddr *)&bindto, sizeof(bindto))) {
		perror("bind");
		return 1;
	}
	if (connect(fd, (struct sockaddr *)&peer, sizeof(peer))) {
		fprintf(info, "connect: %s\n", strerror(errno));
		return 1;
	}
	getsockname(fd, (struct sockaddr *)&local, &len);
	print_end("connected from", &local);
	print_end("connected to  ", &peer);
	if (streaming) {
		opt = stream(fd);
		close(fd);
		return opt;
	}
	if (wait_ms)
		usleep(wait_ms * 1000);
	close(fd);
	return 0;

usage:
	fprintf(stderr, "usage: %s [-b ADDR[:PORT]] [-m MSS] [-w MS] [-s] HOST PORT\n",
		argv[0]);
	return 2;
}
