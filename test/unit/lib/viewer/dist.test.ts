/**
 * Unit: the viewer build's cache (lib/viewer/dist.ts) without the network: a complete cache is used
 * as it is, and what is not a build is not taken for one. The fetch itself (npm pack) runs in the
 * browser suite's setup (test/e2e/viewer.test.ts).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureViewerDist, isViewerDist, OHIF_APP_VERSION, VIEWER_CACHE_DIR } from '../../../../lib/viewer/dist';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'viewer-dist-'));
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('the viewer build cache', () => {
  it('is kept per version in the git-ignored .cache/ of the repository', () => {
    expect(VIEWER_CACHE_DIR.endsWith(path.join('.cache', `ohif-app-${OHIF_APP_VERSION}`))).toBe(true);
  });

  it('uses a complete cache without fetching', async () => {
    const dir = path.join(root, 'complete');
    await mkdir(dir);
    await writeFile(path.join(dir, 'index.html'), '<!doctype html>');
    await writeFile(path.join(dir, 'app-config.js'), 'window.config = {};');
    const lines: string[] = [];
    expect(await ensureViewerDist({ cacheDir: dir, log: (line) => lines.push(line) })).toBe(dir);
    expect(lines).toEqual([]);
  });

  it('takes a directory without index.html and app-config.js for no build', async () => {
    const dir = path.join(root, 'partial');
    await mkdir(dir);
    await writeFile(path.join(dir, 'index.html'), '<!doctype html>');
    expect(await isViewerDist(dir)).toBe(false);
    expect(await isViewerDist(path.join(root, 'absent'))).toBe(false);
  });
});
