/* metrics.c: the counters of every postern process, in one shared memory file, and
 * their Prometheus text exposition (GET /oauth/metrics). */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "postern.h"

/* The file's layout. A change of anything below is a new MX_VERSION: a file of another
 * version (or size) is replaced by a fresh one, never read as this one. */
#define MX_MAGIC "postern-metrics"   /* with its NUL, the 16 bytes of mx_file.magic */
#define MX_VERSION 2
#define MX_PATH_MAX 64                /* a route path, with its NUL */
#define MX_STATUSES 16                /* the statuses below, and "other" */
#define MX_BUCKETS 16                 /* the bounds below, and +Inf */
#define MX_OPEN_TRIES 3               /* opens of a file another process is replacing */

static const int mx_status[MX_STATUSES - 1] = {
	200, 201, 204, 302, 303, 400, 401, 403, 404, 405, 413, 429, 500, 502, 503,
};
/* Upper bounds of the duration buckets (Prometheus' le, inclusive), in ns and as text. */
static const int64_t mx_le_ns[MX_BUCKETS - 1] = {
	100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
	100000000, 250000000, 500000000, 1000000000, 2500000000, 5000000000,
};
static const char *const mx_le[MX_BUCKETS] = {
	"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
	"0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf",
};
static const char *const mx_grant[PT_MX__GRANTS] = {
	[PT_MX_CODE] = "authorization_code",
	[PT_MX_REFRESH] = "refresh_token",
	[PT_MX_DEVICE] = "device_code",
	[PT_MX_CLIENT] = "client_credentials",
};
/* The answers of the check that get a series each, even at 0 (what alerts divide by). */
static const int mx_check_status[] = {204, 401, 403, 500, 503};

enum { MX_H_CHECK, MX_H_TOKEN, MX__HISTS };

/* Shared between processes: only lock-free atomics are (the same in every process). */
typedef _Atomic uint64_t mx_counter;
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");

struct mx_hist {
	mx_counter bucket[MX_BUCKETS]; /* each bucket's own observations: the exposition
					* adds them up (and _count is their total) */
	mx_counter sum_ns;
};

/* One worker's counts: only that worker adds to them (but a second supervisor on the
 * same file would too, so every add is atomic). */
struct mx_slot {
	mx_counter requests[PT_METRICS_ROUTES + 1][MX_STATUSES]; /* the last row: no route */
	mx_counter tokens[PT_MX__GRANTS];
	mx_counter sign_ins[2];        /* failed, ok */
	mx_counter db_busy, db_error;
	struct mx_hist hist[MX__HISTS];
};

struct mx_exe {
	_Atomic uint64_t routes_id;    /* a hash of route[]: 0 until the supervisor wrote it */
	uint32_t nroutes;
	char route[PT_METRICS_ROUTES][MX_PATH_MAX];
	struct mx_slot slot[PT_MAX_PROCESSES];
};

struct mx_file {
	char magic[16];
	uint32_t version;
	uint32_t size;
	struct mx_exe exe[PT_EXE__MAX];
};
_Static_assert(sizeof(struct mx_file) < UINT32_MAX, "the size field holds the size");

static struct mx_file *file;             /* NULL: not mapped */
static struct mx_slot private_slot;      /* counts of a process without the file */
static struct mx_slot *slot = &private_slot;
static int exe_index = -1;
static const struct pt_route *site_routes;
static size_t site_nroutes;
static int check_route = -1, token_route = -1;

static inline void
add(mx_counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline uint64_t
get(mx_counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* Opens, creates or replaces the file and maps it; NULL (logged) when it cannot. The
 * first process to come creates it under an exclusive flock, so the others see either
 * no file or a whole header; one of another layout is unlinked and made again (the
 * processes still mapping it keep their mapping, which is never truncated under them). */
static struct mx_file *
map_file(const char *path)
{
	for (int tries = 0; tries < MX_OPEN_TRIES; tries++) {
		struct stat st, named;
		struct mx_file *f = MAP_FAILED;
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			pt_warn("metrics: %s: %s", path, strerror(errno));
			return NULL;
		}
		if (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0) {
			pt_warn("metrics: %s: %s", path, strerror(errno));
			close(fd);
			return NULL;
		}
		/* replaced while this process waited for the lock: open the new one */
		if (stat(path, &named) != 0 || named.st_ino != st.st_ino || named.st_dev != st.st_dev) {
			close(fd);
			continue;
		}
		if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
			pt_warn("metrics: %s is not a regular file of this user with mode 0600", path);
			close(fd);
			return NULL;
		}
		bool fresh = st.st_size == 0;
		if (fresh && ftruncate(fd, (off_t)sizeof(struct mx_file)) != 0) {
			pt_warn("metrics: %s: %s", path, strerror(errno));
			close(fd);
			return NULL;
		}
		if (fresh || st.st_size == (off_t)sizeof(struct mx_file))
			f = mmap(NULL, sizeof(*f), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (f != MAP_FAILED && fresh) {
			memcpy(f->magic, MX_MAGIC, sizeof(MX_MAGIC));
			f->version = MX_VERSION;
			f->size = (uint32_t)sizeof(*f);
		}
		if (f != MAP_FAILED && memcmp(f->magic, MX_MAGIC, sizeof(MX_MAGIC)) == 0 &&
		    f->version == MX_VERSION && f->size == sizeof(*f)) {
			/* unlocked by name: the mapping keeps the open file, and its flock with it */
			flock(fd, LOCK_UN);
			close(fd);
			return f;
		}
		if (f != MAP_FAILED)
			munmap(f, sizeof(*f));
		else if (fresh || st.st_size == (off_t)sizeof(struct mx_file)) {
			pt_warn("metrics: mapping %s: %s", path, strerror(errno));
			close(fd);
			return NULL;
		}
		pt_warn("metrics: %s has another layout: starting a new one", path);
		unlink(path);
		flock(fd, LOCK_UN);
		close(fd);
	}
	pt_warn("metrics: %s kept changing while it was opened", path);
	return NULL;
}

/* FNV-1a of the route paths, never 0 (0: none written). */
static uint64_t
routes_hash(const struct pt_site *site)
{
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < site->nroutes; i++)
		for (const char *p = site->routes[i].path;; p++) {
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
			if (*p == '\0')
				break;
		}
	return h | 1;
}

void
pt_metrics_open(const struct pt_config *cfg, const struct pt_site *site)
{
	exe_index = pt_exe_by_name(site->name);
	assert(exe_index >= 0 && site->nroutes <= PT_METRICS_ROUTES);
	site_routes = site->routes;
	site_nroutes = site->nroutes;
	for (size_t i = 0; i < site->nroutes; i++) {
		assert(strlen(site->routes[i].path) < MX_PATH_MAX);
		if (check_route < 0 && strcmp(site->routes[i].path, "/oauth/check") == 0)
			check_route = (int)i;
		if (token_route < 0 && strcmp(site->routes[i].path, "/oauth/token") == 0)
			token_route = (int)i;
	}
	if ((file = map_file(cfg->metrics_file)) == NULL)
		return;
	struct mx_exe *e = &file->exe[exe_index];
	uint64_t id = routes_hash(site);
	if (atomic_load_explicit(&e->routes_id, memory_order_acquire) == id)
		return; /* a restart of the same executable: its counts go on */
	/* new, or another postern's route table: counts by route index would be
	 * misnamed, so this executable's start again from 0 (Prometheus sees a reset) */
	atomic_store_explicit(&e->routes_id, 0, memory_order_release);
	mx_counter *c = (mx_counter *)(void *)e->slot;
	for (size_t i = 0; i < PT_MAX_PROCESSES * sizeof(struct mx_slot) / sizeof(mx_counter); i++)
		atomic_store_explicit(&c[i], 0, memory_order_relaxed);
	memset(e->route, 0, sizeof(e->route));
	for (size_t i = 0; i < site->nroutes; i++)
		memcpy(e->route[i], site->routes[i].path, strlen(site->routes[i].path) + 1);
	e->nroutes = (uint32_t)site->nroutes;
	atomic_store_explicit(&e->routes_id, id, memory_order_release);
}

void
pt_metrics_worker(int worker)
{
	assert(worker >= 0 && worker < PT_MAX_PROCESSES);
	if (file != NULL && exe_index >= 0)
		slot = &file->exe[exe_index].slot[worker];
}

bool
pt_metrics_shared(void)
{
	return file != NULL;
}

static size_t
status_index(int status)
{
	for (size_t i = 0; i < MX_STATUSES - 1; i++)
		if (mx_status[i] == status)
			return i;
	return MX_STATUSES - 1;
}

static void
observe(struct mx_hist *h, int64_t ns)
{
	size_t i = 0;
	if (ns < 0)
		ns = 0;
	while (i < MX_BUCKETS - 1 && ns > mx_le_ns[i])
		i++;
	add(&h->bucket[i], 1);
	add(&h->sum_ns, (uint64_t)ns);
}

void
pt_metrics_request(const struct pt_req *r, int64_t ns)
{
	size_t route = PT_METRICS_ROUTES;
	if (r->endpoint != NULL && site_routes != NULL && r->endpoint >= site_routes &&
	    r->endpoint < site_routes + site_nroutes)
		route = (size_t)(r->endpoint - site_routes);
	add(&slot->requests[route][status_index(r->status)], 1);
	if ((int)route == check_route)
		observe(&slot->hist[MX_H_CHECK], ns);
	else if ((int)route == token_route)
		observe(&slot->hist[MX_H_TOKEN], ns);
}

void
pt_metrics_token(enum pt_mx_grant g)
{
	assert(g < PT_MX__GRANTS);
	add(&slot->tokens[g], 1);
}

void
pt_metrics_sign_in(bool ok)
{
	add(&slot->sign_ins[ok], 1);
}

void
pt_metrics_db(int rc)
{
	add(rc == PT_ERR_BUSY ? &slot->db_busy : &slot->db_error, 1);
}

/* ---------------------------------------------------------------- exposition */

static void
head(pt_buf *b, const char *name, const char *type, const char *help)
{
	pt_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: \, " and newline escaped (route paths have none, but a label is
 * always written the same way). */
static void
label(pt_buf *b, const char *v)
{
	pt_buf_addc(b, '"');
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			pt_buf_addc(b, '\\');
		if (*v == '\n')
			pt_buf_adds(b, "\\n");
		else
			pt_buf_addc(b, *v);
	}
	pt_buf_addc(b, '"');
}

static void
status_label(pt_buf *b, size_t i)
{
	if (i < MX_STATUSES - 1)
		pt_buf_addf(b, "\"%d\"", mx_status[i]);
	else
		pt_buf_adds(b, "\"other\"");
}

/* Everything summed over the slots of one executable or all of them. */
struct mx_sum {
	uint64_t requests[PT_METRICS_ROUTES + 1][MX_STATUSES];
	uint64_t tokens[PT_MX__GRANTS];
	uint64_t sign_ins[2];
	uint64_t db_busy, db_error;
	uint64_t bucket[MX__HISTS][MX_BUCKETS];
	uint64_t sum_ns[MX__HISTS];
};

static void
sum_slot(struct mx_sum *s, struct mx_slot *k)
{
	for (size_t i = 0; i <= PT_METRICS_ROUTES; i++)
		for (size_t j = 0; j < MX_STATUSES; j++)
			s->requests[i][j] += get(&k->requests[i][j]);
	for (size_t i = 0; i < PT_MX__GRANTS; i++)
		s->tokens[i] += get(&k->tokens[i]);
	s->sign_ins[0] += get(&k->sign_ins[0]);
	s->sign_ins[1] += get(&k->sign_ins[1]);
	s->db_busy += get(&k->db_busy);
	s->db_error += get(&k->db_error);
	for (size_t h = 0; h < MX__HISTS; h++) {
		for (size_t i = 0; i < MX_BUCKETS; i++)
			s->bucket[h][i] += get(&k->hist[h].bucket[i]);
		s->sum_ns[h] += get(&k->hist[h].sum_ns);
	}
}

static void
histogram(pt_buf *b, const char *name, const char *help, const struct mx_sum *all, size_t h)
{
	uint64_t cum = 0;
	head(b, name, "histogram", help);
	for (size_t i = 0; i < MX_BUCKETS; i++) {
		cum += all->bucket[h][i];
		pt_buf_addf(b, "%s_bucket{le=\"%s\"} %llu\n", name, mx_le[i], (unsigned long long)cum);
	}
	pt_buf_addf(b, "%s_sum %llu.%09llu\n", name, (unsigned long long)(all->sum_ns[h] / 1000000000),
	    (unsigned long long)(all->sum_ns[h] % 1000000000));
	pt_buf_addf(b, "%s_count %llu\n", name, (unsigned long long)cum);
}

void
pt_metrics_render(pt_buf *b, const struct pt_metrics_counts_row *g)
{
	static struct mx_sum each[PT_EXE__MAX], all;
	char route[PT_METRICS_ROUTES][MX_PATH_MAX];
	uint32_t nroutes[PT_EXE__MAX] = {0};
	uint64_t check[sizeof(mx_check_status) / sizeof(mx_check_status[0])] = {0};

	memset(each, 0, sizeof(each));
	memset(&all, 0, sizeof(all));
	head(b, "postern_requests_total", "counter",
	    "Requests answered, by executable, endpoint (the route's path) and status.");
	for (int x = 0; x < PT_EXE__MAX; x++) {
		struct mx_exe *e = file != NULL ? &file->exe[x] : NULL;
		if (e == NULL || atomic_load_explicit(&e->routes_id, memory_order_acquire) == 0) {
			if (x != exe_index)
				continue;
			sum_slot(&each[x], slot); /* no file: this process's own counts */
		} else {
			for (int w = 0; w < PT_MAX_PROCESSES; w++)
				sum_slot(&each[x], &e->slot[w]);
			nroutes[x] = e->nroutes < PT_METRICS_ROUTES ? e->nroutes : PT_METRICS_ROUTES;
			memcpy(route, e->route, sizeof(route));
		}
		if (e == NULL || nroutes[x] == 0) {
			nroutes[x] = (uint32_t)site_nroutes;
			for (size_t i = 0; i < site_nroutes; i++)
				snprintf(route[i], MX_PATH_MAX, "%s", site_routes[i].path);
		}
		struct mx_sum *s = &each[x];
		/* rows of one path (GET and POST of a page) are one endpoint */
		for (uint32_t i = 0; i < nroutes[x]; i++) {
			route[i][MX_PATH_MAX - 1] = '\0';
			for (uint32_t k = i + 1; k < nroutes[x]; k++)
				if (route[k][0] && strcmp(route[i], route[k]) == 0) {
					for (size_t j = 0; j < MX_STATUSES; j++) {
						s->requests[i][j] += s->requests[k][j];
						s->requests[k][j] = 0;
					}
					route[k][0] = '\0';
				}
		}
		for (uint32_t i = 0; i <= nroutes[x]; i++) {
			size_t row = i < nroutes[x] ? i : PT_METRICS_ROUTES;
			if (i < nroutes[x] && route[i][0] == '\0')
				continue;
			for (size_t j = 0; j < MX_STATUSES; j++) {
				if (s->requests[row][j] == 0)
					continue;
				pt_buf_addf(b, "postern_requests_total{executable=\"%s\",endpoint=",
				    pt_exe_name(x));
				label(b, i < nroutes[x] ? route[i] : "unmatched");
				pt_buf_adds(b, ",status=");
				status_label(b, j);
				pt_buf_addf(b, "} %llu\n", (unsigned long long)s->requests[row][j]);
			}
			if (i < nroutes[x] && strcmp(route[i], "/oauth/check") == 0)
				for (size_t c = 0; c < sizeof(check) / sizeof(check[0]); c++)
					check[c] += s->requests[i][status_index(mx_check_status[c])];
		}
		for (size_t i = 0; i < PT_MX__GRANTS; i++)
			all.tokens[i] += s->tokens[i];
		all.sign_ins[0] += s->sign_ins[0];
		all.sign_ins[1] += s->sign_ins[1];
		all.db_busy += s->db_busy;
		all.db_error += s->db_error;
		for (size_t h = 0; h < MX__HISTS; h++) {
			for (size_t i = 0; i < MX_BUCKETS; i++)
				all.bucket[h][i] += s->bucket[h][i];
			all.sum_ns[h] += s->sum_ns[h];
		}
	}

	head(b, "postern_check_answers_total", "counter",
	    "Answers of the nginx auth_request check (GET /oauth/check), by status.");
	for (size_t c = 0; c < sizeof(check) / sizeof(check[0]); c++)
		pt_buf_addf(b, "postern_check_answers_total{status=\"%d\"} %llu\n", mx_check_status[c],
		    (unsigned long long)check[c]);
	head(b, "postern_tokens_issued_total", "counter", "Access tokens issued, by grant type.");
	for (size_t i = 0; i < PT_MX__GRANTS; i++)
		pt_buf_addf(b, "postern_tokens_issued_total{grant_type=\"%s\"} %llu\n", mx_grant[i],
		    (unsigned long long)all.tokens[i]);
	head(b, "postern_sign_ins_total", "counter", "Sign-ins with a password, by result.");
	pt_buf_addf(b, "postern_sign_ins_total{result=\"ok\"} %llu\n", (unsigned long long)all.sign_ins[1]);
	pt_buf_addf(b, "postern_sign_ins_total{result=\"failed\"} %llu\n", (unsigned long long)all.sign_ins[0]);
	head(b, "postern_database_busy_total", "counter",
	    "Statements that failed because the database stayed locked or was unreachable (answered 503).");
	pt_buf_addf(b, "postern_database_busy_total %llu\n", (unsigned long long)all.db_busy);
	head(b, "postern_database_errors_total", "counter", "Statements that failed otherwise.");
	pt_buf_addf(b, "postern_database_errors_total %llu\n", (unsigned long long)all.db_error);
	histogram(b, "postern_check_duration_seconds",
	    "Time to answer GET /oauth/check, from accepting the request to the last byte sent.",
	    &all, MX_H_CHECK);
	histogram(b, "postern_token_duration_seconds",
	    "Time to answer POST /oauth/token, from accepting the request to the last byte sent.",
	    &all, MX_H_TOKEN);
	if (g == NULL)
		return;
	head(b, "postern_users", "gauge", "Users.");
	pt_buf_addf(b, "postern_users %lld\n", (long long)g->users);
	head(b, "postern_apps", "gauge", "Apps (clients).");
	pt_buf_addf(b, "postern_apps %lld\n", (long long)g->apps);
	head(b, "postern_live_tokens", "gauge", "Unexpired access and unused refresh tokens, by kind.");
	pt_buf_addf(b, "postern_live_tokens{kind=\"access\"} %lld\n", (long long)g->access_tokens);
	pt_buf_addf(b, "postern_live_tokens{kind=\"refresh\"} %lld\n", (long long)g->refresh_tokens);
}
