/**
 * e2e: the `npm start` entry (lib/local/main.ts) as a newcomer runs it: it prints the base URL when
 * ready, serves the Studies service, stops cleanly on SIGTERM and SIGINT, and keeps the data across
 * a restart; it serves the OHIF Viewer at /viewer/, and starts without it when its build cannot be
 * fetched.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeInstance } from '../support/dicom-factory';
import { stow } from '../support/http';
import { startNpmStart } from '../support/npm-start';
import { ensureViewerDist } from '../../lib/viewer/dist';

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

  it('serves the OHIF Viewer at /viewer/, where a browser at / is sent', async () => {
    await ensureViewerDist();
    const archive = await startNpmStart(dataDir);
    try {
      const page = await fetch(`${archive.url}/viewer/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('window.PUBLIC_URL="/viewer/"');
      const config = await fetch(`${archive.url}/viewer/app-config.js`);
      expect(await config.text()).toContain('"routerBasename": "/viewer"');
      const root = await fetch(`${archive.url}/`, { headers: { Accept: 'text/html' }, redirect: 'manual' });
      expect([root.status, root.headers.get('location')]).toEqual([302, '/viewer/']);
    } finally {
      await archive.stop('SIGTERM');
    }
  }, 60_000);

  it("starts when the viewer's build cannot be fetched: /viewer/ answers 503 naming the command", async () => {
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'viewer-unfetched-'));
    try {
      const archive = await startNpmStart(dataDir, {
        VIEWER_CACHE_DIR: path.join(scratch, 'viewer'),
        // A registry that does not answer, and an empty npm cache: the fetch fails at once.
        npm_config_registry: 'http://127.0.0.1:9/',
        npm_config_cache: path.join(scratch, 'npm-cache'),
        npm_config_fetch_retries: '0',
      });
      try {
        const studies = await fetch(`${archive.url}/studies`);
        expect(studies.status).toBe(200);
        const viewer = await fetch(`${archive.url}/viewer/`);
        expect(viewer.status).toBe(503);
        expect(((await viewer.json()) as { detail: string }).detail).toContain('npm run viewer:fetch');
      } finally {
        await archive.stop('SIGTERM');
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }, 60_000);

  it('serves no viewer with VIEWER=off', async () => {
    const archive = await startNpmStart(dataDir, { VIEWER: 'off' });
    try {
      expect((await fetch(`${archive.url}/viewer/`)).status).toBe(404);
    } finally {
      await archive.stop('SIGTERM');
    }
  }, 60_000);
});
