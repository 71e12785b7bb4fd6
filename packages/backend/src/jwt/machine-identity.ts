import { RemoteValuesByKey, type RemoteValueOptions } from './remote-value.js';

/** Checks the body of `GET /v1/machine_identity`. */
export function parseMachineIdentity(body: unknown): string {
  const id = (body as { machine_id?: unknown } | null)?.machine_id;
  if (typeof id !== 'string' || id === '') throw new TypeError('The machine identity answer has no machine_id.');
  return id;
}

/** Which machine a machine secret key belongs to, asked of the server once per key. */
export class MachineIdentity {
  readonly #ids: RemoteValuesByKey<string>;

  constructor(load: (machineSecretKey: string) => Promise<string>, options: RemoteValueOptions) {
    this.#ids = new RemoteValuesByKey(load, options);
  }

  /** The id already learned for `machineSecretKey`, without asking; undefined if there is none yet. */
  peek(machineSecretKey: string): string | undefined {
    return this.#ids.peek(machineSecretKey)?.current?.value;
  }

  async machineIdOf(machineSecretKey: string): Promise<string> {
    // A key never changes machines, so a learned id never goes stale.
    return (await this.#ids.for(machineSecretKey).get(Infinity)).value;
  }
}
