// A relying site built on panva's openid-client (OpenID Certified RP library),
// used by the tests to check the provider against a client we did not write.
//
// It registers nothing: the test registers the clients and passes them in the
// environment. It serves, on 127.0.0.1:RP_PORT,
//
//   GET /start?mode=M[&prompt=P][&pkce=plain][&redirect_uri=U]
//       authorization request (PKCE S256, state, nonce), remembered behind a
//       cookie, then a redirect to the provider;
//   GET /callback
//       the authorization response, handled by the scenario named by mode
//       ("full" is the whole relying-site life; the others are attacks); the
//       report is shown as a table, in full as JSON in <pre id="report">, and
//       written to stdout (one "REPORT {...}" line);
//   GET /logged-out
//       the post_logout_redirect_uri.
//
// Environment: RP_ISSUER, RP_PORT, RP_CLIENT_ID, RP_CLIENT_SECRET (the site),
// RP_OTHER_CLIENT_ID, RP_OTHER_CLIENT_SECRET (another registered site, for
// cross-client attacks), RP_MODULES (folder holding node_modules/openid-client).
import http from 'node:http'
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const env = process.env
const client = await import(
  env.RP_MODULES
    ? pathToFileURL(createRequire(join(env.RP_MODULES, 'package.json')).resolve('openid-client')).href
    : 'openid-client'
)

const base = `http://127.0.0.1:${env.RP_PORT}`
const redirectUri = `${base}/callback`
const postLogoutRedirectUri = `${base}/logged-out`

// Every request the library sends, so that a report can show that a check
// refused a response before anything reached the provider.
const sent = []
function recordingFetch(url, options) {
  sent.push(`${options.method} ${new URL(url).pathname}`)
  return fetch(url, options)
}

async function configure(clientId, clientSecret) {
  // The issuer is plain http on loopback in the tests, hence allowInsecureRequests.
  const config = await client.discovery(
    new URL(env.RP_ISSUER), clientId, clientSecret, client.ClientSecretBasic(clientSecret),
    { execute: [client.allowInsecureRequests], timeout: 20 },
  )
  config[client.customFetch] = recordingFetch
  return config
}

const config = await configure(env.RP_CLIENT_ID, env.RP_CLIENT_SECRET)
const other = env.RP_OTHER_CLIENT_ID ? await configure(env.RP_OTHER_CLIENT_ID, env.RP_OTHER_CLIENT_SECRET) : null
// The same site with a wrong secret: what an attacker who knows a client_id has.
const impostor = await configure(env.RP_CLIENT_ID, 'not-the-secret-' + client.randomState())

async function describeError(err) {
  const out = { name: err.constructor?.name ?? err.name, message: err.message }
  for (const key of ['code', 'error', 'error_description', 'status']) {
    if (err[key] !== undefined) out[key] = err[key]
  }
  if (err instanceof client.WWWAuthenticateChallengeError) {
    // The library stops at the challenge (RFC 6750 §3, RFC 6749 §5.2 for a
    // failed Basic authentication); the body, unread, says which error it was.
    out.challenges = err.cause.map((c) => ({ scheme: c.scheme, parameters: c.parameters }))
    try {
      out.body = await err.response.clone().json()
    } catch {
      out.body = null
    }
  } else if (err.cause instanceof Error) {
    out.cause = err.cause.message
  }
  return out
}

// One scenario run: named steps in order, each with what the library
// returned (summarised) or the error it raised, and the requests it sent.
class Report {
  constructor(mode) {
    this.mode = mode
    this.steps = {}
  }

  async step(name, action, summarise = () => ({})) {
    const before = sent.length
    try {
      const value = await action()
      this.steps[name] = { ok: true, ...summarise(value), requests: sent.slice(before) }
      return value
    } catch (err) {
      this.steps[name] = { ok: false, error: await describeError(err), requests: sent.slice(before) }
      return undefined
    }
  }
}

const tokenSummary = (tokens) => ({
  token_type: tokens.token_type,
  scope: tokens.scope,
  expires_in: tokens.expires_in,
  access_token: tokens.access_token,
  refresh_token: tokens.refresh_token,
  id_token_claims: tokens.claims() ?? null,
})

function checksOf(flow, overrides = {}) {
  return {
    pkceCodeVerifier: flow.verifier,
    expectedState: flow.state,
    expectedNonce: flow.nonce,
    idTokenExpected: true,
    ...overrides,
  }
}

// -- scenarios -------------------------------------------------------------------

const scenarios = {
  // Discovery was done at start; then everything a relying site does with a
  // session, ending with the RP-initiated logout URL.
  async full(report, flow, url) {
    report.steps.discovery = { ok: true, metadata: config.serverMetadata() }
    const tokens = await report.step('authorization_code_grant',
      () => client.authorizationCodeGrant(config, url, checksOf(flow)), tokenSummary)
    if (!tokens) return
    const claims = tokens.claims()
    await report.step('userinfo', () => client.fetchUserInfo(config, tokens.access_token, claims.sub),
      (userinfo) => ({ userinfo }))
    const refreshed = await report.step('refresh',
      () => client.refreshTokenGrant(config, tokens.refresh_token), tokenSummary)
    if (!refreshed) return
    await report.step('introspection', () => client.tokenIntrospection(config, refreshed.access_token),
      (introspection) => ({ introspection }))
    await report.step('revocation',
      () => client.tokenRevocation(config, refreshed.access_token, { token_type_hint: 'access_token' }))
    await report.step('introspection_after_revocation',
      () => client.tokenIntrospection(config, refreshed.access_token), (introspection) => ({ introspection }))
    await report.step('userinfo_after_revocation',
      () => client.fetchUserInfo(config, refreshed.access_token, claims.sub), (userinfo) => ({ userinfo }))
    await report.step('refresh_token_introspection',
      () => client.tokenIntrospection(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' }),
      (introspection) => ({ introspection }))
    await report.step('refresh_token_revocation',
      () => client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' }))
    await report.step('refresh_after_revocation',
      () => client.refreshTokenGrant(config, refreshed.refresh_token), tokenSummary)
    await report.step('end_session_url', async () => client.buildEndSessionUrl(config, {
      id_token_hint: refreshed.id_token, post_logout_redirect_uri: postLogoutRedirectUri, state: flow.state,
    }), (endSession) => ({ url: endSession.href }))
    await report.step('end_session_url_unregistered', async () => client.buildEndSessionUrl(config, {
      id_token_hint: refreshed.id_token, post_logout_redirect_uri: 'https://attacker.example/bye',
    }), (endSession) => ({ url: endSession.href }))
  },

  // RFC 6749 §4.1.2: a code is used once; a replay revokes what it issued.
  async replay(report, flow, url) {
    const tokens = await report.step('authorization_code_grant',
      () => client.authorizationCodeGrant(config, url, checksOf(flow)), tokenSummary)
    if (!tokens) return
    await report.step('code_replay', () => client.authorizationCodeGrant(config, url, checksOf(flow)), tokenSummary)
    await report.step('introspection_of_first_access_token',
      () => client.tokenIntrospection(config, tokens.access_token), (introspection) => ({ introspection }))
    await report.step('refresh_with_first_refresh_token',
      () => client.refreshTokenGrant(config, tokens.refresh_token), tokenSummary)
  },

  // CSRF on the redirect URI: a response whose state is not this session's.
  async state(report, flow, url) {
    await report.step('wrong_state',
      () => client.authorizationCodeGrant(config, url, checksOf(flow, { expectedState: client.randomState() })),
      tokenSummary)
    await report.step('right_state', () => client.authorizationCodeGrant(config, url, checksOf(flow)), tokenSummary)
  },

  // RFC 7636: a stolen code is useless without the verifier.
  async pkce(report, flow, url) {
    await report.step('wrong_verifier', () => client.authorizationCodeGrant(
      config, url, checksOf(flow, { pkceCodeVerifier: client.randomPKCECodeVerifier() })), tokenSummary)
    await report.step('right_verifier_after',
      () => client.authorizationCodeGrant(config, url, checksOf(flow)), tokenSummary)
  },

  // RFC 9700 §4.14.2: refresh tokens rotate; reusing a rotated one revokes the family.
  async refresh_reuse(report, flow, url) {
    const tokens = await report.step('authorization_code_grant',
      () => client.authorizationCodeGrant(config, url, checksOf(flow)), tokenSummary)
    if (!tokens) return
    const refreshed = await report.step('refresh', () => client.refreshTokenGrant(config, tokens.refresh_token),
      tokenSummary)
    if (!refreshed) return
    await report.step('reuse_of_rotated_refresh_token',
      () => client.refreshTokenGrant(config, tokens.refresh_token), tokenSummary)
    await report.step('refresh_with_latest_refresh_token',
      () => client.refreshTokenGrant(config, refreshed.refresh_token), tokenSummary)
    await report.step('introspection_of_latest_access_token',
      () => client.tokenIntrospection(config, refreshed.access_token), (introspection) => ({ introspection }))
  },

  // Code and token substitution: another registered site presents our credentials.
  async other_client(report, flow, url) {
    await report.step('code_at_other_client',
      () => client.authorizationCodeGrant(other, url, checksOf(flow)), tokenSummary)
    const tokens = await report.step('authorization_code_grant',
      () => client.authorizationCodeGrant(config, url, checksOf(flow)), tokenSummary)
    if (!tokens) return
    await report.step('refresh_at_other_client', () => client.refreshTokenGrant(other, tokens.refresh_token),
      tokenSummary)
    await report.step('revocation_by_other_client',
      () => client.tokenRevocation(other, tokens.access_token, { token_type_hint: 'access_token' }))
    await report.step('introspection_after_other_client',
      () => client.tokenIntrospection(config, tokens.access_token), (introspection) => ({ introspection }))
    await report.step('refresh_by_owner', () => client.refreshTokenGrant(config, tokens.refresh_token),
      tokenSummary)
  },

  // Client authentication: the client_id alone opens nothing.
  async wrong_secret(report, flow, url) {
    await report.step('code_with_wrong_secret',
      () => client.authorizationCodeGrant(impostor, url, checksOf(flow)), tokenSummary)
    const tokens = await report.step('authorization_code_grant',
      () => client.authorizationCodeGrant(config, url, checksOf(flow)), tokenSummary)
    if (!tokens) return
    await report.step('introspection_with_wrong_secret',
      () => client.tokenIntrospection(impostor, tokens.access_token), (introspection) => ({ introspection }))
    await report.step('revocation_with_wrong_secret',
      () => client.tokenRevocation(impostor, tokens.access_token, { token_type_hint: 'access_token' }))
    await report.step('refresh_with_wrong_secret',
      () => client.refreshTokenGrant(impostor, tokens.refresh_token), tokenSummary)
    await report.step('introspection', () => client.tokenIntrospection(config, tokens.access_token),
      (introspection) => ({ introspection }))
  },

  // RFC 9207 mix-up defence: a response claiming another issuer, or none.
  async mix_up(report, flow, url) {
    const forged = new URL(url)
    forged.searchParams.set('iss', 'https://attacker.example')
    await report.step('forged_iss', () => client.authorizationCodeGrant(config, forged, checksOf(flow)),
      tokenSummary)
    const missing = new URL(url)
    missing.searchParams.delete('iss')
    await report.step('missing_iss', () => client.authorizationCodeGrant(config, missing, checksOf(flow)),
      tokenSummary)
    await report.step('genuine', () => client.authorizationCodeGrant(config, url, checksOf(flow)), tokenSummary)
  },

  // An ID token obtained for another login (another nonce) is not accepted.
  async nonce(report, flow, url) {
    await report.step('wrong_nonce', () => client.authorizationCodeGrant(
      config, url, checksOf(flow, { expectedNonce: client.randomNonce() })), tokenSummary)
  },

  // An error authorization response (login_required, invalid_request, access_denied...).
  async error(report, flow, url) {
    await report.step('authorization_code_grant',
      () => client.authorizationCodeGrant(config, url, checksOf(flow)), tokenSummary)
  },
}

// -- HTTP ------------------------------------------------------------------------

const flows = new Map()

function cookieOf(req, name) {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=')
    if (key === name) return value.join('=')
  }
  return undefined
}

const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function page(res, status, title, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
  res.end(`<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>`
    + `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`)
}

async function start(req, res, url) {
  const mode = url.searchParams.get('mode') ?? 'full'
  if (!scenarios[mode]) return page(res, 400, 'Scénario inconnu', '')
  const flow = {
    mode,
    state: client.randomState(),
    nonce: client.randomNonce(),
    verifier: client.randomPKCECodeVerifier(),
  }
  const parameters = {
    redirect_uri: url.searchParams.get('redirect_uri') ?? redirectUri,
    scope: 'openid profile email',
    state: flow.state,
    nonce: flow.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
    code_challenge_method: 'S256',
  }
  if (url.searchParams.get('pkce') === 'plain') {
    parameters.code_challenge = flow.verifier
    parameters.code_challenge_method = 'plain'
  }
  for (const name of ['prompt', 'max_age', 'login_hint']) {
    if (url.searchParams.has(name)) parameters[name] = url.searchParams.get(name)
  }
  const id = randomUUID()
  flows.set(id, flow)
  res.writeHead(302, {
    location: client.buildAuthorizationUrl(config, parameters).href,
    'set-cookie': `rp_flow=${id}; Path=/; HttpOnly; SameSite=Lax`,
  })
  res.end()
}

async function callback(req, res, url) {
  const flow = flows.get(cookieOf(req, 'rp_flow'))
  if (!flow) return page(res, 400, 'Aucune connexion en cours', '')
  const report = new Report(flow.mode)
  await scenarios[flow.mode](report, flow, url)
  const json = JSON.stringify(report)
  process.stdout.write(`REPORT ${json}\n`)
  const logout = report.steps.end_session_url?.ok
    ? `<p><a id="logout" href="${escapeHtml(report.steps.end_session_url.url)}">Se déconnecter</a></p>` : ''
  // A table for the person looking at the screenshot; the whole report for the test.
  const rows = Object.entries(report.steps).map(([name, step]) => {
    const outcome = step.ok ? 'ok' : [step.error.name, step.error.error ?? step.error.body?.error ?? step.error.code,
      step.error.status, step.error.cause].filter(Boolean).join(' · ')
    return `<tr><th scope="row">${escapeHtml(name)}</th><td>${escapeHtml(outcome)}</td>`
      + `<td>${escapeHtml((step.requests ?? []).join(', '))}</td></tr>`
  }).join('')
  page(res, 200, `Rapport openid-client : ${flow.mode}`,
    '<table border="1" cellpadding="4"><thead><tr><th>étape</th><th>résultat</th><th>requêtes</th></tr></thead>'
    + `<tbody>${rows}</tbody></table>${logout}`
    + `<details><summary>Rapport complet</summary><pre id="report">${escapeHtml(JSON.stringify(report, null, 2))}`
    + '</pre></details>')
}

function loggedOut(req, res, url) {
  page(res, 200, 'Déconnecté du site partenaire',
    `<p>state : <output id="state">${escapeHtml(url.searchParams.get('state') ?? '')}</output></p>`)
}

const routes = { '/start': start, '/callback': callback, '/logged-out': loggedOut }

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, base)
  const route = req.method === 'GET' ? routes[url.pathname] : undefined
  try {
    if (!route) return page(res, 404, 'Introuvable', '')
    await route(req, res, url)
  } catch (err) {
    process.stderr.write(`${err.stack}\n`)
    if (!res.headersSent) page(res, 500, 'Erreur du site partenaire', `<pre>${escapeHtml(String(err.stack))}</pre>`)
  }
})

server.listen(Number(env.RP_PORT), '127.0.0.1', () => {
  process.stdout.write(`READY ${base}\n`)
})

// The browser keeps connections open; a test ending stops us at once.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0))
}
