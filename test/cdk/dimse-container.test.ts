/**
 * The DIMSE gateway container's program as lib/dimse/Dockerfile builds it (lib/dimse/build.ts): the
 * image itself needs a Docker engine (cdk deploy builds it), what runs in it is built and started
 * here, in a process of its own on the embedded S3 and DynamoDB, and talked to by dcmtk.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readPart10 } from '../../lambdas/dicom/part10';
import { DynamoMetadataIndex } from '../../lambdas/storage/dynamodb';
import { S3BlobStore } from '../../lambdas/storage/s3';
import { buildDimseGateway } from '../../lib/dimse/build';
import { dcmtk, dcmtkSuite } from '../support/dcmtk';
import { useEmulators } from '../support/emulators';
import { FIXTURES, FIXTURES_DIR } from '../support/fixtures';
import { freePort } from '../support/net';

const BUCKET = 'dimse-container-bucket';
const TABLE = 'dimse-container-table';
const AET = 'CONTAINER';

dcmtkSuite('DIMSE gateway container program (lib/dimse/build.ts, as lib/dimse/Dockerfile builds it)', () => {
  const fixture = useEmulators({ name: 'dimse-container', bucketName: BUCKET, tableName: TABLE });
  let dir: string;
  let program: string;
  let inputs: string[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dimse-container-'));
    program = path.join(dir, 'main.cjs');
    inputs = await buildDimseGateway(program);
  }, 60_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is one file with one dcmjs build and the AWS SDK inside, its source map linked', async () => {
    expect(inputs.filter((f) => /node_modules\/dcmjs\/build\//.test(f))).toHaveLength(1);
    expect(inputs.some((f) => f.includes('node_modules/@aws-sdk/client-dynamodb/'))).toBe(true);
    expect(inputs.some((f) => f.includes('node_modules/@aws-sdk/client-s3/'))).toBe(true);
    expect(await readFile(program, 'utf8')).toMatch(/\/\/# sourceMappingURL=main\.cjs\.map\s*$/);
  });

  it('starts on its settings, answers C-ECHO, stores a C-STORE in S3 and DynamoDB, and stops on SIGTERM', async () => {
    const { emulators } = fixture();
    const port = await freePort();
    const child: ChildProcess = spawn(process.execPath, ['--enable-source-maps', program], {
      env: {
        PATH: process.env.PATH,
        BUCKET_NAME: BUCKET,
        TABLE_NAME: TABLE,
        S3_ENDPOINT: emulators.s3Endpoint,
        DYNAMODB_ENDPOINT: emulators.dynamodbEndpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        DIMSE_AET: AET,
        DIMSE_HOST: '127.0.0.1',
        DIMSE_PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await expect.poll(() => output, { timeout: 30_000, interval: 100 }).toContain('dimse-gateway-listening');
      expect(JSON.parse(output.split('\n').find((l) => l.includes('dimse-gateway-listening'))!)).toEqual({
        event: 'dimse-gateway-listening',
        aeTitle: AET,
        port,
      });

      expect((await dcmtk('echoscu', ['-aec', AET, '127.0.0.1', String(port)])).code).toBe(0);
      const [name, expected] = Object.entries(FIXTURES)[0]!;
      const stored = await dcmtk('storescu', ['-aec', AET, '127.0.0.1', String(port), path.join(FIXTURES_DIR, name)]);
      expect(stored.code, stored.out).toBe(0);

      const { clients } = fixture();
      const entry = await new DynamoMetadataIndex(clients.dynamodb, TABLE, 8).getInstance(
        expected.studyInstanceUID,
        expected.seriesInstanceUID,
        expected.sopInstanceUID,
      );
      expect(entry?.instance).toBeDefined();
      const object = await new S3BlobStore(clients.s3, BUCKET).get(entry!.instance!.objectKey);
      expect(readPart10(object!).sopInstanceUID).toBe(expected.sopInstanceUID);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 60_000);
});
