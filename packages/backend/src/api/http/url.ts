import { snakeCaseKeys } from './case.js';

/** Joins URL parts with exactly one slash between them. */
export function joinPaths(...parts: string[]): string {
  return parts
    .filter((p) => p !== '')
    .map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, '')))
    .join('/');
}

/**
 * A path segment from a caller-supplied ID. Empty, `.` and `..` are refused locally
 * (they would address another resource); everything else is percent-encoded.
 */
export function resourceId(id: string | undefined | null): string {
  if (typeof id !== 'string' || id === '' || id === '.' || id === '..') {
    throw new TypeError('A valid resource ID is required.');
  }
  return encodeURIComponent(id);
}

/**
 * Query string as @clerk/backend builds it: keys snake-cased, falsy values skipped
 * (so `revoked=false` and `offset=0` are never sent), arrays as repeated keys.
 */
export function queryString(params: Record<string, unknown> | undefined): string {
  if (!params) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(snakeCaseKeys(params))) {
    if (!value) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item) search.append(key, String(item));
    }
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
