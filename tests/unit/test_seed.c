/* test_seed.c: seed files (lib/seed.c): what a good one reads as, and the line and field
 * every kind of mistake is named with. */
#include <string.h>

#include "unit.h"

static struct pt_config cfg;
static struct pt_seed s;

static const char *
seed(const char *text)
{
	static char profile[] = "profile", read[] = "posts:read", empty[] = "";
	if (cfg.nscopes == 0) {
		cfg.scopes[0] = (struct pt_scope){profile, empty};
		cfg.scopes[1] = (struct pt_scope){read, empty};
		cfg.nscopes = 2;
	}
	return pt_seed_read(unit_arena(), &cfg, text, strlen(text), &s);
}

static void
seed_reads_users_and_apps(void)
{
	/* a user name is ASCII: the é is refused, on line 1 */
	CHECK_STR(seed("{\"users\": [{\"name\": \"al\\u00e9x\", \"password\": \"password\"}]}"),
	    "line 1: users[0].name: user names are 1-64 of a-z A-Z 0-9 . _ @ -");
	CHECK(seed("{\"users\": [{\"name\": \"alex\", \"password\": \"p\\u00e4ss\\\"word\", \"admin\": true}],\n"
		   " \"apps\": [{\"name\": \"A \\ud83d\\ude00\", \"redirect_uris\": [\"https://a.example/cb\", \"http://localhost/x\"],\n"
		   "   \"scopes\": \"posts:read profile\", \"grant_types\": [\"authorization_code\"]}]}") == NULL);
	CHECK_INT(s.nusers, 1);
	CHECK_STR(s.users[0].name, "alex");
	CHECK_MEM(s.users[0].password, s.users[0].password_n, "p\xc3\xa4ss\"word");
	CHECK(s.users[0].admin);
	CHECK_INT(s.napps, 1);
	CHECK_STR(s.apps[0].app.name, "A \xf0\x9f\x98\x80");
	CHECK_STR(s.apps[0].app.redirect_uris, "https://a.example/cb\nhttp://localhost/x");
	CHECK_STR(s.apps[0].app.scopes, "profile posts:read"); /* config order */
	CHECK_STR(s.apps[0].app.grant_types, "authorization_code");
	CHECK(s.apps[0].client_id == NULL && s.apps[0].client_secret == NULL);
	CHECK(!s.apps[0].app.public);
	CHECK(seed("{}") == NULL);
	CHECK_INT(s.nusers + s.napps, 0);
}

static void
seed_names_the_line_and_field(void)
{
	CHECK_STR(seed("{\n\"users\": [\n{\"name\": \"a\",\n \"pasword\": \"x\"}]}"),
	    "line 4: users[0].pasword: unknown field (a user has name, password, admin, email)");
	CHECK_STR(seed("{\"apps\": [{\"name\": \"a\", \"redirect_uris\": [],\n\"grant_types\": \"refresh_token\",\n"
		       "\"client_id\": \"pca_0123456789abcdefghijABCDEFGHIJk\"}]}"),
	    "line 3: apps[0].client_id: a client_id is pca_ and 32 letters and digits (A-Z a-z 0-9)");
	CHECK_STR(seed("{\"apps\": [{\"name\": 7}]}"), "line 1: apps[0].name: must be a string, not a number");
	CHECK_STR(seed("{\"users\": [{\"name\": \"a\", \"password\": \"password\", \"admin\": null}]}"),
	    "line 1: users[0].admin: must be true or false, not null");
	CHECK_STR(seed("{\"apps\": [{\"name\": \"a\", \"redirect_uris\": [\"https://a/\"], \"scopes\": [\"profile\", 3]}]}"),
	    "line 1: apps[0].scopes[1]: must be a string, not a number");
	CHECK_STR(seed("{\"apps\": [{\"name\": \"a\", \"redirect_uris\": [\"https://a/\"], \"scopes\": \"profile profile\"}]}"),
	    "line 1: apps[0].scopes: profile is listed twice");
	CHECK_STR(seed("{\"users\": [{\"name\": \"a\", \"password\": \"pass\\u0000word\"}]}"),
	    "line 1: a string has \\u0000 in it");
	CHECK_STR(seed("{\"users\": [{\"name\": \"a\", \"password\": \"\\ud800x\"}]}"),
	    "line 1: a string has half of a \\u surrogate pair");
	CHECK_STR(seed("{\"users\": [{\"name\": \"a\", \"password\": \"\xff\xfe password\"}]}"),
	    "line 1: a string is not valid UTF-8");
	CHECK_STR(seed("{\"users\": [1e5]}"), "line 1: users[0]: must be an object, not a number");
	CHECK_STR(seed("{\"users\": [tru]}"),
	    "line 1: expected a value (a string, a number, a list, an object, true, false or null)");
	CHECK_STR(seed(""), "line 1: the file ends where a value was expected");
}

void
suite_seed(void)
{
	RUN(seed_reads_users_and_apps);
	RUN(seed_names_the_line_and_field);
}
