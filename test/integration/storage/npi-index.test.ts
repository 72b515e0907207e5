/**
 * Integration: DynamoNpiIndex against dynalite (the DynamoDB wire protocol): NPI entries live in their
 * own partition per category, paging works, the conditional put never overwrites, and no Studies index
 * access path ever reads them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../lambdas/storage/clients';
import { DynamoMetadataIndex } from '../../../lambdas/storage/dynamodb';
import { DynamoNpiIndex } from '../../../lambdas/storage/npi-index';
import type { IndexEntry, NpiEntry } from '../../../lambdas/storage/ports';
import { useEmulators } from '../../support/emulators';

const TABLE = 'archive-npi-test';

const fixture = useEmulators({ name: 'npi-index', bucketName: TABLE, tableName: TABLE });
let clients: AwsClients;
let npi: DynamoNpiIndex;
let studies: DynamoMetadataIndex;

beforeAll(() => {
  ({ clients } = fixture());
  // Pages of 2, so a category of 5 entries crosses LastEvaluatedKey boundaries.
  npi = new DynamoNpiIndex(clients.dynamodb, TABLE, { pageSize: 2 });
  studies = new DynamoMetadataIndex(clients.dynamodb, TABLE, 4, { pageSize: 2 });
});

let counter = 0;
const uid = () => `2.25.${Date.now()}${++counter}`;

function entry(category: string, sopInstanceUID: string, digest = 'd1'): NpiEntry {
  return {
    category,
    sopInstanceUID,
    attributes: { '00700080': { vr: 'CS', Value: ['HOT_IRON'] }, '00081030': { vr: 'LO', Value: [''] } },
    instance: {
      sopClassUID: '1.2.840.10008.5.1.4.39.1',
      transferSyntaxUID: '1.2.840.10008.1.2.1',
      objectKey: `npi/${category}/${sopInstanceUID}.dcm`,
      metadataKey: `npi/${category}/${sopInstanceUID}.json`,
      size: 123,
      digest,
      numberOfFrames: 0,
    },
  };
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('DynamoNpiIndex', () => {
  it('puts, gets and queries a category page by page, only its own entries', async () => {
    const sops = Array.from({ length: 5 }, uid);
    for (const sop of sops) expect(await npi.putInstance(entry('color-palettes', sop))).toEqual({ outcome: 'created' });
    await npi.putInstance(entry('hanging-protocols', uid()));

    expect(await npi.getInstance('color-palettes', sops[0]!)).toEqual(entry('color-palettes', sops[0]!));
    expect(await npi.getInstance('hanging-protocols', sops[0]!)).toBeUndefined();
    const found = await all(npi.query('color-palettes'));
    expect(found.map((e) => e.sopInstanceUID).sort()).toEqual([...sops].sort());
    expect(found.every((e) => e.category === 'color-palettes')).toBe(true);
  });

  it('never overwrites: identical content is reported identical, other content conflicts', async () => {
    const sop = uid();
    await npi.putInstance(entry('inventories', sop, 'a'));
    expect((await npi.putInstance(entry('inventories', sop, 'a'))).outcome).toBe('identical');
    const conflict = await npi.putInstance(entry('inventories', sop, 'b'));
    expect(conflict.outcome).toBe('conflict');
    expect((await npi.getInstance('inventories', sop))!.instance.digest).toBe('a');
  });

  it('is invisible to every access path of the Studies index', async () => {
    const sop = uid();
    await npi.putInstance(entry('protocol-approvals', sop));
    const seen: IndexEntry[] = [
      ...(await all(studies.query({ by: 'uid', level: 'INSTANCE', uids: [sop] }))),
      ...(await all(studies.query({ by: 'level', level: 'INSTANCE' }))),
      ...(await all(studies.query({ by: 'level', level: 'STUDY' }))),
    ];
    expect(seen.filter((e) => e.sopInstanceUID === sop)).toEqual([]);
  });
});
