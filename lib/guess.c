/* guess.c: the limits on wrong user codes of the device pages (RFC 8628 §5.1), per
 * person (a signed-in user or a browser), per address and in all. */
#include "postern.h"

#define GUESS_WINDOW 900     /* seconds */
/* Wrong user codes per window: a signed-in user guesses for themself; an address may be a
 * NAT or a proxy with many people behind it, so it gets more; and every guess on the
 * server counts toward one cap, which bounds what a botnet of accounts can try against
 * the 32^8 user codes. */
#define GUESS_LIMIT_WHO  10
#define GUESS_LIMIT_ADDR 100
#define GUESS_LIMIT_ALL  1000
#define GUESS_KEY_ALL    "device:all"

/* Guesses are counted in windows named by their start time; a count covers the
 * current and the previous window, so no 15-minute span allows more than the limit
 * (a fixed window alone would allow twice the limit across its boundary). */
static int64_t
window_start(void)
{
	int64_t now = pt_now();
	return now - now % GUESS_WINDOW;
}

/* Guesses counted under key since the window starting at since (an unreadable count
 * counts as over every limit). */
static int64_t
attempts(const char *key, int64_t since)
{
	int64_t n;
	return pt_db_attempts_get(key, since, &n) == PT_OK ? n : INT32_MAX;
}

/* 0 when key may guess again, else the seconds until it may: the count covers this
 * window and the one before, so it falls when the one before drops out, or, when this
 * window alone is over the limit, when this one does. */
static int64_t
locked_for(const char *key, int64_t limit)
{
	int64_t w = window_start(), now = pt_now();
	if (attempts(key, w - GUESS_WINDOW) < limit)
		return 0;
	if (attempts(key, w) < limit)
		return w + GUESS_WINDOW - now;
	return w + 2 * GUESS_WINDOW - now;
}

static void
count(const char *key)
{
	if (pt_db_attempts_add(key, window_start()) != PT_OK)
		pt_warn("could not count a device code attempt");
}

int64_t
pt_guess_wait(pt_arena *a, const char *who, const char *addr)
{
	int64_t wait = locked_for(who, GUESS_LIMIT_WHO);
	if (wait == 0)
		wait = locked_for(pt_printf(a, "device:addr:%s", addr), GUESS_LIMIT_ADDR);
	if (wait == 0)
		wait = locked_for(GUESS_KEY_ALL, GUESS_LIMIT_ALL);
	return wait;
}

void
pt_guess_count(pt_arena *a, const char *who, const char *addr)
{
	count(pt_printf(a, "device:addr:%s", addr));
	count(who);
	count(GUESS_KEY_ALL);
}
