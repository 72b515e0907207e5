import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRequestError } from '../../../lambdas/dicomweb/errors';
import {
  DestinationRegistryError,
  describeDestination,
  destinationsFilePath,
  loadDestinationRegistryFile,
  matchDestination,
  parseDestinationRegistry,
  resolveDestination,
  resolveStudiesUrl,
} from '../../../lambdas/send/destinations';

const SECRET = 's3cr3t-value';
const registry = parseDestinationRegistry({
  destinations: [
    { url: 'https://pacs.example.org', auth: { type: 'none' } },
    { url: 'https://pacs.example.org/dicomweb', auth: { type: 'bearer', token: SECRET } },
    { url: 'https://pacs.example.org/dicomweb/research/', auth: { type: 'basic', username: 'u', password: SECRET } },
    {
      url: 'http://127.0.0.1:8042/dicom-web',
      auth: { type: 'oauth2', tokenUrl: 'https://idp.example.org/token', clientId: 'c', clientSecret: SECRET, scope: 'stow' },
      aeTitle: 'ORTHANC',
      host: '127.0.0.1',
      port: 4242,
    },
  ],
});

describe('destination registry', () => {
  it('matches the longest registered prefix', () => {
    expect(matchDestination(registry, 'https://pacs.example.org/other')?.auth.type).toBe('none');
    expect(matchDestination(registry, 'https://pacs.example.org/dicomweb')?.auth.type).toBe('bearer');
    expect(matchDestination(registry, 'https://pacs.example.org/dicomweb/studies')?.auth.type).toBe('bearer');
    expect(matchDestination(registry, 'https://pacs.example.org/dicomweb/research/studies')?.auth.type).toBe('basic');
    expect(matchDestination(registry, 'https://PACS.example.org:443/dicomweb/research')?.auth.type).toBe('basic');
  });

  it('matches on path-segment boundaries only and resolves dot segments first', () => {
    const only = parseDestinationRegistry({ destinations: [{ url: 'https://a.example/pacs', auth: { type: 'none' } }] });
    expect(matchDestination(only, 'https://a.example/pacs/studies')).toBeDefined();
    expect(matchDestination(only, 'https://a.example/pacs2')).toBeUndefined();
    expect(matchDestination(only, 'https://a.example.evil.net/pacs')).toBeUndefined();
    expect(matchDestination(only, 'http://a.example/pacs')).toBeUndefined();
    expect(matchDestination(only, 'https://a.example:8443/pacs')).toBeUndefined();
    expect(matchDestination(only, 'https://a.example/pacs/../admin')).toBeUndefined();
  });

  it('keeps the DIMSE mapping of an entry', () => {
    const d = matchDestination(registry, 'http://127.0.0.1:8042/dicom-web/studies');
    expect(d).toMatchObject({ aeTitle: 'ORTHANC', host: '127.0.0.1', port: 4242 });
  });

  it('refuses an unregistered or malformed destination with 400, before anything is sent', () => {
    expect(() => resolveDestination(registry, undefined)).toThrow(BadRequestError);
    expect(() => resolveDestination(registry, 'not a url')).toThrow(BadRequestError);
    expect(() => resolveDestination(registry, 'ftp://pacs.example.org/x')).toThrow(BadRequestError);
    expect(() => resolveDestination(registry, 'https://user:pw@pacs.example.org/dicomweb')).toThrow(BadRequestError);
    expect(() => resolveDestination(registry, 'https://other.example.org/dicomweb')).toThrow(/not a registered destination/);
    expect(resolveDestination(registry, 'https://pacs.example.org/dicomweb').auth.type).toBe('bearer');
  });

  it.each([
    ['no destinations array', {}],
    ['a relative url', { destinations: [{ url: '/pacs' }] }],
    ['credentials in the url', { destinations: [{ url: `https://u:${SECRET}@a.example` }] }],
    ['a query in the url', { destinations: [{ url: 'https://a.example/?token=x' }] }],
    ['an unknown auth type', { destinations: [{ url: 'https://a.example', auth: { type: 'kerberos' } }] }],
    ['a bearer without token', { destinations: [{ url: 'https://a.example', auth: { type: 'bearer' } }] }],
    ['basic without password', { destinations: [{ url: 'https://a.example', auth: { type: 'basic', username: 'u' } }] }],
    [
      'oauth2 without secret',
      { destinations: [{ url: 'https://a.example', auth: { type: 'oauth2', tokenUrl: 'https://i/t', clientId: 'c' } }] },
    ],
    ['a partial DIMSE mapping', { destinations: [{ url: 'https://a.example', aeTitle: 'X' }] }],
    ['an AE title of 17 characters', { destinations: [{ url: 'https://a.example', aeTitle: 'A'.repeat(17), host: 'h', port: 104 }] }],
    ['port 0', { destinations: [{ url: 'https://a.example', aeTitle: 'A', host: 'h', port: 0 }] }],
    ['the same url twice', { destinations: [{ url: 'https://a.example/x/' }, { url: 'https://A.example/x' }] }],
  ])('refuses a registry with %s, naming the field but no credential', (_, json) => {
    let error: unknown;
    try {
      parseDestinationRegistry(json);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DestinationRegistryError);
    expect((error as Error).message).not.toContain(SECRET);
  });

  it('describes a destination for logs without credentials', () => {
    for (const d of registry.destinations) expect(describeDestination(d)).not.toContain(SECRET);
    expect(describeDestination(registry.destinations[1]!)).toBe('https://pacs.example.org/dicomweb (auth bearer)');
  });
});

describe('resolveStudiesUrl (PS3.18 10.5.1)', () => {
  it.each([
    ['https://another.server/stow', 'https://another.server/stow/studies'],
    ['https://another.server/stow/', 'https://another.server/stow/studies'],
    ['https://another.server/dicomweb/studies', 'https://another.server/dicomweb/studies'],
    ['https://another.server/dicomweb/studies/', 'https://another.server/dicomweb/studies'],
    ['https://another.server', 'https://another.server/studies'],
    ['https://another.server/a?x=1', 'https://another.server/a/studies?x=1'],
  ])('%s -> %s', (given, expected) => {
    expect(resolveStudiesUrl(given)).toBe(expected);
  });
});

describe('registry file (embedded runtime)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'destinations-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('defaults to ${DATA_DIR}/destinations.json, DESTINATIONS_FILE winning', () => {
    expect(destinationsFilePath({ DATA_DIR: '/data' })).toBe('/data/destinations.json');
    expect(destinationsFilePath({ DATA_DIR: '/data', DESTINATIONS_FILE: '/etc/d.json' })).toBe('/etc/d.json');
  });

  it('reads a registry file, treats a missing one as empty and refuses invalid JSON', async () => {
    const file = join(dir, 'destinations.json');
    await writeFile(file, JSON.stringify({ destinations: [{ url: 'https://a.example', auth: { type: 'none' } }] }));
    expect((await loadDestinationRegistryFile(file)).destinations).toHaveLength(1);
    expect((await loadDestinationRegistryFile(join(dir, 'absent.json'))).destinations).toEqual([]);
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{ "destinations": [');
    await expect(loadDestinationRegistryFile(broken)).rejects.toBeInstanceOf(DestinationRegistryError);
  });
});
