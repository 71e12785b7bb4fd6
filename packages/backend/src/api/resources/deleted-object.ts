import type { DeletedObjectJSON } from './json.js';

export class DeletedObject {
  constructor(
    readonly object: string,
    readonly id: string | null,
    readonly slug: string | null,
    readonly deleted: boolean,
  ) {}

  static fromJSON(data: DeletedObjectJSON): DeletedObject {
    return new DeletedObject(data.object, data.id ?? null, data.slug ?? null, data.deleted);
  }
}
