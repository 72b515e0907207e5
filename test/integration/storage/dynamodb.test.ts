import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../lambdas/storage/clients';
import { Tag } from '../../../lambdas/dicom/tags';
import { inResultOrder } from '../../../lambdas/dicomweb/search';
import { DynamoMetadataIndex } from '../../../lambdas/storage/dynamodb';
import { nameTermItems, nameTermPartition, nameTermPrefix, ownUid, shardOf, toItem } from '../../../lambdas/storage/dynamodb-items';
import { NAME_TERMS_MARKER } from '../../../lambdas/storage/name-terms';
import type { IndexEntry, IndexQuery, Level, MetadataIndex } from '../../../lambdas/storage/ports';
import { createTableInput, ensureTable } from '../../../lib/local/emulators';
import { useEmulators } from '../../support/emulators';
import { describeMetadataIndexContract, instanceEntry, seriesEntry, studyEntry, uid } from '../../contract/metadata-index.contract';
import {
  describeNameQueryContract,
  nameLabels,
  NAME_LEVELS,
  storeNamed as storeNamedIn,
  type NamedStudy,
} from '../../contract/metadata-index-names.contract';

const TABLE = 'archive-index-test';
const SHARDS = 4;
/** Small pages, so every query below crosses LastEvaluatedKey boundaries. */
const PAGE_SIZE = 2;

const fixture = useEmulators({ name: 'dynamodb-adapter', bucketName: 'archive-index-test', tableName: TABLE });
let clients: AwsClients;
let index: DynamoMetadataIndex;

beforeAll(() => {
  ({ clients } = fixture());
  index = new DynamoMetadataIndex(clients.dynamodb, TABLE, SHARDS, { pageSize: PAGE_SIZE });
});

describeMetadataIndexContract(
  'DynamoMetadataIndex',
  () => new DynamoMetadataIndex(clients.dynamodb, TABLE, SHARDS, { pageSize: PAGE_SIZE }),
);

/** A table whose GSIs project ALL: one created before the lean projections (an embedded data directory). */
const ALL_TABLE = 'archive-index-all-projections';
let allProjections: DynamoMetadataIndex;

beforeAll(async () => {
  const input = createTableInput(ALL_TABLE);
  const GlobalSecondaryIndexes = input.GlobalSecondaryIndexes!.map((g) => ({ ...g, Projection: { ProjectionType: 'ALL' as const } }));
  await ensureTable(clients.dynamodb, ALL_TABLE, { ...input, GlobalSecondaryIndexes });
  allProjections = new DynamoMetadataIndex(clients.dynamodb, ALL_TABLE, SHARDS, { pageSize: PAGE_SIZE });
});

describeMetadataIndexContract('DynamoMetadataIndex on GSIs projecting ALL', () => allProjections);
describeNameQueryContract('DynamoMetadataIndex on GSIs projecting ALL', () => allProjections);

async function all(q: IndexQuery, from: MetadataIndex = index): Promise<IndexEntry[]> {
  const out: IndexEntry[] = [];
  for await (const e of from.query(q)) out.push(e);
  return out;
}

/** Runs fn, counting the requests of one command it sends (e.g. to prove a result crossed pages). */
async function counting<T>(commandName: string, fn: () => Promise<T>): Promise<{ result: T; requests: number }> {
  let requests = 0;
  clients.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === commandName) requests++;
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  try {
    return { result: await fn(), requests };
  } finally {
    clients.dynamodb.middlewareStack.remove('countRequests');
  }
}

const sops = (entries: IndexEntry[]) => entries.map((e) => e.sopInstanceUID).sort();

describe('getEntries', () => {
  it('answers in the order asked, undefined where nothing is indexed, across BatchGetItem requests of 100 keys', async () => {
    const [study, series] = [uid(), uid()];
    const stored = Array.from({ length: 120 }, () => instanceEntry(study, series, uid()));
    for (const entry of stored) await index.putInstance(entry);
    const absent = { studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: uid() };
    const asked = [...stored.slice().reverse(), absent].map((e) => ({
      level: 'INSTANCE' as const,
      studyInstanceUID: e.studyInstanceUID,
      seriesInstanceUID: e.seriesInstanceUID!,
      sopInstanceUID: e.sopInstanceUID!,
    }));
    const { result, requests } = await counting('BatchGetItemCommand', () => index.getEntries(asked));
    expect(result).toEqual([...stored.slice().reverse(), undefined]);
    expect(requests).toBe(2);
    expect(await index.getEntries([])).toEqual([]);
  });
});

describe('ensureStudy / ensureSeries and counters', () => {
  it('does not create a bare item when counting for a missing study or series', async () => {
    const [study, series] = [uid(), uid()];
    await index.addStudyCounters(study, { series: 1, instances: 1, modalities: ['CT'] });
    await index.addSeriesCounters(study, series, { instances: 1 });
    const raw = await clients.dynamodb.send(
      new GetItemCommand({ TableName: TABLE, Key: { PK: { S: `STUDY#${study}` }, SK: { S: '#STUDY' } } }),
    );
    expect(raw.Item).toBeUndefined();
    expect(await index.getSeries(study, series)).toBeUndefined();
  });
});

describe('query', () => {
  it("by 'study': series, instances of the study, instances of one series, the study itself; page by page", async () => {
    const [study, s1, s2] = [uid(), uid(), uid()];
    await index.ensureStudy(studyEntry(study));
    await index.ensureSeries(seriesEntry(study, s1));
    await index.ensureSeries(seriesEntry(study, s2));
    const inS1 = [uid(), uid(), uid(), uid(), uid()];
    const inS2 = [uid(), uid()];
    for (const sop of inS1) await index.putInstance(instanceEntry(study, s1, sop));
    for (const sop of inS2) await index.putInstance(instanceEntry(study, s2, sop));
    await index.putTombstone({ level: 'SERIES', studyInstanceUID: study, seriesInstanceUID: uid(), deletedAt: '2024-01-01T00:00:00Z' });

    const series = await all({ by: 'study', level: 'SERIES', studyInstanceUID: study });
    expect(series.map((e) => e.seriesInstanceUID).sort()).toEqual([s1, s2].sort());
    const instances = await counting('QueryCommand', () => all({ by: 'study', level: 'INSTANCE', studyInstanceUID: study }));
    expect(sops(instances.result)).toEqual([...inS1, ...inS2].sort());
    expect(instances.requests).toBeGreaterThanOrEqual(Math.ceil(7 / PAGE_SIZE));
    expect(sops(await all({ by: 'study', level: 'INSTANCE', studyInstanceUID: study, seriesInstanceUID: s1 }))).toEqual([...inS1].sort());
    expect(await all({ by: 'study', level: 'SERIES', studyInstanceUID: study, seriesInstanceUID: s2 })).toHaveLength(1);
    expect((await all({ by: 'study', level: 'STUDY', studyInstanceUID: study })).map((e) => e.studyInstanceUID)).toEqual([study]);
    expect(await all({ by: 'study', level: 'STUDY', studyInstanceUID: uid() })).toEqual([]);
  });

  it("by 'level': every shard, merged in result order (most recent first), with date ranges", async () => {
    // Its own table, so the level index holds only this test's entries.
    const table = 'level-query-test';
    await ensureTable(clients.dynamodb, table);
    const byLevel = new DynamoMetadataIndex(clients.dynamodb, table, SHARDS, { pageSize: PAGE_SIZE });
    const dates = ['20240105', '20230101', '20240301', '20240105', '20220610', '20240229', '20240101', '20240102', '20241231', ''];
    const studies = dates.map((date) => ({ date, study: uid() }));
    for (const { date, study } of studies) {
      await byLevel.ensureStudy(studyEntry(study, date));
      await byLevel.ensureSeries(seriesEntry(study, uid(), date));
    }
    // The entries really are spread over several shards (else the merge would go untested).
    const shardsUsed = new Set<string>();
    for (let shard = 0; shard < SHARDS; shard++) {
      const out = await clients.dynamodb.send(
        new QueryCommand({
          TableName: table,
          IndexName: 'ByLevel',
          KeyConditionExpression: 'LevelPK = :pk',
          ExpressionAttributeValues: { ':pk': { S: `STUDY#${shard}` } },
        }),
      );
      if ((out.Items ?? []).length > 0) shardsUsed.add(String(shard));
    }
    expect(shardsUsed.size).toBeGreaterThan(1);

    const expected = (keep: (date: string) => boolean) =>
      studies
        .filter(({ date }) => keep(date))
        .sort((a, b) => (`${a.date}#${a.study}` > `${b.date}#${b.study}` ? -1 : 1))
        .map(({ study }) => study);
    const found = async (dateRange?: { from?: string; to?: string }) =>
      (await all({ by: 'level', level: 'STUDY', dateRange }, byLevel)).map((e) => e.studyInstanceUID);

    expect(await found()).toEqual(expected(() => true));
    // A page hint sizes the Query pages (here 1 per shard), never what is found.
    expect((await all({ by: 'level', level: 'STUDY', pageHint: 1 }, byLevel)).map((e) => e.studyInstanceUID)).toEqual(expected(() => true));
    expect(await found({ from: '20240101', to: '20240229' })).toEqual(expected((d) => d >= '20240101' && d <= '20240229'));
    expect(await found({ from: '20240105' })).toEqual(expected((d) => d >= '20240105'));
    expect(await found({ to: '20231231' })).toEqual(expected((d) => d !== '' && d <= '20231231'));
    expect(await found({ from: '20240106', to: '20240228' })).toEqual([]);
    const series = await all({ by: 'level', level: 'SERIES', dateRange: { from: '20240301' } }, byLevel);
    expect(series.map((e) => e.studyDate)).toEqual(['20241231', '20240301']);
  });
});

describe('query: entries a GSI finds are read by key (table-schema.ts projections)', () => {
  /** Stores `count` studies of one new Patient ID; their UIDs in result order. */
  async function studiesOfPatient(into: MetadataIndex, count: number): Promise<{ patientId: string; studies: string[] }> {
    const patientId = `P-${uid().slice(-8)}`;
    const stored = Array.from({ length: count }, (_, i) => studyEntry(uid(), `202401${String(10 + i)}`, patientId));
    for (const e of stored) await into.ensureStudy(e);
    return { patientId, studies: [...stored].sort(inResultOrder).map((e) => e.studyInstanceUID) };
  }

  it('reads the entries of a patient search in one BatchGetItem per page hint, in result order', async () => {
    const { patientId, studies } = await studiesOfPatient(index, 6);
    const q: IndexQuery = { by: 'patient', level: 'STUDY', patientId };
    const whole = await counting('BatchGetItemCommand', () => all(q));
    expect(whole.result.map((e) => e.studyInstanceUID)).toEqual(studies);
    expect(whole.result[0]!.attributes).toEqual(studyEntry(studies[0]!, '20240115', patientId).attributes);
    expect(whole.requests).toBe(1);
    // A search that wants 2 matches reads one BatchGetItem of 3 entries and stops.
    const firstTwo = await counting('BatchGetItemCommand', async () => {
      const first: IndexEntry[] = [];
      for await (const e of index.query({ ...q, pageHint: 2 })) {
        first.push(e);
        if (first.length === 2) break;
      }
      return first;
    });
    expect(firstTwo.result.map((e) => e.studyInstanceUID)).toEqual(studies.slice(0, 2));
    expect(firstTwo.requests).toBe(1);
  });

  it('reads the counters the table holds now, and skips an entry deleted since the GSI was read', async () => {
    const { patientId, studies } = await studiesOfPatient(index, 2);
    await index.addStudyCounters(studies[0]!, { series: 1, instances: 3 });
    await index.deleteEntry({ level: 'STUDY', studyInstanceUID: studies[1]! });
    const found = await all({ by: 'patient', level: 'STUDY', patientId });
    expect(found.map((e) => [e.studyInstanceUID, e.relatedInstances])).toEqual([[studies[0], 3]]);
  });

  it('reads nothing by key from GSIs that project ALL', async () => {
    const { patientId, studies } = await studiesOfPatient(allProjections, 3);
    const found = await counting('BatchGetItemCommand', () => all({ by: 'patient', level: 'STUDY', patientId }, allProjections));
    expect(found.result.map((e) => e.studyInstanceUID)).toEqual(studies);
    expect(found.requests).toBe(0);
  });
});

describeNameQueryContract('DynamoMetadataIndex', () => index);

describe("query by 'name': what the DynamoDB adapter adds (terms in ByLevel)", () => {
  const LEVELS = NAME_LEVELS;
  const storeNamed = (label: string, name: unknown) => storeNamedIn(index, label, name);
  const labels = (q: IndexQuery, stored: readonly NamedStudy[]) => nameLabels(index, q, stored);

  it('reads more entries than one BatchGetItem takes', async () => {
    const [study, series] = [uid(), uid()];
    const family = `Batch${Date.now()}`;
    const sops = Array.from({ length: 105 }, () => uid());
    for (const sop of sops) {
      const e = instanceEntry(study, series, sop);
      await index.putInstance({ ...e, attributes: { ...e.attributes, [Tag.PatientName]: { vr: 'PN', Value: [`${family}^X`] } } });
    }
    const found = await all({ by: 'name', level: 'INSTANCE', prefix: family.toLowerCase() });
    expect(found.map((e) => e.sopInstanceUID).sort()).toEqual([...sops].sort());
  });

  it('yields name matches in result order over every shard, reading entries a page at a time', async () => {
    const family = `Ordered${Date.now()}`;
    const dates = ['20240105', '20230101', '', '20240301', '20240105', '20220610', '20241231', '20240229', '', '20240102'];
    const stored: IndexEntry[] = [];
    for (const date of dates) {
      const [study, series, sop] = [uid(), uid(), uid()];
      const e = instanceEntry(study, series, sop, undefined, date);
      const entry = { ...e, attributes: { ...e.attributes, [Tag.PatientName]: { vr: 'PN', Value: [{ Alphabetic: `${family}^X` }] } } };
      await index.putInstance(entry);
      stored.push(entry);
    }
    const expected = [...stored].sort(inResultOrder).map((e) => e.sopInstanceUID);
    const found = await all({ by: 'name', level: 'INSTANCE', prefix: family.toLowerCase() });
    expect(found.map((e) => e.sopInstanceUID)).toEqual(expected);
    // Most recent first, entries without a Study Date last.
    expect(found[0]!.studyDate).toBe('20241231');
    expect(found.slice(-2).map((e) => e.studyDate)).toEqual(['', '']);

    // A search that wants 2 matches reads one BatchGetItem of 3 entries and stops.
    const { result, requests } = await counting('BatchGetItemCommand', async () => {
      const first: IndexEntry[] = [];
      for await (const e of index.query({ by: 'name', level: 'INSTANCE', prefix: family.toLowerCase(), pageHint: 2 })) {
        first.push(e);
        if (first.length === 2) break;
      }
      return first;
    });
    expect(result.map((e) => e.sopInstanceUID)).toEqual(expected.slice(0, 2));
    expect(requests).toBe(1);
  });

  it('drops a deleted instance, series or study from name results, with its terms', async () => {
    const gone = await storeNamed('G', { Alphabetic: 'Quist^Gone' });
    const termsOf = async (level: Level) => {
      const out = await clients.dynamodb.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
          ExpressionAttributeValues: {
            ':pk': { S: `STUDY#${gone.study}` },
            ':p': { S: nameTermPrefix({ level, studyInstanceUID: gone.study, seriesInstanceUID: gone.series, sopInstanceUID: gone.sop }) },
          },
        }),
      );
      return out.Items ?? [];
    };
    for (const level of LEVELS) {
      expect(await labels({ by: 'name', level, prefix: 'quist' }, [gone])).toEqual(['G']);
      expect(await termsOf(level)).toHaveLength(2); // 'quist', 'gone'
      await index.deleteEntry({ level, studyInstanceUID: gone.study, seriesInstanceUID: gone.series, sopInstanceUID: gone.sop });
      expect(await all({ by: 'name', level, prefix: 'quist' })).toEqual([]);
      expect(await termsOf(level)).toEqual([]);
    }
  });

  it('writes the terms of entries stored before they existed, once (ensureNameTerms)', async () => {
    const [study, series, sop] = [uid(), uid(), uid()];
    const name = { [Tag.PatientName]: { vr: 'PN', Value: [{ Alphabetic: 'Olderman^Ann' }] } };
    const old = [studyEntry(study), seriesEntry(study, series), instanceEntry(study, series, sop)].map((e) => ({
      ...e,
      attributes: { ...e.attributes, ...name },
    }));
    // As a table from before the name terms: the entries alone, and no marker.
    for (const e of old) {
      await clients.dynamodb.send(
        new PutItemCommand({ TableName: TABLE, Item: marshall(toItem(e, SHARDS), { removeUndefinedValues: true }) }),
      );
    }
    await clients.dynamodb.send(new DeleteItemCommand({ TableName: TABLE, Key: marshall(NAME_TERMS_MARKER) }));
    for (const level of LEVELS) expect(await all({ by: 'name', level, prefix: 'olderman' })).toEqual([]);

    expect(await index.ensureNameTerms()).toBe(true);
    for (const level of LEVELS) {
      expect((await all({ by: 'name', level, prefix: 'olderman' })).map(ownUid)).toEqual([ownUid(old[LEVELS.indexOf(level)]!)]);
    }
    expect(await index.ensureNameTerms()).toBe(false);
  });

  it('moves study and series terms of layout 1 (sharded like instance terms) into their one partition of layout 2', async () => {
    const [study, series] = [uid(), uid()];
    const name = { [Tag.PatientName]: { vr: 'PN', Value: [{ Alphabetic: 'Layoutone^Lee' }] } };
    const entries = [studyEntry(study), seriesEntry(study, series)].map((e) => ({ ...e, attributes: { ...e.attributes, ...name } }));
    for (const e of entries) {
      await clients.dynamodb.send(
        new PutItemCommand({ TableName: TABLE, Item: marshall(toItem(e, SHARDS), { removeUndefinedValues: true }) }),
      );
      // Layout 1 wrote each term to the entry's shard; shard 0 would already be where layout 2 reads.
      const layoutOne = Math.max(1, shardOf(ownUid(e), SHARDS));
      for (const term of nameTermItems(e, SHARDS)) {
        const partition = nameTermPartition(e.level, String(term.SK).split('#').at(-1)!, layoutOne);
        await clients.dynamodb.send(
          new PutItemCommand({ TableName: TABLE, Item: marshall({ ...term, LevelPK: partition }, { removeUndefinedValues: true }) }),
        );
      }
    }
    await clients.dynamodb.send(new DeleteItemCommand({ TableName: TABLE, Key: marshall(NAME_TERMS_MARKER) }));
    await clients.dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: marshall({ PK: '#SCHEMA', SK: 'NAME-TERMS' }) }));
    for (const level of ['STUDY', 'SERIES'] as const) expect(await all({ by: 'name', level, prefix: 'layoutone' })).toEqual([]);

    expect(await index.ensureNameTerms()).toBe(true);
    expect((await all({ by: 'name', level: 'STUDY', prefix: 'layoutone' })).map(ownUid)).toEqual([study]);
    expect((await all({ by: 'name', level: 'SERIES', prefix: 'layoutone' })).map(ownUid)).toEqual([series]);
  });

  it('reads one name partition for studies and series, one per shard for instances', async () => {
    for (const [level, expected] of [
      ['STUDY', 1],
      ['SERIES', 1],
      ['INSTANCE', SHARDS],
    ] as const) {
      const { requests } = await counting('QueryCommand', () => all({ by: 'name', level, prefix: 'zzunmatched' }));
      expect(requests, level).toBe(expected);
    }
  });
});
