/* tmpl.c: HTML templates with escaped slots, sections and partials, loaded once. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "postern.h"

#define TMPL_MAX_DEPTH 8
#define TMPL_MAX_CACHED 32

struct tv_entry {
	const char *key;
	const char *val;
	size_t n;
	struct pt_tv **items; /* list children */
	size_t nitems, capitems;
	struct tv_entry *next;
};

struct pt_tv {
	pt_arena *a;
	const struct pt_tv *parent;
	struct tv_entry *head;
};

struct pt_tv *
pt_tv_new(pt_arena *a)
{
	struct pt_tv *t = pt_alloc(a, sizeof(*t));
	t->a = a;
	t->parent = NULL;
	t->head = NULL;
	return t;
}

static struct tv_entry *
entry(struct pt_tv *t, const char *key, bool create)
{
	for (struct tv_entry *e = t->head; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	if (!create)
		return NULL;
	struct tv_entry *e = pt_alloc(t->a, sizeof(*e));
	memset(e, 0, sizeof(*e));
	e->key = key;
	e->next = t->head;
	t->head = e;
	return e;
}

void
pt_tv_setn(struct pt_tv *t, const char *key, const char *v, size_t n)
{
	struct tv_entry *e = entry(t, key, true);
	e->val = v ? pt_strndup(t->a, v, n) : NULL;
	e->n = v ? n : 0;
}

void
pt_tv_set(struct pt_tv *t, const char *key, const char *v)
{
	pt_tv_setn(t, key, v, v ? strlen(v) : 0);
}

void
pt_tv_setf(struct pt_tv *t, const char *key, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	pt_tv_set(t, key, tmp);
}

void
pt_tv_url(struct pt_tv *t, const char *key, const char *url)
{
	/* Only http(s) and relative URLs reach an attribute: no javascript: or data:.
	 * Browsers read "/\\host" like "//host", so neither is taken as relative. */
	if (url != NULL &&
	    (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0 ||
		(url[0] == '/' && url[1] != '/' && url[1] != '\\') || url[0] == '?'))
		pt_tv_set(t, key, url);
	else
		pt_tv_set(t, key, "#");
}

struct pt_tv *
pt_tv_add(struct pt_tv *t, const char *key)
{
	struct tv_entry *e = entry(t, key, true);
	if (e->nitems == e->capitems) {
		size_t cap = e->capitems ? e->capitems * 2 : 8;
		struct pt_tv **items = pt_alloc(t->a, cap * sizeof(*items));
		if (e->nitems)
			memcpy(items, e->items, e->nitems * sizeof(*items));
		e->items = items;
		e->capitems = cap;
	}
	struct pt_tv *c = pt_tv_new(t->a);
	c->parent = t;
	e->items[e->nitems++] = c;
	return c;
}

static const struct tv_entry *
lookup(const struct pt_tv *t, const char *key, size_t kn)
{
	for (; t != NULL; t = t->parent)
		for (const struct tv_entry *e = t->head; e != NULL; e = e->next)
			if (strlen(e->key) == kn && memcmp(e->key, key, kn) == 0)
				return e;
	return NULL;
}

/* ------------------------------------------------------------ loading */

static const char *tdir = "templates", *toverride;
static struct {
	char *name;
	char *src;
	size_t n;
} cache[TMPL_MAX_CACHED];
static size_t ncached;

void
pt_tmpl_dirs(const char *dir, const char *override)
{
	tdir = dir;
	toverride = override;
}

static char *
read_file(const char *dir, const char *name, size_t *n)
{
	char path[4096];
	if (dir == NULL || (size_t)snprintf(path, sizeof(path), "%s/%s.html", dir, name) >= sizeof(path))
		return NULL;
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	/* the buffer is the file's size (it stays cached for the process), checked again
	 * by the read in case the file changed in between */
	struct stat sb;
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > PT_MAX_TEMPLATE) {
		pt_warn("template %s is not a file of at most %d bytes", path, PT_MAX_TEMPLATE);
		fclose(f);
		return NULL;
	}
	size_t want = (size_t)sb.st_size;
	char *buf = malloc(want + 1);
	if (buf == NULL)
		abort();
	size_t k = fread(buf, 1, want + 1, f);
	fclose(f);
	if (k != want) {
		pt_warn("template %s changed while it was read", path);
		free(buf);
		return NULL;
	}
	buf[k] = '\0';
	*n = k;
	return buf;
}

static bool
load(const char *name, size_t nn, const char **src, size_t *n)
{
	for (size_t i = 0; i < ncached; i++)
		if (strlen(cache[i].name) == nn && memcmp(cache[i].name, name, nn) == 0) {
			*src = cache[i].src;
			*n = cache[i].n;
			return true;
		}
	char nm[64];
	if (nn == 0 || nn >= sizeof(nm))
		return false;
	memcpy(nm, name, nn);
	nm[nn] = '\0';
	for (size_t i = 0; i < nn; i++)
		if (!((nm[i] >= 'a' && nm[i] <= 'z') || nm[i] == '_' || (nm[i] >= '0' && nm[i] <= '9')))
			return false;
	size_t k = 0;
	char *s = read_file(toverride, nm, &k);
	if (s == NULL)
		s = read_file(tdir, nm, &k);
	if (s == NULL) {
		pt_warn("template %s not found in %s", nm, tdir);
		return false;
	}
	if (ncached < TMPL_MAX_CACHED) {
		cache[ncached].name = strdup(nm);
		cache[ncached].src = s;
		cache[ncached].n = k;
		ncached++;
	}
	*src = s;
	*n = k;
	return true;
}

/* ------------------------------------------------------------ rendering */

static int render(pt_buf *, const char *, size_t, const struct pt_tv *, int depth);

/* Finds the {{/key}} closing the section opened just before s, allowing nesting
 * of the same key. Returns the offset of "{{/" or -1. */
static long
find_close(const char *s, size_t n, const char *key, size_t kn)
{
	int level = 1;
	for (size_t i = 0; i + 4 + kn <= n; i++) {
		if (s[i] != '{' || s[i + 1] != '{')
			continue;
		char c = s[i + 2];
		if ((c == '#' || c == '^' || c == '/') && i + 3 + kn + 2 <= n &&
		    memcmp(s + i + 3, key, kn) == 0 && s[i + 3 + kn] == '}' && s[i + 4 + kn] == '}') {
			if (c == '/' && --level == 0)
				return (long)i;
			if (c != '/')
				level++;
		}
	}
	return -1;
}

static int
render(pt_buf *b, const char *s, size_t n, const struct pt_tv *t, int depth)
{
	size_t i = 0;
	if (depth > TMPL_MAX_DEPTH)
		return PT_ERR_INVALID;
	while (i < n) {
		const char *open = memmem(s + i, n - i, "{{", 2);
		if (open == NULL) {
			pt_buf_add(b, s + i, n - i);
			break;
		}
		pt_buf_add(b, s + i, (size_t)(open - (s + i)));
		const char *close = memmem(open + 2, n - (size_t)(open + 2 - s), "}}", 2);
		if (close == NULL)
			return PT_ERR_INVALID;
		const char *key = open + 2;
		size_t kn = (size_t)(close - key);
		char sigil = kn ? key[0] : 0;
		i = (size_t)(close + 2 - s);
		if (sigil == '#' || sigil == '^') {
			key++;
			kn--;
			long cl = find_close(s + i, n - i, key, kn);
			if (cl < 0)
				return PT_ERR_INVALID;
			const char *body = s + i;
			size_t bn = (size_t)cl;
			i += (size_t)cl + 5 + kn;
			const struct tv_entry *e = lookup(t, key, kn);
			bool truthy = e && (e->nitems > 0 || (e->val != NULL && e->n > 0));
			if (sigil == '^') {
				if (!truthy && render(b, body, bn, t, depth) != PT_OK)
					return PT_ERR_INVALID;
			} else if (e && e->nitems > 0) {
				for (size_t k = 0; k < e->nitems; k++)
					if (render(b, body, bn, e->items[k], depth) != PT_OK)
						return PT_ERR_INVALID;
			} else if (truthy) {
				if (render(b, body, bn, t, depth) != PT_OK)
					return PT_ERR_INVALID;
			}
		} else if (sigil == '>') {
			const char *src;
			size_t sn;
			if (!load(key + 1, kn - 1, &src, &sn) || render(b, src, sn, t, depth + 1) != PT_OK)
				return PT_ERR_INVALID;
		} else if (sigil == '/' || sigil == '!') {
			if (sigil == '/')
				return PT_ERR_INVALID; /* unbalanced */
		} else {
			const struct tv_entry *e = lookup(t, key, kn);
			if (e && e->val)
				pt_buf_html(b, e->val, e->n);
		}
	}
	return PT_OK;
}

int
pt_tmpl_render(pt_buf *b, const char *name, const struct pt_tv *t)
{
	const char *src;
	size_t n;
	if (!load(name, strlen(name), &src, &n))
		return PT_ERR_NOTFOUND;
	return render(b, src, n, t, 0);
}

int
pt_tmpl_render_string(pt_buf *b, const char *src, const struct pt_tv *t)
{
	return render(b, src, strlen(src), t, 0);
}
