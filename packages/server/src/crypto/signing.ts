import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { randomBase62 } from './random.js';

const generate = promisify(generateKeyPair);

export const JWT_ALGORITHM = 'RS256';

export interface GeneratedSigningKey {
  kid: string;
  publicJwk: PublicJwk;
  privatePkcs8: string;
}

export interface PublicJwk {
  kty: 'RSA';
  kid: string;
  alg: typeof JWT_ALGORITHM;
  use: 'sig';
  n: string;
  e: string;
}

/**
 * RSA-2048 with e = 65537: the published @clerk/backend reads a PEM `jwtKey` by stripping a
 * fixed 2048-bit SPKI prefix and assuming that exponent, so no other shape works there.
 */
export async function generateSigningKey(): Promise<GeneratedSigningKey> {
  const { publicKey, privateKey } = await generate('rsa', { modulusLength: 2048, publicExponent: 65537 });
  const kid = `key_${randomBase62(24)}`;
  return {
    kid,
    publicJwk: toPublicJwk(publicKey, kid),
    privatePkcs8: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function toPublicJwk(publicKey: KeyObject, kid: string): PublicJwk {
  const jwk = publicKey.export({ format: 'jwk' });
  return { kty: 'RSA', kid, alg: JWT_ALGORITHM, use: 'sig', n: String(jwk.n), e: String(jwk.e) };
}

export const publicKeyFromJwk = (jwk: PublicJwk): KeyObject => createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
export const privateKeyFromPem = (pem: string): KeyObject => createPrivateKey(pem);
export const publicKeyPem = (jwk: PublicJwk): string => publicKeyFromJwk(jwk).export({ type: 'spki', format: 'pem' }).toString();
