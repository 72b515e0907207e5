/**
 * Builds the DIMSE gateway container's program, lambdas/dimse/main.ts, as one CommonJS file with the
 * settings of lib/constructs/bundling.ts (one dcmjs build, minified, the AWS SDK inside):
 * `tsx lib/dimse/build.ts <outfile>` in lib/dimse/Dockerfile, and test/cdk/dimse-container.test.ts,
 * which starts what it builds and talks DIMSE to it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { DIMSE_CONTAINER_BUNDLE } from '../constructs/bundling';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DIMSE_ENTRY = 'lambdas/dimse/main.ts';

/** Writes the bundle (and its source map beside it); answers the files it bundled, as paths from the project root. */
export async function buildDimseGateway(outfile: string): Promise<string[]> {
  const result = await build({
    ...DIMSE_CONTAINER_BUNDLE,
    mainFields: [...DIMSE_CONTAINER_BUNDLE.mainFields],
    external: [...DIMSE_CONTAINER_BUNDLE.external],
    entryPoints: [path.join(PROJECT_ROOT, DIMSE_ENTRY)],
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    outfile,
    metafile: true,
    logLevel: 'warning',
  });
  return Object.keys(result.metafile.inputs);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outfile = path.resolve(process.argv[2] ?? 'dist/main.cjs');
  await buildDimseGateway(outfile);
  console.log(`built ${path.relative(process.cwd(), outfile)}`);
}
