// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/sys/net/xtcp/: the default of every entry, values each accepts
 * and reads back, values each refuses (write(2) fails with EINVAL and
 * the old value stays), and that every network namespace has its own
 * copy starting from the defaults. The knobs shared with Linux's TCP
 * follow net.ipv4.tcp_<name> until written under net.xtcp, and again
 * once named in net.xtcp.follow_ipv4.
 */
#include "kselftest_harness.h"
#include "xtcp_test.h"

#define MAX_VALUES	8

FIXTURE(sysctl) {
	int ns;
	char path[128];
};

FIXTURE_VARIANT(sysctl) {
	const char *name;
	const char *def;		/* the default, blanks normalised */
	const char *def_text;		/* exact text read, if it matters */
	const char *good[MAX_VALUES];	/* accepted and read back */
	const char *bad[MAX_VALUES];	/* refused with EINVAL */
};

FIXTURE_VARIANT_ADD(sysctl, tw_reuse) {
	.name = "tw_reuse",
	.def = "2",
	.good = { "0", "1", "2" },
	/* "\n" is what `echo "" >` writes. */
	.bad = { "3", "-1", "abc", "\n", "10" },
};

FIXTURE_VARIANT_ADD(sysctl, tw_reuse_delay) {
	.name = "tw_reuse_delay",
	.def = "1000",
	.good = { "1", "60000", "250" },
	.bad = { "0", "60001", "-5", "abc", "\n" },
};

FIXTURE_VARIANT_ADD(sysctl, tw_timeout) {
	.name = "tw_timeout",
	.def = "60",
	.good = { "1", "600", "30" },
	.bad = { "0", "601", "-1", "abc", "\n" },
};

FIXTURE_VARIANT_ADD(sysctl, fin_timeout) {
	.name = "fin_timeout",
	.def = "60",
	.good = { "1", "3600", "30" },
	.bad = { "0", "3601", "-1", "abc", "\n" },
};

FIXTURE_VARIANT_ADD(sysctl, ip_local_port_range) {
	.name = "ip_local_port_range",
	.def = "61000 65535",
	.def_text = "61000\t65535\n",
	.good = { "40000 40100", "1024 65535", "40000 40000",
		  "50000\t50010" },
	.bad = { "40000 30000", "0 100", "100 70000", "500 600", "abc",
		 "1023 2000", "40000 65536", "\n" },
};

FIXTURE_VARIANT_ADD(sysctl, syn_retries) {
	.name = "syn_retries",
	.def = "6",
	.good = { "1", "127", "3" },
	.bad = { "0", "128", "-1", "abc" },
};

FIXTURE_VARIANT_ADD(sysctl, timestamps) {
	.name = "timestamps",
	.def = "1",
	.good = { "0", "2", "1" },
	.bad = { "3", "-1", "abc" },
};

FIXTURE_VARIANT_ADD(sysctl, sack) {
	.name = "sack",
	.def = "1",
	.good = { "0", "1" },
	.bad = { "2", "-1", "abc" },
};

FIXTURE_VARIANT_ADD(sysctl, window_scaling) {
	.name = "window_scaling",
	.def = "1",
	.good = { "0", "1" },
	.bad = { "2", "-1", "abc" },
};

FIXTURE_VARIANT_ADD(sysctl, synack_retries) {
	.name = "synack_retries",
	.def = "5",
	.good = { "0", "255", "2" },
	.bad = { "256", "-1", "abc" },
};

FIXTURE_VARIANT_ADD(sysctl, retries2) {
	.name = "retries2",
	.def = "15",
	.good = { "1", "255", "8" },
	.bad = { "0", "256", "-1", "abc" },
};

FIXTURE_VARIANT_ADD(sysctl, orphan_retries) {
	.name = "orphan_retries",
	.def = "0",
	.good = { "0", "255", "3" },
	.bad = { "256", "-1", "abc" },
};

FIXTURE_VARIANT_ADD(sysctl, keepalive_time) {
	.name = "keepalive_time",
	.def = "7200",
	.good = { "1", "32767", "60" },
	.bad = { "0", "32768", "-1", "abc" },
};

FIXTURE_VARIANT_ADD(sysctl, keepalive_intvl) {
	.name = "keepalive_intvl",
	.def = "75",
	.good = { "1", "32767", "5" },
	.bad = { "0", "32768", "-1", "abc" },
};

FIXTURE_VARIANT_ADD(sysctl, keepalive_probes) {
	.name = "keepalive_probes",
	.def = "9",
	.good = { "1", "127", "3" },
	.bad = { "0", "128", "-1", "abc" },
};

FIXTURE_VARIANT_ADD(sysctl, challenge_ack_limit) {
	.name = "challenge_ack_limit",
	.def = "2147483647",
	.good = { "0", "1000", "2147483647" },
	.bad = { "-1", "abc", "2147483648" },
};

FIXTURE_VARIANT_ADD(sysctl, invalid_ratelimit) {
	.name = "invalid_ratelimit",
	.def = "500",
	.good = { "0", "600000", "100" },
	.bad = { "-1", "600001", "abc" },
};

FIXTURE_VARIANT_ADD(sysctl, rfc1337) {
	.name = "rfc1337",
	.def = "0",
	.good = { "1", "0" },
	.bad = { "2", "-1", "abc" },
};

FIXTURE_VARIANT_ADD(sysctl, min_snd_mss) {
	.name = "min_snd_mss",
	.def = "48",
	.good = { "48", "65535", "500" },
	.bad = { "47", "65536", "0", "abc" },
};

FIXTURE_VARIANT_ADD(sysctl, syncookies) {
	.name = "syncookies",
	.def = "1",
	.good = { "0", "2", "1" },
	.bad = { "3", "-1", "abc" },
};

FIXTURE_VARIANT_ADD(sysctl, ecn) {
	.name = "ecn",
	.def = "2",
	.good = { "0", "1", "2" },
	.bad = { "3", "-1", "abc" },
};

FIXTURE_VARIANT_ADD(sysctl, max_syn_backlog) {
	.name = "max_syn_backlog",
	.def = "128",		/* Linux's, with the VM's established table */
	.good = { "0", "4096", "128" },
	.bad = { "-1", "abc", "2147483648" },
};

FIXTURE_VARIANT_ADD(sysctl, abort_on_overflow) {
	.name = "abort_on_overflow",
	.def = "0",
	.good = { "1", "0" },
	.bad = { "2", "-1", "abc" },
};

FIXTURE_VARIANT_ADD(sysctl, migrate_req) {
	.name = "migrate_req",
	.def = "0",
	.good = { "1", "0" },
	.bad = { "2", "-1", "abc" },
};

FIXTURE_VARIANT_ADD(sysctl, rmem) {
	.name = "rmem",
	.def = "4096 131072 6291456",
	.def_text = "4096\t131072\t6291456\n",
	.good = { "4096 87380 6291456", "1 1 1", "1 2 3" },
	.bad = { "1 2", "3 2 1", "0 1 2", "1 3 2", "-1 2 3", "abc", "\n" },
};

FIXTURE_VARIANT_ADD(sysctl, wmem) {
	.name = "wmem",
	.def = "4096 16384 4194304",
	.def_text = "4096\t16384\t4194304\n",
	.good = { "4096 65536 4194304", "1 1 1", "1 2 3" },
	.bad = { "1 2", "3 2 1", "0 1 2", "1 3 2", "-1 2 3", "abc", "\n" },
};

FIXTURE_SETUP(sysctl)
{
	self->ns = new_netns();
	ASSERT_LE(0, self->ns)
		TH_LOG("new network namespace: %s", strerror(-self->ns));
	snprintf(self->path, sizeof(self->path), "%s%s", XTCP_SYSCTL_DIR,
		 variant->name);
}

FIXTURE_TEARDOWN(sysctl)
{
	if (self->ns >= 0)
		close(self->ns);
}

/* The current value, blanks normalised, into @buf. */
static void read_value(struct __test_metadata *_metadata, const char *path,
		       char *buf, size_t size)
{
	int n = read_file(path, buf, size);

	ASSERT_LE(0, n) TH_LOG("reading %s: %s", path, strerror(-n));
	normalize_ws(buf);
}

static void set_value(struct __test_metadata *_metadata, const char *path,
		      const char *val)
{
	char want[128], got[128];
	int err = write_file(path, val);

	ASSERT_EQ(0, err) TH_LOG("writing '%s' to %s: %s", val, path,
				 strerror(err));
	snprintf(want, sizeof(want), "%s", val);
	normalize_ws(want);
	read_value(_metadata, path, got, sizeof(got));
	EXPECT_STREQ(want, got) TH_LOG("%s after writing '%s'", path, val);
}

TEST_F(sysctl, default_value)
{
	char buf[128];

	ASSERT_LE(0, read_file(self->path, buf, sizeof(buf)))
		TH_LOG("%s: %s", self->path, strerror(errno));
	if (variant->def_text)
		EXPECT_STREQ(variant->def_text, buf);
	normalize_ws(buf);
	EXPECT_STREQ(variant->def, buf);
}

TEST_F(sysctl, good_values)
{
	int i;

	for (i = 0; i < MAX_VALUES && variant->good[i]; i++)
		set_value(_metadata, self->path, variant->good[i]);
}

static void check_bad_values(struct __test_metadata *_metadata,
			     const char *path, const char * const *bad)
{
	char before[128], after[128];
	int i, err;

	read_value(_metadata, path, before, sizeof(before));
	for (i = 0; i < MAX_VALUES && bad[i]; i++) {
		err = write_file(path, bad[i]);
		EXPECT_EQ(EINVAL, err)
			TH_LOG("%s: writing '%s': got %s, want EINVAL",
			       path, bad[i], err ? strerror(err) : "success");
		read_value(_metadata, path, after, sizeof(after));
		EXPECT_STREQ(before, after)
			TH_LOG("%s changed by refused write '%s'", path,
			       bad[i]);
		if (strcmp(before, after))
			set_value(_metadata, path, before);
	}
}

TEST_F(sysctl, bad_values_keep_default)
{
	check_bad_values(_metadata, self->path, variant->bad);
}

/* The value kept is the current one, not the default. */
TEST_F(sysctl, bad_values_keep_current)
{
	set_value(_metadata, self->path, variant->good[0]);
	check_bad_values(_metadata, self->path, variant->bad);
}

/* A zero-length write is refused or ignored; it never changes the value. */
TEST_F(sysctl, zero_length_write)
{
	char before[128], after[128];
	int fd;

	read_value(_metadata, self->path, before, sizeof(before));
	fd = open(self->path, O_WRONLY);
	ASSERT_LE(0, fd);
	if (write(fd, "", 0) < 0)
		EXPECT_EQ(EINVAL, errno);
	close(fd);
	read_value(_metadata, self->path, after, sizeof(after));
	EXPECT_STREQ(before, after);
}

/* Owner root, 0644, like Linux's own net sysctls. */
TEST_F(sysctl, mode)
{
	struct stat st;

	ASSERT_EQ(0, stat(self->path, &st));
	EXPECT_EQ(0644, (int)(st.st_mode & 07777));
	EXPECT_EQ(0, (int)st.st_uid);
}

FIXTURE(netns) {
	int ns;
};

FIXTURE_SETUP(netns)
{
	self->ns = new_netns();
	ASSERT_LE(0, self->ns)
		TH_LOG("new network namespace: %s", strerror(-self->ns));
}

FIXTURE_TEARDOWN(netns)
{
	if (self->ns >= 0)
		close(self->ns);
}

/* Read @name under net.xtcp (or a full path), blanks normalised. */
static void read_named(struct __test_metadata *_metadata, const char *name,
		       char *buf, size_t size)
{
	char path[160];

	if (name[0] == '/')
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s%s", XTCP_SYSCTL_DIR, name);
	read_value(_metadata, path, buf, size);
}

/* Is @knob listed in net.xtcp.follow_ipv4? */
static int follows(struct __test_metadata *_metadata, const char *knob)
{
	char buf[512], *tok, *save;

	read_named(_metadata, "follow_ipv4", buf, sizeof(buf));
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save))
		if (!strcmp(tok, knob))
			return 1;
	return 0;
}

/*
 * A shared knob shows Linux's value and follows its changes; a write
 * under net.xtcp pins it (Linux's later changes do not show through);
 * naming it in follow_ipv4 makes it follow again. An unknown name in
 * follow_ipv4 is EINVAL and changes nothing.
 */
TEST_F(netns, shared_knob_follows_until_pinned)
{
	const char *ipv4 = "/proc/sys/net/ipv4/tcp_rmem";
	char buf[128], want[128];

	EXPECT_TRUE(follows(_metadata, "rmem"));
	EXPECT_TRUE(follows(_metadata, "timestamps"));
	EXPECT_FALSE(follows(_metadata, "tw_reuse"));	/* xtcp's own */

	ASSERT_EQ(0, write_file(ipv4, "4096 87380 15728640"));
	read_named(_metadata, "rmem", buf, sizeof(buf));
	EXPECT_STREQ("4096 87380 15728640", buf);

	ASSERT_EQ(0, write_file(XTCP_SYSCTL_DIR "rmem", "8192 65536 1048576"));
	EXPECT_FALSE(follows(_metadata, "rmem"));
	ASSERT_EQ(0, write_file(ipv4, "4096 131072 6291456"));
	read_named(_metadata, "rmem", buf, sizeof(buf));
	EXPECT_STREQ("8192 65536 1048576", buf);

	EXPECT_EQ(EINVAL, write_file(XTCP_SYSCTL_DIR "follow_ipv4",
				     "rmem no_such_knob"));
	EXPECT_FALSE(follows(_metadata, "rmem"));
	EXPECT_EQ(EINVAL, write_file(XTCP_SYSCTL_DIR "follow_ipv4", "tw_reuse"));

	ASSERT_EQ(0, write_file(XTCP_SYSCTL_DIR "follow_ipv4", "rmem"));
	EXPECT_TRUE(follows(_metadata, "rmem"));
	read_named(_metadata, "rmem", buf, sizeof(buf));
	EXPECT_STREQ("4096 131072 6291456", buf);

	/* Units: Linux keeps fin_timeout in jiffies, both show seconds. */
	ASSERT_EQ(0, write_file("/proc/sys/net/ipv4/tcp_fin_timeout", "17"));
	read_named(_metadata, "fin_timeout", buf, sizeof(buf));
	EXPECT_STREQ("17", buf);
	/* Linux rounds to jiffies: both show what Linux shows. */
	ASSERT_EQ(0, write_file("/proc/sys/net/ipv4/tcp_invalid_ratelimit", "250"));
	read_named(_metadata, "/proc/sys/net/ipv4/tcp_invalid_ratelimit", want,
		   sizeof(want));
	read_named(_metadata, "invalid_ratelimit", buf, sizeof(buf));
	EXPECT_STREQ(want, buf);
}

/* The low port must not be below net.ipv4.ip_unprivileged_port_start. */
TEST_F(netns, port_range_follows_unprivileged_port_start)
{
	const char *range = XTCP_SYSCTL_DIR "ip_local_port_range";
	const char *start = "/proc/sys/net/ipv4/ip_unprivileged_port_start";
	char buf[64];

	EXPECT_EQ(EINVAL, write_file(range, "500 600"));
	ASSERT_EQ(0, write_file(start, "0"));
	EXPECT_EQ(0, write_file(range, "500 600"));
	read_value(_metadata, range, buf, sizeof(buf));
	EXPECT_STREQ("500 600", buf);

	ASSERT_EQ(0, write_file(range, "61000 65535"));
	ASSERT_EQ(0, write_file(start, "2000"));
	EXPECT_EQ(EINVAL, write_file(range, "1500 3000"));
	EXPECT_EQ(0, write_file(range, "2000 3000"));
	read_value(_metadata, range, buf, sizeof(buf));
	EXPECT_STREQ("2000 3000", buf);
}

static void expect_value(struct __test_metadata *_metadata, const char *name,
			 const char *want, const char *where)
{
	char path[128], buf[128];

	snprintf(path, sizeof(path), "%s%s", XTCP_SYSCTL_DIR, name);
	read_value(_metadata, path, buf, sizeof(buf));
	EXPECT_STREQ(want, buf) TH_LOG("%s in %s", name, where);
}

static void set_named(struct __test_metadata *_metadata, const char *name,
		      const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "%s%s", XTCP_SYSCTL_DIR, name);
	set_value(_metadata, path, val);
}

/*
 * Namespace A changes tw_reuse and the port range; namespace B, the
 * initial namespace and a later new namespace do not see it.
 */
TEST(isolation__namespaces)
{
	char init_reuse[64], init_range[64];
	int init_ns, ns_a, ns_b, ns_c;

	init_ns = open("/proc/self/ns/net", O_RDONLY);
	ASSERT_LE(0, init_ns);
	read_value(_metadata, XTCP_SYSCTL_DIR "tw_reuse", init_reuse,
		   sizeof(init_reuse));
	read_value(_metadata, XTCP_SYSCTL_DIR "ip_local_port_range",
		   init_range, sizeof(init_range));
	/* Nothing in these tests changes the initial namespace. */
	EXPECT_STREQ("2", init_reuse);
	EXPECT_STREQ("61000 65535", init_range);

	ns_a = new_netns();
	ASSERT_LE(0, ns_a);
	expect_value(_metadata, "tw_reuse", "2", "new namespace A");
	set_named(_metadata, "tw_reuse", "0");
	set_named(_metadata, "ip_local_port_range", "40000 40100");

	ns_b = new_netns();
	ASSERT_LE(0, ns_b);
	expect_value(_metadata, "tw_reuse", "2", "namespace B");
	expect_value(_metadata, "ip_local_port_range", "61000 65535",
		     "namespace B");
	set_named(_metadata, "tw_reuse", "1");

	ASSERT_EQ(0, setns(init_ns, CLONE_NEWNET));
	expect_value(_metadata, "tw_reuse", init_reuse, "initial namespace");
	expect_value(_metadata, "ip_local_port_range", init_range,
		     "initial namespace");

	ASSERT_EQ(0, setns(ns_a, CLONE_NEWNET));
	expect_value(_metadata, "tw_reuse", "0", "namespace A, again");
	expect_value(_metadata, "ip_local_port_range", "40000 40100",
		     "namespace A, again");

	ASSERT_EQ(0, setns(ns_b, CLONE_NEWNET));
	expect_value(_metadata, "tw_reuse", "1", "namespace B, again");

	ns_c = new_netns();
	ASSERT_LE(0, ns_c);
	expect_value(_metadata, "tw_reuse", "2", "new namespace C");
	expect_value(_metadata, "ip_local_port_range", "61000 65535",
		     "new namespace C");
	expect_value(_metadata, "rmem", "4096 131072 6291456",
		     "new namespace C");

	close(ns_c);
	close(ns_b);
	close(ns_a);
	close(init_ns);
}

/* Every namespace's sockets use that namespace's range. */
TEST(isolation__port_range_used_by_bind)
{
	int ns_a, ns_b, fd_a, fd_b, port;

	ns_a = new_netns();
	ASSERT_LE(0, ns_a);
	set_named(_metadata, "ip_local_port_range", "40000 40000");
	ns_b = new_netns();
	ASSERT_LE(0, ns_b);
	set_named(_metadata, "ip_local_port_range", "45000 45000");

	ASSERT_EQ(0, setns(ns_a, CLONE_NEWNET));
	fd_a = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd_a);
	ASSERT_EQ(0, bind_err(fd_a, "127.0.0.1", 0));
	port = local_port(fd_a);
	EXPECT_EQ(40000, port);

	ASSERT_EQ(0, setns(ns_b, CLONE_NEWNET));
	fd_b = socket(xtcp_family(), SOCK_STREAM, 0);
	ASSERT_LE(0, fd_b);
	ASSERT_EQ(0, bind_err(fd_b, "127.0.0.1", 0));
	port = local_port(fd_b);
	EXPECT_EQ(45000, port);

	close(fd_a);
	close(fd_b);
	close(ns_a);
	close(ns_b);
}

TEST_HARNESS_MAIN
