/**
 * MetadataIndex over Amazon DynamoDB (or dynalite in the embedded runtime: same wire protocol).
 * Item layout: dynamodb-items.ts and table-schema.ts; calls: dynamodb-table.ts; GSI reads:
 * dynamodb-gsi-reads.ts. Every read is a GetItem, BatchGetItem or Query on the table or a GSI; never a
 * Scan. No transactions (dynalite has none): conditional puts and atomic ADD make every interleaving of
 * writers harmless (docs/architecture.md, storage model).
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { deleteJobKeys, deleteJobOf, DynamoDeleteJobs } from './delete-jobs';
import {
  ancestors,
  compareInstances,
  entryKey,
  fromItem,
  INSTANCE_SK_PREFIX,
  nameTermItems,
  nameTermPrefix,
  SERIES_SK_PREFIX,
  toItem,
  tombstoneFromItem,
  tombstoneKey,
  type TableKey,
  type TombstoneKeys,
} from './dynamodb-items';
import { entriesByKey, sortedItems, uidItems } from './dynamodb-gsi-reads';
import { byItemId, DynamoTable, itemId, mergeSorted, type WriteRequest } from './dynamodb-table';
import { StorageUnavailableError } from './errors';
import { ensureNameTerms, queryNameTerms } from './name-terms';
import type {
  DeleteJob,
  EntryKeys,
  IndexEntry,
  IndexQuery,
  InstanceKey,
  MetadataIndex,
  PutInstanceOutcome,
  SeriesUids,
  Tombstone,
} from './ports';
import { GSI_BY_LEVEL, GSI_BY_PATIENT, TABLE_PARTITION_KEY, TABLE_SORT_KEY } from './table-schema';

export interface DynamoMetadataIndexOptions {
  /** Query page size (Limit); unset lets DynamoDB fill 1 MB pages. Tests set it small to exercise paging. */
  readonly pageSize?: number;
}

const MAX_PUT_ATTEMPTS = 3;

export class DynamoMetadataIndex implements MetadataIndex {
  private readonly table: DynamoTable;
  private readonly deleteJobs: DynamoDeleteJobs;

  constructor(
    client: DynamoDBClient,
    tableName: string,
    private readonly shards: number,
    options: DynamoMetadataIndexOptions = {},
  ) {
    if (!Number.isInteger(shards) || shards < 1) throw new RangeError('shards must be a positive integer');
    this.table = new DynamoTable(client, tableName, options.pageSize);
    this.deleteJobs = new DynamoDeleteJobs(this.table);
  }

  async putInstance(entry: IndexEntry): Promise<PutInstanceOutcome> {
    // The name terms before the entry, as putWithNameTerms.
    await this.putNameTerms(entry);
    for (let attempt = 0; attempt < MAX_PUT_ATTEMPTS; attempt++) {
      if (await this.table.putIfAbsent(toItem(entry, this.shards))) return { outcome: 'created' };
      // Lost a race to another writer of the same key: read what it wrote (strongly consistent).
      const existing = await this.getEntry(entry);
      if (existing) return compareInstances(existing, entry);
      // ...which was deleted meanwhile: try again.
    }
    // Concurrent store and delete of the same instance kept racing: let the client retry.
    throw new StorageUnavailableError('instance entry kept changing, retry later');
  }

  ensureSeries(entry: IndexEntry): Promise<boolean> {
    return this.putWithNameTerms({ ...entry, level: 'SERIES' });
  }

  ensureStudy(entry: IndexEntry): Promise<boolean> {
    return this.putWithNameTerms({ ...entry, level: 'STUDY' });
  }

  /** Writes the name term items of a table from before they existed (name-terms.ts). */
  ensureNameTerms(): Promise<boolean> {
    return ensureNameTerms(this.table, this.shards);
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
      await this.table.call(() =>
        this.table.doc.send(
          new UpdateCommand({
            TableName: this.table.name,
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
    const items = byItemId(await this.table.batchGet(tableKeys, true));
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
        // The UIDs' entries in one BatchGetItem per 100.
        yield* entriesByKey(this.table, uidItems(this.table, q.level, new Set(q.uids)), undefined);
        return;
      case 'patient':
        if (q.patientId === '') return; // entries without a Patient ID are not in ByPatient
        yield* entriesByKey(
          this.table,
          sortedItems(
            this.table,
            GSI_BY_PATIENT.indexName,
            GSI_BY_PATIENT.partitionKey,
            `PATIENT#${q.patientId}`,
            GSI_BY_PATIENT.sortKey,
            `${q.level}#`,
            q.dateRange,
            q.pageHint,
          ),
          q.pageHint,
        );
        return;
      case 'name':
        yield* queryNameTerms(this.table, q, this.shards);
        return;
      case 'level': {
        // The first `pageHint` entries are spread over the shards: twice a shard's share per page,
        // so that a second page is rarely needed.
        const pageSize = q.pageHint === undefined ? undefined : Math.ceil((2 * q.pageHint) / this.shards) + 1;
        const shards = Array.from({ length: this.shards }, (_, shard) =>
          sortedItems(
            this.table,
            GSI_BY_LEVEL.indexName,
            GSI_BY_LEVEL.partitionKey,
            `${q.level}#${shard}`,
            GSI_BY_LEVEL.sortKey,
            '',
            q.dateRange,
            pageSize,
          )[Symbol.asyncIterator](),
        );
        // Every shard is in descending {studyDate}#{uid} order (its sort key); merged, so is the whole
        // result, whose entries are then read by key.
        yield* entriesByKey(
          this.table,
          mergeSorted(shards, (item) => item[GSI_BY_LEVEL.sortKey] as string, 'descending'),
          q.pageHint,
        );
        return;
      }
    }
  }

  async deleteEntry(entry: EntryKeys): Promise<void> {
    const key = entryKey(entry);
    await this.table.call(() => this.table.doc.send(new DeleteCommand({ TableName: this.table.name, Key: key })));
    // Its name terms after it: a crash in between leaves terms naming no entry, which searches skip.
    // Read, not derived from the attributes, so terms an earlier writer left (another spelling of the
    // name in a later instance of the study) go too.
    const terms = this.table.queryRaw({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY, '#sk': TABLE_SORT_KEY },
      ExpressionAttributeValues: { ':pk': key.PK, ':prefix': nameTermPrefix(entry) },
      ProjectionExpression: '#pk, #sk',
      ConsistentRead: true,
    });
    const deletes: WriteRequest[] = [];
    for await (const t of terms) deletes.push({ DeleteRequest: { Key: { PK: t[TABLE_PARTITION_KEY], SK: t[TABLE_SORT_KEY] } } });
    await this.table.batchWrite(deletes);
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
    await this.table.call(() => this.table.doc.send(new PutCommand({ TableName: this.table.name, Item: item })));
  }

  async findTombstone(t: TombstoneKeys): Promise<Tombstone | undefined> {
    // Nearest first: the resource itself, then its series, then its study.
    const candidates = [t, ...ancestors(t)].map(tombstoneKey);
    const found = byItemId(await this.table.batchGet(candidates, true));
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
    await this.table.batchWrite([...keys.values()].map((Key) => ({ DeleteRequest: { Key } })));
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

  /** The Delete jobs, the study and the series entry in one strongly consistent BatchGetItem (all in the study's partition). */
  async findSeriesForStore(uids: SeriesUids): Promise<{ deleteJob?: DeleteJob; study?: IndexEntry; series?: IndexEntry }> {
    const jobs = deleteJobKeys(uids);
    const studyKey = entryKey({ level: 'STUDY', studyInstanceUID: uids.studyInstanceUID });
    const seriesKey = entryKey({ level: 'SERIES', ...uids });
    const found = byItemId(await this.table.batchGet([...jobs, studyKey, seriesKey], true));
    const deleteJob = deleteJobOf(jobs, found);
    const [study, series] = [studyKey, seriesKey].map((k) => found.get(itemId(k)));
    return { ...(deleteJob && { deleteJob }), ...(study && { study: fromItem(study) }), ...(series && { series: fromItem(series) }) };
  }

  // -------------------------------------------------------------------------------------------

  /**
   * The name terms first, then the entry (conditional put): a crash in between leaves terms naming
   * no entry, which searches skip, never an entry that name searches miss. A retried store writes
   * them again, so an entry created by a writer that crashed right after is found too.
   */
  private async putWithNameTerms(entry: IndexEntry): Promise<boolean> {
    await this.putNameTerms(entry);
    return this.table.putIfAbsent(toItem(entry, this.shards));
  }

  private putNameTerms(entry: IndexEntry): Promise<void> {
    return this.table.batchWrite(nameTermItems(entry, this.shards).map((Item) => ({ PutRequest: { Item } })));
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
      await this.table.call(() =>
        this.table.doc.send(
          new UpdateCommand({
            TableName: this.table.name,
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
    const out = await this.table.call(() =>
      this.table.doc.send(new GetCommand({ TableName: this.table.name, Key: entryKey(keys), ConsistentRead: true })),
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

  /** One Query on the table, page by page (LastEvaluatedKey), as entries. */
  private async *queryItems(input: Omit<QueryCommandInput, 'TableName'>): AsyncGenerator<IndexEntry> {
    for await (const item of this.table.queryRaw(input)) yield fromItem(item);
  }
}
