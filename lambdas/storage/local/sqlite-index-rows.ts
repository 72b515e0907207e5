/**
 * The codec between IndexEntry / Tombstone / DeleteJob and the rows of index.sqlite
 * (sqlite-index-schema.ts). Pure. Attributes and the instance's object are JSON text, as the
 * DynamoDB items keep them (dynamodb-items.ts), and read back to the same shape as its fromItem.
 */
import type { DicomJson } from '../../dicom/json';
import { instanceObjectAttributes, instanceObjectOf, ownUid } from '../dynamodb-items';
import type { DeleteJob, EntryKeys, IndexEntry, Level, Tombstone } from '../ports';

/** The unique key of an entry (or tombstone) row: the UIDs below its level are ''. */
export interface RowKey {
  readonly level: Level;
  readonly study_uid: string;
  readonly series_uid: string;
  readonly sop_uid: string;
}

export interface EntryRow extends RowKey {
  readonly id: number;
  readonly uid: string;
  readonly study_date: string;
  readonly patient_id: string;
  readonly attributes: string;
  readonly related_series: number | null;
  readonly related_instances: number | null;
  readonly modalities: string | null;
  readonly instance: string | null;
}

export type EntryColumns = Omit<EntryRow, 'id'>;

function required(value: string | undefined, name: string, level: Level): string {
  if (!value) throw new TypeError(`${level} index entry without ${name}`);
  return value;
}

/** The row key of an entry, tombstone or Delete job at `level`. */
export function rowKey(e: EntryKeys): RowKey {
  return {
    level: e.level,
    study_uid: required(e.studyInstanceUID, 'Study Instance UID', e.level),
    series_uid: e.level === 'STUDY' ? '' : required(e.seriesInstanceUID, 'Series Instance UID', e.level),
    sop_uid: e.level === 'INSTANCE' ? required(e.sopInstanceUID, 'SOP Instance UID', e.level) : '',
  };
}

/** The columns of an entry (toItem of dynamodb-items.ts: counters from the entry, default 0). */
export function toRow(entry: IndexEntry): EntryColumns {
  const study = entry.level === 'STUDY';
  const key = rowKey(entry);
  // Written out, not spread: V8 makes `{ ...key, more }` ~100 times slower (a row per stored instance).
  return {
    level: key.level,
    study_uid: key.study_uid,
    series_uid: key.series_uid,
    sop_uid: key.sop_uid,
    uid: ownUid(entry),
    study_date: entry.studyDate,
    patient_id: entry.patientId,
    attributes: JSON.stringify(entry.attributes),
    related_series: study ? (entry.relatedSeries ?? 0) : null,
    related_instances: entry.level === 'INSTANCE' ? null : (entry.relatedInstances ?? 0),
    modalities: study ? JSON.stringify([...new Set(entry.modalities ?? [])].sort()) : null,
    instance: entry.level === 'INSTANCE' && entry.instance ? JSON.stringify(instanceObjectAttributes(entry.instance)) : null,
  };
}

/** The entry a row holds (inverse of toRow; the shape of dynamodb-items.ts fromItem). */
export function fromRow(row: EntryRow): IndexEntry {
  const entry = {
    level: row.level,
    studyInstanceUID: row.study_uid,
    studyDate: row.study_date,
    patientId: row.patient_id,
  } as { -readonly [K in keyof IndexEntry]: IndexEntry[K] };
  // Parsed when first read: a retrieval reads an instance's object, not its ~5 KB of attributes.
  let attributes: DicomJson | undefined;
  Object.defineProperty(entry, 'attributes', {
    enumerable: true,
    get: () => (attributes ??= JSON.parse(row.attributes) as DicomJson),
  });
  if (row.level === 'STUDY') {
    entry.relatedSeries = row.related_series ?? 0;
    entry.relatedInstances = row.related_instances ?? 0;
    entry.modalities = row.modalities === null ? [] : (JSON.parse(row.modalities) as string[]).sort();
    return entry;
  }
  entry.seriesInstanceUID = row.series_uid;
  if (row.level === 'SERIES') {
    entry.relatedInstances = row.related_instances ?? 0;
    return entry;
  }
  entry.sopInstanceUID = row.sop_uid;
  if (row.instance !== null) entry.instance = instanceObjectOf(JSON.parse(row.instance) as Record<string, unknown>);
  return entry;
}

export interface TombstoneRow extends RowKey {
  readonly deleted_at: string;
}

export function tombstoneFromRow(row: TombstoneRow): Tombstone {
  return {
    level: row.level,
    studyInstanceUID: row.study_uid,
    seriesInstanceUID: row.level === 'STUDY' ? undefined : row.series_uid,
    sopInstanceUID: row.level === 'INSTANCE' ? row.sop_uid : undefined,
    deletedAt: row.deleted_at,
  };
}

export interface DeleteJobRow {
  readonly level: DeleteJob['level'];
  readonly study_uid: string;
  readonly series_uid: string;
  readonly started_at: string;
}

export function deleteJobKey(job: Omit<DeleteJob, 'startedAt'>): Omit<DeleteJobRow, 'started_at'> {
  if (job.level === 'SERIES' && !job.seriesInstanceUID) throw new TypeError('a series Delete job without Series Instance UID');
  return { level: job.level, study_uid: job.studyInstanceUID, series_uid: job.level === 'SERIES' ? job.seriesInstanceUID! : '' };
}

export function deleteJobFromRow(row: DeleteJobRow): DeleteJob {
  return {
    level: row.level,
    studyInstanceUID: row.study_uid,
    ...(row.level === 'SERIES' && { seriesInstanceUID: row.series_uid }),
    startedAt: row.started_at,
  };
}
