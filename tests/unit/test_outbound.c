/* test_outbound.c: log.c (one line a record, nothing that forges another) and
 * fetch.c against an upstream that is not there (the e2e bridge suite has a real one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <netinet/in.h>

#include "unit.h"

static void
log_records_are_one_line(void)
{
	char path[] = "/tmp/postern-unit-log-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	int saved = dup(2);
	fflush(stderr);
	dup2(fd, 2);
	pt_warn("a\nforged line %d\r", 7);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char buf[256] = {0};
	CHECK(pread(fd, buf, sizeof(buf) - 1, 0) > 0);
	close(fd);
	unlink(path);
	CHECK(strstr(buf, " postern warn: a forged line 7 \n") != NULL);
	CHECK(strchr(buf, '\n') == buf + strlen(buf) - 1); /* one line */
}

/* A loopback port nothing listens on. */
static int
closed_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof(a);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(s, (struct sockaddr *)&a, &n) != 0) {
		if (s >= 0)
			close(s);
		return 1;
	}
	close(s); /* bound, never listened on, now closed: connections are refused */
	return ntohs(a.sin_port);
}

static void
exchange_with_an_upstream_that_is_down(void)
{
	pt_arena *a = unit_arena();
	struct pt_config c;
	memset(&c, 0, sizeof(c));
	c.base_url = "https://auth.example";
	c.upstream_token_url = pt_printf(a, "http://127.0.0.1:%d/oauth/token", closed_port());
	c.upstream_client_id = "pca_upstream";
	c.upstream_client_secret = "pcs_secret";
	struct pt_fetched f;
	CHECK_INT(pt_fetch_post(a, c.upstream_token_url, NULL, "x", 1, 100, &f), PT_ERR_IO);
	CHECK(f.error != NULL);
	struct pt_upstream_answer ans;
	struct pt_upstream_fail why;
	CHECK_INT(pt_upstream_exchange(a, &c, "code", "verifier", &ans, &why), PT_ERR_IO);
	CHECK_INT(why.error, PT_E_UPSTREAM_DOWN);
	CHECK(strstr(why.message, "could not be reached") != NULL);
	c.upstream_token_basic = true; /* the form body with HTTP Basic: the same answer */
	CHECK_INT(pt_upstream_exchange(a, &c, "code", "verifier", &ans, &why), PT_ERR_IO);
	CHECK_INT(why.error, PT_E_UPSTREAM_DOWN);
}

void
suite_outbound(void)
{
	RUN(log_records_are_one_line);
	RUN(exchange_with_an_upstream_that_is_down);
}
