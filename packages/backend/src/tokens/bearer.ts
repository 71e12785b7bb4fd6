/**
 * The token of an `Authorization` header as @clerk/backend reads it (spec 4.6):
 * `Bearer <t>` (scheme case-sensitive) → `t`; a value without a space is the token
 * itself; any other scheme → no token.
 */
export function bearerToken(header: string | null): string | null {
  if (header === null) return null;
  const value = header.trim();
  if (value === '') return null;
  if (value.startsWith('Bearer ')) return value.slice('Bearer '.length).trim() || null;
  return value.includes(' ') ? null : value;
}
