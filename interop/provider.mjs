// An OpenID Provider for the interop suite: panva's oidc-provider, configured
// as a deployment would be, issuing RFC 9068 JWT access tokens with Verdocs
// claims. Run by the Go driver (interop/main.go), never by hand in CI:
//
//	node interop/provider.mjs --port 0 --keys /tmp/x/keys-1.json --audience https://api.interop.test
//
// --port 0 picks a free loopback port; --keys names the private JWK set: it
// is generated (RSA 2048, P-256, P-384, P-521, Ed25519) when the file does
// not exist, so a restart with the same file serves the same keys and one
// with a new file is a key rotation. Once listening it prints one JSON line
// on standard output: {"ready":true,"issuer":"http://127.0.0.1:PORT"}.
//
// Resource servers (RFC 8707 resource indicators), one per algorithm and a
// short-lived one, all with the audience given by --audience, and another
// API:
//
//	https://api.interop.test/<ALG>          JWT access tokens signed with ALG, valid 10 minutes
//	https://api.interop.test/short-lived    ES256, valid 1 second
//	https://other.interop.test/             audience https://other.interop.test (another API)
//
// Clients:
//
//	svc-owner, svc-member   client_credentials, client_secret_basic (secret: <id>-secret)
//	web                     public client, authorization code with PKCE (S256), refresh tokens;
//	                        redirect_uri http://127.0.0.1/cb
//
// Accounts for the authorization code flow are any login name; alice and
// the svc-owner client get the owner role, every other one the member role
// (see verdocsClaims). The login and consent pages are oidc-provider's
// devInteractions, which a client without a browser can post to.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const RESOURCE_BASE = 'https://api.interop.test/';
const SHORT_RESOURCE = 'https://api.interop.test/short-lived';
const OTHER_RESOURCE = 'https://other.interop.test/';
const OTHER_AUDIENCE = 'https://other.interop.test';
const NS = 'https://verdocs.com/';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    keys: { type: 'string' },
    audience: { type: 'string', default: 'https://api.interop.test' },
  },
});
if (!args.keys) {
  console.error('provider: --keys FILE is required');
  process.exit(2);
}

// The signing keys: one RSA key (no alg: RS256…PS512), one per NIST curve,
// one Ed25519 key (no alg: both "EdDSA" and "Ed25519"). oidc-provider
// computes each kid (a SHA-256 of the public members).
function loadOrGenerateKeys(file) {
  if (existsSync(file)) {
    return JSON.parse(readFileSync(file, 'utf8'));
  }
  const jwk = ([type, options]) => generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' });
  const keys = [
    ['rsa', { modulusLength: 2048 }],
    ['ec', { namedCurve: 'P-256' }],
    ['ec', { namedCurve: 'P-384' }],
    ['ec', { namedCurve: 'P-521' }],
    ['ed25519', {}],
  ].map(jwk);
  const set = { keys };
  writeFileSync(file, JSON.stringify(set), { mode: 0o600 });
  return set;
}

// verdocsClaims are the custom claims of a subject (an account id or, for
// client credentials, the client id).
function verdocsClaims(subject) {
  const owner = subject === 'alice' || subject === 'svc-owner';
  return {
    [`${NS}email`]: `${subject}@interop.test`,
    [`${NS}email_verified`]: true,
    [`${NS}roles`]: owner ? ['owner'] : ['member'],
    [`${NS}permissions`]: owner ? ['template:member:read', 'org:view'] : ['org:view'],
    [`${NS}profile_id`]: `profile-${subject}`,
    [`${NS}organization_id`]: 'org-interop',
    [`${NS}plans`]: owner ? ['org:standard'] : [],
  };
}

function resourceServers(audience) {
  const servers = new Map();
  for (const alg of ALGS) {
    servers.set(RESOURCE_BASE + alg, {
      scope: 'api:read',
      audience,
      accessTokenTTL: 600,
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg } },
    });
  }
  // A token that expires one second after it is issued.
  servers.set(SHORT_RESOURCE, {
    scope: 'api:read',
    audience,
    accessTokenTTL: 1,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'ES256' } },
  });
  servers.set(OTHER_RESOURCE, {
    scope: 'api:read',
    audience: OTHER_AUDIENCE,
    accessTokenTTL: 600,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'ES256' } },
  });
  return servers;
}

const jwks = loadOrGenerateKeys(args.keys);
const servers = resourceServers(args.audience);

const server = createServer();
server.on('error', (err) => {
  console.error(`provider: ${err.message}`);
  process.exit(1);
});
server.listen(Number(args.port), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    jwks,
    clients: [
      ...['svc-owner', 'svc-member'].map((id) => ({
        client_id: id,
        client_secret: `${id}-secret`,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      })),
      {
        client_id: 'web',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/cb'],
      },
    ],
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx, client, oneOf) => oneOf,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resourceIndicator) => {
          const info = servers.get(resourceIndicator);
          if (!info) {
            throw new Provider.errors.InvalidTarget();
          }
          return info;
        },
      },
    },
    findAccount: (ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: id, email: `${id}@interop.test` }),
    }),
    extraTokenClaims: (ctx, token) => verdocsClaims(token.accountId ?? token.clientId),
    // A refresh token for every client allowed the grant, without the
    // offline_access scope dance.
    issueRefreshToken: (ctx, client) => client.grantTypeAllowed('refresh_token'),
    cookies: { keys: ['interop-cookie-key-not-a-secret'] },
  });
  for (const event of ['server_error', 'grant.error', 'authorization.error', 'jwks.error']) {
    provider.on(event, (ctx, err) => console.error(`provider: ${event}: ${err?.message} ${err?.error_description ?? ''}`));
  }
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ ready: true, issuer })}\n`);
});
