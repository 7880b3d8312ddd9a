// A real OpenID Connect provider for the server's sign-in tests: npm's certified
// `oidc-provider` with its development login and consent forms, one registered client and a
// few test accounts. The Rust tests (tests/it/oidc.rs) start it, read the issuer from the
// first line it prints, and drive its forms over HTTP like a browser would.
//
// Configuration comes from the environment:
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET  the client the server under test signs in as
//   OIDC_REDIRECT_URI                   the server's callback, registered for that client
//
// It listens on a free port of 127.0.0.1 and exits when its standard input closes, so it
// never outlives the test that started it.

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`provider.mjs: set ${name}`);
    process.exit(2);
  }
  return value;
}

const clientId = required('OIDC_CLIENT_ID');
const clientSecret = required('OIDC_CLIENT_SECRET');
const redirectUri = required('OIDC_REDIRECT_URI');

// The people who can sign in. The development login form takes any password; the login
// names the account. `grace` has no preferred_username, so her handle comes from her email.
const accounts = {
  ada: {
    sub: 'acme-0001',
    email: 'ada.lovelace@acme.example',
    email_verified: true,
    name: 'Ada Lovelace',
    preferred_username: 'ada',
  },
  grace: {
    sub: 'acme-0002',
    email: 'grace.hopper@acme.example',
    email_verified: true,
    name: 'Grace Hopper',
  },
  mallory: {
    sub: 'other-0003',
    email: 'mallory@elsewhere.example',
    email_verified: true,
    name: 'Mallory Example',
    preferred_username: 'mallory',
  },
};

// A fresh signing key per run: the server must fetch it from the provider's JWKS.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    // Every client must use PKCE here, so the tests prove the server sends it.
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    // The development login form names the account by its login; the subject the client
    // sees is the account's own `sub`, as with a real directory.
    async findAccount(_ctx, login) {
      const account = accounts[login];
      if (!account) {
        return undefined;
      }
      return {
        accountId: login,
        async claims() {
          return { ...account };
        },
      };
    },
  });
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer }));
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
