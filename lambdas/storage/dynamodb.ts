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
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ServiceUnavailableError } from '../dicomweb/errors';
import { callAws } from './clients';
import type {
  DateRange,
  DicomJson,
  IndexEntry,
  IndexQuery,
  InstanceKey,
  InstanceObject,
  Level,
  MetadataIndex,
  PutInstanceOutcome,
  Tombstone,
} from './ports';
import { GSI_BY_LEVEL, GSI_BY_PATIENT, GSI_BY_UID, TABLE_PARTITION_KEY, TABLE_SORT_KEY } from './table-schema';

type EntryKeys = Pick<IndexEntry, 'level' | 'studyInstanceUID' | 'seriesInstanceUID' | 'sopInstanceUID'>;
type TombstoneKeys = Omit<Tombstone, 'deletedAt'>;
type Item = Record<string, unknown>;

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
    [GSI_BY_LEVEL.sortKey]: `${entry.studyDate}#${uid}`,
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
export function instanceObjectAttributes(i: InstanceObject): Record<string, string | number> {
  return {
    SOPClassUID: i.sopClassUID,
    TransferSyntaxUID: i.transferSyntaxUID,
    ObjectKey: i.objectKey,
    MetadataKey: i.metadataKey,
    Size: i.size,
    Digest: i.digest,
    NumberOfFrames: i.numberOfFrames,
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
 * Merges ascending sources into one ascending sequence (k-way merge); the first page of every
 * source is requested at once.
 */
async function* mergeAscending<T>(sources: readonly AsyncIterator<T>[], key: (t: T) => string): AsyncGenerator<T> {
  const heads = await Promise.all(sources.map((s) => s.next()));
  for (;;) {
    let min = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i]!;
      if (head.done) continue;
      if (min < 0 || key(head.value) < key((heads[min] as IteratorYieldResult<T>).value)) min = i;
    }
    if (min < 0) return;
    yield (heads[min] as IteratorYieldResult<T>).value;
    heads[min] = await sources[min]!.next();
  }
}

export interface DynamoMetadataIndexOptions {
  /** Query page size (Limit); unset lets DynamoDB fill 1 MB pages. Tests set it small to exercise paging. */
  readonly pageSize?: number;
}

const MAX_PUT_ATTEMPTS = 3;
/** BatchGetItem reads at most 100 items per request. */
const BATCH_GET_MAX_KEYS = 100;

/** One string per table key, to find a BatchGetItem's answers (which come in any order) by key. */
function itemId(key: TableKey): string {
  return `${key.PK}\n${key.SK}`;
}

// ---------------------------------------------------------------------------------------------
// The adapter
// ---------------------------------------------------------------------------------------------

export class DynamoMetadataIndex implements MetadataIndex {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly shards: number,
    private readonly options: DynamoMetadataIndexOptions = {},
  ) {
    if (!Number.isInteger(shards) || shards < 1) throw new RangeError('shards must be a positive integer');
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async putInstance(entry: IndexEntry): Promise<PutInstanceOutcome> {
    const sopInstanceUID = ownUid(entry);
    for (let attempt = 0; attempt < MAX_PUT_ATTEMPTS; attempt++) {
      // A SOP Instance UID names one instance across the archive (PS3.3 C.12.1.1.1), wherever it is
      // filed: look it up by UID first, since the conditional put only guards this study/series key.
      const indexed = await this.findInstanceByUid(sopInstanceUID);
      if (indexed) return compareInstances(indexed, entry);
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
    return this.putIfAbsent(toItem({ ...entry, level: 'SERIES' }, this.shards));
  }

  ensureStudy(entry: IndexEntry): Promise<boolean> {
    return this.putIfAbsent(toItem({ ...entry, level: 'STUDY' }, this.shards));
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

  async getInstances(keys: readonly InstanceKey[]): Promise<(IndexEntry | undefined)[]> {
    const tableKeys = keys.map((k) => entryKey({ level: 'INSTANCE', ...k }));
    const items = await this.batchGet(tableKeys);
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
        yield* this.querySorted(GSI_BY_PATIENT.indexName, GSI_BY_PATIENT.partitionKey, `PATIENT#${q.patientId}`, GSI_BY_PATIENT.sortKey, `${q.level}#`, q.dateRange);
        return;
      case 'level': {
        const shards = Array.from({ length: this.shards }, (_, shard) =>
          this.querySorted(GSI_BY_LEVEL.indexName, GSI_BY_LEVEL.partitionKey, `${q.level}#${shard}`, GSI_BY_LEVEL.sortKey, '', q.dateRange)[Symbol.asyncIterator](),
        );
        // Every shard is ordered by {studyDate}#{uid}; merged, so is the whole result.
        yield* mergeAscending(shards, (e) => `${e.studyDate}#${ownUid(e)}`);
        return;
      }
    }
  }

  async deleteEntry(entry: EntryKeys): Promise<void> {
    await this.call(() => this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: entryKey(entry) })));
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
    const found = await this.batchGet(candidates);
    for (const c of candidates) {
      const hit = found.get(itemId(c));
      if (hit) return tombstoneFromItem(hit);
    }
    return undefined;
  }

  async clearTombstones(studyInstanceUID: string, seriesInstanceUID: string, sopInstanceUID: string): Promise<void> {
    const instance: TombstoneKeys = { level: 'INSTANCE', studyInstanceUID, seriesInstanceUID, sopInstanceUID };
    await Promise.all(
      [instance, ...ancestors(instance)].map((t) =>
        this.call(() => this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: tombstoneKey(t) }))),
      ),
    );
  }

  // -------------------------------------------------------------------------------------------

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return callAws('DynamoDB', fn, isDynamoUnavailable);
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

  /**
   * Items by key (strongly consistent), as a map from itemId: BatchGetItem, at most 100 keys per
   * request, until DynamoDB has processed every key.
   */
  private async batchGet(keys: readonly TableKey[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX_KEYS) {
      let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + BATCH_GET_MAX_KEYS).map((k) => ({ ...k }));
      while (pending && pending.length > 0) {
        const request: Record<string, unknown>[] = pending;
        const out = await this.call(() =>
          this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: request, ConsistentRead: true } } })),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) found.set(itemId({ PK: item[TABLE_PARTITION_KEY] as string, SK: item[TABLE_SORT_KEY] as string }), item);
        pending = out.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return found;
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

  private async findInstanceByUid(sopInstanceUID: string): Promise<IndexEntry | undefined> {
    for await (const e of this.query({ by: 'uid', level: 'INSTANCE', uids: [sopInstanceUID] })) return e;
    return undefined;
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

  /** A GSI partition whose sort key is "{prefix}{studyDate}#{uid}", optionally within a date range. */
  private querySorted(
    indexName: string,
    pkName: string,
    pk: string,
    skName: string,
    prefix: string,
    range: DateRange | undefined,
  ): AsyncIterable<IndexEntry> {
    const names = { '#pk': pkName, '#sk': skName };
    if (!range || (range.from === undefined && range.to === undefined)) {
      if (prefix === '') {
        return this.queryItems({ IndexName: indexName, KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': pkName }, ExpressionAttributeValues: { ':pk': pk } });
      }
      return this.queryItems({
        IndexName: indexName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
      });
    }
    const bounds = dateRangeBounds(prefix, range);
    if (!bounds) return (async function* () {})();
    return this.queryItems({
      IndexName: indexName,
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':pk': pk, ':lo': bounds[0], ':hi': bounds[1] },
    });
  }

  /** One Query, page by page (LastEvaluatedKey), as entries. */
  private async *queryItems(input: Omit<QueryCommandInput, 'TableName'>): AsyncGenerator<IndexEntry> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const exclusiveStartKey = startKey;
      const out = await this.call(() =>
        this.doc.send(
          new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: exclusiveStartKey, Limit: this.options.pageSize }),
        ),
      );
      for (const item of out.Items ?? []) yield fromItem(item);
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
