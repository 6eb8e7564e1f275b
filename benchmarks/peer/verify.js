// The peer's ecosystem verifying one of our access tokens: jose's jwtVerify
// with the checks our relying-party library makes (algorithm list, typ,
// issuer, audience, expiry, required claims), the key imported once as a
// relying site caches it. Prints {"ops": N, "seconds": S} as JSON.
//
//   node verify.js <input.json> <seconds>
//   input.json: {"token": "...", "jwk": {...public JWK...}, "issuer": "...", "audience": "..."}
import { readFileSync } from 'node:fs';

import { importJWK, jwtVerify } from 'jose';

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const seconds = Number(process.argv[3] || '5');
const key = await importJWK(input.jwk, input.jwk.alg || 'ES256');
const options = {
  algorithms: ['ES256'],
  typ: 'at+jwt',
  issuer: input.issuer,
  audience: input.audience,
  requiredClaims: ['exp', 'iat', 'iss', 'aud', 'sub', 'jti', 'client_id'],
  clockTolerance: 30,
};

// One call first: a token this process refuses is a set-up error, not a rate.
await jwtVerify(input.token, key, options);

let ops = 0;
const started = process.hrtime.bigint();
const deadline = started + BigInt(Math.round(seconds * 1e9));
let now = started;
while (now < deadline) {
  for (let i = 0; i < 200; i += 1) {
    await jwtVerify(input.token, key, options);
  }
  ops += 200;
  now = process.hrtime.bigint();
}
console.log(JSON.stringify({ ops, seconds: Number(now - started) / 1e9 }));
