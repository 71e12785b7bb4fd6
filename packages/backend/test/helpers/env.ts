import { afterAll, beforeAll } from 'vitest';

/** The variables the SDK reads. */
export const SDK_ENV = ['CLERK_SECRET_KEY', 'CLERK_MACHINE_SECRET_KEY', 'CLERK_JWT_KEY', 'CLERK_API_URL', 'TESSERA_API_URL'] as const;

/** Sets (or, for undefined, deletes) variables; returns a function that puts the old values back. */
export function setEnv(values: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]));
  const apply = (entries: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(entries)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  apply(values);
  return () => apply(saved);
}

/** Keeps a developer's own CLERK_* / TESSERA_* variables out of a test file. */
export function isolateSdkEnv(): void {
  let restore = () => {};
  beforeAll(() => {
    restore = setEnv(Object.fromEntries(SDK_ENV.map((key) => [key, undefined])));
  });
  afterAll(() => restore());
}
