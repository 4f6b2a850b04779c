// An independent OpenID provider for Coffre's interoperability tests: panva's
// oidc-provider (OpenID-certified), configured from a JSON file the test writes.
//
//   node provider.mjs config.json
//
// config: { issuer, port, keys: [private JWKs, the first signs], resource, audience,
//           scopes (what the resource server accepts), alg, clients: [...],
//           accounts: { id: claims put in that account's access tokens },
//           client_claims: claims put in client credentials access tokens }
// Access tokens for `resource` are JWTs (RFC 9068) signed with `alg`. Prints "ready"
// once listening. Development interactions (a login form taking any account id) are
// on, so a test can drive the authorization code flow with PKCE over plain HTTP.
import { readFileSync } from 'node:fs';

import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const provider = new Provider(config.issuer, {
  jwks: { keys: config.keys },
  clients: config.clients,
  pkce: { required: () => true },
  // offline_access: refresh tokens (the web login's and `coffre login`'s)
  scopes: ['openid', 'offline_access', ...config.scopes.split(' ')],
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== config.resource) throw new errors.InvalidTarget();
        return {
          scope: config.scopes,
          audience: config.audience,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: config.alg } },
        };
      },
    },
  },
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id }),
  }),
  // the account's claims (RPPS, profession...) in its access tokens, as PSC's carry them;
  // a client's own token (client credentials) gets `client_claims`
  extraTokenClaims: (_ctx, token) => (
    token.accountId ? config.accounts[token.accountId] : config.client_claims
  ),
});
provider.proxy = false;

provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write('ready\n');
});
