/**
 * A copy of the viewer's build for a static host serving it under a path (an S3 bucket behind
 * CloudFront): the files the embedded runtime rewrites as it serves them (lib/viewer/site-files.ts)
 * written rewritten, app-config.js replaced by the given one, the others copied as published.
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inlineScriptHashes, mayNeedRebase, rebaseViewerText } from './site-files';

export interface StageViewerSiteOptions {
  /** The path the site is served under, e.g. `/viewer`. */
  readonly basePath: string;
  /** The app-config.js to serve (lib/viewer/app-config.ts). */
  readonly appConfig: string;
}

export interface StagedViewerSite {
  /** The CSP source expressions of index.html's inline scripts, for the host's Content-Security-Policy. */
  readonly scriptHashes: readonly string[];
}

/** Writes the site into `outDir` (created; files of the same names overwritten). */
export async function stageViewerSite(dist: string, outDir: string, opts: StageViewerSiteOptions): Promise<StagedViewerSite> {
  let scriptHashes: string[] = [];
  for (const entry of await readdir(dist, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const from = path.join(entry.parentPath, entry.name);
    const name = path.relative(dist, from).split(path.sep).join('/');
    const to = path.join(outDir, name);
    await mkdir(path.dirname(to), { recursive: true });
    if (name === 'app-config.js') {
      await writeFile(to, opts.appConfig);
      continue;
    }
    const rebased = mayNeedRebase(name) ? rebaseViewerText(name, await readFile(from, 'utf8'), opts.basePath) : undefined;
    if (rebased === undefined) await copyFile(from, to);
    else await writeFile(to, rebased);
    if (name === 'index.html') scriptHashes = inlineScriptHashes(rebased ?? (await readFile(from, 'utf8')));
  }
  return { scriptHashes };
}
