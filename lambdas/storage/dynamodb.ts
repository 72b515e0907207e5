/**
 * MetadataIndex over Amazon DynamoDB (or dynalite in the embedded runtime: same wire protocol).
 * Item layout and GSIs: lambdas/storage/table-schema.ts. Every read is a GetItem, BatchGetItem or
 * Query on the table or a GSI; never a Scan. No transactions (dynalite has none): conditional puts
 * and atomic ADD make every interleaving of writers harmless (DESIGN.md, storage model).
 */
import {
  ConditionalCheckFailedException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ThrottlingException,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type BatchWriteCommandInput,
  type BatchWriteCommandOutput,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config';
import { Tag } from '../dicom/tags';
import { ServiceUnavailableError } from '../dicomweb/errors';
import { personNameIndexTerms } from '../dicomweb/matching';
import { callAws, clientOptions } from './aws-calls';
import { recordCalls } from './call-recorder';
import { DynamoDeleteJobs } from './delete-jobs';
import type {
  DateRange,
  DeleteJob,
  EntryKeys,
  IndexEntry,
  IndexQuery,
  InstanceKey,
  InstanceObject,
  Level,
  MetadataIndex,
  PutInstanceOutcome,
  Tombstone,
} from './ports';
import type { DicomJson } from '../dicom/json';
import { GSI_BY_LEVEL, GSI_BY_PATIENT, GSI_BY_UID, TABLE_PARTITION_KEY, TABLE_SORT_KEY } from './table-schema';

/** The DynamoDB client of this process (DynamoDB or dynalite), shared by the table's adapters. */
export function createDynamoDbClient(config: Pick<Config, 'region' | 'dynamodbEndpoint'>): DynamoDBClient {
  return recordCalls(new DynamoDBClient(clientOptions(config, config.dynamodbEndpoint)));
}

type TombstoneKeys = Omit<Tombstone, 'deletedAt'>;
type Item = Record<string, unknown>;
type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

export interface TableKey {
  readonly PK: string;
  readonly SK: string;
}

// ---------------------------------------------------------------------------------------------
// Pure item layout (unit-tested without a table)
// ---------------------------------------------------------------------------------------------

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
const SERIES_SK_PREFIX = 'SERIES#';
const INSTANCE_SK_PREFIX = 'INSTANCE#';
const TOMBSTONE_SK_PREFIX = 'TOMBSTONE#';
const NAME_SK_PREFIX = 'NAME#';
/**
 * Present once every entry has its name term items in the current layout (ensureNameTerms). Layout 2:
 * study and series terms in one partition per initial, instance terms sharded (nameTermShards); a
 * table with layout 1's marker ('NAME-TERMS', every level sharded) has its terms rewritten once.
 */
export const NAME_TERMS_MARKER: TableKey = { PK: '#SCHEMA', SK: 'NAME-TERMS#2' };
const LEVELS: readonly Level[] = ['STUDY', 'SERIES', 'INSTANCE'];

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
function entryKeysOf(item: Item): EntryKeys {
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
function resultOrderKey(studyDate: string, uid: string): string {
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
    numberOfFrames: (item.NumberOfFrames as number | undefined) ?? 0,
    ...(Array.isArray(item.FrameOffsets) && { frameOffsets: item.FrameOffsets.map(Number) }),
  };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

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

function tombstoneFromItem(item: Item): Tombstone {
  return {
    level: item.Level as Level,
    studyInstanceUID: item.StudyInstanceUID as string,
    seriesInstanceUID: str(item.SeriesInstanceUID),
    sopInstanceUID: str(item.SOPInstanceUID),
    deletedAt: item.DeletedAt as string,
  };
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

/** Errors DynamoDB reports with a 400 status that still mean "retry later". */
export function isDynamoUnavailable(error: unknown): boolean {
  return (
    error instanceof ProvisionedThroughputExceededException ||
    error instanceof RequestLimitExceeded ||
    error instanceof ThrottlingException ||
    error instanceof InternalServerError
  );
}

/**
 * Merges sources, each sorted in `order`, into one sequence in that order (k-way merge); the first
 * page of every source is requested at once.
 */
async function* mergeSorted<T>(sources: readonly AsyncIterator<T>[], key: (t: T) => string, order: 'ascending' | 'descending'): AsyncGenerator<T> {
  const heads = await Promise.all(sources.map((s) => s.next()));
  const before = order === 'ascending' ? (a: string, b: string) => a < b : (a: string, b: string) => a > b;
  for (;;) {
    let first = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i]!;
      if (head.done) continue;
      if (first < 0 || before(key(head.value), key((heads[first] as IteratorYieldResult<T>).value))) first = i;
    }
    if (first < 0) return;
    yield (heads[first] as IteratorYieldResult<T>).value;
    heads[first] = await sources[first]!.next();
  }
}

export interface DynamoMetadataIndexOptions {
  /** Query page size (Limit); unset lets DynamoDB fill 1 MB pages. Tests set it small to exercise paging. */
  readonly pageSize?: number;
}

const MAX_PUT_ATTEMPTS = 3;
/** BatchWriteItem's most requests per call. */
const MAX_BATCH_WRITE = 25;
/** BatchGetItem's most keys per call. */
const MAX_BATCH_GET = 100;
/** Retries of a batch call's unprocessed part (about 3 s of back-off in all). */
const MAX_UNPROCESSED_RETRIES = 6;

/** One string per table key, to find a BatchGetItem's answers (which come in any order) by key. */
function itemId(key: TableKey): string {
  return `${key.PK}\n${key.SK}`;
}

/** `items` in runs of at most `size`: a batch call's requests per call. */
function inRunsOf<T>(items: readonly T[], size: number): T[][] {
  const runs: T[][] = [];
  for (let i = 0; i < items.length; i += size) runs.push(items.slice(i, i + size));
  return runs;
}

/** The items of a BatchGetItem answer by itemId. */
function byItemId(items: readonly Item[]): Map<string, Item> {
  return new Map(items.map((item) => [itemId({ PK: item[TABLE_PARTITION_KEY] as string, SK: item[TABLE_SORT_KEY] as string }), item]));
}

// ---------------------------------------------------------------------------------------------
// The adapter
// ---------------------------------------------------------------------------------------------

export class DynamoMetadataIndex implements MetadataIndex {
  private readonly doc: DynamoDBDocumentClient;
  private readonly deleteJobs: DynamoDeleteJobs;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly shards: number,
    private readonly options: DynamoMetadataIndexOptions = {},
  ) {
    if (!Number.isInteger(shards) || shards < 1) throw new RangeError('shards must be a positive integer');
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.deleteJobs = new DynamoDeleteJobs(this.doc, tableName, (fn) => this.call(fn));
  }

  async putInstance(entry: IndexEntry): Promise<PutInstanceOutcome> {
    // The name terms before the entry, as putWithNameTerms.
    await this.putNameTerms(entry);
    for (let attempt = 0; attempt < MAX_PUT_ATTEMPTS; attempt++) {
      if (await this.putIfAbsent(toItem(entry, this.shards))) return { outcome: 'created' };
      // Lost a race to another writer of the same key: read what it wrote (strongly consistent).
      const existing = await this.getEntry(entry);
      if (existing) return compareInstances(existing, entry);
      // ...which was deleted meanwhile: try again.
    }
    // Concurrent store and delete of the same instance kept racing: let the client retry.
    throw new ServiceUnavailableError('instance entry kept changing, retry later');
  }

  ensureSeries(entry: IndexEntry): Promise<boolean> {
    return this.putWithNameTerms({ ...entry, level: 'SERIES' });
  }

  ensureStudy(entry: IndexEntry): Promise<boolean> {
    return this.putWithNameTerms({ ...entry, level: 'STUDY' });
  }

  /**
   * Writes the name term items of every entry that lacks them, once per table: a table from before
   * the name terms existed (an embedded data directory; in AWS, `npm run index-names`). Idempotent,
   * and safe beside live writers: a term of an entry deleted meanwhile names no entry, which searches
   * skip. True when it wrote them, false when the table already had them.
   */
  async ensureNameTerms(): Promise<boolean> {
    const marker = await this.call(() =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: { ...NAME_TERMS_MARKER }, ConsistentRead: true })),
    );
    if (marker.Item) return false;
    const partitions = LEVELS.flatMap((level) => Array.from({ length: this.shards }, (_, shard) => `${level}#${shard}`));
    await Promise.all(
      partitions.map(async (partition) => {
        let pending: Item[] = [];
        for await (const item of this.queryRaw({
          IndexName: GSI_BY_LEVEL.indexName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': GSI_BY_LEVEL.partitionKey },
          ExpressionAttributeValues: { ':pk': partition },
        })) {
          pending.push(...nameTermItems(fromItem(item), this.shards));
          if (pending.length >= MAX_BATCH_WRITE) {
            await this.batchWrite(pending.map((Item) => ({ PutRequest: { Item } })));
            pending = [];
          }
        }
        await this.batchWrite(pending.map((Item) => ({ PutRequest: { Item } })));
      }),
    );
    await this.call(() => this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...NAME_TERMS_MARKER } })));
    return true;
  }

  async addStudyCounters(
    studyInstanceUID: string,
    delta: { series?: number; instances?: number; modalities?: readonly string[] },
  ): Promise<void> {
    await this.add(entryKey({ level: 'STUDY', studyInstanceUID }), {
      NumberOfStudyRelatedSeries: delta.series || undefined,
      NumberOfStudyRelatedInstances: delta.instances || undefined,
      // ADD on a string set is a union: ModalitiesInStudy never holds a duplicate.
      ModalitiesInStudy: delta.modalities && delta.modalities.length > 0 ? new Set(delta.modalities) : undefined,
    });
  }

  async addSeriesCounters(studyInstanceUID: string, seriesInstanceUID: string, delta: { instances: number }): Promise<void> {
    await this.add(entryKey({ level: 'SERIES', studyInstanceUID, seriesInstanceUID }), {
      NumberOfSeriesRelatedInstances: delta.instances || undefined,
    });
  }

  async removeStudyModalities(studyInstanceUID: string, modalities: readonly string[]): Promise<void> {
    if (modalities.length === 0) return;
    try {
      await this.call(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: entryKey({ level: 'STUDY', studyInstanceUID }),
            // DELETE on a string set removes those values; an emptied set disappears.
            UpdateExpression: 'DELETE #m :m',
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#m': 'ModalitiesInStudy', '#pk': TABLE_PARTITION_KEY },
            ExpressionAttributeValues: { ':m': new Set(modalities) },
          }),
        ),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
  }

  getStudy(studyInstanceUID: string): Promise<IndexEntry | undefined> {
    return this.getEntry({ level: 'STUDY', studyInstanceUID });
  }

  getSeries(studyInstanceUID: string, seriesInstanceUID: string): Promise<IndexEntry | undefined> {
    return this.getEntry({ level: 'SERIES', studyInstanceUID, seriesInstanceUID });
  }

  getInstance(studyInstanceUID: string, seriesInstanceUID: string, sopInstanceUID: string): Promise<IndexEntry | undefined> {
    return this.getEntry({ level: 'INSTANCE', studyInstanceUID, seriesInstanceUID, sopInstanceUID });
  }

  async getEntries(keys: readonly EntryKeys[]): Promise<(IndexEntry | undefined)[]> {
    const tableKeys = keys.map(entryKey);
    const items = byItemId(await this.batchGet(tableKeys, true));
    return tableKeys.map((k) => {
      const item = items.get(itemId(k));
      return item ? fromItem(item) : undefined;
    });
  }

  async *query(q: IndexQuery): AsyncIterable<IndexEntry> {
    switch (q.by) {
      case 'study':
        yield* this.queryStudy(q);
        return;
      case 'uid':
        for (const uid of new Set(q.uids)) {
          yield* this.queryItems({
            IndexName: GSI_BY_UID.indexName,
            KeyConditionExpression: '#pk = :pk AND #sk = :sk',
            ExpressionAttributeNames: { '#pk': GSI_BY_UID.partitionKey, '#sk': GSI_BY_UID.sortKey },
            ExpressionAttributeValues: { ':pk': `UID#${uid}`, ':sk': q.level },
          });
        }
        return;
      case 'patient':
        if (q.patientId === '') return; // entries without a Patient ID are not in ByPatient
        yield* this.querySorted(GSI_BY_PATIENT.indexName, GSI_BY_PATIENT.partitionKey, `PATIENT#${q.patientId}`, GSI_BY_PATIENT.sortKey, `${q.level}#`, q.dateRange, q.pageHint);
        return;
      case 'name':
        yield* this.queryNames(q);
        return;
      case 'level': {
        // The first `pageHint` entries are spread over the shards: twice a shard's share per page,
        // so that a second page is rarely needed.
        const pageSize = q.pageHint === undefined ? undefined : Math.ceil((2 * q.pageHint) / this.shards) + 1;
        const shards = Array.from({ length: this.shards }, (_, shard) =>
          this.querySorted(GSI_BY_LEVEL.indexName, GSI_BY_LEVEL.partitionKey, `${q.level}#${shard}`, GSI_BY_LEVEL.sortKey, '', q.dateRange, pageSize)[Symbol.asyncIterator](),
        );
        // Every shard is in descending {studyDate}#{uid} order; merged, so is the whole result.
        yield* mergeSorted(shards, (e) => resultOrderKey(e.studyDate, ownUid(e)), 'descending');
        return;
      }
    }
  }

  async deleteEntry(entry: EntryKeys): Promise<void> {
    const key = entryKey(entry);
    await this.call(() => this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: key })));
    // Its name terms after it: a crash in between leaves terms naming no entry, which searches skip.
    // Read, not derived from the attributes, so terms an earlier writer left (another spelling of the
    // name in a later instance of the study) go too.
    const terms = this.queryRaw({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY, '#sk': TABLE_SORT_KEY },
      ExpressionAttributeValues: { ':pk': key.PK, ':prefix': nameTermPrefix(entry) },
      ProjectionExpression: '#pk, #sk',
      ConsistentRead: true,
    });
    const deletes: WriteRequest[] = [];
    for await (const t of terms) deletes.push({ DeleteRequest: { Key: { PK: t[TABLE_PARTITION_KEY], SK: t[TABLE_SORT_KEY] } } });
    await this.batchWrite(deletes);
  }

  async putTombstone(t: Tombstone): Promise<void> {
    const item = {
      ...tombstoneKey(t),
      Level: t.level,
      StudyInstanceUID: t.studyInstanceUID,
      SeriesInstanceUID: t.level === 'STUDY' ? undefined : t.seriesInstanceUID,
      SOPInstanceUID: t.level === 'INSTANCE' ? t.sopInstanceUID : undefined,
      DeletedAt: t.deletedAt,
    };
    await this.call(() => this.doc.send(new PutCommand({ TableName: this.tableName, Item: item })));
  }

  async findTombstone(t: TombstoneKeys): Promise<Tombstone | undefined> {
    // Nearest first: the resource itself, then its series, then its study.
    const candidates = [t, ...ancestors(t)].map(tombstoneKey);
    const found = byItemId(await this.batchGet(candidates, true));
    for (const c of candidates) {
      const hit = found.get(itemId(c));
      if (hit) return tombstoneFromItem(hit);
    }
    return undefined;
  }

  async clearTombstones(instances: readonly InstanceKey[]): Promise<void> {
    const keys = new Map<string, TableKey>();
    for (const i of instances) {
      const instance: TombstoneKeys = { level: 'INSTANCE', ...i };
      for (const t of [instance, ...ancestors(instance)]) {
        const key = tombstoneKey(t);
        keys.set(itemId(key), key);
      }
    }
    // BatchWriteItem takes 25 deletes at a time: a Store request pays a round trip per 25, not 3 per instance.
    await this.batchWrite([...keys.values()].map((Key) => ({ DeleteRequest: { Key } })));
  }

  startDeleteJob(job: DeleteJob): Promise<boolean> {
    return this.deleteJobs.start(job);
  }

  findDeleteJob(uids: { readonly studyInstanceUID: string; readonly seriesInstanceUID?: string }): Promise<DeleteJob | undefined> {
    return this.deleteJobs.find(uids);
  }

  endDeleteJob(job: Omit<DeleteJob, 'startedAt'>): Promise<void> {
    return this.deleteJobs.end(job);
  }

  // -------------------------------------------------------------------------------------------

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return callAws('DynamoDB', fn, isDynamoUnavailable);
  }

  /**
   * The name terms first, then the entry (conditional put): a crash in between leaves terms naming
   * no entry, which searches skip, never an entry that name searches miss. A retried store writes
   * them again, so an entry created by a writer that crashed right after is found too.
   */
  private async putWithNameTerms(entry: IndexEntry): Promise<boolean> {
    await this.putNameTerms(entry);
    return this.putIfAbsent(toItem(entry, this.shards));
  }

  private putNameTerms(entry: IndexEntry): Promise<void> {
    return this.batchWrite(nameTermItems(entry, this.shards).map((Item) => ({ PutRequest: { Item } })));
  }

  /**
   * PatientName search, in result order: the name terms starting with the prefix, one Query per shard
   * of the partition of its first character (one for studies and series: nameTermShards), all read,
   * as they are small and carry their entry's Study Date and UID; their entries (each once, however
   * many of its terms match) sorted as results are (most recent Study Date first, none last, then own
   * UID descending), then read in that order, `pageHint` at a time (at most 100 per BatchGetItem), so
   * a search that wants the first N matches reads about N entries, not every candidate. A term whose
   * entry is gone is skipped.
   */
  private async *queryNames(q: Extract<IndexQuery, { by: 'name' }>): AsyncGenerator<IndexEntry> {
    if (q.prefix === '') throw new RangeError('a name search needs a prefix');
    let filter: Partial<QueryCommandInput> = {};
    if (q.dateRange && (q.dateRange.from !== undefined || q.dateRange.to !== undefined)) {
      // The bounds of dateRangeBounds on the term's Study Date: no date, no match.
      if (dateRangeBounds('', q.dateRange) === undefined) return;
      filter = {
        FilterExpression: '#date BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':from': q.dateRange.from ?? '0', ':to': `${q.dateRange.to ?? '9'}\uffff` },
      };
    }
    const candidates = new Map<string, { key: TableKey; order: string }>();
    await Promise.all(
      Array.from({ length: nameTermShards(q.level, this.shards) }, async (_, shard) => {
        for await (const term of this.queryRaw({
          IndexName: GSI_BY_LEVEL.indexName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          FilterExpression: filter.FilterExpression,
          ExpressionAttributeNames: { '#pk': GSI_BY_LEVEL.partitionKey, '#sk': GSI_BY_LEVEL.sortKey, ...(filter.FilterExpression && { '#date': 'StudyDate' }) },
          ExpressionAttributeValues: { ':pk': nameTermPartition(q.level, q.prefix, shard), ':prefix': q.prefix, ...filter.ExpressionAttributeValues },
        })) {
          const entry = entryKeysOf(term);
          const key = entryKey(entry);
          candidates.set(itemId(key), { key, order: resultOrderKey(str(term.StudyDate) ?? '', ownUid(entry)) });
        }
      }),
    );
    const ordered = [...candidates.values()].sort((a, b) => (a.order > b.order ? -1 : a.order < b.order ? 1 : 0));
    const pageSize = Math.min(MAX_BATCH_GET, Math.max(1, (q.pageHint ?? MAX_BATCH_GET) + 1));
    for (let i = 0; i < ordered.length; i += pageSize) {
      const page = ordered.slice(i, i + pageSize);
      const found = byItemId(await this.batchGet(page.map((c) => c.key), false));
      for (const { key } of page) {
        const item = found.get(itemId(key));
        if (item) yield fromItem(item);
      }
    }
  }

  /** BatchGetItem, 100 keys a call, the calls at once, until nothing is left unprocessed; the items found, in any order. */
  private async batchGet(keys: readonly TableKey[], consistentRead: boolean): Promise<Item[]> {
    const answers = await Promise.all(
      inRunsOf(keys, MAX_BATCH_GET).map(async (call) => {
        const items: Item[] = [];
        let request: Record<string, unknown>[] | undefined = call.map((k) => ({ ...k }));
        for (let attempt = 0; request && request.length > 0; attempt++) {
          await this.backOffUnprocessed(attempt);
          const pending: Record<string, unknown>[] = request;
          const out = await this.call(() =>
            this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: consistentRead } } })),
          );
          items.push(...(out.Responses?.[this.tableName] ?? []));
          request = out.UnprocessedKeys?.[this.tableName]?.Keys;
        }
        return items;
      }),
    );
    return answers.flat();
  }

  /** BatchWriteItem, 25 requests a call, the calls at once, until nothing is left unprocessed. */
  private async batchWrite(requests: readonly WriteRequest[]): Promise<void> {
    await Promise.all(
      inRunsOf(requests, MAX_BATCH_WRITE).map(async (call) => {
        let pending: WriteRequest[] | undefined = call;
        for (let attempt = 0; pending && pending.length > 0; attempt++) {
          await this.backOffUnprocessed(attempt);
          const batch: WriteRequest[] = pending;
          const out: BatchWriteCommandOutput = await this.call(() =>
            this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: batch } })),
          );
          pending = out.UnprocessedItems?.[this.tableName];
        }
      }),
    );
  }

  /** Before retry `attempt` of what a batch call left unprocessed (throttled): 50 ms doubling, then give up. */
  private async backOffUnprocessed(attempt: number): Promise<void> {
    if (attempt === 0) return;
    if (attempt > MAX_UNPROCESSED_RETRIES) throw new ServiceUnavailableError('DynamoDB left requests unprocessed, retry later');
    // Unprocessed items are throttled ones: back off before the next attempt, as AWS advises.
    await sleep(50 * 2 ** (attempt - 1));
  }

  /** Conditional put; true when this call created the item. */
  private async putIfAbsent(item: Item): Promise<boolean> {
    try {
      await this.call(() =>
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Atomic ADD of the defined values to an existing item; a missing item stays missing. */
  private async add(key: TableKey, values: Record<string, number | Set<string> | undefined>): Promise<void> {
    const present = Object.entries(values).filter(([, v]) => v !== undefined);
    if (present.length === 0) return;
    const names: Record<string, string> = { '#pk': TABLE_PARTITION_KEY };
    const vals: Record<string, unknown> = {};
    const adds = present.map(([name, value], i) => {
      names[`#a${i}`] = name;
      vals[`:a${i}`] = value;
      return `#a${i} :a${i}`;
    });
    try {
      await this.call(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: `ADD ${adds.join(', ')}`,
            // UpdateItem would otherwise create a bare item holding only counters.
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: vals,
          }),
        ),
      );
    } catch (error) {
      // The entry was deleted meanwhile: nothing left to count.
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
  }

  private async getEntry(keys: EntryKeys): Promise<IndexEntry | undefined> {
    const out = await this.call(() =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: entryKey(keys), ConsistentRead: true })),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  private async *queryStudy(q: Extract<IndexQuery, { by: 'study' }>): AsyncGenerator<IndexEntry> {
    const { studyInstanceUID, seriesInstanceUID } = q;
    if (q.level === 'STUDY' || (q.level === 'SERIES' && seriesInstanceUID !== undefined)) {
      // One item: a begins_with on "SERIES#1.2.3" would also match series "1.2.34".
      const e = await this.getEntry({ level: q.level, studyInstanceUID, seriesInstanceUID });
      if (e) yield e;
      return;
    }
    const prefix =
      q.level === 'SERIES'
        ? SERIES_SK_PREFIX
        : seriesInstanceUID !== undefined
          ? `${INSTANCE_SK_PREFIX}${seriesInstanceUID}#`
          : INSTANCE_SK_PREFIX;
    yield* this.queryItems({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY, '#sk': TABLE_SORT_KEY },
      ExpressionAttributeValues: { ':pk': entryKey({ level: 'STUDY', studyInstanceUID }).PK, ':prefix': prefix },
      ConsistentRead: true,
    });
  }

  /**
   * A GSI partition whose sort key is "{prefix}{studyDate}#{uid}", optionally within a date range,
   * read backwards (result order: IndexQuery), `pageSize` entries a Query when given.
   */
  private querySorted(
    indexName: string,
    pkName: string,
    pk: string,
    skName: string,
    prefix: string,
    range: DateRange | undefined,
    pageSize: number | undefined,
  ): AsyncIterable<IndexEntry> {
    const read = { IndexName: indexName, ScanIndexForward: false, ...(pageSize !== undefined && { Limit: pageSize }) };
    const names = { '#pk': pkName, '#sk': skName };
    if (!range || (range.from === undefined && range.to === undefined)) {
      if (prefix === '') {
        return this.queryItems({ ...read, KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': pkName }, ExpressionAttributeValues: { ':pk': pk } });
      }
      return this.queryItems({
        ...read,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
      });
    }
    const bounds = dateRangeBounds(prefix, range);
    if (!bounds) return (async function* () {})();
    return this.queryItems({
      ...read,
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':pk': pk, ':lo': bounds[0], ':hi': bounds[1] },
    });
  }

  /** One Query, page by page (LastEvaluatedKey), as entries. */
  private async *queryItems(input: Omit<QueryCommandInput, 'TableName'>): AsyncGenerator<IndexEntry> {
    for await (const item of this.queryRaw(input)) yield fromItem(item);
  }

  /** One Query, page by page (LastEvaluatedKey), as items; pages of the input's Limit or the configured page size, the smaller. */
  private async *queryRaw(input: Omit<QueryCommandInput, 'TableName'>): AsyncGenerator<Item> {
    const limits = [input.Limit, this.options.pageSize].filter((l) => l !== undefined);
    const limit = limits.length > 0 ? Math.min(...limits) : undefined;
    let startKey: Record<string, unknown> | undefined;
    do {
      const exclusiveStartKey = startKey;
      const out = await this.call(() =>
        this.doc.send(new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: exclusiveStartKey, Limit: limit })),
      );
      yield* out.Items ?? [];
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  }
}

/** The series and study above a resource (nearest first). */
function ancestors(t: TombstoneKeys): TombstoneKeys[] {
  const study: TombstoneKeys = { level: 'STUDY', studyInstanceUID: t.studyInstanceUID };
  if (t.level === 'STUDY') return [];
  if (t.level === 'SERIES') return [study];
  return [{ level: 'SERIES', studyInstanceUID: t.studyInstanceUID, seriesInstanceUID: t.seriesInstanceUID }, study];
}

/** 'identical' only for the same study, series and bytes (digest); anything else conflicts. */
function compareInstances(existing: IndexEntry, incoming: IndexEntry): PutInstanceOutcome {
  const identical =
    existing.studyInstanceUID === incoming.studyInstanceUID &&
    existing.seriesInstanceUID === incoming.seriesInstanceUID &&
    existing.instance?.digest !== undefined &&
    existing.instance.digest === incoming.instance?.digest;
  return identical ? { outcome: 'identical', existing } : { outcome: 'conflict', existing };
}
