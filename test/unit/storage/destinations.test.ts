import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetSecretValueCommand,
  InternalServiceError,
  ResourceNotFoundException,
  SecretsManagerServiceException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '../../../lambdas/storage/errors';
import { DESTINATION_REGISTRY_FORMAT, DestinationRegistryError } from '../../../lambdas/send/destinations';
import { FileDestinationRegistrySource, SecretsManagerDestinationRegistrySource } from '../../../lambdas/storage/destinations';
import { describeRegistrySourceContract } from '../../contract/registry-source.contract';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:destinations-AbCdEf';
const TOKEN = 'tok-3f9a1c77e2b84d05';

function registryJson(url: string, token = TOKEN): string {
  return JSON.stringify({ destinations: [{ url, auth: { type: 'bearer', token } }] });
}

describe('FileDestinationRegistrySource', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'destinations-source-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes the file with an explicit mtime, so a change is seen whatever the file system's granularity. */
  async function write(path: string, text: string, mtimeSeconds: number): Promise<void> {
    await writeFile(path, text);
    await utimes(path, mtimeSeconds, mtimeSeconds);
  }

  it('re-reads the file when its modification time changes, and only then', async () => {
    const path = join(dir, 'reload.json');
    await write(path, registryJson('https://a.example.org/dicomweb'), 1_700_000_000);
    const source = new FileDestinationRegistrySource(path, DESTINATION_REGISTRY_FORMAT);
    const first = await source.load();
    expect(first.destinations.map((d) => d.url)).toEqual(['https://a.example.org/dicomweb']);
    expect(await source.load()).toBe(first);

    await write(path, registryJson('https://b.example.org/dicomweb'), 1_700_000_100);
    expect((await source.load()).destinations.map((d) => d.url)).toEqual(['https://b.example.org/dicomweb']);
  });

  it('is an empty registry while the file is missing, and picks it up once written', async () => {
    const path = join(dir, 'later.json');
    const source = new FileDestinationRegistrySource(path, DESTINATION_REGISTRY_FORMAT);
    expect((await source.load()).destinations).toEqual([]);
    await write(path, registryJson('https://c.example.org/'), 1_700_000_200);
    expect((await source.load()).destinations).toHaveLength(1);
  });

  it('reports a malformed file without echoing its content', async () => {
    const path = join(dir, 'malformed.json');
    await write(
      path,
      `{ "destinations": [ { "url": "https://d.example.org/", "auth": { "type": "bearer", "token": "${TOKEN}" } `,
      1_700_000_300,
    );
    const source = new FileDestinationRegistrySource(path, DESTINATION_REGISTRY_FORMAT);
    const error = await source.load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationRegistryError);
    expect((error as Error).message).not.toContain(TOKEN);

    await write(path, JSON.stringify({ destinations: [{ url: 'ftp://d.example.org/' }] }), 1_700_000_400);
    await expect(source.load()).rejects.toThrow(/destinations\[0\]\.url/);
  });
});

/** A fake SecretsManagerClient answering from a script, counting GetSecretValue calls. */
function fakeSecrets(answer: () => unknown) {
  let calls = 0;
  const client = {
    send: async (command: unknown) => {
      expect(command).toBeInstanceOf(GetSecretValueCommand);
      expect((command as GetSecretValueCommand).input.SecretId).toBe(SECRET_ARN);
      calls++;
      const out = answer();
      if (out instanceof Error) throw out;
      return out;
    },
  } as unknown as Pick<SecretsManagerClient, 'send'>;
  return { client, calls: () => calls };
}

describe('SecretsManagerDestinationRegistrySource', () => {
  it('caches the parsed registry for cacheSeconds, then reads the secret again', async () => {
    let url = 'https://a.example.org/';
    const fake = fakeSecrets(() => ({ SecretString: registryJson(url) }));
    let now = 1_000_000;
    const source = new SecretsManagerDestinationRegistrySource(fake.client, SECRET_ARN, DESTINATION_REGISTRY_FORMAT, {
      cacheSeconds: 60,
      now: () => now,
    });

    const first = await source.load();
    now += 59_000;
    url = 'https://b.example.org/';
    expect(await source.load()).toBe(first);
    expect(fake.calls()).toBe(1);

    now += 1_000;
    expect((await source.load()).destinations[0]?.url).toBe('https://b.example.org/');
    expect(fake.calls()).toBe(2);
  });

  it('shares one read between concurrent loads', async () => {
    const fake = fakeSecrets(() => ({ SecretString: registryJson('https://a.example.org/') }));
    const source = new SecretsManagerDestinationRegistrySource(fake.client, SECRET_ARN, DESTINATION_REGISTRY_FORMAT);
    const loaded = await Promise.all([source.load(), source.load(), source.load()]);
    expect(fake.calls()).toBe(1);
    expect(new Set(loaded).size).toBe(1);
  });

  it.each([
    [
      'throttling (400 ThrottlingException)',
      new SecretsManagerServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } }),
    ],
    ['an internal service error', new InternalServiceError({ message: 'oops', $metadata: { httpStatusCode: 500 } })],
    ['an unreachable endpoint', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
  ])('turns %s into StorageUnavailableError, and reads again next time', async (_name, error) => {
    let fail = true;
    const fake = fakeSecrets(() => (fail ? error : { SecretString: registryJson('https://a.example.org/') }));
    const source = new SecretsManagerDestinationRegistrySource(fake.client, SECRET_ARN, DESTINATION_REGISTRY_FORMAT);
    await expect(source.load()).rejects.toBeInstanceOf(StorageUnavailableError);
    fail = false;
    expect((await source.load()).destinations).toHaveLength(1);
  });

  it('lets a missing secret through as the configuration fault it is', async () => {
    const fake = fakeSecrets(() => new ResourceNotFoundException({ message: 'no such secret', $metadata: { httpStatusCode: 400 } }));
    await expect(
      new SecretsManagerDestinationRegistrySource(fake.client, SECRET_ARN, DESTINATION_REGISTRY_FORMAT).load(),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it.each([
    ['not JSON', { SecretString: `token=${TOKEN}` }, /not valid JSON/],
    ['a binary secret', { SecretBinary: new Uint8Array([1, 2]) }, /no SecretString/],
    [
      'an invalid registry',
      { SecretString: JSON.stringify({ destinations: [{ url: 'https://a.example.org/', auth: { type: 'magic', token: TOKEN } }] }) },
      /auth\.type/,
    ],
  ])('reports a malformed secret (%s) clearly, naming no credential', async (_name, answer, message) => {
    const fake = fakeSecrets(() => answer);
    const error = await new SecretsManagerDestinationRegistrySource(fake.client, SECRET_ARN, DESTINATION_REGISTRY_FORMAT)
      .load()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationRegistryError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(TOKEN);
  });
});

const contractDirs: string[] = [];
afterAll(async () => {
  for (const dir of contractDirs) await rm(dir, { recursive: true, force: true });
});

describeRegistrySourceContract('FileDestinationRegistrySource', async (text, format) => {
  const dir = await mkdtemp(join(tmpdir(), 'registry-contract-'));
  contractDirs.push(dir);
  const path = join(dir, 'destinations.json');
  await writeFile(path, text);
  return new FileDestinationRegistrySource(path, format);
});

describeRegistrySourceContract('SecretsManagerDestinationRegistrySource', async (text, format) => {
  const fake = fakeSecrets(() => ({ SecretString: text }));
  return new SecretsManagerDestinationRegistrySource(fake.client, SECRET_ARN, format);
});
