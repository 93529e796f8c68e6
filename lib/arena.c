/* arena.c: the per-request region allocator and the growable buffer built on it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postern.h"

#define ARENA_BLOCK (64 * 1024)

struct block {
	struct block *next;
	size_t used, cap;
	max_align_t data[];
};

struct pt_arena {
	struct block *head;  /* newest block */
	struct block *first; /* kept across resets */
};

static struct block *
block_new(size_t cap)
{
	struct block *b = malloc(sizeof(*b) + cap);
	if (b == NULL) {
		fputs("postern: out of memory\n", stderr);
		abort();
	}
	b->next = NULL;
	b->used = 0;
	b->cap = cap;
	return b;
}

pt_arena *
pt_arena_new(void)
{
	pt_arena *a = malloc(sizeof(*a));
	if (a == NULL)
		abort();
	a->first = a->head = block_new(ARENA_BLOCK);
	return a;
}

void
pt_arena_reset(pt_arena *a)
{
	struct block *b = a->head, *next;
	while (b != a->first) {
		next = b->next;
		free(b);
		b = next;
	}
	a->head = a->first;
	a->first->used = 0;
}

void
pt_arena_free(pt_arena *a)
{
	if (a == NULL)
		return;
	pt_arena_reset(a);
	free(a->first);
	free(a);
}

void *
pt_alloc(pt_arena *a, size_t n)
{
	size_t align = sizeof(max_align_t);
	n = (n + align - 1) & ~(align - 1);
	if (n == 0)
		n = align;
	struct block *b = a->head;
	if (b->cap - b->used < n) {
		b = block_new(n > ARENA_BLOCK ? n : ARENA_BLOCK);
		b->next = a->head;
		a->head = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += n;
	return p;
}

char *
pt_strndup(pt_arena *a, const char *s, size_t n)
{
	char *p = pt_alloc(a, n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
pt_strdup(pt_arena *a, const char *s)
{
	return pt_strndup(a, s, strlen(s));
}

char *
pt_printf(pt_arena *a, const char *fmt, ...)
{
	va_list ap;
	char tmp[256];
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return pt_strdup(a, "");
	if ((size_t)n < sizeof(tmp))
		return pt_strndup(a, tmp, (size_t)n);
	char *p = pt_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
pt_buf_init(pt_buf *b, pt_arena *a)
{
	b->a = a;
	b->cap = 256;
	b->p = pt_alloc(a, b->cap);
	b->p[0] = '\0';
	b->n = 0;
}

static void
buf_reserve(pt_buf *b, size_t more)
{
	if (b->cap - b->n > more)
		return;
	size_t cap = b->cap * 2;
	while (cap - b->n <= more)
		cap *= 2;
	char *p = pt_alloc(b->a, cap);
	memcpy(p, b->p, b->n);
	b->p = p;
	b->cap = cap;
}

void
pt_buf_add(pt_buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void
pt_buf_adds(pt_buf *b, const char *s)
{
	pt_buf_add(b, s, strlen(s));
}

void
pt_buf_addc(pt_buf *b, char c)
{
	pt_buf_add(b, &c, 1);
}

void
pt_buf_addf(pt_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->n) {
		buf_reserve(b, (size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
	}
	b->n += (size_t)n;
}

void
pt_buf_html(pt_buf *b, const char *s, size_t n)
{
	size_t i, start = 0;
	for (i = 0; i < n; i++) {
		const char *rep;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		pt_buf_add(b, s + start, i - start);
		pt_buf_adds(b, rep);
		start = i + 1;
	}
	pt_buf_add(b, s + start, n - start);
}

void
pt_buf_urlenc(pt_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			pt_buf_addc(b, (char)c);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			pt_buf_add(b, e, 3);
		}
	}
}

void
pt_buf_json(pt_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	pt_buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': pt_buf_adds(b, "\\\""); break;
		case '\\': pt_buf_adds(b, "\\\\"); break;
		case '\n': pt_buf_adds(b, "\\n"); break;
		case '\r': pt_buf_adds(b, "\\r"); break;
		case '\t': pt_buf_adds(b, "\\t"); break;
		case '<': pt_buf_adds(b, "\\u003c"); break; /* safe to embed anywhere */
		default:
			if (c < 0x20 || c == 0x7f) {
				char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
				pt_buf_add(b, e, 6);
			} else {
				pt_buf_addc(b, (char)c);
			}
		}
	}
	pt_buf_addc(b, '"');
}
