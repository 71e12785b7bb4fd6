/** The only algorithms accepted for M2M JWTs: RSA PKCS#1 v1.5, as @clerk/backend (spec 3.4). */
export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512'] as const;
export type AllowedAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];

export const isAllowedAlgorithm = (alg: unknown): alg is AllowedAlgorithm =>
  typeof alg === 'string' && (ALLOWED_ALGORITHMS as readonly string[]).includes(alg);
