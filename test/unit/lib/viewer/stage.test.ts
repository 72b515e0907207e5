/**
 * Unit: the viewer's build staged for a static host under a path (lib/viewer/stage.ts), from a small
 * stand-in for the published build: rebased files rewritten, app-config.js replaced, the others
 * copied byte for byte, subfolders kept, the inline scripts' hashes returned for the host's CSP.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageViewerSite } from '../../../../lib/viewer/stage';
import { inlineScriptHashes } from '../../../../lib/viewer/site-files';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'viewer-stage-'));
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('staging the viewer for a static host', () => {
  it('writes the build rebased to the path, with the given app-config.js', async () => {
    const dist = path.join(root, 'dist');
    const out = path.join(root, 'out');
    await mkdir(path.join(dist, 'assets'), { recursive: true });
    await writeFile(path.join(dist, 'index.html'), '<script>window.PUBLIC_URL="/"</script><script src="/app-config.js"></script>');
    await writeFile(path.join(dist, 'app-config.js'), 'window.config = { published: true };');
    await writeFile(path.join(dist, 'app.bundle.0f6159c501addfe9.js'), '__webpack_require__.p = "/";');
    await writeFile(path.join(dist, 'ort.js'), 'nothing to rewrite');
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]);
    await writeFile(path.join(dist, 'assets', 'icon.png'), png);

    const staged = await stageViewerSite(dist, out, { basePath: '/viewer', appConfig: 'window.config = { staged: true };' });

    const html = await readFile(path.join(out, 'index.html'), 'utf8');
    expect(html).toBe('<script>window.PUBLIC_URL="/viewer/"</script><script src="/viewer/app-config.js"></script>');
    expect(staged.scriptHashes).toEqual(inlineScriptHashes(html));
    expect(await readFile(path.join(out, 'app-config.js'), 'utf8')).toBe('window.config = { staged: true };');
    expect(await readFile(path.join(out, 'app.bundle.0f6159c501addfe9.js'), 'utf8')).toBe('__webpack_require__.p = "/viewer/";');
    expect(await readFile(path.join(out, 'ort.js'), 'utf8')).toBe('nothing to rewrite');
    expect(Buffer.compare(await readFile(path.join(out, 'assets', 'icon.png')), png)).toBe(0);
  });
});
