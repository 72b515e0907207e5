/**
 * e2e: the `npm start` entry (lib/local/main.ts) as a newcomer runs it: it prints the base URL when
 * ready, serves the Studies service, stops cleanly on SIGTERM and SIGINT, and keeps the data across
 * a restart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeInstance } from '../support/dicom-factory';
import { stow } from '../support/http';
import { startNpmStart } from '../support/npm-start';

let dataDir: string;

afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('serves on 127.0.0.1, stops cleanly on SIGTERM/SIGINT and keeps the data across restarts', async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'archive-start-'));
    const patientID = `START-${Date.now()}`;

    const first = await startNpmStart(dataDir);
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await stow(first.url, [makeInstance({ patientID })])).status).toBe(200);
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await startNpmStart(dataDir);
    const found = await fetch(`${second.url}/studies?PatientID=${patientID}`);
    expect(found.status).toBe(200);
    expect(await found.json()).toHaveLength(1);
    expect(await second.stop('SIGINT')).toBe(0);
  }, 60_000);

  it('takes its settings from the environment: AUTH_TOKEN and CORS_ALLOWED_ORIGINS reach the handlers', async () => {
    const viewer = 'http://localhost:3000';
    const archive = await startNpmStart(dataDir, { AUTH_TOKEN: 'start-secret', CORS_ALLOWED_ORIGINS: viewer });
    try {
      const preflight = await fetch(`${archive.url}/studies`, {
        method: 'OPTIONS',
        headers: { Origin: viewer, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(viewer);
      expect((await fetch(`${archive.url}/studies`, { headers: { Origin: viewer } })).status).toBe(401);
      const search = await fetch(`${archive.url}/studies`, { headers: { Origin: viewer, Authorization: 'Bearer start-secret' } });
      expect(search.headers.get('access-control-allow-origin')).toBe(viewer);
      expect(search.status).toBe(200);
    } finally {
      await archive.stop('SIGTERM');
    }
  }, 60_000);
});
