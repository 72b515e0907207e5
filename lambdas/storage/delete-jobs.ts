/**
 * Delete jobs (ports.ts DeleteJob) in the index table: one item per study or series being deleted, in
 * the study's partition beside its entries (table-schema.ts), outside every GSI and every prefix the
 * entry queries read (SERIES#, INSTANCE#, NAME#, TOMBSTONE#).
 *
 *   STUDY#{study} / DELETING#STUDY             the study is being deleted
 *   STUDY#{study} / DELETING#SERIES#{series}   the series is being deleted
 */
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { Item, TableKey } from './dynamodb-items';
import { byItemId, itemId, type DynamoTable } from './dynamodb-table';
import type { DeleteJob } from './ports';

type JobKeys = Omit<DeleteJob, 'startedAt'>;

export function deleteJobKey(job: JobKeys): { PK: string; SK: string } {
  const PK = `STUDY#${job.studyInstanceUID}`;
  if (job.level === 'STUDY') return { PK, SK: 'DELETING#STUDY' };
  if (!job.seriesInstanceUID) throw new TypeError('a series Delete job without Series Instance UID');
  return { PK, SK: `DELETING#SERIES#${job.seriesInstanceUID}` };
}

/** The keys of the Delete jobs that cover a study, or a series: the study's first, as it covers every series. */
export function deleteJobKeys(uids: { readonly studyInstanceUID: string; readonly seriesInstanceUID?: string }): TableKey[] {
  const keys = [deleteJobKey({ level: 'STUDY', studyInstanceUID: uids.studyInstanceUID })];
  if (uids.seriesInstanceUID !== undefined) keys.push(deleteJobKey({ level: 'SERIES', ...uids }));
  return keys;
}

/** The first job of `keys` found among the items of a BatchGetItem answer (byItemId). */
export function deleteJobOf(keys: readonly TableKey[], found: ReadonlyMap<string, Item>): DeleteJob | undefined {
  const item = keys.map((k) => found.get(itemId(k))).find((i) => i !== undefined);
  if (!item) return undefined;
  return {
    level: item.Level as DeleteJob['level'],
    studyInstanceUID: item.StudyInstanceUID as string,
    ...(typeof item.SeriesInstanceUID === 'string' && { seriesInstanceUID: item.SeriesInstanceUID }),
    startedAt: item.StartedAt as string,
  };
}

export class DynamoDeleteJobs {
  /** `table`: the index's table, whose calls map throttling to StorageUnavailableError. */
  constructor(private readonly table: DynamoTable) {}

  async start(job: DeleteJob): Promise<boolean> {
    const item = {
      ...deleteJobKey(job),
      Level: job.level,
      StudyInstanceUID: job.studyInstanceUID,
      SeriesInstanceUID: job.seriesInstanceUID,
      StartedAt: job.startedAt,
    };
    return this.table.putIfAbsent(item);
  }

  async find(uids: { readonly studyInstanceUID: string; readonly seriesInstanceUID?: string }): Promise<DeleteJob | undefined> {
    const keys = deleteJobKeys(uids);
    // One strongly consistent BatchGetItem: a Delete accepted a moment ago must be seen.
    return deleteJobOf(keys, byItemId(await this.table.batchGet(keys, true)));
  }

  async end(job: JobKeys): Promise<void> {
    await this.table.call(() => this.table.doc.send(new DeleteCommand({ TableName: this.table.name, Key: deleteJobKey(job) })));
  }
}
