/* log.c: one-line log records on stderr (spawn-fcgi and systemd collect them). */
#include <stdio.h>
#include <time.h>

#include "postern.h"

void
pt_log(const char *level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* strip anything that could forge a second log line */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	time_t t = time(NULL);
	struct tm tm;
	char ts[32];
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s postern %s: %s\n", ts, level, msg);
}
