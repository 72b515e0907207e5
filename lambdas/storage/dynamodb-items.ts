/**
 * The item layout of the archive's DynamoDB table (lambdas/storage/table-schema.ts): table keys,
 * GSI attributes, and the codec between IndexEntry / Tombstone and items. Pure: unit-tested without a
 * table, shared by the MetadataIndex adapter, the Non-Patient Instance index and the name-term
 * migration.
 */
import { Tag } from '../dicom/tags';
import { personNameIndexTerms } from '../dicom/person-name';
import type { DicomJson } from '../dicom/json';
import {
  sameContent,
  type DateRange,
  type EntryKeys,
  type IndexEntry,
  type InstanceObject,
  type Level,
  type PutInstanceOutcome,
  type Tombstone,
} from './ports';
import { GSI_BY_LEVEL, GSI_BY_PATIENT, GSI_BY_UID } from './table-schema';

export type TombstoneKeys = Omit<Tombstone, 'deletedAt'>;
/** One item as the document client reads and writes it. */
export type Item = Record<string, unknown>;

export interface TableKey {
  readonly PK: string;
  readonly SK: string;
}

/**
 * Stable shard of an entry in the ByLevel index: 32-bit FNV-1a of its own UID, mod shards. Stable
 * across processes and releases, so a reader always finds what any writer wrote.
 */
export function shardOf(uid: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < uid.length; i++) {
    hash ^= uid.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

function required(value: string | undefined, name: string, level: Level): string {
  if (!value) throw new TypeError(`${level} index entry without ${name}`);
  return value;
}

/** The UID that identifies the entry at its own level (what ByUid is keyed on). */
export function ownUid(e: EntryKeys): string {
  switch (e.level) {
    case 'STUDY':
      return required(e.studyInstanceUID, 'Study Instance UID', e.level);
    case 'SERIES':
      return required(e.seriesInstanceUID, 'Series Instance UID', e.level);
    case 'INSTANCE':
      return required(e.sopInstanceUID, 'SOP Instance UID', e.level);
  }
}

const STUDY_SK = '#STUDY';
export const SERIES_SK_PREFIX = 'SERIES#';
export const INSTANCE_SK_PREFIX = 'INSTANCE#';
const TOMBSTONE_SK_PREFIX = 'TOMBSTONE#';
const NAME_SK_PREFIX = 'NAME#';
/** The levels of the Studies Service index, top down. */
export const LEVELS: readonly Level[] = ['STUDY', 'SERIES', 'INSTANCE'];

/** Table key of a study, series or instance entry (table-schema.ts). */
export function entryKey(e: EntryKeys): TableKey {
  const PK = `STUDY#${required(e.studyInstanceUID, 'Study Instance UID', e.level)}`;
  switch (e.level) {
    case 'STUDY':
      return { PK, SK: STUDY_SK };
    case 'SERIES':
      return { PK, SK: `${SERIES_SK_PREFIX}${ownUid(e)}` };
    case 'INSTANCE':
      return { PK, SK: `${INSTANCE_SK_PREFIX}${required(e.seriesInstanceUID, 'Series Instance UID', e.level)}#${ownUid(e)}` };
  }
}

/** Table key of the tombstone of a deleted study, series or instance. */
export function tombstoneKey(t: TombstoneKeys): TableKey {
  const uids = [t.studyInstanceUID];
  if (t.level !== 'STUDY') uids.push(required(t.seriesInstanceUID, 'Series Instance UID', t.level));
  if (t.level === 'INSTANCE') uids.push(required(t.sopInstanceUID, 'SOP Instance UID', t.level));
  return { PK: `STUDY#${t.studyInstanceUID}`, SK: `${TOMBSTONE_SK_PREFIX}${t.level}#${uids.join('#')}` };
}

/** Sort key prefix of the name term items of an entry: NAME#{level}#{uids below the study}#. */
export function nameTermPrefix(e: EntryKeys): string {
  const below =
    e.level === 'STUDY'
      ? ''
      : `${required(e.seriesInstanceUID, 'Series Instance UID', e.level)}#${e.level === 'INSTANCE' ? `${ownUid(e)}#` : ''}`;
  return `${NAME_SK_PREFIX}${e.level}#${below}`;
}

/**
 * ByLevel partition of a name term: by level, first character and the entry's shard, so that no
 * partition takes every name of a common initial; a search by prefix reads one per shard.
 */
export function nameTermPartition(level: Level, term: string, shard: number): string {
  return `${NAME_SK_PREFIX}${level}#${String.fromCodePoint(term.codePointAt(0)!)}#${shard}`;
}

/**
 * Shards of a level's name term partitions. Instance terms are written per stored instance, as fast as
 * instances arrive, and take the index's shards so that no partition of an initial is hot. Study and
 * series terms are written once per new study or series, a small fraction of that rate: one partition
 * per initial holds them, and a study or series search by name is one Query, not one per shard.
 */
export function nameTermShards(level: Level, shards: number): number {
  return level === 'INSTANCE' ? shards : 1;
}

/**
 * The name term items of an entry (table-schema.ts): one per index term of its Patient's Name, each
 * holding the entry's keys (a search reads the entry itself, with its current counters) and Study
 * Date (so a date range filters the terms before the entries are read).
 */
export function nameTermItems(entry: IndexEntry, shards: number): Item[] {
  const uid = ownUid(entry);
  const shard = shardOf(uid, nameTermShards(entry.level, shards));
  const { PK } = entryKey(entry);
  const prefix = nameTermPrefix(entry);
  return personNameIndexTerms(entry.attributes[Tag.PatientName]).map((term) => ({
    PK,
    SK: `${prefix}${term}`,
    Level: entry.level,
    StudyInstanceUID: entry.studyInstanceUID,
    SeriesInstanceUID: entry.level === 'STUDY' ? undefined : entry.seriesInstanceUID,
    SOPInstanceUID: entry.level === 'INSTANCE' ? entry.sopInstanceUID : undefined,
    StudyDate: entry.studyDate || undefined,
    [GSI_BY_LEVEL.partitionKey]: nameTermPartition(entry.level, term, shard),
    [GSI_BY_LEVEL.sortKey]: `${term}#${uid}`,
  }));
}

/** The level and UIDs of the entry a name term item (or any item with Level and UIDs) belongs to. */
export function entryKeysOf(item: Item): EntryKeys {
  return {
    level: item.Level as Level,
    studyInstanceUID: item.StudyInstanceUID as string,
    seriesInstanceUID: str(item.SeriesInstanceUID),
    sopInstanceUID: str(item.SOPInstanceUID),
  };
}

/**
 * "{studyDate}#{uid}": what ByLevel sorts an entry on, and read backwards the result order
 * (lambdas/dicomweb/search.ts inResultOrder): most recent Study Date first, none last, then own UID.
 */
export function resultOrderKey(studyDate: string, uid: string): string {
  return `${studyDate}#${uid}`;
}

/** The item of an entry, with the key attributes of the three GSIs. */
export function toItem(entry: IndexEntry, shards: number): Item {
  const uid = ownUid(entry);
  const item: Item = {
    ...entryKey(entry),
    Level: entry.level,
    StudyInstanceUID: entry.studyInstanceUID,
    SeriesInstanceUID: entry.level === 'STUDY' ? undefined : entry.seriesInstanceUID,
    SOPInstanceUID: entry.level === 'INSTANCE' ? entry.sopInstanceUID : undefined,
    // DICOM JSON nests deeply and may hold empty strings: one string attribute keeps it intact.
    Attributes: JSON.stringify(entry.attributes),
    StudyDate: entry.studyDate || undefined,
    PatientID: entry.patientId || undefined,
    [GSI_BY_UID.partitionKey]: `UID#${uid}`,
    [GSI_BY_UID.sortKey]: entry.level,
    [GSI_BY_LEVEL.partitionKey]: `${entry.level}#${shardOf(uid, shards)}`,
    [GSI_BY_LEVEL.sortKey]: resultOrderKey(entry.studyDate, uid),
  };
  // A key attribute may not be empty: without a Patient ID the entry stays out of ByPatient.
  if (entry.patientId) {
    item[GSI_BY_PATIENT.partitionKey] = `PATIENT#${entry.patientId}`;
    item[GSI_BY_PATIENT.sortKey] = `${entry.level}#${entry.studyDate}#${uid}`;
  }
  if (entry.level === 'STUDY') {
    item.NumberOfStudyRelatedSeries = entry.relatedSeries ?? 0;
    item.NumberOfStudyRelatedInstances = entry.relatedInstances ?? 0;
    // A string set may not be empty.
    if (entry.modalities && entry.modalities.length > 0) item.ModalitiesInStudy = new Set(entry.modalities);
  } else if (entry.level === 'SERIES') {
    item.NumberOfSeriesRelatedInstances = entry.relatedInstances ?? 0;
  } else if (entry.instance) {
    Object.assign(item, instanceObjectAttributes(entry.instance));
  }
  return item;
}

/** The item attributes of a stored instance's object (Studies and Non-Patient Instance entries alike). */
export function instanceObjectAttributes(i: InstanceObject): Record<string, string | number | readonly number[]> {
  return {
    SOPClassUID: i.sopClassUID,
    TransferSyntaxUID: i.transferSyntaxUID,
    ObjectKey: i.objectKey,
    MetadataKey: i.metadataKey,
    Size: i.size,
    Digest: i.digest,
    ...(i.datasetDigest !== undefined && { DatasetDigest: i.datasetDigest }),
    NumberOfFrames: i.numberOfFrames,
    ...(i.frameOffsets && { FrameOffsets: i.frameOffsets }),
  };
}

/** Inverse of instanceObjectAttributes. */
export function instanceObjectOf(item: Record<string, unknown>): InstanceObject {
  return {
    sopClassUID: item.SOPClassUID as string,
    transferSyntaxUID: item.TransferSyntaxUID as string,
    objectKey: item.ObjectKey as string,
    metadataKey: item.MetadataKey as string,
    size: item.Size as number,
    digest: item.Digest as string,
    ...(typeof item.DatasetDigest === 'string' && { datasetDigest: item.DatasetDigest }),
    numberOfFrames: (item.NumberOfFrames as number | undefined) ?? 0,
    ...(Array.isArray(item.FrameOffsets) && { frameOffsets: item.FrameOffsets.map(Number) }),
  };
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** The entry an item holds (inverse of toItem). */
export function fromItem(item: Item): IndexEntry {
  const level = item.Level as Level;
  const entry: { -readonly [K in keyof IndexEntry]: IndexEntry[K] } = {
    level,
    studyInstanceUID: item.StudyInstanceUID as string,
    attributes: JSON.parse(item.Attributes as string) as DicomJson,
    studyDate: str(item.StudyDate) ?? '',
    patientId: str(item.PatientID) ?? '',
  };
  if (level !== 'STUDY') entry.seriesInstanceUID = str(item.SeriesInstanceUID);
  if (level === 'STUDY') {
    entry.relatedSeries = num(item.NumberOfStudyRelatedSeries) ?? 0;
    entry.relatedInstances = num(item.NumberOfStudyRelatedInstances) ?? 0;
    entry.modalities = item.ModalitiesInStudy instanceof Set ? [...(item.ModalitiesInStudy as Set<string>)].sort() : [];
  } else if (level === 'SERIES') {
    entry.relatedInstances = num(item.NumberOfSeriesRelatedInstances) ?? 0;
  } else {
    entry.sopInstanceUID = str(item.SOPInstanceUID);
    if (item.ObjectKey !== undefined) {
      entry.instance = instanceObjectOf(item);
    }
  }
  return entry;
}

/** Whether an item read from a GSI holds its whole entry (a GSI projecting ALL), not only its keys. */
export function isWholeEntry(item: Item): boolean {
  return typeof item.Attributes === 'string';
}

export function tombstoneFromItem(item: Item): Tombstone {
  return { ...entryKeysOf(item), deletedAt: item.DeletedAt as string };
}

/**
 * Inclusive bounds on a "{prefix}{studyDate}#{uid}" sort key for a Study Date range. An open end
 * still stops at the digits, so entries without a Study Date ("{prefix}#{uid}") never match a range.
 * Undefined when the range is empty (from after to).
 */
export function dateRangeBounds(prefix: string, range: DateRange): readonly [string, string] | undefined {
  if (range.from !== undefined && range.to !== undefined && range.from > range.to) return undefined;
  const lower = range.from !== undefined ? `${prefix}${range.from}#` : `${prefix}0`;
  const upper = range.to !== undefined ? `${prefix}${range.to}#\uffff` : `${prefix}9\uffff`;
  return [lower, upper];
}

/** The series and study above a resource (nearest first). */
export function ancestors(t: TombstoneKeys): TombstoneKeys[] {
  const study: TombstoneKeys = { level: 'STUDY', studyInstanceUID: t.studyInstanceUID };
  if (t.level === 'STUDY') return [];
  if (t.level === 'SERIES') return [study];
  return [{ level: 'SERIES', studyInstanceUID: t.studyInstanceUID, seriesInstanceUID: t.seriesInstanceUID }, study];
}

/** 'identical' only for the same study, series and content (sameContent); anything else conflicts. */
export function compareInstances(existing: IndexEntry, incoming: IndexEntry): PutInstanceOutcome {
  const identical =
    existing.studyInstanceUID === incoming.studyInstanceUID &&
    existing.seriesInstanceUID === incoming.seriesInstanceUID &&
    sameContent(existing.instance, incoming.instance);
  return identical ? { outcome: 'identical', existing } : { outcome: 'conflict', existing };
}
