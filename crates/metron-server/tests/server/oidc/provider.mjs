// A real OpenID provider for Metron's sign-in tests: npm's oidc-provider (the certified
// reference implementation) on 127.0.0.1, with its own RSA key, one confidential client, PKCE
// required, and a login page of its own (any email signs in as itself; consent is given for the
// first-party client). Its account claims follow the email: `unverified...` has
// email_verified false, `boss...` is in the group `it-admins`.
//
// For the refused cases the tests ask, through POST /test/mode with one word, that the next ID
// token the token endpoint answers be changed and signed again: `wrong_audience`, `expired`,
// `bad_signature` (signed by another key under the same key id), `replay_nonce` (the previous
// sign-in's ID token instead), `rotated` (signed by a new key, which /jwks then lists too).
//
// Usage: node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
// Prints "listening on http://127.0.0.1:PORT" when ready.

import http from 'node:http';
import * as jose from 'jose';
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

async function newKey(kid) {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}
const publicOf = ({ kty, n, e, kid, alg, use }) => ({ kty, n, e, kid, alg, use });

const key = await newKey('k1');
let rotated = null;
let mode = 'none';
let previousIdToken = null;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  jwks: { keys: [key] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  scopes: ['openid', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'groups'],
  },
  // The claims of the scopes in the ID token itself (as Keycloak, Google and Authentik do),
  // not only at the userinfo endpoint.
  conformIdTokenClaims: false,
  cookies: { keys: ['metron-test-only'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: `sub-${id}`,
          email: id,
          email_verified: !id.startsWith('unverified'),
          name: id.split('@')[0].replace(/^./, (c) => c.toUpperCase()),
          groups: id.startsWith('boss') ? ['it-admins', 'staff'] : ['staff'],
        };
      },
    };
  },
  // First-party client: consent is given without asking.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'groups']);
    await grant.save();
    return grant;
  },
});

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString();
}

// The next ID token, changed as `mode` says (once).
async function tamper(body) {
  const json = JSON.parse(body);
  if (!json.id_token) return body;
  const previous = previousIdToken;
  previousIdToken = json.id_token;
  const m = mode;
  mode = 'none';
  if (m === 'none') return body;
  if (m === 'replay_nonce') {
    json.id_token = previous;
    return JSON.stringify(json);
  }
  const claims = jose.decodeJwt(json.id_token);
  const now = Math.floor(Date.now() / 1000);
  if (m === 'wrong_audience') claims.aud = 'another-client';
  if (m === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  let signer = key;
  if (m === 'bad_signature') signer = await newKey('k1');
  if (m === 'rotated') signer = rotated = await newKey('k2');
  json.id_token = await new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: signer.kid })
    .sign(await jose.importJWK(signer, 'RS256'));
  return JSON.stringify(json);
}

const handle = provider.callback();

http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (req.method === 'POST' && url.pathname === '/test/mode') {
      mode = (await readBody(req)).trim();
      res.end(`mode ${mode}\n`);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/jwks' && rotated) {
      res.setHeader('content-type', 'application/jwk-set+json');
      res.end(JSON.stringify({ keys: [publicOf(key), publicOf(rotated)] }));
      return;
    }
    const login = url.pathname.match(/^\/interaction\/([\w-]+)(\/login)?$/);
    if (login && req.method === 'GET' && !login[2]) {
      const details = await provider.interactionDetails(req, res);
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><title>Test identity provider</title>
        <h1>Test identity provider</h1><p>Signing in to ${escape(details.params.client_id)}</p>
        <form method="post" action="/interaction/${escape(details.uid)}/login">
        <label>Email <input id="login" name="login" autofocus></label>
        <button id="sign-in" type="submit">Sign in</button></form>`);
      return;
    }
    if (login && req.method === 'POST' && login[2]) {
      const form = new URLSearchParams(await readBody(req));
      await provider.interactionFinished(req, res, {
        login: { accountId: form.get('login') },
      }, { mergeWithLastSubmission: false });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/token') {
      // Collect the answer, change it, then send it.
      const chunks = [];
      const end = res.end.bind(res);
      res.write = (chunk) => { chunks.push(Buffer.from(chunk)); return true; };
      res.end = (chunk) => {
        if (chunk) chunks.push(Buffer.from(chunk));
        tamper(Buffer.concat(chunks).toString()).then((body) => {
          res.setHeader('content-length', Buffer.byteLength(body));
          end(body);
        }, (e) => { res.statusCode = 500; end(String(e)); });
        return res;
      };
    }
    handle(req, res);
  } catch (e) {
    res.statusCode = 500;
    res.end(String(e && e.stack || e));
  }
}).listen(Number(port), '127.0.0.1', () => console.log(`listening on ${issuer}`));
