/* bare_insert.c: the ceiling of a write endpoint, one SQLite INSERT (its own transaction) per request. */
#include <stdio.h>
#include <time.h>

#include <fcgiapp.h>
#include <sqlite3.h>

/*
 * usage: bare_insert DATABASE (spawned by spawn-fcgi; FastCGI on fd 0)
 * The row is shaped like one of postern's tokens (a 32-byte random BLOB under a
 * UNIQUE index, a scope, a time); the database uses postern's settings (WAL,
 * synchronous = NORMAL). Answers 200 with a small JSON body, like a token endpoint.
 */
static const char schema[] =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
    "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE,"
    " scope TEXT NOT NULL, created INTEGER NOT NULL);";

int
main(int argc, char **argv)
{
	static const char ok[] = "Status: 200 OK\r\nContent-Type: application/json\r\n"
				 "Cache-Control: no-store\r\n\r\n{\"ok\":true}";
	static const char fail[] = "Status: 500 Internal Server Error\r\n\r\n";
	sqlite3 *db;
	sqlite3_stmt *st;
	FCGX_Request r;

	if (argc != 2 || sqlite3_open(argv[1], &db) != SQLITE_OK ||
	    sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "bare_insert: cannot set up %s\n", argc == 2 ? argv[1] : "(no path)");
		return 1;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v3(db, "INSERT INTO t (hash, scope, created) VALUES (randomblob(32), 'profile', ?)",
		-1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		return 1;
	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			FCGX_PutStr(ok, sizeof(ok) - 1, r.out);
		else
			FCGX_PutStr(fail, sizeof(fail) - 1, r.out);
		FCGX_Finish_r(&r);
	}
	return 0;
}
