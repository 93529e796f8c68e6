// mcp-sdk.test.mjs: the official MCP TypeScript SDK's client (npm @modelcontextprotocol/sdk)
// against a small MCP server behind nginx's auth_request (README "AI agents and MCP
// servers", nginx.conf.example's /mcp): from the 401 it finds the RFC 9728 metadata and
// postern, registers itself (RFC 7591) once with token_endpoint_auth_method "none" and
// once with "client_secret_post" (what the SDK's own example client asks for), and once
// uses a Client ID Metadata Document instead (the SDK's clientMetadataUrl, served by the
// test over https on loopback, tests/lib/cimd.mjs); a person approves on the consent
// page, and the tool call goes through with the user's identity.
//
// The SDK is not in tests/package.json yet: the test skips unless it resolves from
// tests/node_modules or from MCP_SDK_DIR (a folder with node_modules/@modelcontextprotocol/sdk).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startStack, freePort } from '../lib/stack.mjs';
import { protectedLocations } from '../lib/site.mjs';
import { Session, addUser, consentForm } from '../lib/client.mjs';
import { makeCert, docServer, json } from '../lib/cimd.mjs';

/* Imports a module of the SDK (e.g. 'client/index.js'), or null when it is not installed. */
async function sdk(sub) {
  try {
    return await import(`@modelcontextprotocol/sdk/${sub}`);
  } catch { /* not in tests/node_modules */ }
  const dir = process.env.MCP_SDK_DIR;
  const file = dir && path.join(dir, 'node_modules/@modelcontextprotocol/sdk/dist/esm', sub);
  return file && existsSync(file) ? import(pathToFileURL(file).href) : null;
}
const SDK = {
  client: await sdk('client/index.js'),
  http: await sdk('client/streamableHttp.js'),
  auth: await sdk('client/auth.js'),
  server: await sdk('server/mcp.js'),
  serverHttp: await sdk('server/streamableHttp.js'),
};
const missing = Object.values(SDK).some((m) => m === null)
  && 'the MCP TypeScript SDK (npm @modelcontextprotocol/sdk) is not installed in tests/node_modules (or MCP_SDK_DIR)';

/* A stateless MCP server on loopback with one tool, "whoami", answering with the
 * X-OAuth-User and X-OAuth-Client headers nginx set from the check. */
async function mcpServer() {
  const calls = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    const mcp = new SDK.server.McpServer({ name: 'postern-test', version: '1.0.0' });
    mcp.registerTool('whoami', { description: 'Who is calling' }, async (extra) => {
      const h = extra?.requestInfo?.headers ?? req.headers;
      calls.push({ user: h['x-oauth-user'], client: h['x-oauth-client'], authorization: h.authorization });
      return { content: [{ type: 'text', text: `${h['x-oauth-user']} via ${h['x-oauth-client']}` }] };
    });
    const transport = new SDK.serverHttp.StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => { transport.close(); mcp.close(); });
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { calls, port: server.address().port, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}

/* The SDK's OAuthClientProvider, kept in memory; redirectToAuthorization only records the
 * URL: the test plays the person's browser. */
class Provider {
  constructor(authMethod, redirectUrl) {
    this.authMethod = authMethod;
    this.redirectUrl = redirectUrl;
    this.info = undefined;
    this.saved = undefined;
    this.verifier = undefined;
    this.authorizationUrl = undefined;
  }
  get clientMetadata() {
    return { client_name: `SDK agent (${this.authMethod})`, redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: this.authMethod };
  }
  clientInformation() { return this.info; }
  saveClientInformation(info) { this.info = info; }
  tokens() { return this.saved; }
  saveTokens(t) { this.saved = t; }
  redirectToAuthorization(url) { this.authorizationUrl = url; }
  saveCodeVerifier(v) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
}

/* The same with a Client ID Metadata Document: the SDK uses clientMetadataUrl as its
 * client_id, without registering, when postern's metadata says
 * client_id_metadata_document_supported. */
class DocumentProvider extends Provider {
  constructor(url, redirectUrl) {
    super('none', redirectUrl);
    this.documentUrl = url;
  }
  get clientMetadataUrl() { return this.documentUrl; }
}

describe('the MCP TypeScript SDK through postern to an MCP server behind auth_request', { skip: missing }, () => {
  let stack, mcp, port, person, dir, docs, docRedirect;
  before(async () => {
    mcp = await mcpServer();
    port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    dir = mkdtempSync(path.join(tmpdir(), 'mcp-cimd-'));
    const tls = makeCert(dir);
    const docPort = await freePort();
    docRedirect = `http://127.0.0.1:${await freePort()}/callback`;
    docs = await docServer(tls, docPort, (base) => ({
      '/agent.json': (req, res) => json({ client_id: `${base}/agent.json`, client_name: 'SDK agent (metadata document)',
        redirect_uris: [docRedirect], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
        token_endpoint_auth_method: 'none' })(req, res),
    }));
    stack = await startStack({ env: {
      PORT: String(port), SEED: '0', REGISTER_RATE: '1000r/s',
      EXTRA_CONFIG: [`registration = on`, `protected_resource = ${url}/mcp`, 'client_metadata_documents = on',
        `client_metadata_allow_hosts = 127.0.0.1:${docPort}`, `client_metadata_ca_file = ${tls.certPath}`].join('\n'),
      EXTRA_NGINX: protectedLocations(mcp.port, { write: null, mcpMetadata: `${url}/.well-known/oauth-protected-resource/mcp` }),
    } });
    const pw = addUser(stack, 'alice');
    person = new Session(stack.url); await person.signIn('alice', pw);
  });
  after(async () => {
    await stack?.stop(); await mcp?.close(); await docs?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const method of ['none', 'client_secret_post', 'document']) {
    const title = method === 'document' ? 'uses a Client ID Metadata Document, is approved, and calls a tool'
      : `registers with ${method}, is approved, and calls a tool`;
    test(title, async () => {
      const mcpUrl = new URL(`http://127.0.0.1:${port}/mcp`);
      const registered = Number(stack.sql(`SELECT count(*) FROM apps WHERE registered = 1`).trim());
      const provider = method === 'document' ? new DocumentProvider(`${docs.base}/agent.json`, docRedirect)
        : new Provider(method, `http://127.0.0.1:${await freePort()}/callback`);
      const connect = async () => {
        const client = new SDK.client.Client({ name: 'postern-test-client', version: '1.0.0' });
        const transport = new SDK.http.StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
        await client.connect(transport);
        return { client, transport };
      };
      // the first try: 401, discovery, registration, and the authorization URL
      let first;
      await assert.rejects(async () => { first = await connect(); }, (e) => e instanceof SDK.auth.UnauthorizedError || /Unauthorized/i.test(e.message));
      if (method === 'document') {
        assert.equal(provider.info?.client_id, `${docs.base}/agent.json`, 'the document URL is the client_id');
        assert.equal(provider.info.client_secret, undefined);
        assert.equal(Number(stack.sql(`SELECT count(*) FROM apps WHERE registered = 1`).trim()), registered, 'no registration');
      } else {
        assert.ok(provider.info?.client_id, 'the SDK registered a client');
        assert.equal(provider.info.token_endpoint_auth_method, method);
        if (method === 'none') assert.equal(provider.info.client_secret, undefined);
        else assert.match(provider.info.client_secret, /^pcs_[A-Za-z0-9]{48}$/);
      }
      assert.ok(provider.authorizationUrl, 'the SDK asked to send the person to postern');
      const az = provider.authorizationUrl;
      assert.equal(az.origin + az.pathname, `${stack.url}/oauth/authorize`);
      assert.equal(az.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(az.searchParams.get('resource'), mcpUrl.href);

      // the person's browser: the consent page, approved
      const page = await person.get(az.pathname + az.search);
      assert.equal(page.status, 200, page.text_.slice(0, 300));
      if (method === 'document') {
        assert.match(page.text_, new RegExp(`Identified by <span class="host">${new URL(docs.base).host.replace(/\./g, '\\.')}</span>`));
        assert.equal(docs.hits('/agent.json'), 1, 'postern fetched the document');
      } else assert.match(page.text_, /Registered itself/);
      const done = await person.post('/oauth/consent', { form: { ...consentForm(page.text_), action: 'approve' } });
      assert.equal(done.status, 302, done.text_.slice(0, 300));
      const back = new URL(done.headers.get('location'));
      assert.equal(back.origin + back.pathname, provider.redirectUrl);
      const code = back.searchParams.get('code');
      assert.match(code, /^pac_/);
      assert.ok(back.searchParams.get('iss'), 'RFC 9207 iss');

      // the SDK redeems the code with its auth method, then the tool call goes through
      await new SDK.http.StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }).finishAuth(code);
      assert.match(provider.saved?.access_token ?? '', /^pat_/);
      const { client } = await connect();
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      assert.equal(result.content[0].text, `alice via ${provider.info.client_id}`);
      const last = mcp.calls.at(-1);
      assert.equal(last.user, 'alice');
      assert.equal(last.authorization, undefined, 'the token stopped at nginx');
      await client.close();
      void first;
    });
  }
});
