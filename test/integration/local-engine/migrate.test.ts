/**
 * `npm run migrate-data` (lib/local/migrate-data.ts): a data directory of the emulator layout holding
 * studies, Non-Patient Instances and an API key client is migrated to the local engine, whose archive
 * then serves every instance byte-identical and accepts the key; the old directory is refused by
 * the local engine with the command to migrate it, and left as it was.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newUid } from '../../../lambdas/dicom/uid';
import { bodyOf } from '../../../lambdas/dicomweb/messages';
import { startArchive } from '../../../lib/local/archive';
import { migrateEmulatorData } from '../../../lib/local/migrate-data';
import { main as migrateCli } from '../../../lib/cli/migrate-data';
import { makeInstance } from '../../support/dicom-factory';
import { multipartParts, stowBody } from '../../support/http';
import type { SentInstance } from '../../support/ledger';
import { makeNpiInstance, npiSamples } from '../../support/npi-factory';

const TOKEN = 'migrate-test-token';
const env = { AUTH: 'token,api-keys', AUTH_TOKEN: TOKEN };
const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'archive-migrate-'));
  dirs.push(dir);
  return dir;
};
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const auth = (credential: string) => ({ Authorization: `Bearer ${credential}` });
const AS_STORED = 'multipart/related; type="application/dicom"; transfer-syntax=*';

describe('npm run migrate-data', () => {
  it('carries instances, Non-Patient Instances, API key clients and share links to the local engine, served byte-identical', async () => {
    const from = await tempDir();
    const to = path.join(await tempDir(), 'local');
    const old = await startArchive({ dataDir: from, storage: 'aws-emulators', env });
    const studyInstanceUID = newUid();
    const sent: SentInstance[] = Array.from({ length: 5 }, (_, i) => {
      const ids = {
        studyInstanceUID,
        seriesInstanceUID: i < 3 ? `${studyInstanceUID}.1` : `${studyInstanceUID}.2`,
        sopInstanceUID: newUid(),
      };
      return { ...ids, bytes: makeInstance({ ...ids, patientID: 'MIGRATE' }) };
    });
    const [sample] = npiSamples('303');
    const npi = makeNpiInstance(sample!);
    let key: string;
    let shareToken: string;
    try {
      const stored = await fetch(`${old.url}/studies`, {
        method: 'POST',
        headers: { ...auth(TOKEN), 'Content-Type': stowBody([]).contentType, Accept: 'application/dicom+json' },
        body: stowBody(sent.map((s) => s.bytes)).body,
      });
      expect(stored.status).toBe(200);
      const { body, contentType } = stowBody([npi.bytes]);
      expect(
        (await fetch(`${old.url}/${sample!.npiName}`, { method: 'POST', headers: { ...auth(TOKEN), 'Content-Type': contentType }, body }))
          .status,
      ).toBe(200);
      const added = await old.services.clients!.add({
        contentType: 'application/json',
        accept: 'application/json',
        body: bodyOf(Buffer.from(JSON.stringify({ name: 'pacs', scopes: ['read'] }))),
      });
      key = (JSON.parse(added.body as string) as { key: string }).key;
      const shared = await old.services.shares!.create({
        contentType: 'application/json',
        accept: 'application/json',
        body: bodyOf(Buffer.from(JSON.stringify({ study: studyInstanceUID }))),
        baseUrl: old.url,
        createdBy: 'token:static-token',
      });
      shareToken = (JSON.parse(shared.body as string) as { token: string }).token;
      // An object no index entry names (a write killed before its entry): never served, not carried.
      await old.services.blobs.put(`studies/${studyInstanceUID}/series/9.9/instances/9.9.9.dcm`, sent[0]!.bytes, 'application/dicom');
    } finally {
      await old.close();
    }

    // The local engine refuses the old directory, naming the migration.
    await expect(startArchive({ dataDir: from, storage: 'local', env })).rejects.toThrow(
      /holds the emulator layout \(s3\/, dynamodb\/\).*npm run migrate-data/,
    );

    const lines: string[] = [];
    const report = await migrateEmulatorData({ from, to, log: (l) => lines.push(l) });
    expect(report).toMatchObject({ instances: 5, npiInstances: 1, clients: 1, shareLinks: 1, skipped: 1, failed: [] });
    expect(lines.join('\n')).toMatch(/Not carried: send requests .* tombstones/);
    // Run again: nothing new, nothing refused.
    expect(await migrateEmulatorData({ from, to })).toMatchObject({ instances: 5, npiInstances: 1, clients: 0, shareLinks: 0, failed: [] });

    const local = await startArchive({ dataDir: to, storage: 'local', env });
    try {
      // Through the migrated key: every instance byte-identical, the series counted as a Store counts them.
      for (const s of sent) {
        const r = await fetch(`${local.url}/studies/${s.studyInstanceUID}/series/${s.seriesInstanceUID}/instances/${s.sopInstanceUID}`, {
          headers: { ...auth(key!), Accept: AS_STORED },
        });
        expect(r.status).toBe(200);
        const [part] = await multipartParts(r);
        expect(Buffer.from(part!.body).equals(Buffer.from(s.bytes))).toBe(true);
      }
      const r = await fetch(`${local.url}/${sample!.npiName}/${npi.sopInstanceUID}`, { headers: { ...auth(key!), Accept: AS_STORED } });
      expect(r.status).toBe(200);
      expect(Buffer.from((await multipartParts(r))[0]!.body).equals(Buffer.from(npi.bytes))).toBe(true);
      const search = await fetch(`${local.url}/studies/${studyInstanceUID}/series`, {
        headers: { ...auth(key!), Accept: 'application/dicom+json' },
      });
      expect(search.status).toBe(200);
      const series = (await search.json()) as Record<string, { Value?: unknown[] }>[];
      expect(series.map((m) => m['00201209']?.Value?.[0]).sort()).toEqual([2, 3]);
      // The key has read only, like before.
      const write = await fetch(`${local.url}/studies`, {
        method: 'POST',
        headers: { ...auth(key!), ...{ 'Content-Type': stowBody([]).contentType } },
        body: stowBody([sent[0]!.bytes]).body,
      });
      expect(write.status).toBe(403);
      // The share link still opens its study, and only it.
      const metadata = await fetch(`${local.url}/studies/${studyInstanceUID}/metadata`, { headers: auth(shareToken!) });
      expect(metadata.status).toBe(200);
      expect((await fetch(`${local.url}/${sample!.npiName}`, { headers: auth(shareToken!) })).status).toBe(403);
    } finally {
      await local.close();
    }
  }, 120_000);

  it('refuses a directory without the emulator layout, and the same directory twice', async () => {
    const empty = await tempDir();
    expect(await migrateCli(['--from', empty, '--to', path.join(empty, 'x')])).toBe(1);
    expect(await migrateCli([])).toBe(1);
    await expect(migrateEmulatorData({ from: empty, to: empty })).rejects.toThrow(/two directories/);
  });
});
