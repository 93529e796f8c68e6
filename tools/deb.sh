#!/bin/sh
# tools/deb.sh ROOT OUTDIR: turns `make install DESTDIR=ROOT PREFIX=/usr` (what `make deb`
# runs first) into OUTDIR/postern_$VERSION_<arch>.deb with dpkg-deb, reusing the programs
# of `make all` (stripped here). The package holds:
#   /usr/bin/postern, /usr/lib/postern/<executables>
#   /usr/share/postern/: templates, static files, schema.sql, the example configs,
#     fastcgi_params and the check's micro-cache for nginx
#   /usr/share/man/man8/postern.8.gz, /usr/share/man/man5/postern.conf.5.gz
#   /lib/systemd/system/: postern@.service, postern@.socket, postern.target,
#     postern-janitor.service and .timer, postern@device.service.d/bridge.conf
#   /etc/logrotate.d/postern (a conffile): contrib/postern.logrotate, for the audit log
#   /etc/postern/postern.conf (a conffile): postern.conf.example with the secret key in
#     /var/lib/postern and the templates in /usr/share/postern/templates (the programs of
#     `make all` look in /usr/local/share/postern/templates unless told)
#   /usr/share/doc/postern/: copyright, changelog.gz, README.md.gz
# Its postinst makes the postern system user and /var/lib/postern, then `postern init`
# (the secret key and the database) as that user. Nothing is enabled or started: set
# base_url and the scopes first, then `systemctl enable --now postern.target
# postern-janitor.timer`.
#
# lintian (Debian 12) finds nothing else than the tags listed at the end of this file,
# each explained there.
set -eu

root=${1:?usage: tools/deb.sh ROOT OUTDIR}
out=${2:?usage: tools/deb.sh ROOT OUTDIR}
version=${VERSION:?VERSION is not set}
here=$(cd "$(dirname "$0")/.." && pwd)
arch=$(dpkg --print-architecture)
deb="$out/postern_${version}_${arch}.deb"
maintainer=${DEB_MAINTAINER:-postern maintainers <postern@example.org>}
umask 022

command -v dpkg-deb >/dev/null || { echo "deb.sh: dpkg-deb is missing (apt-get install dpkg)" >&2; exit 1; }
[ -x "$root/usr/bin/postern" ] || { echo "deb.sh: $root has no usr/bin/postern: run make deb" >&2; exit 1; }

# postern-stack (a throwaway server for other projects' test suites: nginx and spawn-fcgi
# under the user's own account) is for `make install` on a developer's machine, not for
# the server package
rm -f "$root/usr/bin/postern-stack" "$root/usr/share/postern/stack-nginx.conf.in" \
	"$root/usr/share/man/man1/postern-stack.1"
rmdir "$root/usr/share/man/man1"

# units: where systemd looks for a package's units on Debian 12
mkdir -p "$root/lib/systemd/system/postern@device.service.d"
for u in postern@.service postern@.socket postern.target postern-janitor.service postern-janitor.timer; do
	mv "$root/usr/share/postern/$u" "$root/lib/systemd/system/$u"
done
mv "$root/usr/share/postern/postern@device.service.d/bridge.conf" \
	"$root/lib/systemd/system/postern@device.service.d/bridge.conf"
rmdir "$root/usr/share/postern/postern@device.service.d"

# the conffiles: the config, and the audit log's rotation (/var/log/postern/audit.log)
mkdir -p "$root/etc/logrotate.d"
mv "$root/usr/share/postern/postern.logrotate" "$root/etc/logrotate.d/postern"
mkdir -p "$root/etc/postern"
sed -e 's|^secret_key_file = secret.key$|secret_key_file = /var/lib/postern/secret.key|' \
    -e 's|^# templates = /usr/local/share/postern/templates$|templates = /usr/share/postern/templates|' \
    "$here/postern.conf.example" > "$root/etc/postern/postern.conf"
grep -q '^secret_key_file = /var/lib/postern/secret.key$' "$root/etc/postern/postern.conf" &&
grep -q '^templates = /usr/share/postern/templates$' "$root/etc/postern/postern.conf" ||
	{ echo "deb.sh: postern.conf.example changed: the secret_key_file or templates line is not found" >&2; exit 1; }

# programs without their debugging symbols
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
	"$root/usr/bin/postern" "$root"/usr/lib/postern/*

# man pages and documents, compressed as Debian wants them
gzip -9n "$root/usr/share/man/man8/postern.8" "$root/usr/share/man/man5/postern.conf.5"
doc="$root/usr/share/doc/postern"
mkdir -p "$doc"
gzip -9n < "$here/README.md" > "$doc/README.md.gz"
cat > "$doc/copyright" <<'EOF'
postern: an OAuth 2.0 authorization server for sites behind nginx.

Copyright: 2026 the postern authors.

The source tree states no licence yet; until it does, all rights are reserved.
EOF
date=$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)}")
printf 'postern (%s) unstable; urgency=medium\n\n  * Built from the source tree with `make deb`.\n\n -- %s  %s\n' \
	"$version" "$maintainer" "$date" | gzip -9n > "$doc/changelog.gz"

# control files
ctl="$root/DEBIAN"
mkdir -p "$ctl"
printf '%s\n' /etc/postern/postern.conf /etc/logrotate.d/postern > "$ctl/conffiles"

# Depends: the libraries the programs link, as dpkg-shlibdeps names them (it wants a
# debian/control to read); without dpkg-dev, the packages that own them
bins="$root/usr/bin/postern $(ls "$root"/usr/lib/postern/* | tr '\n' ' ')"
shlibs=
if command -v dpkg-shlibdeps >/dev/null; then
	src=$(mktemp -d)
	mkdir "$src/debian"
	printf 'Source: postern\n\nPackage: postern\nArchitecture: any\n' > "$src/debian/control"
	abs=
	for b in $bins; do abs="$abs -e$(cd "$(dirname "$b")" && pwd)/$(basename "$b")"; done
	# shellcheck disable=SC2086
	shlibs=$(cd "$src" && dpkg-shlibdeps -O $abs 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
	rm -rf "$src"
fi
if [ -z "$shlibs" ]; then
	# shellcheck disable=SC2086
	shlibs=$(ldd $bins | awk '/=> \//{print $3}' | sort -u | xargs -r dpkg-query -S 2>/dev/null |
		cut -d: -f1 | sort -u | paste -sd, | sed 's/,/, /g')
fi
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$ctl/control" <<EOF
Package: postern
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $shlibs, adduser
Recommends: nginx
Suggests: libnginx-mod-http-js, sqlite3
Section: httpd
Priority: optional
Description: OAuth 2.0 authorization server for sites behind nginx
 postern lets other people's apps act for the users of a site, the way
 "Sign in with Google" or Slack apps do: developers register apps, users
 approve them on a consent page, apps trade the code for a token and call
 the site's API with it. It has the device flow for command-line programs,
 dynamic client registration for MCP clients, and a token check any nginx
 location can use with auth_request.
 .
 Seven small FastCGI programs share one SQLite database; systemd starts
 each on its socket in /run/postern, sandboxed, as the postern user. The
 admin command is postern(8); the config, /etc/postern/postern.conf, is
 described in postern.conf(5).
EOF

cat > "$ctl/postinst" <<'EOF'
#!/bin/sh
# postinst: the postern system user, its state folder /var/lib/postern, then the secret
# key and the database (`postern init`, as that user). Nothing is started: set base_url
# in /etc/postern/postern.conf, then
#   systemctl enable --now postern.target postern-janitor.timer
set -e
if [ "$1" = configure ]; then
	if ! getent passwd postern >/dev/null; then
		adduser --system --group --home /var/lib/postern --no-create-home \
			--gecos "postern OAuth server" --quiet postern
	fi
	install -d -o postern -g postern -m 0750 /var/lib/postern
	if [ ! -e /var/lib/postern/postern.db ] || [ ! -e /var/lib/postern/secret.key ]; then
		runuser -u postern -- postern --config /etc/postern/postern.conf init >/dev/null ||
			echo "postern: run \`sudo -u postern postern --config /etc/postern/postern.conf init\` once the config is right" >&2
	fi
fi
if [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
exit 0
EOF
cat > "$ctl/postrm" <<'EOF'
#!/bin/sh
# postrm: systemd forgets the units. The postern user and /var/lib/postern (the database
# and the secret key) stay, even on purge: delete them by hand when they are no longer
# wanted.
set -e
if [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
exit 0
EOF
chmod 755 "$ctl/postinst" "$ctl/postrm"
# md5sums of every file but the conffile (dpkg keeps its own), as dh_md5sums does
(cd "$root" && find . \( -path ./DEBIAN -o -path ./etc \) -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
	xargs -0 md5sum) > "$ctl/md5sums"

mkdir -p "$out"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"

# lintian tags left, each on purpose (tests/e2e/deb.test.mjs fails on any other one;
# `# lintian: TAG` lines):
# lintian: systemd-service-file-refers-to-unusual-wantedby-target
#   postern@.service is WantedBy=postern.target on purpose: the target starts and stops
#   the seven executables together (`systemctl enable --now postern.target`), and is
#   itself WantedBy=multi-user.target.
