type EnvHolder = { process?: { env?: Record<string, string | undefined> } };

/**
 * A variable from `process.env` when the runtime has one (Node, Bun, Deno's Node
 * compatibility); `undefined` elsewhere (Workers, browsers). Empty strings count as unset.
 */
export function readEnv(name: string): string | undefined {
  let value: string | undefined;
  try {
    value = (globalThis as EnvHolder).process?.env?.[name];
  } catch {
    // Deno without --allow-env throws on access: treat as unset.
    return undefined;
  }
  return value === undefined || value === '' ? undefined : value;
}
