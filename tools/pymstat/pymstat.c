// SPDX-License-Identifier: GPL-2.0
/*
 * pymstat - slabtop for pymalloc: one row per heap and per size class, from
 * /sys/kernel/debug/pymalloc.
 *
 *   pymstat [-o] [-d SECONDS] [-n COUNT] [-s KEY] [-r DIR]
 *   pymstat --slabinfo | --arenas [--color WHEN] | --json
 *
 * Written in C with libc only, so that one static binary runs where the
 * module does: a minimal root file system or an initramfs (pymalloc's
 * own test guest has a shell and nothing else) as well as a full system.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define DEBUGFS		"/sys/kernel/debug"
#define DEBUGFS_MAGIC	0x64626720
#define NCLASSES	64
#define POOL_BYTES	4096ULL
#define POOLS_PER_ARENA	64
#define MAX_HEAPS	256
#define MAX_STATS	64
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct class_row {
	unsigned int cls, size, per_pool;
	unsigned long long pools, blocks, avail, bytes, reserved, cached;
	long long requested;		/* -1: unknown */
};

struct stat_pair {
	char name[40];
	unsigned long long value;
};

struct heap {
	char name[80];
	struct stat_pair stats[MAX_STATS];
	unsigned int nstats;
	struct class_row cls[NCLASSES];
	unsigned int ncls;
	char *arenas;			/* the arenas file, for --arenas */
};

/* A table row: a heap (cls < 0) or one class of a heap. */
struct row {
	const struct heap *heap;
	int cls;
	unsigned long long size, blocks, bytes, waste, pools, arenas, cached;
};

static const char *prog = "pymstat";
static const char *root = DEBUGFS "/pymalloc";
static const char *sort_key = "bytes";

static void fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	/* One write, so that the line arrives whole. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", prog, msg);
	exit(2);
}

/* The whole file, NUL-terminated; NULL with errno set on failure. */
static char *slurp(const char *path)
{
	size_t len = 0, cap = 1 << 14;
	char *buf = malloc(cap), *nb;
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f || !buf) {
		int e = errno;

		free(buf);
		if (f)
			fclose(f);
		errno = e;
		return NULL;
	}
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == cap) {
			nb = realloc(buf, cap *= 2);
			if (!nb)
				fail("out of memory");
			buf = nb;
		}
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* Why root cannot be read, as one line, for the default location. */
static void explain_root(void)
{
	struct statfs sfs;
	struct stat st;
	int e;

	if (strcmp(root, DEBUGFS "/pymalloc")) {
		if (stat(root, &st))
			fail("%s: %s", root, strerror(errno));
		return;
	}
	if (statfs(DEBUGFS, &sfs) || sfs.f_type != DEBUGFS_MAGIC)
		fail("debugfs is not mounted at " DEBUGFS
		     " (mount -t debugfs none " DEBUGFS ")");
	if (!stat(root, &st))
		return;
	e = errno;
	if (e == EACCES || e == EPERM)
		fail("permission denied reading " DEBUGFS ": run as root");
	if (e == ENOENT)
		fail("%s does not exist: pymalloc is not loaded (insmod pymalloc.ko)",
		     root);
	fail("%s: %s", root, strerror(e));
}

static unsigned long long stat_get(const struct heap *h, const char *name)
{
	unsigned int i;

	for (i = 0; i < h->nstats; i++)
		if (!strcmp(h->stats[i].name, name))
			return h->stats[i].value;
	return 0;
}

static int read_heap(const char *name, struct heap *h, int want_arenas)
{
	char path[4096], *text, *line, *save;
	struct class_row *c;
	char req[32];

	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s/stats", root, name);
	text = slurp(path);
	if (!text)
		return -1;	/* destroyed meanwhile, or not a heap */
	for (line = strtok_r(text, "\n", &save); line && h->nstats < MAX_STATS;
	     line = strtok_r(NULL, "\n", &save)) {
		struct stat_pair *s = &h->stats[h->nstats];

		if (sscanf(line, "%39s %llu", s->name, &s->value) == 2)
			h->nstats++;
	}
	free(text);
	snprintf(path, sizeof(path), "%s/%s/classes", root, name);
	text = slurp(path);
	if (!text)
		return -1;
	for (line = strtok_r(text, "\n", &save); line && h->ncls < NCLASSES;
	     line = strtok_r(NULL, "\n", &save)) {
		c = &h->cls[h->ncls];
		if (sscanf(line, "%u %u %u %llu %llu %llu %llu %llu %llu %31s",
			   &c->cls, &c->size, &c->per_pool, &c->pools,
			   &c->blocks, &c->avail, &c->bytes, &c->reserved,
			   &c->cached, req) != 10)
			continue;
		c->requested = req[0] == '-' ? -1 : strtoll(req, NULL, 10);
		h->ncls++;
	}
	free(text);
	if (want_arenas) {
		snprintf(path, sizeof(path), "%s/%s/arenas", root, name);
		h->arenas = slurp(path);
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct heap *)a)->name,
		      ((const struct heap *)b)->name);
}

/* Every heap under root, sorted by name; exits with the reason if none can be read. */
static unsigned int read_heaps(struct heap *heaps, int want_arenas)
{
	struct dirent *d;
	unsigned int n = 0;
	DIR *dir;

	explain_root();
	dir = opendir(root);
	if (!dir) {
		if (errno == EACCES || errno == EPERM)
			fail("permission denied reading %s: run as root", root);
		fail("%s: %s", root, strerror(errno));
	}
	while ((d = readdir(dir)) && n < MAX_HEAPS) {
		if (d->d_name[0] == '.')
			continue;
		if (!read_heap(d->d_name, &heaps[n], want_arenas))
			n++;
		else if (errno == EACCES || errno == EPERM)
			fail("permission denied reading %s/%s: run as root",
			     root, d->d_name);
	}
	closedir(dir);
	qsort(heaps, n, sizeof(*heaps), by_name);
	return n;
}

static unsigned long long class_requested(const struct class_row *c)
{
	return c->requested >= 0 ? (unsigned long long)c->requested : c->bytes;
}

/* Bytes held that no caller asked for: the difference from requested. */
static void heap_row(const struct heap *h, struct row *r)
{
	unsigned long long req = 0;
	unsigned int i;

	for (i = 0; i < h->ncls; i++)
		req += class_requested(&h->cls[i]);
	*r = (struct row) {
		.heap = h, .cls = -1,
		.blocks = stat_get(h, "blocks_in_use"),
		.bytes = stat_get(h, "bytes_in_use"),
		.pools = stat_get(h, "pools_used"),
		.arenas = stat_get(h, "arenas_current"),
		.cached = stat_get(h, "blocks_cached"),
	};
	r->waste = stat_get(h, "bytes_arenas") - req;
}

static void class_row(const struct heap *h, const struct class_row *c,
		      struct row *r)
{
	*r = (struct row) {
		.heap = h, .cls = (int)c->cls, .size = c->size,
		.blocks = c->blocks, .bytes = c->bytes, .pools = c->pools,
		.waste = c->reserved - class_requested(c), .cached = c->cached,
	};
}

static unsigned long long key_of(const struct row *r)
{
	if (!strcmp(sort_key, "blocks"))
		return r->blocks;
	if (!strcmp(sort_key, "waste"))
		return r->waste;
	if (!strcmp(sort_key, "pools"))
		return r->pools;
	if (!strcmp(sort_key, "cached"))
		return r->cached;
	if (!strcmp(sort_key, "arenas"))
		return r->arenas;
	return r->bytes;
}

static int by_key(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	unsigned long long kx, ky;
	int c;

	if (!strcmp(sort_key, "name")) {
		c = strcmp(x->heap->name, y->heap->name);
		return c ? c : x->cls - y->cls;
	}
	if (!strcmp(sort_key, "size"))
		return x->size < y->size ? -1 : x->size > y->size;
	kx = key_of(x);
	ky = key_of(y);
	return kx > ky ? -1 : kx < ky;
}

static void print_row(const struct row *r)
{
	char cls[16] = "all", size[16] = "-", arenas[24] = "-";

	if (r->cls >= 0) {
		snprintf(cls, sizeof(cls), "%d", r->cls);
		snprintf(size, sizeof(size), "%llu", r->size);
	} else {
		snprintf(arenas, sizeof(arenas), "%llu", r->arenas);
	}
	printf("%-24s %5s %5s %10llu %12llu %12llu %7llu %6s %8llu\n",
	       r->heap->name, cls, size, r->blocks, r->bytes, r->waste,
	       r->pools, arenas, r->cached);
}

static void show_table(struct heap *heaps, unsigned int n)
{
	static struct row rows[MAX_HEAPS * NCLASSES];
	unsigned long long arenas = 0, bytes = 0, used = 0;
	unsigned int i, c, nrows = 0;
	struct row hr[MAX_HEAPS];

	for (i = 0; i < n; i++) {
		heap_row(&heaps[i], &hr[i]);
		arenas += hr[i].arenas;
		bytes += stat_get(&heaps[i], "bytes_arenas");
		used += hr[i].bytes;
		for (c = 0; c < heaps[i].ncls; c++)
			if (heaps[i].cls[c].pools || heaps[i].cls[c].blocks)
				class_row(&heaps[i], &heaps[i].cls[c], &rows[nrows++]);
	}
	printf(" Heaps: %u  Arenas: %llu  Held: %.1fK  In use: %.1fK (%.1f%%)\n\n",
	       n, arenas, bytes / 1024.0, used / 1024.0,
	       bytes ? 100.0 * used / bytes : 0.0);
	printf("%-24s %5s %5s %10s %12s %12s %7s %6s %8s\n", "HEAP", "CLASS",
	       "SIZE", "BLOCKS", "BYTES", "WASTE", "POOLS", "ARENAS", "CACHED");
	qsort(hr, n, sizeof(*hr), by_key);
	for (i = 0; i < n; i++)
		print_row(&hr[i]);
	printf("\n");
	qsort(rows, nrows, sizeof(*rows), by_key);
	for (i = 0; i < nrows; i++)
		print_row(&rows[i]);
}

/* /proc/slabinfo 2.1: a cache per heap and class with pools, one page a slab. */
static void show_slabinfo(const struct heap *heaps, unsigned int n)
{
	unsigned int i, c;

	printf("slabinfo - version: 2.1\n");
	printf("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>");
	printf(" : tunables <limit> <batchcount> <sharedfactor>");
	printf(" : slabdata <active_slabs> <num_slabs> <sharedavail>\n");
	for (i = 0; i < n; i++)
		for (c = 0; c < heaps[i].ncls; c++) {
			const struct class_row *k = &heaps[i].cls[c];
			char name[128];

			if (!k->pools)
				continue;
			snprintf(name, sizeof(name), "pym-%.80s-%u", heaps[i].name,
				 k->size);
			printf("%-17s %6llu %6llu %6u %4u %4u", name, k->blocks,
			       k->pools * k->per_pool, k->size, k->per_pool, 1);
			printf(" : tunables %4u %4u %4u", 0, 0, 0);
			printf(" : slabdata %6llu %6llu %6u\n", k->pools,
			       k->pools, 0);
		}
}

/* Full pools are red, nearly empty ones green, empty ones dim. */
static const char *glyph_colour(char g)
{
	static const char *const tenths[10] = {
		"\033[32m", "\033[32m", "\033[32m", "\033[92m", "\033[92m",
		"\033[33m", "\033[33m", "\033[93m", "\033[93m", "\033[91m",
	};

	if (g >= '0' && g <= '9')
		return tenths[g - '0'];
	if (g == '#')
		return "\033[31m";
	if (g == 's')
		return "\033[34m";
	return "\033[2m";
}

static void show_arenas(const struct heap *heaps, unsigned int n, int colour)
{
	unsigned int i, k;

	printf("pools: . empty  s spare  0-9 tenths full  # full\n");
	for (i = 0; i < n; i++) {
		char *text = heaps[i].arenas ? strdup(heaps[i].arenas) : NULL;
		char *line, *save, map[POOLS_PER_ARENA + 8];
		unsigned long long id;
		int node;

		printf("\n%s: %llu arenas\n", heaps[i].name,
		       stat_get(&heaps[i], "arenas_current"));
		for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save)) {
			if (sscanf(line, "%llu %d %*u %*u %*s %70s", &id, &node,
				   map) != 3 || strlen(map) != POOLS_PER_ARENA)
				continue;
			printf("%6llu n%-2d ", id, node);
			for (k = 0; k < POOLS_PER_ARENA; k++) {
				if (colour)
					printf("%s%c", glyph_colour(map[k]), map[k]);
				else
					putchar(map[k]);
			}
			printf("%s\n", colour ? "\033[0m" : "");
		}
		free(text);
	}
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void show_json(const struct heap *heaps, unsigned int n)
{
	unsigned int i, k;

	printf("{\"heaps\": [");
	for (i = 0; i < n; i++) {
		const struct heap *h = &heaps[i];

		printf("%s\n {\"name\": ", i ? "," : "");
		json_string(h->name);
		printf(", \"stats\": {");
		for (k = 0; k < h->nstats; k++)
			printf("%s\"%s\": %llu", k ? ", " : "", h->stats[k].name,
			       h->stats[k].value);
		printf("},\n  \"classes\": [");
		for (k = 0; k < h->ncls; k++) {
			const struct class_row *c = &h->cls[k];

			printf("%s\n   {\"class\": %u, \"size\": %u, \"per_pool\": %u",
			       k ? "," : "", c->cls, c->size, c->per_pool);
			printf(", \"pools\": %llu, \"blocks_in_use\": %llu",
			       c->pools, c->blocks);
			printf(", \"blocks_avail\": %llu, \"bytes_in_use\": %llu",
			       c->avail, c->bytes);
			printf(", \"bytes_reserved\": %llu, \"blocks_cached\": %llu",
			       c->reserved, c->cached);
			printf(", \"bytes_requested\": ");
			if (c->requested < 0)
				printf("null}");
			else
				printf("%lld}", c->requested);
		}
		printf("]}");
	}
	printf("\n]}\n");
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [-o] [-d SECONDS] [-n COUNT] [-s KEY] [-r DIR]\n"
		"       %s --slabinfo | --arenas [--color=auto|always|never] | --json\n"
		"  -o, --once         print once and exit\n"
		"  -d, --delay N      refresh every N seconds (default 3)\n"
		"  -n, --count N      stop after N refreshes\n"
		"  -s, --sort KEY     bytes (default), blocks, waste, pools, cached,\n"
		"                     arenas, size or name\n"
		"  -r, --root DIR     read DIR instead of " DEBUGFS "/pymalloc\n"
		"      --slabinfo     print /proc/slabinfo 2.1 rows, once\n"
		"      --arenas       map every arena's 64 pools, once\n"
		"      --json         print everything as JSON, once\n",
		prog, prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "delay", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "sort", required_argument, NULL, 's' },
		{ "root", required_argument, NULL, 'r' },
		{ "slabinfo", no_argument, NULL, 'S' },
		{ "arenas", no_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'J' },
		{ "color", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const keys[] = {
		"bytes", "blocks", "waste", "pools", "cached", "arenas",
		"size", "name",
	};
	static struct heap heaps[MAX_HEAPS];
	int once = 0, mode = 0, colour = -1, opt, tty = isatty(1);
	long delay = 3, count = -1;
	unsigned int i, n;
	char *end;

	while ((opt = getopt_long(argc, argv, "od:n:s:r:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			once = 1;
			break;
		case 'd':
			delay = strtol(optarg, &end, 10);
			if (*end || delay < 1)
				fail("-d wants a whole number of seconds, not '%s'", optarg);
			break;
		case 'n':
			count = strtol(optarg, &end, 10);
			if (*end || count < 1)
				fail("-n wants a positive count, not '%s'", optarg);
			break;
		case 's':
			sort_key = optarg;
			for (i = 0; i < ARRAY_SIZE(keys); i++)
				if (!strcmp(keys[i], optarg))
					break;
			if (i == ARRAY_SIZE(keys))
				fail("unknown sort key '%s' (%s)", optarg,
				     "bytes, blocks, waste, pools, cached, arenas, size, name");
			break;
		case 'r':
			root = optarg;
			break;
		case 'S':
		case 'A':
		case 'J':
			if (mode && mode != opt)
				fail("--slabinfo, --arenas and --json exclude each other");
			mode = opt;
			break;
		case 'C':
			if (!strcmp(optarg, "always"))
				colour = 1;
			else if (!strcmp(optarg, "never"))
				colour = 0;
			else if (!strcmp(optarg, "auto"))
				colour = -1;
			else
				fail("--color wants auto, always or never, not '%s'", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		fail("unexpected argument '%s' (see --help)", argv[optind]);
	if (colour < 0)
		colour = tty && getenv("TERM") && strcmp(getenv("TERM"), "dumb");

	for (;;) {
		n = read_heaps(heaps, mode == 'A');
		switch (mode) {
		case 'S':
			show_slabinfo(heaps, n);
			break;
		case 'A':
			show_arenas(heaps, n, colour);
			break;
		case 'J':
			show_json(heaps, n);
			break;
		default:
			if (!once && tty)
				printf("\033[H\033[J");
			show_table(heaps, n);
		}
		for (i = 0; i < n; i++)
			free(heaps[i].arenas);
		fflush(stdout);
		if (mode || once || (count > 0 && --count == 0))
			return 0;
		sleep(delay);
		if (!tty)
			printf("\n");
	}
}
