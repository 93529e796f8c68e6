/* bare_select.c: the ceiling of a read endpoint, one indexed SQLite SELECT per request on a prepared statement. */
#include <stdio.h>
#include <stdlib.h>

#include <fcgiapp.h>
#include <sqlite3.h>

/*
 * usage: bare_select DATABASE (spawned by spawn-fcgi; FastCGI on fd 0)
 * The table looks like postern's tokens: a 32-byte random BLOB under a UNIQUE
 * index. It is filled with NKEYS rows on first use; each request looks up the next
 * key, round robin, and answers 204, or 404 if the row is (impossibly) missing.
 */
#define NKEYS 1000

static const char schema[] =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
    "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE,"
    " scope TEXT NOT NULL, created INTEGER NOT NULL);"
    "INSERT INTO t (hash, scope, created) SELECT randomblob(32), 'profile', unixepoch()"
    " FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000)"
    " SELECT i FROM c) WHERE (SELECT count(*) FROM t) = 0;";

int
main(int argc, char **argv)
{
	static unsigned char keys[NKEYS][32];
	static const char ok[] = "Status: 204 No Content\r\nX-OAuth-User: bare\r\n\r\n";
	static const char missing[] = "Status: 404 Not Found\r\n\r\n";
	sqlite3 *db;
	sqlite3_stmt *st;
	FCGX_Request r;
	int nkeys = 0;

	if (argc != 2 || sqlite3_open(argv[1], &db) != SQLITE_OK ||
	    sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "bare_select: cannot set up %s\n", argc == 2 ? argv[1] : "(no path)");
		return 1;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, "SELECT hash FROM t LIMIT 1000", -1, &st, NULL) != SQLITE_OK)
		return 1;
	while (nkeys < NKEYS && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
		const unsigned char *b = sqlite3_column_blob(st, 0);
		for (int i = 0; i < 32; i++)
			keys[nkeys][i] = b[i];
		nkeys++;
	}
	sqlite3_finalize(st);
	if (nkeys == 0 ||
	    sqlite3_prepare_v3(db, "SELECT id, scope, created FROM t WHERE hash = ?", -1,
		SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		return 1;
	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	for (unsigned long n = 0; FCGX_Accept_r(&r) >= 0; n++) {
		sqlite3_bind_blob(st, 1, keys[n % (unsigned long)nkeys], 32, SQLITE_STATIC);
		int found = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_reset(st);
		if (found)
			FCGX_PutStr(ok, sizeof(ok) - 1, r.out);
		else
			FCGX_PutStr(missing, sizeof(missing) - 1, r.out);
		FCGX_Finish_r(&r);
	}
	return 0;
}
