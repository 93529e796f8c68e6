// site.mjs: the existing site a test puts behind postern (SPEC "Protecting an existing
// site"): an echo upstream for its API, and nginx.conf.example's protected locations
// pointed at it, for a stack's EXTRA_NGINX.
//
//   const up = await echoUpstream();
//   const stack = await startStack({ env: { EXTRA_NGINX: protectedLocations(up.port) } });
//   ... up.hits.length, (await res.json()).headers['x-oauth-user'] ...
//   await up.close();
//
// or the whole of it, with an MCP location as the protected resource:
//   const site = await protectedSite();   // {stack, up, port, mcp, stop}
import { createServer } from 'node:http';
import { startStack, freePort } from './stack.mjs';

/* The site's API (and MCP server): answers with the URL and request headers it received
 * as JSON, and records every request that reaches it in hits ({url, headers}). */
export async function echoUpstream() {
  const hits = [];
  const server = createServer((req, res) => {
    hits.push({ url: req.url, headers: req.headers });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, headers: req.headers }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { hits, port: server.address().port, close: () => new Promise((r) => server.close(r)) };
}

/* nginx.conf.example's protected locations, proxied to 127.0.0.1:upstream after the
 * auth_request check at base + /oauth/check (base defaults to @BASE@, which the stack
 * replaces with its BASE_PATH). The upstream gets X-OAuth-User, -Organization, -Scope and
 * -Client, and no Authorization; a refusal is @postern_401 / @postern_403 (the latter
 * passing the check's WWW-Authenticate on).
 *   /api/    any live token
 *   /write/  a token with the scope `write` (default posts:write; null: no such location)
 *   /mcp     only with mcpMetadata: its 401 names that RFC 9728 metadata URL
 *   /mcp-write  the same, for a token with the scope `write` only (its 403 names both) */
export function protectedLocations(upstream, { base = '@BASE@', write = 'posts:write', mcpMetadata } = {}) {
  const guard = (args) => `
    auth_request ${base}/oauth/check${args ? '?' + args : ''};
    auth_request_set $oauth_user  $upstream_http_x_oauth_user;
    auth_request_set $oauth_org   $upstream_http_x_oauth_organization;
    auth_request_set $oauth_scope $upstream_http_x_oauth_scope;
    auth_request_set $oauth_client $upstream_http_x_oauth_client;
    auth_request_set $oauth_www   $upstream_http_www_authenticate;
    error_page 401 = @postern_401;
    error_page 403 = @postern_403;
    proxy_set_header X-OAuth-User $oauth_user;
    proxy_set_header X-OAuth-Organization $oauth_org;
    proxy_set_header X-OAuth-Scope $oauth_scope;
    proxy_set_header X-OAuth-Client $oauth_client;
    proxy_set_header Authorization "";
    proxy_pass http://127.0.0.1:${upstream};`;
  return `
  location /api/ { ${guard('')} }
  ${write ? `location /write/ { ${guard(`scope=${write}`)} }` : ''}
  ${mcpMetadata ? `location /mcp { ${guard(`resource_metadata=${mcpMetadata}`)} }` : ''}
  ${mcpMetadata && write ? `location /mcp-write { ${guard(`scope=${write}&resource_metadata=${mcpMetadata}`)} }` : ''}
  location @postern_401 { default_type application/json; return 401 '{"error":"invalid_token"}'; }
  location @postern_403 { add_header WWW-Authenticate $oauth_www always; default_type application/json; return 403 '{"error":"insufficient_scope"}'; }
`;
}

/* A stack in front of an echo upstream with protectedLocations(), on a port chosen first
 * so that its /mcp location is the protected_resource (config adds lines to the
 * stack's configuration) and its 401 names that resource's RFC 9728 metadata; write
 * is as for protectedLocations. Returns {stack, up, port, mcp (the resource's URL),
 * stop()}. */
export async function protectedSite({ config = '', write } = {}) {
  const up = await echoUpstream();
  const port = await freePort();
  const mcp = `http://127.0.0.1:${port}/mcp`;
  let stack;
  try {
    stack = await startStack({ env: {
      PORT: String(port),
      EXTRA_CONFIG: [config, `protected_resource = ${mcp}`].filter(Boolean).join('\n'),
      EXTRA_NGINX: protectedLocations(up.port, { write, mcpMetadata: `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp` }),
    } });
  } catch (e) { await up.close(); throw e; }
  return { stack, up, port, mcp, stop: async () => { await stack.stop(); await up.close(); } };
}
