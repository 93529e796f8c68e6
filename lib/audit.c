/* audit.c: the audit log, one JSON object a line per security event (config audit_log). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "postern.h"

/* Many processes append to the same file at once (every worker of every executable,
 * and the admin command). Each line is built whole in memory and written with one
 * write(2) on a descriptor opened O_APPEND: on a local filesystem such a write of at
 * most PIPE_BUF bytes lands whole, never interleaved with another process's.
 *
 * Rotation: before each line the process compares the path's device and inode with
 * those of its open descriptor and reopens when they differ or the path is gone, so a
 * renamed (rotated) file is left at the next line with no signal; a SIGHUP (which the
 * supervisor forwards to its workers) makes the next line reopen too. */

/* one write(2) of at most PIPE_BUF bytes on an O_APPEND file is never interleaved */
_Static_assert(PT_AUDIT_LINE_MAX <= PIPE_BUF, "an audit line must fit one atomic write");

static char *audit_path;                /* a copy; NULL: the audit log is off */
static int audit_fd = -1;
static dev_t audit_dev;
static ino_t audit_ino;
static bool audit_failing;              /* the last attempt failed (and was logged) */
static volatile sig_atomic_t audit_hup; /* a SIGHUP asked for a reopen */

void
pt_audit_open(const char *path)
{
	if (audit_fd >= 0)
		close(audit_fd);
	audit_fd = -1;
	free(audit_path);
	audit_path = NULL;
	if (path != NULL && *path && (audit_path = strdup(path)) == NULL)
		pt_warn("audit log %s: out of memory: no audit log", path);
}

void
pt_audit_reopen(void)
{
	audit_hup = 1;
}

const char *
pt_audit_hash(char buf[PT_AUDIT_HASH_HEX + 1], const uint8_t *hash)
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < PT_AUDIT_HASH_HEX / 2; i++) {
		buf[2 * i] = hex[hash[i] >> 4];
		buf[2 * i + 1] = hex[hash[i] & 15];
	}
	buf[PT_AUDIT_HASH_HEX] = '\0';
	return buf;
}

/* A descriptor for the path as it is now: the open one while it still names the same
 * file, else a fresh one. -1 (errno set) when the file cannot be opened. */
static int
current_fd(void)
{
	struct stat st;
	if (audit_fd >= 0 && !audit_hup && stat(audit_path, &st) == 0 &&
	    st.st_dev == audit_dev && st.st_ino == audit_ino)
		return audit_fd;
	audit_hup = 0;
	if (audit_fd >= 0)
		close(audit_fd);
	audit_fd = open(audit_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (audit_fd < 0)
		return -1;
	if (fstat(audit_fd, &st) != 0) {
		int e = errno;
		close(audit_fd);
		audit_fd = -1;
		errno = e;
		return -1;
	}
	audit_dev = st.st_dev;
	audit_ino = st.st_ino;
	return audit_fd;
}

/* A line under construction: at most PT_AUDIT_LINE_MAX bytes with its newline. Room
 * for the closing `,"truncated":true}\n` is always kept, so a line cut short is still
 * one valid JSON object. */
#define CLOSING_ROOM (sizeof(",\"truncated\":true}\n") - 1)
struct line {
	char b[PT_AUDIT_LINE_MAX];
	size_t n;
	bool truncated;
};

static bool
room(const struct line *l, size_t want)
{
	return l->n + want + CLOSING_ROOM <= sizeof(l->b);
}

static void
raw(struct line *l, const char *s, size_t n)
{
	memcpy(l->b + l->n, s, n);
	l->n += n;
}

/* The length of the valid UTF-8 sequence at s (n bytes left), 0 when it is not one
 * (an overlong form, a surrogate, past U+10FFFF, or cut short). */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min, cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Appends s as a JSON string: quotes, backslashes and control characters escaped,
 * invalid UTF-8 as U+FFFD; at most PT_AUDIT_FIELD_MAX bytes of s, and only whole
 * characters: a value cut there, or by the line's end, marks the line truncated. */
static void
string(struct line *l, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), used = 0;
	raw(l, "\"", 1);
	while (used < n) {
		char esc[8];
		const char *out;
		size_t on, step = utf8_len(p + used, n - used);
		if (step == 0) {
			out = "\\ufffd", on = 6, step = 1;
		} else if (p[used] == '"' || p[used] == '\\') {
			esc[0] = '\\', esc[1] = (char)p[used];
			out = esc, on = 2;
		} else if (p[used] < 0x20 || p[used] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", p[used]);
			out = esc, on = 6;
		} else {
			out = s + used, on = step;
		}
		/* the closing quote needs a byte too */
		if (used + step > PT_AUDIT_FIELD_MAX || !room(l, on + 1)) {
			l->truncated = true;
			break;
		}
		raw(l, out, on);
		used += step;
	}
	raw(l, "\"", 1);
}

/* Appends ,"key": before a value; false (and the line truncated) when not even the
 * key and a short value fit. */
static bool
key(struct line *l, const char *k)
{
	size_t kn = strlen(k);
	if (!room(l, kn + 4 + 24)) {
		l->truncated = true;
		return false;
	}
	raw(l, ",\"", 2);
	raw(l, k, kn); /* keys are constants of this program: plain ASCII */
	raw(l, "\":", 2);
	return true;
}

/* Logs the first failure of a run of failures, and the recovery: not one line per
 * request while the disk is full. */
static void
note_result(bool ok, int err)
{
	if (!ok && !audit_failing)
		pt_warn("audit log %s: %s (further failures are not logged until a line is written)",
		    audit_path, strerror(err));
	else if (ok && audit_failing)
		pt_warn("audit log %s: writing again", audit_path);
	audit_failing = !ok;
}

void
pt_audit_write(const char *event, bool ok, const struct pt_audit_field *f, size_t nf)
{
	if (audit_path == NULL)
		return;
	int saved_errno = errno; /* a caller's errno survives the audit log */
	struct line l = {.n = 0, .truncated = false};
	struct timespec ts;
	struct tm tm;
	char t[40];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t tn = strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(t + tn, sizeof(t) - tn, ".%03ldZ", ts.tv_nsec / 1000000);
	l.n = (size_t)snprintf(l.b, sizeof(l.b), "{\"time\":\"%s\",\"event\":\"%s\",\"ok\":%s", t,
	    event, ok ? "true" : "false");
	for (size_t i = 0; i < nf && !l.truncated; i++) {
		if (f[i].kind == PT_AF_STR && f[i].s == NULL)
			continue; /* an absent value is left out */
		if (!key(&l, f[i].key))
			break;
		char num[24];
		switch (f[i].kind) {
		case PT_AF_STR:
			string(&l, f[i].s);
			break;
		case PT_AF_INT:
			raw(&l, num, (size_t)snprintf(num, sizeof(num), "%lld", (long long)f[i].i));
			break;
		case PT_AF_BOOL:
			raw(&l, f[i].i ? "true" : "false", f[i].i ? 4 : 5);
			break;
		}
	}
	if (l.truncated)
		raw(&l, ",\"truncated\":true", CLOSING_ROOM - 2);
	raw(&l, "}\n", 2);

	int fd = current_fd();
	bool written = false;
	int err = errno;
	if (fd >= 0) {
		ssize_t w;
		do
			w = write(fd, l.b, l.n);
		while (w < 0 && errno == EINTR);
		written = w == (ssize_t)l.n;
		err = w < 0 ? errno : ENOSPC; /* a short write: the disk filled up */
	}
	note_result(written, err);
	errno = saved_errno;
}
