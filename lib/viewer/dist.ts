/**
 * The OHIF Viewer's published build: the `dist/` folder of the `@ohif/app` package. `npm install
 * @ohif/app` fails (a dependency of it is not on the registry), but `npm pack` fetches the tarball
 * alone, whose `package/dist/` is the built viewer. It is fetched once into a git-ignored cache and
 * never committed; `npm run viewer:fetch` and the first `npm start` fetch it, the CDK stack deploys it.
 */
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const OHIF_APP_PACKAGE = '@ohif/app';
/** The viewer version served and deployed (the app-config.js keys of lib/viewer/app-config.ts are this version's). */
export const OHIF_APP_VERSION = '3.13.2';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where the build is kept: `.cache/ohif-app-<version>/` at the repository's root (git-ignored). */
export const VIEWER_CACHE_DIR = path.join(REPO_ROOT, '.cache', `ohif-app-${OHIF_APP_VERSION}`);

/** The command that fetches the build, for messages. */
export const VIEWER_FETCH_COMMAND = 'npm run viewer:fetch';

export interface EnsureViewerDistOptions {
  /** The directory the build is kept in; VIEWER_CACHE_DIR by default. */
  readonly cacheDir?: string;
  /** Told what is being done when the build is fetched; silent by default. */
  readonly log?: (line: string) => void;
}

/** True when `dir` holds a viewer build (its index.html and app-config.js). */
export async function isViewerDist(dir: string): Promise<boolean> {
  try {
    await Promise.all([access(path.join(dir, 'index.html')), access(path.join(dir, 'app-config.js'))]);
    return true;
  } catch {
    return false;
  }
}

/**
 * The directory of the viewer's build, fetched with `npm pack` on first use. The tarball is
 * extracted in a temporary directory beside the cache and its `dist/` renamed into place, so the cache
 * directory exists only complete, and two processes fetching at once both end with the same build.
 */
export async function ensureViewerDist(opts: EnsureViewerDistOptions = {}): Promise<string> {
  const dir = path.resolve(opts.cacheDir ?? VIEWER_CACHE_DIR);
  if (await isViewerDist(dir)) return dir;
  const spec = `${OHIF_APP_PACKAGE}@${OHIF_APP_VERSION}`;
  opts.log?.(`Fetching the OHIF Viewer (${spec}) with npm pack into ${dir}`);
  await mkdir(path.dirname(dir), { recursive: true });
  // Beside the cache, on the same file system, so the rename below is atomic.
  const work = await mkdtemp(path.join(path.dirname(dir), '.fetch-'));
  try {
    await run('npm', ['pack', spec, '--pack-destination', work, '--ignore-scripts', '--silent'], {
      cwd: work,
      maxBuffer: 16 * 1024 * 1024,
    });
    const tarball = (await readdir(work)).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack ${spec} wrote no tarball`);
    await run('tar', ['-xzf', tarball], { cwd: work });
    const extracted = path.join(work, 'package', 'dist');
    if (!(await isViewerDist(extracted))) throw new Error(`${spec} has no built viewer in package/dist`);
    try {
      await rename(extracted, dir);
    } catch (error) {
      // Another process renamed its copy first: that one is as good.
      if (!(await isViewerDist(dir))) throw error;
    }
    opts.log?.(`OHIF Viewer ${OHIF_APP_VERSION} ready in ${dir}`);
    return dir;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
