/**
 * In-memory UploadStore (lambdas/storage/upload-store.ts) for unit tests, with the semantics of the
 * DynamoDB and SQLite adapters (test/contract/upload-store.contract.ts): expired records read as gone.
 */
import { AlreadyExistsError } from '../../lambdas/storage/errors';
import type { UploadRecord, UploadState, UploadStore } from '../../lambdas/storage/ports';

export class MemoryUploadStore implements UploadStore {
  readonly records = new Map<string, UploadRecord>();

  constructor(private readonly now: () => number = Date.now) {}

  async create(record: UploadRecord): Promise<void> {
    if (this.live(record.uploadId)) throw new AlreadyExistsError(`upload ${record.uploadId} already exists`);
    this.records.set(record.uploadId, structuredClone(record));
  }

  async get(uploadId: string): Promise<UploadRecord | undefined> {
    const record = this.live(uploadId);
    return record && structuredClone(record);
  }

  async transition(
    uploadId: string,
    from: readonly UploadState[],
    to: UploadState,
    fields: Partial<Pick<UploadRecord, 'storingSince' | 'result'>> = {},
  ): Promise<boolean> {
    const record = this.live(uploadId);
    if (!record || !from.includes(record.state)) return false;
    this.records.set(uploadId, structuredClone({ ...record, ...fields, state: to }));
    return true;
  }

  private live(uploadId: string): UploadRecord | undefined {
    const record = this.records.get(uploadId);
    return record && Date.parse(record.expiresAt) > this.now() ? record : undefined;
  }
}
