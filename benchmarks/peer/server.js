// The peer of the benchmarks: panva's oidc-provider, configured as close to
// Comptexpert as its options allow for the measured flows:
//
//   - client_credentials, authorization_code (PKCE S256 required) and
//     refresh_token grants, refresh tokens rotated on every use (as ours);
//   - JWT access tokens (RFC 9068) through the resource indicators feature
//     (RFC 8707), one audience, ES256; ID tokens ES256 too;
//   - the same lifetimes as ours (access 300 s, code 60 s, ID 3600 s,
//     refresh 30 days, session 12 h);
//   - no devInteractions: the login and consent prompts are answered by the
//     tiny /interaction handler below, used only while the benchmark sets up
//     its SSO sessions, never in a measured flow;
//   - state in Redis (the adapter in redis_adapter.js) when REDIS is given,
//     so several worker processes share sessions, codes and refresh tokens
//     as our gunicorn workers share PostgreSQL; else the in-process memory
//     adapter, and then a single process (a code made by one worker would be
//     unknown to the others).
//
// Everything comes from the JSON file named by PEER_CONFIG, written by
// benchmarks/run.py (keys, client, ports), so both sides get the same values.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';

import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.env.PEER_CONFIG, 'utf8'));

async function start() {
  let adapter;
  if (config.redis_url) {
    const { makeRedisAdapter } = await import('./redis_adapter.js');
    adapter = makeRedisAdapter(config.redis_url, config.redis_prefix);
  }

  const resourceServer = {
    scope: config.resource_scope,
    audience: config.resource,
    accessTokenTTL: config.ttl.AccessToken,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'ES256' } },
  };

  const provider = new Provider(config.issuer, {
    adapter,
    clients: [config.client],
    jwks: { keys: [config.jwk] },
    cookies: { keys: config.cookie_keys },
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'locale'],
      email: ['email', 'email_verified'],
    },
    findAccount: async (ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, ...config.account }),
    }),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => config.resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resourceIndicator) => {
          if (resourceIndicator !== config.resource) throw new errors.InvalidTarget();
          return resourceServer;
        },
      },
    },
    pkce: { required: () => true },
    // Ours issues a refresh token to every client allowed the grant and
    // rotates it at every use (RFC 9700 §4.14.2); the peer's defaults ask
    // for offline_access and rotate only public clients' tokens.
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: config.ttl,
  });

  // Set-up only: answers the login and consent prompts for the one benchmark
  // account, the way a login page would after checking a password.
  provider.use(async (ctx, next) => {
    if (!ctx.path.startsWith('/interaction/')) {
      await next();
      return;
    }
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    let result;
    if (details.prompt.name === 'login') {
      result = { login: { accountId: config.account_id } };
    } else {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      grant.addOIDCScope(config.client_scope);
      grant.addResourceScope(config.resource, config.resource_scope);
      result = { consent: { grantId: await grant.save() } };
    }
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true }));
  });

  provider.listen(config.port, '127.0.0.1');
}

if (cluster.isPrimary && config.workers > 1) {
  // Node's cluster module: the primary accepts and hands connections to the
  // workers round-robin, as gunicorn's workers share one listening socket.
  let stopping = false;
  for (let i = 0; i < config.workers; i += 1) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      console.error(`peer worker ${worker.process.pid} died (${signal || code}); stopping`);
      process.exit(1);
    }
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 200);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  start().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
