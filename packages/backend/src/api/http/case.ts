const snakeCase = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * Snake-cases the top-level keys only: nested values such as custom `claims` are user
 * data and travel verbatim (spec 4.2).
 */
export function snakeCaseKeys(params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) out[snakeCase(key)] = value;
  return out;
}
