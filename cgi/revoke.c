/* revoke.c: placeholder until this executable is written. */
#include <string.h>

#include "postern.h"

static void
handle(struct pt_req *r)
{
	if (strcmp(r->path, "/health") == 0) {
		pt_buf b;
		pt_buf_init(&b, r->a);
		pt_buf_adds(&b, "{\"status\":\"ok\"}");
		pt_json(r, 200, &b);
		return;
	}
	pt_json_error(r, 404, "not_found", "no such endpoint");
}

int
main(void)
{
	return pt_serve("revoke", PT_MAX_BODY, handle);
}
