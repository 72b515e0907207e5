/**
 * `npm start`'s build: lib/local/main.ts and what it imports bundled by esbuild into one ES module
 * under .cache/archive/, which plain Node runs. Run through tsx instead, the process carried tsx's
 * module loader on a thread of its own, V8 isolate and all: about 30 MB more resident memory at idle
 * (169 against 140 MB), which the archive's peak RSS target (docs/performance.md) could not spare.
 *
 * Packages stay external (node_modules, as before). Each source file keeps its own import.meta.url
 * (the plugin writes it in as a literal), so the paths a module finds from its own location
 * (createRequire, new URL('./x.ts', import.meta.url), the project's root) are those of the sources.
 * The bundle is named by its content and written under a temporary name then renamed, so processes
 * starting at once (the tests) never read one half written; bundles of older sources are removed.
 * JavaScript, not TypeScript: it runs before anything could load TypeScript.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT_DIR = path.join(ROOT, '.cache', 'archive');
/** A bundle older than this that is not the current one is removed (another process may still be starting from it). */
const STALE_MS = 60 * 60 * 1000;

/** Each TypeScript source with its own import.meta.url, as a literal. */
const ownImportMetaUrl = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};

/** Builds the archive's entry (lib/local/main.ts); resolves to the bundle's path. */
export async function buildArchive() {
  const result = await build({
    entryPoints: [path.join(ROOT, 'lib', 'local', 'main.ts')],
    outfile: path.join(OUT_DIR, 'main.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'external',
    write: false,
    logLevel: 'warning',
    plugins: [ownImportMetaUrl],
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.mjs'));
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'));
  const name = `main-${createHash('sha256').update(code.contents).digest('hex').slice(0, 16)}`;
  const entry = path.join(OUT_DIR, `${name}.mjs`);
  await mkdir(OUT_DIR, { recursive: true });
  const exists = await stat(entry).then(
    () => true,
    () => false,
  );
  if (!exists) {
    const temporary = `${entry}.${process.pid}.tmp`;
    if (map) await writeFile(`${entry}.map`, map.contents);
    await writeFile(temporary, code.contents);
    await rename(temporary, entry);
  }
  await removeStale(name);
  return entry;
}

async function removeStale(current) {
  const now = Date.now();
  for (const file of await readdir(OUT_DIR)) {
    if (file.startsWith(current)) continue;
    const full = path.join(OUT_DIR, file);
    const { mtimeMs } = await stat(full).catch(() => ({ mtimeMs: now }));
    if (now - mtimeMs > STALE_MS) await rm(full, { force: true });
  }
}
