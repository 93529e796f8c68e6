/* bare.c: the architecture's ceiling, a libfcgi responder with a fixed body. */
#include <fcgiapp.h>

int
main(void)
{
	FCGX_Request r;
	static const char resp[] = "Status: 204 No Content\r\nX-OAuth-User: bare\r\n\r\n";
	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		FCGX_PutStr(resp, sizeof(resp) - 1, r.out);
		FCGX_Finish_r(&r);
	}
	return 0;
}
