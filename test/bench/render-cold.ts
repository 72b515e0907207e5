/**
 * The render function's cold start as Lambda pays it (cost table of `npm run bench`): its bundle as
 * deployed (lib/constructs/bundling.ts, sharp and the codecs outside) required in a fresh node process
 * whose only other code is its layer (lib/constructs/render-layer.ts) on NODE_PATH, then its first image,
 * which loads sharp and the decoders (they load on first use, not at start), and a second one: the
 * rendered 512x512 16-bit CT of test/support/rendered-instances.ts as JPEG, from the emulators, where
 * the store function's bundle put the instances beforehand (not timed).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { functionGroups } from '../../lambdas/http/routes';
import { bundleExternals, LAMBDA_BUNDLE } from '../../lib/constructs/bundling';
import { stageRenderLayer } from '../../lib/constructs/render-layer';
import { stowBody } from '../support/http';
import { proxyEvent } from '../support/proxy-event';
import { ctInstance, ctPixels, freshUids, type ImageUids } from '../support/rendered-instances';
import { startEmulatorsProcess } from './cost';
import { PROJECT_ROOT } from './servers';

export interface RenderColdStart {
  readonly bundleBytes: number;
  /** The layer's files, unzipped (Lambda's quota: 250 MB for a function and its layers). */
  readonly layerBytes: number;
  /** Medians over the runs, in milliseconds: require() of the bundle, its first image, a second image. */
  readonly requireMs: number;
  readonly firstImageMs: number;
  readonly warmImageMs: number;
}

/**
 * In the function's directory: requires the bundle argv[1], invokes its handler with each event of the
 * JSON file argv[2] in turn, and prints the milliseconds of the require and of each invocation; throws
 * unless every answer is 200 image/jpeg.
 */
const TIMED_INVOKE = `
const t0 = performance.now();
const { handler } = require(process.argv[1]);
const ms = [performance.now() - t0];
(async () => {
  for (const event of JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8'))) {
    const t = performance.now();
    const r = await handler(event, { awsRequestId: 'cold', getRemainingTimeInMillis: () => 60000 });
    if (r.body && typeof r.body.pipe === 'function') for await (const _ of r.body);
    ms.push(performance.now() - t);
    const type = (r.headers && (r.headers['Content-Type'] || r.headers['content-type'])) || '';
    if (r.statusCode >= 300 || (event.httpMethod === 'GET' && !type.startsWith('image/jpeg'))) {
      throw new Error(event.httpMethod + ' answered ' + r.statusCode + ' ' + type + ' ' + String(r.body).slice(0, 300));
    }
  }
  console.log(JSON.stringify(ms));
})().catch((e) => { console.error(e); process.exit(1); });
`;

async function bundleTo(dir: string, group: 'store' | 'render'): Promise<string> {
  await mkdir(dir, { recursive: true });
  const outfile = path.join(dir, 'index.js');
  await esbuild.build({
    ...LAMBDA_BUNDLE,
    mainFields: [...LAMBDA_BUNDLE.mainFields],
    external: bundleExternals(group),
    entryPoints: [path.join(PROJECT_ROOT, functionGroups[group].entry)],
    outfile,
    bundle: true,
    logLevel: 'error',
  });
  return outfile;
}

function renderedEvent(uids: ImageUids) {
  return proxyEvent({
    method: 'GET',
    resource: '/studies/{study}/series/{series}/instances/{instance}/rendered',
    pathParameters: { study: uids.studyInstanceUID, series: uids.seriesInstanceUID, instance: uids.sopInstanceUID },
    headers: { Accept: 'image/jpeg', Host: '127.0.0.1' },
  });
}

async function directoryBytes(dir: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return bytes;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** `runs` cold starts, each in a fresh process rendering two instances of its own. */
export async function measureRenderColdStart(runs = 5): Promise<RenderColdStart> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-render-cold-'));
  const emulators = await startEmulatorsProcess(path.join(dir, 'data'));
  try {
    const render = await bundleTo(path.join(dir, 'render'), 'render');
    const store = await bundleTo(path.join(dir, 'store'), 'store');
    stageRenderLayer(path.join(dir, 'layer'));
    const layerBytes = await directoryBytes(path.join(dir, 'layer'));
    const env = { PATH: process.env.PATH, ...emulators.env, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench' };
    const run = async (file: string, events: unknown[], nodePath?: string) => {
      const eventsFile = path.join(dir, 'events.json');
      await writeFile(eventsFile, JSON.stringify(events));
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', TIMED_INVOKE, file, eventsFile], {
        cwd: path.dirname(file),
        env: { ...env, ...(nodePath ? { NODE_PATH: nodePath } : {}) },
        maxBuffer: 16 * 1024 * 1024,
      });
      return JSON.parse(stdout.trim().split('\n').pop()!) as number[];
    };

    const pixels = ctPixels();
    const instances = Array.from({ length: 2 * runs }, () => freshUids());
    // One instance per Store request: any number of runs stays within the request limit.
    const stows = instances.map((uids) => {
      const { body, contentType } = stowBody([ctInstance(uids, pixels)]);
      return {
        ...proxyEvent({ method: 'POST', resource: '/studies', headers: { 'Content-Type': contentType, Host: '127.0.0.1' } }),
        body: Buffer.from(body).toString('base64'),
        isBase64Encoded: true,
      };
    });
    await run(store, stows);

    const times: number[][] = [];
    for (let r = 0; r < runs; r++) {
      const events = [renderedEvent(instances[2 * r]!), renderedEvent(instances[2 * r + 1]!)];
      times.push(await run(render, events, path.join(dir, 'layer', 'nodejs', 'node_modules')));
    }
    return {
      bundleBytes: (await stat(render)).size,
      layerBytes,
      requireMs: median(times.map((t) => t[0]!)),
      firstImageMs: median(times.map((t) => t[1]!)),
      warmImageMs: median(times.map((t) => t[2]!)),
    };
  } finally {
    await emulators.close();
    await rm(dir, { recursive: true, force: true });
  }
}
