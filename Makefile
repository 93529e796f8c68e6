# Makefile: build, test, run, install. `make run` and `make test` are all a newcomer needs.
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
LIBEXEC   ?= $(PREFIX)/lib/postern
SHAREDIR  ?= $(PREFIX)/share/postern
MANDIR    ?= $(PREFIX)/share/man
VERSION   ?= 0.1.0
CC        ?= cc
# libcrypto (OpenSSL): RSA key generation and RS256 signatures only (lib/oidc.c)
PKGS       = fcgi sqlite3 libsodium libcjson libpq libcrypto
# libcurl: only the device executable (lib/fetch.c, a bridged device login) and the
# authorize executable (lib/cimd.c, Client ID Metadata Documents) link it
CURL_PKG   = libcurl

WARN      = -Wall -Wextra -Werror -Wshadow -Wformat=2
HARDEN    = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lfcgi -lsqlite3 -lsodium -lcjson -lpq -lcrypto)
CURL_CFLAGS := $(shell pkg-config --cflags $(CURL_PKG) 2>/dev/null)
CURL_LIBS  := $(shell pkg-config --libs $(CURL_PKG) 2>/dev/null || echo -lcurl)
DEFS      = -D_DEFAULT_SOURCE -DPOSTERN_TEMPLATES='"$(SHAREDIR)/templates"'
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c11 $(WARN) $(HARDEN) $(DEFS) -Ilib $(PKG_CFLAGS) $(CURL_CFLAGS) $(CFLAGS)
LDFLAGS  += -pie -Wl,-z,relro,-z,now
SAN_CFLAGS = -std=c11 $(WARN) $(DEFS) -Ilib $(PKG_CFLAGS) $(CURL_CFLAGS) -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined

LIB_SRC  = $(wildcard lib/*.c)
CGIS     = authorize consent token apps revoke introspect device
BINS     = $(CGIS:%=build/%) build/postern build/bare
SAN_BINS = $(CGIS:%=build/san/%) build/san/postern
HEADERS  = $(wildcard lib/*.h)

.PHONY: all san clang test unit lint e2e e2e-pg browser interop fuzz run stop deps deps-server install uninstall deb clean bench soak
all: $(BINS)

build/schema.c: schema.sql schema.pg.sql
	@mkdir -p build
	@{ echo '/* generated from schema.sql and schema.pg.sql */'; \
	  echo 'const char pt_schema_sql[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' schema.sql; echo ';'; \
	  echo 'const char pt_schema_pg_sql[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' schema.pg.sql; echo ';'; } > $@

# One build of the library, the executables and the admin command: $(1) its folder,
# $(2) the compiler's variable, $(3) the flags' variable, $(4) the link flags' variable
# (names, not values: the flags have commas). Only device and authorize link libcurl.
define variant
$(1)/obj/%.o: lib/%.c $$(HEADERS)
	@mkdir -p $(1)/obj
	$$($(2)) $$($(3)) -c -o $$@ $$<
$(1)/obj/schema.o: build/schema.c
	@mkdir -p $(1)/obj
	$$($(2)) $$($(3)) -c -o $$@ $$<
$(1)/libpostern.a: $$(LIB_SRC:lib/%.c=$(1)/obj/%.o) $(1)/obj/schema.o
	rm -f $$@ && ar rcs $$@ $$^
$(1)/%: cgi/%.c $(1)/libpostern.a $$(HEADERS)
	$$($(2)) $$($(3)) -o $$@ $$< $(1)/libpostern.a $$($(4)) $$(PKG_LIBS)
$(1)/device: cgi/device.c $(1)/libpostern.a $$(HEADERS)
	$$($(2)) $$($(3)) -o $$@ $$< $(1)/libpostern.a $$($(4)) $$(PKG_LIBS) $$(CURL_LIBS)
$(1)/authorize: cgi/authorize.c $(1)/libpostern.a $$(HEADERS)
	$$($(2)) $$($(3)) -o $$@ $$< $(1)/libpostern.a $$($(4)) $$(PKG_LIBS) $$(CURL_LIBS)
$(1)/postern: cli/admin.c $(1)/libpostern.a $$(HEADERS)
	$$($(2)) $$($(3)) -o $$@ $$< $(1)/libpostern.a $$($(4)) $$(PKG_LIBS)
endef

# the normal build
$(eval $(call variant,build,CC,ALL_CFLAGS,LDFLAGS))
build/bare: bench/bare.c
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS) $(PKG_LIBS)

# The sanitizer build: the same programs under AddressSanitizer + UBSan.
san: $(SAN_BINS)
$(eval $(call variant,build/san,CC,SAN_CFLAGS,SAN_LDFLAGS))

# `make clang`: the library, the executables and the admin command built with clang as
# well, warnings as errors (`make test` builds it)
CLANG     ?= clang
clang: $(CGIS:%=build/clang/%) build/clang/postern
$(eval $(call variant,build/clang,CLANG,ALL_CFLAGS,LDFLAGS))

# ---------------------------------------------------------------- tests
UNIT_SRC = $(wildcard tests/unit/*.c)
build/unit: $(UNIT_SRC) build/san/libpostern.a $(HEADERS)
	$(CC) $(SAN_CFLAGS) -Itests/unit -o $@ $(UNIT_SRC) build/san/libpostern.a $(PKG_LIBS) $(CURL_LIBS)

deps:
	@tools/deps.sh all
# what `make run` needs, and no test tool
deps-server:
	@tools/deps.sh server

unit: build/unit
	build/unit

# `make lint`: the route tables of cgi/*.c against tools/nginx.conf.in and
# nginx.conf.example (a path one has and the other lacks fails); `node tools/lint.mjs
# --map` prints the route map.
lint:
	node tools/lint.mjs

# `make test`: the whole suite. Unit tests and end-to-end tests run against the
# sanitizer build, the end-to-end suite once on SQLite and once on PostgreSQL (a
# throwaway cluster, tools/e2e-pg.sh, with the two-node tests); browser and
# interoperability tests against the normal one.
test: deps all san clang build/unit
	node tools/lint.mjs
	build/unit
	tools/fuzz.sh smoke
	cd tests && POSTERN_BUILD=$(CURDIR)/build/san node --test --test-concurrency=1 e2e/
	UNIT=build/unit POSTERN_BUILD=$(CURDIR)/build/san tools/e2e-pg.sh
	cd tests && POSTERN_BUILD=$(CURDIR)/build node --test --test-concurrency=1 interop/ browser/
	tools/bench-smoke.sh

e2e: all san
	cd tests && POSTERN_BUILD=$(CURDIR)/build/san node --test --test-concurrency=1 e2e/

# the end-to-end suite on PostgreSQL only
e2e-pg: all san
	UNIT=build/unit POSTERN_BUILD=$(CURDIR)/build/san tools/e2e-pg.sh

fuzz:
	tools/fuzz.sh long

run: deps-server all
	@tools/run.sh

# `make bench`: the benchmark on SQLite, then on PostgreSQL (a throwaway durable cluster);
# BENCH_DB=sqlite or BENCH_DB=pg runs one of them (bench/README.md)
bench: deps all
	@case "$(BENCH_DB)" in \
	'') bench/run.sh --sqlite && bench/run.sh --pg ;; \
	*) BENCH_DB='$(BENCH_DB)' bench/run.sh ;; \
	esac

# `make soak`: an hour of mixed load watching for wrong answers, leaks and crashes (not
# part of `make test`); SOAK_MINUTES=10 make soak for a shorter one
SOAK_MINUTES ?= 60
soak: deps all
	node bench/soak.mjs --minutes $(SOAK_MINUTES)

# The units name /usr/local/bin and /usr/local/lib/postern (contrib/ works as it is after
# a default install); other BINDIR and LIBEXEC are written into the installed copies.
UNIT_PATHS = -e 's|/usr/local/bin/postern|$(BINDIR)/postern|' -e 's|/usr/local/lib/postern/|$(LIBEXEC)/|'
# postern-stack is tools/stack.sh with the installed layout (LIBEXEC and SHAREDIR relative
# to BINDIR) on its `layout=` line, so it also runs from a DESTDIR copy
STACK_LAYOUT = $(shell realpath -m --relative-to=$(BINDIR) $(LIBEXEC)) $(shell realpath -m --relative-to=$(BINDIR) $(SHAREDIR))
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXEC) $(DESTDIR)$(SHAREDIR)/templates \
		$(DESTDIR)$(SHAREDIR)/static $(DESTDIR)$(SHAREDIR)/postern@device.service.d \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man1
	install -m 755 build/postern $(DESTDIR)$(BINDIR)/postern
	sed 's|^layout=source$$|layout="$(STACK_LAYOUT)"|' tools/stack.sh > $(DESTDIR)$(BINDIR)/postern-stack
	chmod 755 $(DESTDIR)$(BINDIR)/postern-stack
	install -m 644 tools/nginx.conf.in $(DESTDIR)$(SHAREDIR)/stack-nginx.conf.in
	install -m 644 man/postern-stack.1 $(DESTDIR)$(MANDIR)/man1/postern-stack.1
	for c in $(CGIS); do install -m 755 build/$$c $(DESTDIR)$(LIBEXEC)/$$c; done
	install -m 644 templates/*.html $(DESTDIR)$(SHAREDIR)/templates/
	cp -R static/. $(DESTDIR)$(SHAREDIR)/static/
	install -m 644 schema.sql schema.pg.sql nginx.conf.example postern.conf.example $(DESTDIR)$(SHAREDIR)/
	install -m 644 conf/fastcgi_params conf/check_cache.conf conf/check_cache.js $(DESTDIR)$(SHAREDIR)/
	for u in contrib/*.service contrib/*.socket contrib/*.target contrib/*.timer \
		contrib/postern@device.service.d/*.conf; do \
		sed $(UNIT_PATHS) $$u > $(DESTDIR)$(SHAREDIR)/$${u#contrib/} && \
		chmod 644 $(DESTDIR)$(SHAREDIR)/$${u#contrib/} || exit 1; done
	install -m 644 man/postern.8 $(DESTDIR)$(MANDIR)/man8/postern.8
	install -m 644 man/postern.conf.5 $(DESTDIR)$(MANDIR)/man5/postern.conf.5
	install -m 644 contrib/postern.logrotate $(DESTDIR)$(SHAREDIR)/postern.logrotate

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/postern $(DESTDIR)$(BINDIR)/postern-stack \
		$(DESTDIR)$(MANDIR)/man8/postern.8 $(DESTDIR)$(MANDIR)/man5/postern.conf.5 \
		$(DESTDIR)$(MANDIR)/man1/postern-stack.1
	rm -rf $(DESTDIR)$(LIBEXEC) $(DESTDIR)$(SHAREDIR)

# `make deb`: $(DEBDIR)/postern_$(VERSION)_<arch>.deb from the `make all` programs
# (installed under /usr, units in /lib/systemd/system, the postern user and
# /var/lib/postern made by its postinst); tools/deb.sh says what goes where.
DEBDIR ?= build
deb: all
	rm -rf $(DEBDIR)/deb-root
	$(MAKE) --no-print-directory install DESTDIR=$(abspath $(DEBDIR))/deb-root PREFIX=/usr
	VERSION=$(VERSION) tools/deb.sh $(DEBDIR)/deb-root $(DEBDIR)

clean:
	rm -rf build
