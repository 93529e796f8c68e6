// check_cache.js: the key of the optional micro-cache of /oauth/check (nginx njs module,
// Debian package libnginx-mod-http-js; see "micro-cache" in nginx.conf.example).
//
// nginx writes a cache entry's key into the entry's file, so the key must not be the
// token: it is the SHA-256 of the Authorization header. A postern token carries 256 bits
// from the CSPRNG, so its hash cannot be turned back into it. No header, no key: the
// cache is skipped ($postern_no_key) and postern answers the 401 itself.

import crypto from 'crypto';

function key(r) {
    const h = r.headersIn.Authorization;
    return h ? crypto.createHash('sha256').update(h).digest('base64url') : '';
}

export default { key };
