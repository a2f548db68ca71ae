// SPDX-License-Identifier: GPL-2.0
/*
 * pymalloc_test.c - kselftest for pymalloc: loads the module, drives a
 * workload through test_pymalloc.ko, reads and parses every debugfs file,
 * checks the statistics identities and that only root may read them.
 *
 * The modules are taken from $PYM_MODDIR (default: the current directory).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pymalloc_stats.h"

#define DBG		"/sys/kernel/debug/pymalloc"
#define HEAP		DBG "/default"
#define CTL		"/sys/kernel/debug/test_pymalloc/ctl"
#define CACHE_CTL	"/sys/kernel/debug/pym_cache/ctl"
#define TYPES		DBG "/types"
#define ARENA_BYTES	262144ULL
#define FAIL_PAGE_ALLOC	"/sys/kernel/debug/fail_page_alloc"
#define FAIL_ARENA	DBG "/fail_arena"

static const char *const files[] = { "stats", "classes", "arenas", "check" };

static int load_with(const char *name, const char *params)
{
	const char *dir = getenv("PYM_MODDIR") ?: ".";
	char path[4096];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s.ko", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(__NR_finit_module, fd, params, 0);
	close(fd);
	return ret ? -errno : 0;
}

static int load(const char *name)
{
	return load_with(name, "");
}

static int unload(const char *name)
{
	return syscall(__NR_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

/* The whole file as a string; NULL on error. */
static char *slurp(const char *path)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* Run a shell command; its output (stdout and stderr) and exit status. */
static char *run(const char *cmd, int *status)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	FILE *f = popen(cmd, "r");
	size_t n;

	*status = -1;
	if (!f || !buf) {
		free(buf);
		if (f)
			pclose(f);
		return NULL;
	}
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	n = pclose(f);
	*status = WIFEXITED(n) ? WEXITSTATUS(n) : -1;
	return buf;
}

/* pymstat -o run as nobody: its output and exit status. */
static char *run_as_nobody(int *status)
{
	int fd[2], st;
	ssize_t n = 0;
	size_t len;
	pid_t pid;
	char *buf;

	*status = -1;
	if (pipe(fd))
		return NULL;
	pid = fork();
	if (pid < 0)
		return NULL;
	if (pid == 0) {
		dup2(fd[1], 1);
		dup2(fd[1], 2);
		close(fd[0]);
		if (setgid(65534) || setuid(65534))
			_exit(126);
		execlp("pymstat", "pymstat", "-o", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	buf = calloc(1, 4096);
	for (len = 0; buf && len < 4095; len += n) {
		n = read(fd[0], buf + len, 4095 - len);
		if (n <= 0)
			break;
	}
	close(fd[0]);
	waitpid(pid, &st, 0);
	if (!buf || n < 0) {
		free(buf);
		return NULL;
	}
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return buf;
}

/* The guest's uptime, so that the log shows what each test took. */
static void print_uptime(void)
{
	char *up = slurp("/proc/uptime");

	if (up)
		ksft_print_msg("uptime %.*s s\n", (int)strcspn(up, " "), up);
	free(up);
}

static int write_str(const char *path, const char *cmd)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, cmd, strlen(cmd)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * Fault injection for tasks marked make-it-fail only, with probability
 * percent; "0" turns it off. 0, or the first error.
 */
static int fault_knobs(const char *dir, const char *probability)
{
	static const char *const knobs[][2] = {
		{ "task-filter", "Y" }, { "interval", "1" }, { "times", "-1" },
		{ "verbose", "0" },
	};
	char path[128];
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, knobs[i][0]);
		ret = write_str(path, knobs[i][1]);
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path), "%s/probability", dir);
	return write_str(path, probability);
}

/* CPUs an earlier test took offline, and did not bring back, come back. */
static void online_all_cpus(void)
{
	char path[64], *state;
	int cpu;

	for (cpu = 1; cpu < CPU_SETSIZE; cpu++) {
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
		state = slurp(path);
		if (!state)
			break;
		if (state[0] == '0')
			write_str(path, "1");
		free(state);
	}
}

/*
 * Unload whatever an earlier test left loaded: a test the harness killed
 * on timeout runs no teardown, and the next test must start clean. A
 * module still busy (the killed test's write still running in the
 * kernel) is waited for, up to a minute.
 */
static void unload_leftovers(void)
{
	static const char *const mods[] = {
		"test_pymalloc", "pym_cache", "pym_graph", "pymalloc"
	};
	unsigned int i, tries;

	print_uptime();
	online_all_cpus();
	if (!access(FAIL_PAGE_ALLOC, W_OK))
		fault_knobs(FAIL_PAGE_ALLOC, "0");
	for (i = 0; i < ARRAY_SIZE(mods); i++)
		for (tries = 0; tries < 600 && unload(mods[i]) == -EAGAIN; tries++)
			usleep(100000);
}

static int ctl(const char *cmd)
{
	return write_str(CTL, cmd);
}

static unsigned long long file_value(const char *path, const char *key)
{
	char *s = slurp(path), *p;
	unsigned long long v = ~0ULL;

	p = s ? strstr(s, key) : NULL;
	if (p)
		sscanf(p + strlen(key), " %llu", &v);
	free(s);
	return v;
}

static unsigned long long ctl_value(const char *key)
{
	return file_value(CTL, key);
}

struct type_row {
	unsigned long long live, allocated, released, freelist, bound, hits;
	unsigned long long tracked;
	int found;
};

/* The row of /sys/kernel/debug/pymalloc/types for the named type. */
static struct type_row type_row(const char *name)
{
	struct type_row r = { 0 };
	char *s = slurp(TYPES), *line, *save;
	char rname[64], cls[16];
	size_t size;

	for (line = s ? strtok_r(s, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%63s %zu %15s %llu %llu %llu %llu %llu %llu %llu",
			   rname, &size, cls, &r.live, &r.allocated,
			   &r.released, &r.freelist, &r.bound, &r.hits,
			   &r.tracked) == 10 &&
		    !strcmp(rname, name)) {
			r.found = 1;
			break;
		}
	}
	free(s);
	return r;
}

/* The figure named label in a debugfs stats file: "name value" lines. */
static unsigned long long stat_value(const char *text, const char *label)
{
	size_t n = strlen(label);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, label, n) && p[n] == ' ')
			return strtoull(p + n + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return ~0ULL;
}

struct parsed {
	unsigned long long arenas, total, blocks, invalid;
	unsigned long long class_rows, class_blocks, class_bytes, bytes;
	unsigned long long arena_rows, bad_maps, figures, invalid_parts;
};

static void parse_all(struct __test_metadata *_metadata, struct parsed *r)
{
	char *stats = slurp(HEAP "/stats"), *classes = slurp(HEAP "/classes");
	char *arenas = slurp(HEAP "/arenas"), *line, *save;
	unsigned int c, size, per, n;
	unsigned long long pools, blocks, avail, bytes, reserved;

	ASSERT_NE(NULL, stats);
	ASSERT_NE(NULL, classes);
	ASSERT_NE(NULL, arenas);
	memset(r, 0, sizeof(*r));
	r->arenas = stat_value(stats, "arenas_current");
	r->total = stat_value(stats, "bytes_arenas");
	r->blocks = stat_value(stats, "blocks_in_use");
	r->bytes = stat_value(stats, "bytes_in_use");
	r->invalid = stat_value(stats, "invalid_frees");
	ASSERT_NE(~0ULL, r->arenas);
	ASSERT_NE(~0ULL, r->total);
	ASSERT_NE(~0ULL, r->blocks);
	r->invalid_parts = stat_value(stats, "double_frees") +
			   stat_value(stats, "interior_frees") +
			   stat_value(stats, "foreign_frees") +
			   stat_value(stats, "size_queries_refused");
	/* A line per figure, then a line per NUMA node. */
	for (line = stats; *line; line++)
		if (line == stats || line[-1] == '\n')
			r->figures += strncmp(line, "arenas_node", 11) != 0;
	/* The parts of the arenas' bytes add up to them. */
	EXPECT_EQ(r->total, r->bytes + stat_value(stats, "bytes_available") +
		  stat_value(stats, "bytes_empty_pools") +
		  stat_value(stats, "bytes_quantization"));
	for (line = strtok_r(classes, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%u %u %u %llu %llu %llu %llu %llu", &c, &size,
			   &per, &pools, &blocks, &avail, &bytes, &reserved) != 8)
			continue;
		r->class_rows++;
		r->class_blocks += blocks;
		r->class_bytes += bytes;
	}
	for (line = strtok_r(arenas, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char map[80] = "";

		if (!strncmp(line, " arena", 6))
			continue;
		r->arena_rows++;
		n = sscanf(line, "%*u %*d %*u %*u %*s %79s", map);
		if (n != 1 || strlen(map) != 64 ||
		    strspn(map, ".s0123456789#") != 64)
			r->bad_maps++;
	}
	free(stats);
	free(classes);
	free(arenas);
}

/* Nothing loaded yet: the test loads and unloads by itself. */
FIXTURE(bare) {
};

FIXTURE_SETUP(bare)
{
	if (getuid())
		SKIP(return, "needs root");
	unload_leftovers();
}

FIXTURE_TEARDOWN(bare)
{
}

TEST_F_TIMEOUT(bare, load_and_unload, 120)
{
	struct stat st;

	ASSERT_EQ(0, load("pymalloc"));
	ASSERT_EQ(0, stat(HEAP "/stats", &st));
	ASSERT_EQ(0, unload("pymalloc"));
	ASSERT_EQ(-1, stat(DBG, &st));
	ASSERT_EQ(ENOENT, errno);
}

TEST_F_TIMEOUT(bare, pymstat_errors_are_one_line, 120)
{
	int status;
	char *out = run("pymstat -o 2>&1", &status);

	ASSERT_NE(NULL, out);
	EXPECT_EQ(2, status);
	EXPECT_NE(NULL, strstr(out, "pymalloc is not loaded"));
	EXPECT_EQ(strlen(out) - 1, strcspn(out, "\n"));
	free(out);
	ASSERT_EQ(0, load("pymalloc"));
	out = run_as_nobody(&status);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(2, status);
	EXPECT_NE(NULL, strstr(out, "run as root"));
	EXPECT_EQ(strlen(out) - 1, strcspn(out, "\n"));
	free(out);
	EXPECT_EQ(0, unload("pymalloc"));
}

FIXTURE(pym) {
	int loaded;
};

FIXTURE_SETUP(pym)
{
	if (getuid())
		SKIP(return, "needs root");
	unload_leftovers();
	ASSERT_EQ(0, load("pymalloc"));
	ASSERT_EQ(0, load("test_pymalloc"));
	self->loaded = 1;
}

FIXTURE_TEARDOWN(pym)
{
	struct stat st;

	if (!self->loaded)
		return;
	unload("pym_cache");	/* loaded by some tests */
	EXPECT_EQ(0, unload("test_pymalloc"));
	EXPECT_EQ(0, unload("pymalloc"));
	EXPECT_EQ(-1, stat(DBG, &st));
}

TEST_F_TIMEOUT(pym, files_root_only, 120)
{
	char path[256];
	struct stat st;
	unsigned int i;
	pid_t pid;
	int status;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), HEAP "/%s", files[i]);
		ASSERT_EQ(0, stat(path, &st));
		EXPECT_EQ(0400, st.st_mode & 07777);
		EXPECT_EQ(0, st.st_uid);
	}
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int refused = 0;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		for (i = 0; i < ARRAY_SIZE(files); i++) {
			snprintf(path, sizeof(path), HEAP "/%s", files[i]);
			refused += open(path, O_RDONLY) < 0 &&
				   (errno == EACCES || errno == EPERM);
		}
		_exit(refused == ARRAY_SIZE(files) ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F_TIMEOUT(pym, identities_after_random_workload, 300)
{
	unsigned long long live;
	struct parsed r;
	char *check;
	int round;

	for (round = 1; round <= 4; round++) {
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "random %d %d", 20000 * round, round);
		ASSERT_EQ(0, ctl(cmd));
		live = ctl_value("live");
		parse_all(_metadata, &r);
		EXPECT_EQ(r.arenas * ARENA_BYTES, r.total);
		EXPECT_EQ(PYM_STAT_NR, r.figures);
		EXPECT_EQ(live, r.blocks);
		EXPECT_EQ(live, r.class_blocks);
		EXPECT_EQ(r.bytes, r.class_bytes);
		EXPECT_EQ(64, r.class_rows);
		EXPECT_EQ(r.arenas, r.arena_rows);
		EXPECT_EQ(0, r.bad_maps);
		EXPECT_EQ(0, ctl_value("corrupt"));
		check = slurp(HEAP "/check");
		ASSERT_NE(NULL, check);
		EXPECT_STREQ("ok\n", check);
		free(check);
		if (round % 2 == 0)
			ASSERT_EQ(0, ctl("freeall"));
	}
}

TEST_F_TIMEOUT(pym, arenas_released_after_free, 120)
{
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);
	struct parsed r;
	char *stats;

	ASSERT_EQ(0, ctl("alloc 5000 512"));
	parse_all(_metadata, &r);
	EXPECT_GE(r.arenas, 10);
	ASSERT_EQ(0, ctl("freeall"));
	parse_all(_metadata, &r);
	EXPECT_EQ(0, r.blocks);
	/*
	 * Empty arenas went back as the frees came, except the one kept and
	 * those still holding cached blocks: at most 4 cached 512-byte
	 * blocks per CPU and 4 in the depot (a 2 KiB bound per class).
	 */
	EXPECT_LE(r.arenas, 1 + 4 * (ncpus + 1));
	stats = slurp(HEAP "/stats");
	ASSERT_NE(NULL, stats);
	EXPECT_LE(stat_value(stats, "blocks_cached"),
		  4 * (ncpus + 1));
	EXPECT_EQ(stat_value(stats, "arenas_allocated"),
		  stat_value(stats, "arenas_reclaimed") + r.arenas);
	free(stats);
}

/* A one-number file of /sys/kernel/slab/pym_arena; 0 if it is not there. */
static unsigned long long slab_attr(const char *name)
{
	char path[96], *s;
	unsigned long long v;

	snprintf(path, sizeof(path), "/sys/kernel/slab/pym_arena/%s", name);
	s = slurp(path);
	v = s ? strtoull(s, NULL, 10) : 0;
	free(s);
	return v;
}

/*
 * bytes_metadata charges each arena its descriptor's share of a slab of
 * the pym_arena cache, five to an order-3 slab; SLUB's own figures say
 * what the share is. A cache laid out for debugging (poisoning, red
 * zones, KASAN's metadata) holds fewer, and is not what is charged.
 */
TEST_F_TIMEOUT(pym, descriptors_charged_as_the_slab_holds_them, 120)
{
	unsigned long long order, objs, slab, arenas;
	char *stats;

	ASSERT_EQ(0, ctl("alloc 3000 256"));
	stats = slurp(HEAP "/stats");
	ASSERT_NE(NULL, stats);
	arenas = stat_value(stats, "arenas_current");
	ASSERT_GE(arenas, 1);
	order = slab_attr("order");
	objs = slab_attr("objs_per_slab");
	ASSERT_NE(0, objs) TH_LOG("no /sys/kernel/slab/pym_arena");
	slab = (unsigned long long)sysconf(_SC_PAGESIZE) << order;
	if (slab_attr("poison") || slab_attr("red_zone") ||
	    slab_attr("store_user") ||
	    slab_attr("slab_size") > slab_attr("object_size") + 8) {
		free(stats);
		SKIP(return, "pym_arena laid out for debugging: %llu in %llu bytes",
		     objs, slab);
	}
	EXPECT_EQ(5, objs);
	EXPECT_EQ(32768, slab);
	EXPECT_EQ(arenas * ((slab + objs - 1) / objs),
		  stat_value(stats, "bytes_metadata"));
	free(stats);
	ASSERT_EQ(0, ctl("freeall"));
}

/*
 * A heap destroyed with a live block that nobody frees, then pymalloc
 * unloaded: the arena's pages stay, for whoever still points into them;
 * the rest goes, the descriptors' cache too, and pymalloc loads again.
 * On the debug kernel, kmemleak would name a heap or descriptor left.
 */
TEST_F_TIMEOUT(pym, unload_after_a_leaked_heap, 120)
{
	const char *cache = "/sys/kernel/slab/pym_arena";
	struct stat st;

	ASSERT_EQ(0, ctl("leak"));
	ASSERT_EQ(0, stat(cache, &st));
	ASSERT_EQ(0, unload("test_pymalloc"));
	ASSERT_EQ(0, unload("pymalloc"));
	EXPECT_EQ(-1, stat(cache, &st));
	ASSERT_EQ(0, load("pymalloc"));
	EXPECT_EQ(0, stat(cache, &st));
	ASSERT_EQ(0, load("test_pymalloc"));
}

TEST_F_TIMEOUT(pym, shrinker_releases_kept_arena, 120)
{
	unsigned long long reclaimed, arenas_before;
	struct parsed r;
	char *stats;
	int fd;

	ASSERT_EQ(0, ctl("alloc 3000 256"));
	ASSERT_EQ(0, ctl("freeall"));
	parse_all(_metadata, &r);
	ASSERT_GE(r.arenas, 1);
	arenas_before = r.arenas;
	stats = slurp(HEAP "/stats");
	ASSERT_NE(NULL, stats);
	reclaimed = stat_value(stats, "arenas_reclaimed");
	free(stats);
	/*
	 * drop_caches=2 runs every shrinker: the CPUs' cached blocks go back
	 * to the pools and every arena, the kept one too, to the kernel.
	 */
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "2", 1));
	close(fd);
	parse_all(_metadata, &r);
	EXPECT_EQ(0, r.arenas);
	EXPECT_EQ(0, r.total);
	stats = slurp(HEAP "/stats");
	ASSERT_NE(NULL, stats);
	EXPECT_EQ(reclaimed + arenas_before, stat_value(stats, "arenas_reclaimed"));
	EXPECT_EQ(0, stat_value(stats, "blocks_cached"));
	free(stats);
}

/* A CPU going offline hands its cached blocks back: none lost, none leaked. */
TEST_F_TIMEOUT(pym, cpu_hotplug_under_load, 300)
{
	const char *online = "/sys/devices/system/cpu/cpu1/online";
	unsigned long long live;
	struct parsed r;
	pid_t pid;
	int status, i;
	char *check;

	if (access(online, W_OK))
		SKIP(return, "cpu1 cannot be taken offline here");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		cpu_set_t mask;

		/* The workload runs on every CPU, cpu1 included. */
		CPU_ZERO(&mask);
		for (i = 0; i < CPU_SETSIZE; i++)
			CPU_SET(i, &mask);
		sched_setaffinity(0, sizeof(mask), &mask);
		for (i = 1; i <= 6; i++) {
			char cmd[64];

			snprintf(cmd, sizeof(cmd), "random 20000 %d", 100 + i);
			if (ctl(cmd))
				_exit(1);
		}
		_exit(0);
	}
	for (i = 0; i < 6; i++) {
		EXPECT_EQ(0, write_str(online, "0"));
		usleep(20000);
		EXPECT_EQ(0, write_str(online, "1"));
		usleep(20000);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	live = ctl_value("live");
	parse_all(_metadata, &r);
	EXPECT_EQ(live, r.blocks);
	EXPECT_EQ(0, ctl_value("corrupt"));
	EXPECT_EQ(r.arenas * ARENA_BYTES, r.total);
	check = slurp(HEAP "/check");
	ASSERT_NE(NULL, check);
	EXPECT_STREQ("ok\n", check);
	free(check);
	/* Everything back: every arena returns to the kernel. */
	ASSERT_EQ(0, ctl("freeall"));
	ASSERT_EQ(0, write_str("/proc/sys/vm/drop_caches", "2"));
	parse_all(_metadata, &r);
	EXPECT_EQ(0, r.blocks);
	EXPECT_EQ(0, r.arenas);
}

/*
 * Blocks freed by other threads than allocated them, on whatever CPUs the
 * scheduler picks, while a CPU goes offline and online (on PREEMPT_RT the
 * magazines' locks are then taken from other CPUs): none lost, none
 * damaged, none leaked. Runs until the workload is done, not for a time.
 */
TEST_F_TIMEOUT(pym, frees_across_cpus_during_hotplug, 300)
{
	const char *online = "/sys/devices/system/cpu/cpu1/online";
	int status, cycles, hotplug = !access(online, W_OK);
	int *stop, *rounds;
	struct parsed r;
	char *check;
	pid_t pid;

	stop = mmap(NULL, 2 * sizeof(int), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stop);
	rounds = stop + 1;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Short batches, until told: the workload spans every cycle. */
		while (!__atomic_load_n(stop, __ATOMIC_ACQUIRE)) {
			if (ctl("xfree 8 50"))
				_exit(1);
			__atomic_add_fetch(rounds, 1, __ATOMIC_RELEASE);
		}
		_exit(0);
	}
	/* Events, not time: six offline/online cycles with batches between. */
	for (cycles = 0; hotplug && cycles < 6; cycles++) {
		int seen = __atomic_load_n(rounds, __ATOMIC_ACQUIRE);

		EXPECT_EQ(0, write_str(online, "0"));
		while (__atomic_load_n(rounds, __ATOMIC_ACQUIRE) == seen &&
		       waitpid(pid, &status, WNOHANG) == 0)
			usleep(20000);
		EXPECT_EQ(0, write_str(online, "1"));
	}
	if (!hotplug)
		while (__atomic_load_n(rounds, __ATOMIC_ACQUIRE) < 6)
			usleep(20000);
	__atomic_store_n(stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ksft_print_msg("cpu1 offline/online %d times, %d workload batches\n",
		       cycles, *rounds);
	munmap(stop, 2 * sizeof(int));
	EXPECT_EQ(0, ctl_value("corrupt"));
	EXPECT_EQ(0, ctl_value("live"));
	check = slurp(HEAP "/check");
	ASSERT_NE(NULL, check);
	EXPECT_STREQ("ok\n", check);
	free(check);
	ASSERT_EQ(0, write_str("/proc/sys/vm/drop_caches", "2"));
	parse_all(_metadata, &r);
	EXPECT_EQ(0, r.blocks);
	EXPECT_EQ(0, r.arenas);
}

/*
 * Real memory pressure, not drop_caches: the page allocator's reclaim runs
 * pymalloc's shrinker (under fs_reclaim, which lockdep watches) while
 * magazines, depots and a type's free list hold blocks; it gives them all
 * back.
 */
TEST_F_TIMEOUT(pym, reclaim_under_memory_pressure, 300)
{
	struct type_row t;
	struct parsed r;

	ASSERT_EQ(0, load("pym_cache"));
	ASSERT_EQ(0, ctl("random 20000 7"));
	ASSERT_EQ(0, ctl("freeall"));
	ASSERT_EQ(0, write_str(CACHE_CTL, "fill 1000"));
	ASSERT_EQ(0, write_str(CACHE_CTL, "clear"));
	ASSERT_EQ(0, write_str(CACHE_CTL, "sync"));
	t = type_row("pym_cache_record");
	ASSERT_TRUE(t.found);
	ASSERT_GT(t.freelist, 0);
	parse_all(_metadata, &r);
	ASSERT_GT(r.arenas, 0);
	EXPECT_EQ(0, ctl("pressure"));
	t = type_row("pym_cache_record");
	EXPECT_EQ(0, t.freelist);
	parse_all(_metadata, &r);
	EXPECT_EQ(0, r.arenas);
	EXPECT_EQ(0, unload("pym_cache"));
}

/*
 * Reclaim with a thousand heaps holding cached blocks: one drain round over
 * the CPUs, not one IPI broadcast per heap under a lock (which took 53 s
 * and stalled RCU). Every heap's arenas go back.
 */
TEST_F_TIMEOUT(pym, drop_caches_with_many_heaps, 300)
{
	struct timespec t0, t1;
	unsigned long long arenas = 0;
	char path[128], *stats;
	int i;

	ASSERT_EQ(0, ctl("heaps 1000"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, write_str("/proc/sys/vm/drop_caches", "2"));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ksft_print_msg("drop_caches with 1000 heaps: %ld ms\n",
		       (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	for (i = 0; i < 1000; i += 37) {
		snprintf(path, sizeof(path), DBG "/many-%d/stats", i);
		stats = slurp(path);
		ASSERT_NE(NULL, stats);
		arenas += stat_value(stats, "arenas_current");
		free(stats);
	}
	EXPECT_EQ(0, arenas);
	ASSERT_EQ(0, ctl("heaps 0"));
}

/*
 * Injected faults under load: page allocations fail 10% of the time and
 * arenas half the time, for the workload's threads only (task-filter),
 * while they allocate, fill, swap and free blocks across CPUs. What fails
 * returns NULL and is counted exactly once; nothing is lost, damaged or
 * leaked (kmemleak scans after the suites), and the heap checks out.
 * Returns the stats text, for the heap's own checks.
 */
static char *faults_workload(struct __test_metadata *_metadata,
			     const char *cmd)
{
	unsigned long long failed;
	char *stats, *check;
	int ret;

	ASSERT_EQ(0, fault_knobs(FAIL_PAGE_ALLOC, "10"));
	ASSERT_EQ(0, write_str(FAIL_PAGE_ALLOC "/ignore-gfp-wait", "N"));
	ASSERT_EQ(0, write_str(FAIL_PAGE_ALLOC "/ignore-gfp-highmem", "N"));
	ASSERT_EQ(0, fault_knobs(FAIL_ARENA, "50"));
	ret = ctl(cmd);
	EXPECT_EQ(0, fault_knobs(FAIL_PAGE_ALLOC, "0"));
	EXPECT_EQ(0, fault_knobs(FAIL_ARENA, "0"));
	EXPECT_EQ(0, ret);
	failed = ctl_value("failed");
	stats = slurp(HEAP "/stats");
	EXPECT_NE(NULL, stats);
	if (!stats)
		return NULL;
	ksft_print_msg("arena_failures %llu, fallback_allocs %llu, NULL returned %llu\n",
		       stat_value(stats, "arena_failures"),
		       stat_value(stats, "fallback_allocs"), failed);
	EXPECT_EQ(failed, stat_value(stats, "alloc_failures"));
	EXPECT_EQ(0, stat_value(stats, "corruptions"));
	EXPECT_EQ(0, ctl_value("corrupt"));
	EXPECT_EQ(0, ctl_value("live"));
	check = slurp(HEAP "/check");
	EXPECT_NE(NULL, check);
	if (check)
		EXPECT_STREQ("ok\n", check);
	free(check);
	return stats;
}

/* On a normal heap, kmalloc serves what finds no arena; all comes back. */
TEST_F_TIMEOUT(pym, faults_under_load, 300)
{
	struct parsed r;
	char *stats;

	if (access(FAIL_PAGE_ALLOC, W_OK))
		SKIP(return, "no fail_page_alloc (CONFIG_FAIL_PAGE_ALLOC)");
	stats = faults_workload(_metadata, "faults 4 100");
	ASSERT_NE(NULL, stats);
	/* Arenas come and go: at 50%, about half the attempts fail. */
	EXPECT_LT(0, stat_value(stats, "arena_failures"));
	EXPECT_EQ(stat_value(stats, "arena_failures"),
		  stat_value(stats, "fallback_allocs") +
		  stat_value(stats, "alloc_failures"));
	free(stats);
	ASSERT_EQ(0, write_str("/proc/sys/vm/drop_caches", "2"));
	parse_all(_metadata, &r);
	EXPECT_EQ(0, r.blocks);
	EXPECT_EQ(0, r.arenas);
}

FIXTURE(debug) {
	int loaded;
};

FIXTURE_SETUP(debug)
{
	if (getuid())
		SKIP(return, "needs root");
	unload_leftovers();
	ASSERT_EQ(0, load_with("pymalloc", "debug=1"));
	ASSERT_EQ(0, load("test_pymalloc"));
	self->loaded = 1;
}

FIXTURE_TEARDOWN(debug)
{
	if (!self->loaded)
		return;
	EXPECT_EQ(0, unload("test_pymalloc"));
	EXPECT_EQ(0, unload("pymalloc"));
}

/*
 * The same on the default heap made a debug heap with debug=1: no kmalloc
 * fallback, every guard and fill intact (stack captures meet failing page
 * allocations too), and what is left allocated is exactly what waits in
 * quarantine. Its few arenas stay (the quarantine holds blocks in them),
 * so a run may meet no arena failure: that is not asked for here.
 */
TEST_F_TIMEOUT(debug, faults_under_load, 300)
{
	char *stats, *debug;
	struct parsed r;

	if (access(FAIL_PAGE_ALLOC, W_OK))
		SKIP(return, "no fail_page_alloc (CONFIG_FAIL_PAGE_ALLOC)");
	debug = slurp(HEAP "/debug");
	ASSERT_NE(NULL, debug);
	EXPECT_EQ(0, strncmp(debug, "on\n", 3));
	free(debug);
	/* Every call takes the lock and records a stack: fewer rounds. */
	stats = faults_workload(_metadata, "faults 4 25");
	ASSERT_NE(NULL, stats);
	EXPECT_EQ(0, stat_value(stats, "fallback_allocs"));
	free(stats);
	parse_all(_metadata, &r);
	EXPECT_EQ(file_value(HEAP "/debug", "quarantined"), r.blocks);
}

/* The bulk and RCU frees, from outside: a double entry is refused. */
TEST_F_TIMEOUT(pym, bulk_and_rcu_frees, 300)
{
	struct parsed before, after;
	char *check;

	parse_all(_metadata, &before);
	ASSERT_EQ(0, ctl("bulk 5000 72"));
	ASSERT_EQ(0, ctl("bulk 300 512"));
	parse_all(_metadata, &after);
	EXPECT_EQ(before.blocks, after.blocks);
	EXPECT_EQ(before.invalid + 2, after.invalid);
	ASSERT_EQ(0, ctl("rcu 20000"));
	parse_all(_metadata, &before);
	EXPECT_EQ(after.blocks, before.blocks);
	EXPECT_EQ(after.invalid + 1, before.invalid);
	EXPECT_EQ(0, file_value(DBG "/rcu", "rcu_pending"));
	EXPECT_EQ(0, file_value(DBG "/rcu", "rcu_dropped"));
	EXPECT_EQ(-EINVAL, ctl("bulk 0 64"));
	check = slurp(HEAP "/check");
	ASSERT_NE(NULL, check);
	EXPECT_STREQ("ok\n", check);
	free(check);
}

TEST_F_TIMEOUT(pym, bad_frees_refused, 120)
{
	struct parsed before, after;
	char *check;

	parse_all(_metadata, &before);
	ASSERT_EQ(0, ctl("badfree"));
	parse_all(_metadata, &after);
	EXPECT_EQ(before.invalid + 3, after.invalid);
	EXPECT_EQ(after.invalid, after.invalid_parts);
	check = slurp(HEAP "/check");
	ASSERT_NE(NULL, check);
	EXPECT_STREQ("ok\n", check);
	free(check);
}

/*
 * Observability: the tracepoints, the sampled callers and pymstat, with
 * every allocation sampled so that the figures are exact.
 */
#define TRACEFS		"/sys/kernel/tracing"
#define EVENTS		TRACEFS "/events/pymalloc"

FIXTURE(observe) {
	int loaded;
};

static void tracing_off(void)
{
	write_str(TRACEFS "/tracing_on", "0");
	write_str(EVENTS "/enable", "0");
}

FIXTURE_SETUP(observe)
{
	struct stat st;

	if (getuid())
		SKIP(return, "needs root");
	unload_leftovers();
	if (stat(TRACEFS "/events", &st))
		mount("nodev", TRACEFS, "tracefs", 0, NULL);
	ASSERT_EQ(0, load_with("pymalloc", "sample_interval=1"));
	ASSERT_EQ(0, load("test_pymalloc"));
	self->loaded = 1;
}

FIXTURE_TEARDOWN(observe)
{
	if (!self->loaded)
		return;
	tracing_off();
	unload("pym_cache");	/* loaded by some tests */
	EXPECT_EQ(0, unload("test_pymalloc"));
	EXPECT_EQ(0, unload("pymalloc"));
}

/* Lines of text that contain every one of the strings in want. */
static unsigned long count_lines(const char *text, const char *const *want,
				 unsigned int nwant)
{
	unsigned long n = 0;
	const char *line = text, *end;
	unsigned int i;
	char buf[1024];

	for (; line && *line; line = end ? end + 1 : NULL) {
		size_t len;

		end = strchr(line, '\n');
		len = end ? (size_t)(end - line) : strlen(line);
		if (len >= sizeof(buf))
			continue;
		memcpy(buf, line, len);
		buf[len] = '\0';
		for (i = 0; i < nwant && strstr(buf, want[i]); i++)
			;
		n += i == nwant;
	}
	return n;
}

TEST_F_TIMEOUT(observe, tracepoints_see_a_known_workload, 300)
{
	static const char *const allocs[] = {
		"pym_alloc:", "call_site=alloc_one", "bytes_req=100 ",
		"bytes_alloc=104 ", "gfp_flags=GFP_KERNEL", "heap=default",
	};
	static const char *const frees[] = {
		"pym_free:", "call_site=free_at", "heap=default",
	};
	static const char *const big[] = { "pym_alloc:", "bytes_req=512 " };
	static const char *const arena_allocs[] = {
		"pym_arena_alloc:", "heap=default",
	};
	static const char *const arena_frees[] = {
		"pym_arena_free:", "heap=default",
	};
	unsigned long long got0, got1, back0, back1;
	char *stats, *trace;
	struct stat st;

	if (stat(EVENTS, &st))
		SKIP(return, "no tracefs, or a kernel without tracepoints");
	ASSERT_EQ(0, write_str(TRACEFS "/tracing_on", "0"));
	ASSERT_EQ(0, write_str(TRACEFS "/buffer_size_kb", "8192"));
	ASSERT_EQ(0, write_str(TRACEFS "/trace", ""));
	ASSERT_EQ(0, write_str(EVENTS "/enable", "1"));
	stats = slurp(HEAP "/stats");
	ASSERT_NE(NULL, stats);
	got0 = stat_value(stats, "arenas_allocated");
	back0 = stat_value(stats, "arenas_reclaimed");
	free(stats);

	ASSERT_EQ(0, write_str(TRACEFS "/tracing_on", "1"));
	ASSERT_EQ(0, ctl("alloc 1000 100"));
	ASSERT_EQ(0, ctl("freeall"));
	ASSERT_EQ(0, ctl("alloc 3000 512"));
	ASSERT_EQ(0, ctl("freeall"));
	ASSERT_EQ(0, write_str(TRACEFS "/tracing_on", "0"));

	stats = slurp(HEAP "/stats");
	ASSERT_NE(NULL, stats);
	got1 = stat_value(stats, "arenas_allocated");
	back1 = stat_value(stats, "arenas_reclaimed");
	free(stats);
	trace = slurp(TRACEFS "/trace");
	ASSERT_NE(NULL, trace);
	/* Nothing was lost: the buffer held every event. */
	EXPECT_EQ(NULL, strstr(trace, "LOST"));
	EXPECT_EQ(1000, count_lines(trace, allocs, ARRAY_SIZE(allocs)));
	EXPECT_EQ(3000, count_lines(trace, big, ARRAY_SIZE(big)));
	EXPECT_EQ(4000, count_lines(trace, frees, ARRAY_SIZE(frees)));
	EXPECT_LE(6, got1 - got0);
	EXPECT_EQ(got1 - got0, count_lines(trace, arena_allocs,
					   ARRAY_SIZE(arena_allocs)));
	EXPECT_EQ(back1 - back0, count_lines(trace, arena_frees,
					     ARRAY_SIZE(arena_frees)));
	free(trace);
}

/* The row of a callers file whose caller starts with fn. */
static int caller_row(const char *text, const char *fn,
		      unsigned long long v[5])
{
	const char *line;
	char name[128];

	for (line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (sscanf(line, "%llu %llu %llu %llu %llu %127s", &v[0], &v[1],
			   &v[2], &v[3], &v[4], name) == 6 &&
		    !strncmp(name, fn, strlen(fn)))
			return 1;
	return 0;
}

/* bytes_requested of a class, from a classes file; ~0 for "-". */
static unsigned long long class_requested(const char *text, unsigned int cls)
{
	const char *line;
	unsigned int c;
	char req[32];

	for (line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (sscanf(line, "%u %*u %*u %*u %*u %*u %*u %*u %*u %31s", &c,
			   req) == 2 && c == cls)
			return req[0] == '-' ? ~0ULL : strtoull(req, NULL, 10);
	return ~0ULL - 1;
}

TEST_F_TIMEOUT(observe, callers_exact_at_interval_1, 120)
{
	unsigned long long v[5];
	char *callers, *classes;

	ASSERT_EQ(0, ctl("alloc 1000 100"));
	ASSERT_EQ(0, ctl("alloc 500 60"));
	callers = slurp(HEAP "/callers");
	classes = slurp(HEAP "/classes");
	ASSERT_NE(NULL, callers);
	ASSERT_NE(NULL, classes);
	EXPECT_EQ(1, stat_value(callers, "sample_interval"));
	EXPECT_EQ(1500, stat_value(callers, "samples"));
	EXPECT_EQ(0, stat_value(callers, "samples_dropped"));
	ASSERT_EQ(1, caller_row(callers, "alloc_one+", v));
	EXPECT_EQ(1500, v[0]);
	EXPECT_EQ(1500, v[1]);
	EXPECT_EQ(1000 * 100 + 500 * 60, v[2]);
	EXPECT_EQ(1000 * 104 + 500 * 64, v[3]);
	EXPECT_EQ(1000 * 4 + 500 * 4, v[4]);
	/* Class 12 holds 104-byte blocks, class 7 64-byte ones. */
	EXPECT_EQ(1000 * 100, class_requested(classes, 12));
	EXPECT_EQ(500 * 60, class_requested(classes, 7));
	EXPECT_EQ(0, class_requested(classes, 20));
	free(callers);
	free(classes);

	ASSERT_EQ(0, ctl("freeall"));
	callers = slurp(HEAP "/callers");
	ASSERT_NE(NULL, callers);
	EXPECT_EQ(0, stat_value(callers, "samples"));
	EXPECT_EQ(0, caller_row(callers, "alloc_one+", v));
	free(callers);
	/* Once on, sampling stays on; garbage is refused. */
	EXPECT_EQ(-EBUSY, write_str(DBG "/sample_interval", "0"));
	EXPECT_EQ(-EINVAL, write_str(DBG "/sample_interval", "often"));
	EXPECT_EQ(0, write_str(DBG "/sample_interval", "64"));
	EXPECT_EQ(64, file_value(DBG "/sample_interval", ""));
}

TEST_F_TIMEOUT(observe, pymstat_reads_a_known_workload, 120)
{
	unsigned long long blocks, objs, pools, arenas;
	char *out, *line, name[64], heap[64], cls[8], size[8];
	int status, rows = 0, heap_rows = 0, maps = 0;
	unsigned int objsize, per;

	ASSERT_EQ(0, ctl("alloc 1000 100"));
	arenas = file_value(HEAP "/stats", "arenas_current");

	out = run("pymstat -o -s blocks 2>&1", &status);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, status);
	for (line = out; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		/* A blank line: sscanf() would skip it and read the next. */
		if (*line == '\n' ||
		    sscanf(line, "%63s %7s %7s %llu", heap, cls, size, &blocks) != 4 ||
		    strcmp(heap, "default"))
			continue;
		if (!strcmp(cls, "all"))
			heap_rows += blocks == 1000;
		if (!strcmp(cls, "12"))
			rows += !strcmp(size, "104") && blocks == 1000;
	}
	EXPECT_EQ(1, heap_rows);
	EXPECT_EQ(1, rows);
	if (heap_rows != 1 || rows != 1)
		TH_LOG("pymstat -o -s blocks printed:\n%s", out);
	free(out);

	out = run("pymstat --slabinfo 2>&1", &status);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, status);
	EXPECT_EQ(0, strncmp(out, "slabinfo - version: 2.1\n", 24));
	rows = 0;
	for (line = out; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (*line != '\n' &&
		    sscanf(line, "%63s %llu %llu %u %u", name, &blocks, &objs,
			   &objsize, &per) == 5 && !strcmp(name, "pym-default-104")) {
			rows++;
			EXPECT_EQ(1000, blocks);
			EXPECT_EQ(104, objsize);
			EXPECT_EQ(39, per);
			EXPECT_EQ(0, objs % per);
			EXPECT_LE(1000, objs);
		}
	EXPECT_EQ(1, rows);
	free(out);

	out = run("pymstat --json 2>&1", &status);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, status);
	EXPECT_NE(NULL, strstr(out, "{\"name\": \"default\", \"stats\": {\"arenas_allocated\": "));
	EXPECT_NE(NULL, strstr(out, "\"size\": 104, \"per_pool\": 39, \"pools\": "));
	EXPECT_NE(NULL, strstr(out, "\"blocks_in_use\": 1000, "));
	EXPECT_NE(NULL, strstr(out, "\"bytes_requested\": 100000}"));
	free(out);

	out = run("pymstat --arenas --color=always 2>&1", &status);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, status);
	EXPECT_NE(NULL, strstr(out, "\033["));
	for (line = out; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		maps += *line != '\n' &&
			sscanf(line, "%llu n%llu", &blocks, &pools) == 2;
	EXPECT_EQ(arenas, maps);
	free(out);

	out = run("pymstat -s nonsense 2>&1", &status);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(2, status);
	EXPECT_NE(NULL, strstr(out, "unknown sort key"));
	free(out);
	out = run("pymstat -n 2 -d 1 2>&1", &status);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, status);
	EXPECT_NE(NULL, strstr(strstr(out, " Heaps: ") + 1, " Heaps: "));
	free(out);
}

/* An object's call site is its creator's, not the object layer's. */
TEST_F_TIMEOUT(observe, callers_name_the_object_creator, 120)
{
	unsigned long long v[5];
	char *callers;

	ASSERT_EQ(0, load("pym_cache"));
	EXPECT_EQ(0, write_str(CACHE_CTL, "fill 200"));
	callers = slurp(HEAP "/callers");
	ASSERT_NE(NULL, callers);
	EXPECT_EQ(0, caller_row(callers, "obj_new", v));
	EXPECT_NE(NULL, strstr(callers, " [pym_cache]\n"));
	if (!strstr(callers, " [pym_cache]\n"))
		TH_LOG("callers:\n%s", callers);
	free(callers);
	EXPECT_EQ(0, write_str(CACHE_CTL, "clear"));
	EXPECT_EQ(0, write_str(CACHE_CTL, "sync"));
	EXPECT_EQ(0, unload("pym_cache"));
}

TEST_F_TIMEOUT(pym, callers_off_by_default, 120)
{
	char *callers = slurp(HEAP "/callers");

	ASSERT_NE(NULL, callers);
	EXPECT_STREQ("sample_interval 0\n", callers);
	free(callers);
	callers = slurp(HEAP "/classes");
	ASSERT_NE(NULL, callers);
	EXPECT_EQ(~0ULL, class_requested(callers, 0));
	free(callers);
}

FIXTURE(cache) {
	int loaded;
};

FIXTURE_SETUP(cache)
{
	cpu_set_t one;

	if (getuid())
		SKIP(return, "needs root");
	unload_leftovers();
	/* RCU callbacks run where they were queued: stay on one CPU. */
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
	ASSERT_EQ(0, load("pymalloc"));
	ASSERT_EQ(0, load("pym_cache"));
	self->loaded = 1;
}

FIXTURE_TEARDOWN(cache)
{
	if (!self->loaded)
		return;
	EXPECT_EQ(0, unload("pym_cache"));
	EXPECT_EQ(0, type_row("pym_cache_record").found);
	EXPECT_EQ(0, unload("pymalloc"));
}

TEST_F_TIMEOUT(cache, types_counts_follow_the_cache, 120)
{
	struct type_row r;
	char cmd[64];
	int k;

	r = type_row("pym_cache_record");
	ASSERT_TRUE(r.found);
	EXPECT_EQ(0, r.allocated);
	EXPECT_EQ(256, r.bound);
	ASSERT_EQ(0, write_str(CACHE_CTL, "fill 1000"));
	r = type_row("pym_cache_record");
	EXPECT_EQ(1000, r.live);
	EXPECT_EQ(1000, r.allocated);
	EXPECT_EQ(0, r.released);
	for (k = 0; k < 100; k++) {
		snprintf(cmd, sizeof(cmd), "delete %d", k);
		ASSERT_EQ(0, write_str(CACHE_CTL, cmd));
	}
	ASSERT_EQ(0, write_str(CACHE_CTL, "sync"));
	r = type_row("pym_cache_record");
	EXPECT_EQ(900, r.live);
	EXPECT_EQ(100, r.released);
	EXPECT_GT(r.freelist, 0);
	EXPECT_LE(r.freelist, r.bound);
	/* 100 new records and 900 replacements: 1000 made, 900 more die. */
	ASSERT_EQ(0, write_str(CACHE_CTL, "fill 1000"));
	ASSERT_EQ(0, write_str(CACHE_CTL, "sync"));
	r = type_row("pym_cache_record");
	EXPECT_EQ(2000, r.allocated);
	EXPECT_EQ(1000, r.released);
	EXPECT_EQ(1000, r.live);
	EXPECT_GT(r.hits, 0);
	EXPECT_EQ(1000, file_value(CACHE_CTL, "records"));
	ASSERT_EQ(0, write_str(CACHE_CTL, "clear"));
	ASSERT_EQ(0, write_str(CACHE_CTL, "sync"));
	r = type_row("pym_cache_record");
	EXPECT_EQ(0, r.live);
	EXPECT_EQ(2000, r.released);
	EXPECT_GT(r.freelist, 0);
	/* Memory pressure (drop_caches runs the shrinkers) empties the lists. */
	ASSERT_EQ(0, write_str("/proc/sys/vm/drop_caches", "2"));
	r = type_row("pym_cache_record");
	EXPECT_EQ(0, r.freelist);
	EXPECT_EQ(0, r.live);
}

TEST_F_TIMEOUT(cache, readers_share_records_under_churn, 300)
{
	unsigned long long corrupt, hits;
	struct type_row r;

	ASSERT_EQ(0, write_str(CACHE_CTL, "fill 512"));
	ASSERT_EQ(0, write_str(CACHE_CTL, "stress 4 20000"));
	corrupt = file_value(CACHE_CTL, "corrupt");
	hits = file_value(CACHE_CTL, "hits");
	EXPECT_EQ(0, corrupt);
	EXPECT_GT(hits, 0);
	ASSERT_EQ(0, write_str(CACHE_CTL, "clear"));
	ASSERT_EQ(0, write_str(CACHE_CTL, "sync"));
	r = type_row("pym_cache_record");
	EXPECT_EQ(0, r.live);
	EXPECT_EQ(r.allocated, r.released);
}

#define GRAPH_CTL	"/sys/kernel/debug/pym_graph/ctl"
#define GC		DBG "/gc"

/* Generation g's row of gc/stats: collections, collected, survived. */
static void gc_row(unsigned int g, unsigned long long *v)
{
	char *s = slurp(GC "/stats"), *line, *save;
	unsigned int gen;

	memset(v, 0xff, 3 * sizeof(*v));
	for (line = s ? strtok_r(s, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%u %llu %llu %llu", &gen, &v[0], &v[1], &v[2]) == 4 &&
		    gen == g)
			break;
	free(s);
}

/* What writing text to gc/file returns, said when it is not -EINVAL. */
static int refused(const char *file, const char *text)
{
	char path[128];
	int ret;

	snprintf(path, sizeof(path), GC "/%s", file);
	ret = write_str(path, text);
	if (ret != -EINVAL)
		ksft_print_msg("%s \"%s\": %d, not -EINVAL\n", file, text, ret);
	return ret;
}

static int graph(const char *cmd)
{
	return write_str(GRAPH_CTL, cmd);
}

FIXTURE(graph) {
	int loaded;
};

FIXTURE_SETUP(graph)
{
	if (getuid())
		SKIP(return, "needs root");
	unload_leftovers();
	ASSERT_EQ(0, load("pymalloc"));
	ASSERT_EQ(0, load("pym_graph"));
	self->loaded = 1;
}

FIXTURE_TEARDOWN(graph)
{
	if (!self->loaded)
		return;
	EXPECT_EQ(0, unload("pym_graph"));
	EXPECT_EQ(0, type_row("pym_graph_node").found);
	EXPECT_EQ(0, unload("pymalloc"));
}

/*
 * Cycles made through the sample's debugfs are freed by a collection
 * asked for in gc/collect, and every figure says so exactly.
 */
TEST_F_TIMEOUT(graph, cycles_collected_from_user_space, 120)
{
	static const char *const cmds[] = {
		/* a 2-cycle, a self-cycle, a 3-cycle with a tail, a chain */
		"link 0 1", "link 1 0", "link 2 2", "link 3 4", "link 4 5",
		"link 5 3", "link 5 6", "link 7 8",
	};
	unsigned long long before[3], after[3];
	char cmd[32];
	unsigned int i;

	ASSERT_EQ(0, write_str(GC "/enabled", "0"));
	for (i = 0; i < 10; i++) {
		snprintf(cmd, sizeof(cmd), "new %u", i);
		ASSERT_EQ(0, graph(cmd));
	}
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		ASSERT_EQ(0, graph(cmds[i]));
	EXPECT_EQ(10, type_row("pym_graph_node").tracked);
	/* The module lets go of all but node 9. */
	for (i = 0; i < 9; i++) {
		snprintf(cmd, sizeof(cmd), "drop %u", i);
		ASSERT_EQ(0, graph(cmd));
	}
	/* 7 and 8 died by their counts; the cycles and 6 wait. */
	EXPECT_EQ(2, file_value(GRAPH_CTL, "released"));
	EXPECT_EQ(8, type_row("pym_graph_node").tracked);
	gc_row(2, before);
	ASSERT_EQ(0, write_str(GC "/collect", "2"));
	gc_row(2, after);
	EXPECT_EQ(before[0] + 1, after[0]);
	EXPECT_EQ(before[1] + 7, after[1]);
	EXPECT_EQ(before[2] + 1, after[2]);
	EXPECT_EQ(9, file_value(GRAPH_CTL, "released"));
	EXPECT_EQ(1, file_value(GRAPH_CTL, "nodes"));
	EXPECT_EQ(1, type_row("pym_graph_node").tracked);
	EXPECT_EQ(1, type_row("pym_graph_node").live);
	ASSERT_EQ(0, write_str(GC "/enabled", "1"));
}

/* Every writable gc file refuses garbage and keeps its value. */
TEST_F_TIMEOUT(graph, gc_files_refuse_garbage, 120)
{
	static const char *const bad[] = {
		"x", "-1", "3", "1 2", "99999999999999999999", "1x",
	};
	static const char *const bad_thresholds[] = {
		"1 2", "1 2 3 4", "a b c", "-1 10 10", "1 2 x", "4294967296 1 1",
	};
	char *t;
	unsigned int i;

	t = slurp(GC "/threshold");
	ASSERT_NE(NULL, t);
	EXPECT_STREQ("700 10 10\n", t);
	free(t);
	for (i = 0; i < ARRAY_SIZE(bad_thresholds); i++)
		EXPECT_EQ(-EINVAL, refused("threshold", bad_thresholds[i]));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, refused("collect", bad[i]));
		EXPECT_EQ(-EINVAL, refused("enabled", bad[i]));
		EXPECT_EQ(-EINVAL, refused("freeze", bad[i]));
	}
	EXPECT_EQ(-EINVAL, write_str(GC "/freeze", "2"));
	t = slurp(GC "/threshold");
	ASSERT_NE(NULL, t);
	EXPECT_STREQ("700 10 10\n", t);
	free(t);
	ASSERT_EQ(0, write_str(GC "/threshold", "5 3 2\n"));
	t = slurp(GC "/threshold");
	ASSERT_NE(NULL, t);
	EXPECT_STREQ("5 3 2\n", t);
	free(t);
	EXPECT_EQ(1, file_value(GC "/enabled", ""));

	/* A frozen cycle outlives a full collection; unfrozen, it goes. */
	ASSERT_EQ(0, write_str(GC "/enabled", "0"));
	ASSERT_EQ(0, graph("new 0"));
	ASSERT_EQ(0, graph("new 1"));
	ASSERT_EQ(0, graph("link 0 1"));
	ASSERT_EQ(0, graph("link 1 0"));
	ASSERT_EQ(0, write_str(GC "/freeze", "1"));
	EXPECT_EQ(2, file_value(GC "/freeze", ""));
	ASSERT_EQ(0, graph("drop 0"));
	ASSERT_EQ(0, graph("drop 1"));
	ASSERT_EQ(0, write_str(GC "/collect", "2"));
	EXPECT_EQ(2, file_value(GRAPH_CTL, "nodes"));
	ASSERT_EQ(0, write_str(GC "/freeze", "0"));
	EXPECT_EQ(0, file_value(GC "/freeze", ""));
	ASSERT_EQ(0, write_str(GC "/collect", "2"));
	EXPECT_EQ(0, file_value(GRAPH_CTL, "nodes"));
}

TEST_HARNESS_MAIN
