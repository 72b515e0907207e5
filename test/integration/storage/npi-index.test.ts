/**
 * Integration: DynamoNpiIndex against dynalite (the DynamoDB wire protocol): NPI entries live in their
 * own partition per category, paging works, the conditional put never overwrites, and no Studies index
 * access path ever reads them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../lambdas/storage/clients';
import { DynamoMetadataIndex } from '../../../lambdas/storage/dynamodb';
import { DynamoNpiIndex } from '../../../lambdas/storage/npi-index';
import type { IndexEntry } from '../../../lambdas/storage/ports';
import { useEmulators } from '../../support/emulators';
import { all, describeNpiIndexContract, entry, uid } from '../../contract/npi-index.contract';

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

// Pages of 2, so a category of 5 entries crosses LastEvaluatedKey boundaries.
describeNpiIndexContract('DynamoNpiIndex', () => new DynamoNpiIndex(clients.dynamodb, TABLE, { pageSize: 2 }));

describe('DynamoNpiIndex', () => {
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
