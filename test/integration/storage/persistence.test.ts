import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../../lambdas/storage/clients';
import { DynamoMetadataIndex } from '../../../lambdas/storage/dynamodb';
import type { IndexEntry } from '../../../lambdas/storage/ports';
import { S3BlobStore } from '../../../lambdas/storage/s3';
import { GLOBAL_SECONDARY_INDEXES } from '../../../lambdas/storage/table-schema';
import { createTableInput, startEmulators } from '../../../lib/local/emulators';

const BUCKET = 'archive-persistence';
const TABLE = 'archive-persistence';

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'emulators-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** Starts the emulators on the shared data dir and gives adapters bound to them. */
async function open() {
  const emulators = await startEmulators({ dataDir, bucketName: BUCKET, tableName: TABLE });
  const clients = createAwsClients({ region: 'us-east-1', s3Endpoint: emulators.s3Endpoint, dynamodbEndpoint: emulators.dynamodbEndpoint });
  return {
    emulators,
    clients,
    blobs: new S3BlobStore(clients.s3, BUCKET),
    index: new DynamoMetadataIndex(clients.dynamodb, TABLE, 4),
    async close() {
      clients.s3.destroy();
      clients.dynamodb.destroy();
      await emulators.close();
    },
  };
}

const study: IndexEntry = {
  level: 'STUDY',
  studyInstanceUID: '2.25.1001',
  attributes: { '00100020': { vr: 'LO', Value: ['P1'] } },
  studyDate: '20240115',
  patientId: 'P1',
};

describe('startEmulators', () => {
  it('serves on 127.0.0.1 ephemeral ports and creates the table of table-schema.ts', async () => {
    const first = await open();
    try {
      expect(first.emulators.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(first.emulators.dynamodbEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const { Table } = await first.clients.dynamodb.send(new DescribeTableCommand({ TableName: TABLE }));
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.KeySchema).toEqual(createTableInput(TABLE).KeySchema);
      expect(Table?.GlobalSecondaryIndexes?.map((g) => [g.IndexName, g.KeySchema?.map((k) => k.AttributeName), g.Projection])).toEqual(
        GLOBAL_SECONDARY_INDEXES.map((g) => [
          g.indexName,
          [g.partitionKey, g.sortKey],
          g.projection.type === 'KEYS_ONLY'
            ? { ProjectionType: 'KEYS_ONLY' }
            : { ProjectionType: 'INCLUDE', NonKeyAttributes: g.projection.nonKeyAttributes },
        ]),
      );
    } finally {
      await first.close();
    }
  });

  it('keeps objects and index entries across a restart on the same data dir', async () => {
    const first = await open();
    try {
      await first.blobs.put('studies/2.25.1001/x.dcm', new Uint8Array([1, 2, 3, 4]), 'application/dicom');
      expect(await first.index.ensureStudy(study)).toBe(true);
      await first.index.addStudyCounters(study.studyInstanceUID, { series: 1, instances: 1, modalities: ['CT'] });
    } finally {
      await first.close();
    }

    const second = await open();
    try {
      expect(Array.from((await second.blobs.get('studies/2.25.1001/x.dcm')) ?? [])).toEqual([1, 2, 3, 4]);
      expect(await second.index.getStudy(study.studyInstanceUID)).toEqual({
        ...study,
        relatedSeries: 1,
        relatedInstances: 1,
        modalities: ['CT'],
      });
      expect(await second.index.ensureStudy(study)).toBe(false);
      const viaGsi = [];
      for await (const e of second.index.query({ by: 'patient', level: 'STUDY', patientId: 'P1' })) viaGsi.push(e.studyInstanceUID);
      expect(viaGsi).toEqual([study.studyInstanceUID]);
    } finally {
      await second.close();
    }
  });
});
