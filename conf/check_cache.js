// check_cache.js: the key of the optional micro-cache of /oauth/check (nginx njs module,
// Debian package libnginx-mod-http-js; see "micro-cache" in nginx.conf.example).
//
// nginx writes a cache entry's key into the entry's file, so the key must not be the
// token: it is the SHA-256 of the Authorization header. A postern token carries 256 bits
// from the CSPRNG, so its hash cannot be turned back into it. No header, no key: the
// cache is skipped ($postern_no_key) and postern answers the 401 itself.

import crypto from 'crypto';

// A DPoP request is never a key either: each proof is single use (RFC 9449 §11.1), so
// every one must reach postern, and a cached answer would let a replayed proof through.
function key(r) {
    const h = r.headersIn.Authorization;
    if (!h || r.headersIn.DPoP !== undefined || /^dpop /i.test(h)) return '';
    return crypto.createHash('sha256').update(h).digest('base64url');
}

export default { key };
