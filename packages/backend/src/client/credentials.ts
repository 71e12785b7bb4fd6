/** The keys and verification settings a call works with: per-call values over the client's. */
export interface Credentials {
  secretKey: string | undefined;
  machineSecretKey: string | undefined;
  jwtKey: string | undefined;
  machineId: string | undefined;
  clockSkewInMs: number;
}

/** Per-call values win when given (non-empty); otherwise the client's stand. */
export function mergeCredentials(client: Credentials, call: Partial<Credentials>): Credentials {
  return {
    secretKey: call.secretKey || client.secretKey,
    machineSecretKey: call.machineSecretKey || client.machineSecretKey,
    jwtKey: call.jwtKey || client.jwtKey,
    machineId: call.machineId || client.machineId,
    clockSkewInMs: call.clockSkewInMs ?? client.clockSkewInMs,
  };
}
