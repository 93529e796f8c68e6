// peer.mjs: the peer of the benchmarks, node oidc-provider (pinned 9.13.3) with one
// confidential client, the client_credentials grant and RFC 7662 introspection on.
//
//   node bench/peer.mjs PORT
// Prints one JSON line when it is ready: url, client_id, client_secret, token and
// introspection paths, and a live access token to introspect. It uses the default
// in-memory adapter (what a quick deployment gets), no proxy in front, and answers
// until it is killed. oidc-provider comes from bench/node_modules when installed there
// (bench/package.json), else from tests/node_modules.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';

const here = dirname(fileURLToPath(import.meta.url));
const candidates = [join(here, 'node_modules/oidc-provider/lib/index.js'),
  join(here, '../tests/node_modules/oidc-provider/lib/index.js')];
const found = candidates.find((p) => existsSync(p));
if (!found) {
  console.error('peer.mjs: oidc-provider is not installed (cd tests && npm ci, or cd bench && npm install)');
  process.exit(1);
}
const { default: Provider } = await import(pathToFileURL(found).href);

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node bench/peer.mjs PORT');
  process.exit(2);
}
const url = `http://127.0.0.1:${port}`;
const client = { client_id: 'bench', client_secret: randomBytes(24).toString('base64url') };
const provider = new Provider(url, {
  clients: [{ ...client, grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic' }],
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async () => true },
    devInteractions: { enabled: false },
  },
  scopes: ['profile'],
  ttl: { ClientCredentials: 3600 },
});
// quiet: the default listener logs every server_error to stderr
provider.on('server_error', (ctx, err) => console.error('peer:', err.message));

const server = provider.listen(port, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));

const basic = 'Basic ' + Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
const r = await fetch(`${url}/token`, {
  method: 'POST',
  headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
  body: 'grant_type=client_credentials&scope=profile',
});
const t = await r.json();
if (!t.access_token) {
  console.error('peer.mjs: no token from client_credentials:', JSON.stringify(t));
  process.exit(1);
}
const i = await fetch(`${url}/token/introspection`, {
  method: 'POST',
  headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
  body: `token=${t.access_token}`,
});
const ij = await i.json();
if (ij.active !== true) {
  console.error('peer.mjs: introspection does not see the token:', JSON.stringify(ij));
  process.exit(1);
}
console.log(JSON.stringify({ url, ...client, basic, token_path: '/token',
  introspection_path: '/token/introspection', access_token: t.access_token }));
