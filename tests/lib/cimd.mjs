// cimd.mjs: serving Client ID Metadata Documents over https on loopback in tests
// (e2e/cimd.test.mjs, e2e/mcp-sdk.test.mjs): a certificate the test makes with openssl,
// trusted by postern through client_metadata_ca_file, and a small https server.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import https from 'node:https';

/* A self-signed certificate for 127.0.0.1 and localhost. */
export function makeCert(dir) {
  const key = path.join(dir, 'key.pem'), cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { key: readFileSync(key), cert: readFileSync(cert), certPath: cert };
}

/* An https server on loopback port: routes(base) maps a path to (req, res); it counts
 * requests per path and TCP connections. */
export async function docServer(tls, port, routes) {
  const hits = new Map();
  const base = `https://127.0.0.1:${port}`;
  const r = routes(base);
  let connections = 0;
  const srv = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const p = new URL(req.url, 'https://x').pathname;
    hits.set(p, (hits.get(p) ?? 0) + 1);
    const h = r[p];
    if (!h) { res.writeHead(404); res.end(); return; }
    h(req, res);
  });
  srv.on('connection', () => { connections++; });
  await new Promise((ok) => srv.listen(port, '127.0.0.1', ok));
  return { srv, base, hits: (p) => hits.get(p) ?? 0, connections: () => connections,
    close: () => { srv.closeAllConnections(); return new Promise((ok) => srv.close(ok)); } };
}

/* A handler answering 200 application/json with body (an object, or a string as is). */
export const json = (body, headers = {}) => (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};
