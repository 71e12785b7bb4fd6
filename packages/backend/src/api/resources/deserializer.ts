import { DeletedObject } from './deleted-object.js';
import { ObjectType, type DeletedObjectJSON, type M2MTokenJSON, type MachineJSON, type MachineScopeJSON, type MachineSecretKeyJSON } from './json.js';
import { M2MToken } from './m2m-token.js';
import { Machine } from './machine.js';
import { MachineScope } from './machine-scope.js';
import { MachineSecretKey } from './machine-secret-key.js';

export interface PaginatedResourceResponse<T> {
  data: T;
  totalCount: number;
}

type AnyJSON = Record<string, unknown>;
const isObject = (value: unknown): value is AnyJSON => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * JSON → resource classes, keyed on `object` (spec 4.2). Lists (`{ data | m2m_tokens,
 * total_count }`) become `{ data, totalCount }`. A deleted machine scope stays a
 * `MachineScope` (with `deleted: true`) so `fromMachineId` is not lost; other deleted
 * objects become `DeletedObject`. Unknown shapes are returned as sent.
 */
export function deserialize(payload: unknown): unknown {
  if (Array.isArray(payload)) return payload.map(deserialize);
  if (!isObject(payload)) return payload;
  const list = Array.isArray(payload.data) ? payload.data : Array.isArray(payload.m2m_tokens) ? payload.m2m_tokens : null;
  if (list && typeof payload.total_count === 'number') {
    return { data: list.map(deserialize), totalCount: payload.total_count } satisfies PaginatedResourceResponse<unknown[]>;
  }
  if (payload.object === ObjectType.MachineScope) return MachineScope.fromJSON(payload as unknown as MachineScopeJSON);
  if ('deleted' in payload && 'object' in payload) return DeletedObject.fromJSON(payload as unknown as DeletedObjectJSON);
  switch (payload.object) {
    case ObjectType.Machine:
      return Machine.fromJSON(payload as unknown as MachineJSON);
    case ObjectType.MachineSecretKey:
      return MachineSecretKey.fromJSON(payload as unknown as MachineSecretKeyJSON);
    case ObjectType.M2MToken:
      return M2MToken.fromJSON(payload as unknown as M2MTokenJSON);
    default:
      return payload;
  }
}
