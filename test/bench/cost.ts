/**
 * Cloud cost drivers of the archive (what Lambda bills and limits): CPU-ms per stored, retrieved
 * and sent instance inside the handlers, peak RSS while storing a 100 MB request and retrieving a
 * 200 MB series, and each function's bundle size and cold module-initialisation time; and the DIMSE
 * gateway's peak RSS storing one 100 MB C-STORE data set.
 * CPU and memory come from ./cost-worker.ts processes next to an emulators process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { newUid } from '../../lambdas/dicom/uid';
import { bundleExternals, LAMBDA_BUNDLE } from '../../lib/constructs/bundling';
import { buildDimseGateway } from '../../lib/dimse/build';
import { LOCAL_BUCKET, LOCAL_TABLE } from '../../lib/local/archive';
import { functionGroups } from '../../lambdas/http/routes';
import { sendTaskFunctions } from '../../lib/send-workflow';
import type { MeasuredCalls } from './cost-measured';
import { makeInstance } from '../support/dicom-factory';
import { stowBody } from '../support/http';
import { freePort } from '../support/net';
import { procStatusBytes, resetPeakRss } from './common';
import { PROJECT_ROOT } from './servers';

/**
 * Node options of the cost worker, from BENCH_COST_NODE_OPTIONS, e.g. `--max-semi-space-size=1` to see
 * how much of a call's memory growth is V8's young generation rather than the handler's buffers.
 */
const COST_NODE_OPTIONS = (process.env.BENCH_COST_NODE_OPTIONS ?? '').split(' ').filter(Boolean);

/** Runs a node process with tsx; resolves with its last stdout line parsed as JSON. */
function runJson(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...COST_NODE_OPTIONS, '--expose-gc', '--import', 'tsx', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on('exit', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as Record<string, number>);
      else reject(new Error(`${args.join(' ')} exited ${code}: ${stderr.trim().slice(-600)}`));
    });
  });
}

export interface EmulatorsProcess {
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

/** S3 and DynamoDB emulators in a process of their own, on `dataDir`; `env` is what a function reads to use them. */
export async function startEmulatorsProcess(dataDir: string): Promise<EmulatorsProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'test/bench/emulators-process.ts'), dataDir], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const endpoints = await new Promise<{ s3Endpoint: string; dynamodbEndpoint: string }>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
    });
    child.once('exit', (code) => reject(new Error(`emulators exited ${code}`)));
  });
  return {
    env: {
      BUCKET_NAME: LOCAL_BUCKET,
      TABLE_NAME: LOCAL_TABLE,
      AWS_REGION: 'us-east-1',
      S3_ENDPOINT: endpoints.s3Endpoint,
      DYNAMODB_ENDPOINT: endpoints.dynamodbEndpoint,
      DESTINATIONS_FILE: path.join(dataDir, 'destinations.json'),
    },
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface HandlerCosts {
  /** CPU-ms per instance: `store.small`, `store.large`, `retrieve.small`, `retrieve.large`, `send.small`. */
  readonly cpuMs: Record<string, number>;
  /** Storing one request of about `storeMb`: peak RSS, and live memory. */
  readonly store: { readonly rss: CallMemory; readonly live: CallMemory };
  /** Retrieving a series of two such requests: peak RSS, and live memory. */
  readonly retrieve: { readonly rss: CallMemory; readonly live: CallMemory };
}

/** Memory of one call, as cost-worker.ts `metered` measures it (resident set or live memory). */
export interface CallMemory {
  /** Request or response body. */
  readonly bytes: number;
  readonly largestInstance: number;
  /** Memory when the handler was called, and its peak during the call. */
  readonly before: number;
  readonly peak: number;
  /** Peak growth of the same operation on one instance: what any call costs, whatever its size. */
  readonly referenceGrowth: number;
}

/**
 * Measures the handlers' CPU and memory. `destination` is a STOW-RS root that the Send delivers to;
 * `storeMb` is the size of the stored request, and the retrieved series holds two such requests.
 */
export async function measureHandlerCosts(opts: { destination: string; cpuInstances: number; storeMb: number }): Promise<HandlerCosts> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-cost-'));
  const emulators = await startEmulatorsProcess(dataDir);
  try {
    const cpuMs = await runJson(['test/bench/cost-worker.ts', 'cpu', String(opts.cpuInstances)], {
      ...emulators.env,
      BENCH_DESTINATION: opts.destination,
    });

    // A one-instance request (the reference), then two requests of ~storeMb of 0.5 MB instances into
    // one series, which is retrieved next.
    const instanceBytes = 500_000;
    const perRequest = Math.ceil((opts.storeMb * 1024 * 1024) / instanceBytes);
    const series = { studyInstanceUID: newUid(), seriesInstanceUID: newUid(), patientID: 'COST-RSS', patientName: 'Cost^Rss' };
    const firstSop = newUid();
    // The live-memory pass stores a one-instance and a large request of its own (new instances take
    // the same path), in a series of their own.
    const oneInstance = () => [
      makeInstance({ ...series, studyInstanceUID: newUid(), seriesInstanceUID: newUid(), approximateBytes: instanceBytes }),
    ];
    const large = (inSeries: { studyInstanceUID: string; seriesInstanceUID: string }, first?: string) =>
      Array.from({ length: perRequest }, (_, i) =>
        makeInstance({ ...series, ...inSeries, sopInstanceUID: i === 0 ? first : undefined, approximateBytes: instanceBytes }),
      );
    const requests = {
      rss: [oneInstance(), large(series, firstSop), large(series)],
      live: [oneInstance(), large({ studyInstanceUID: newUid(), seriesInstanceUID: newUid() })],
    };
    const largestInstance = Math.max(...[...requests.rss, ...requests.live].flat().map((i) => i.byteLength));
    let contentType = '';
    const written = async (name: string, list: Uint8Array[][]) => {
      const files: string[] = [];
      for (const [r, instances] of list.entries()) {
        const body = stowBody(instances);
        contentType = body.contentType;
        files.push(path.join(dataDir, `request-${name}-${r}.bin`));
        await writeFile(files[r]!, body.body);
      }
      return files;
    };
    const files = { rss: await written('rss', requests.rss), live: await written('live', requests.live) };
    const storeEnv = { ...emulators.env, MAX_REQUEST_BYTES: String(opts.storeMb * 2 * 1024 * 1024) };
    const retrieveEnv = { ...emulators.env, MAX_RESPONSE_BYTES: String(opts.storeMb * 4 * 1024 * 1024) };
    const retrieveArgs = [series.studyInstanceUID, series.seriesInstanceUID, firstSop];
    const memory = (m: Record<string, number>): CallMemory => ({
      bytes: m.bytes!,
      largestInstance,
      before: m.before!,
      peak: m.peak!,
      referenceGrowth: m.referenceGrowth!,
    });
    return {
      cpuMs,
      store: {
        rss: memory(await runJson(['test/bench/cost-worker.ts', 'store-rss', contentType, ...files.rss], storeEnv)),
        live: memory(await runJson(['test/bench/cost-worker.ts', 'store-live', contentType, ...files.live], storeEnv)),
      },
      retrieve: {
        rss: memory(await runJson(['test/bench/cost-worker.ts', 'retrieve-rss', ...retrieveArgs], retrieveEnv)),
        live: memory(await runJson(['test/bench/cost-worker.ts', 'retrieve-live', ...retrieveArgs], retrieveEnv)),
      },
    };
  } finally {
    await emulators.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * S3 and DynamoDB calls per stored, retrieved, searched and sent ~40 KB instance (cost-worker.ts `calls`): the
 * handlers on the AWS adapters over an emulators process, `instances` instances per workload, Send to
 * a destination of the worker's own. Keys: `store.new-study`, `store.new-series`, `store.one-per-request`,
 * `store.identical`, `store.ten-per-request`, `retrieve`, `metadata`, `search.patient-instances`, `send`.
 */
export async function measureAwsCalls(instances: number): Promise<Record<string, number>> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-calls-'));
  const emulators = await startEmulatorsProcess(dataDir);
  try {
    return await runJson(['test/bench/cost-worker.ts', 'calls', String(instances)], emulators.env);
  } finally {
    await emulators.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * The figures `npm run cost` prices from S3 and DynamoDB calls (./cost-measured.ts): requests by
 * operation, DynamoDB request units and stored bytes per instance, `instances` ~40 KB instances a workload.
 */
export async function measureModelCalls(instances: number): Promise<MeasuredCalls> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-measured-'));
  const emulators = await startEmulatorsProcess(dataDir);
  try {
    return (await runJson(['test/bench/cost-worker.ts', 'measured', String(instances)], emulators.env)) as unknown as MeasuredCalls;
  } finally {
    await emulators.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Peak memory of the DIMSE gateway's process storing one C-STORE data set. */
export interface DimseStoreMemory {
  /** The data set's size (the Part 10 file storescu sends). */
  readonly bytes: number;
  /** Resident set once listening, and its peak (VmHWM) while the data set was received and stored. */
  readonly before: number;
  readonly peak: number;
}

/**
 * The DIMSE gateway's program as the container runs it (lib/dimse/build.ts) on an emulators process,
 * sent one data set of about `mb` MB by dcmtk's storescu: its process's peak RSS during the C-STORE
 * against its RSS before, which the gateway's sizing in docs/dimse-gateway.md states as a multiple of the
 * data set. Undefined without dcmtk.
 */
export async function measureDimseStore(mb: number): Promise<DimseStoreMemory | undefined> {
  if (spawnSync('storescu', ['--version']).status !== 0) return undefined;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-dimse-'));
  const emulators = await startEmulatorsProcess(dataDir);
  let gateway: ChildProcess | undefined;
  try {
    const program = path.join(dataDir, 'main.cjs');
    await buildDimseGateway(program);
    const file = path.join(dataDir, 'data-set.dcm');
    const bytes = makeInstance({ approximateBytes: mb * 1024 * 1024, bitsAllocated: 8 });
    await writeFile(file, bytes);
    const port = await freePort();
    const aeTitle = 'BENCH';
    gateway = spawn(process.execPath, [program], {
      env: {
        PATH: process.env.PATH,
        ...emulators.env,
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
        DIMSE_AET: aeTitle,
        DIMSE_HOST: '127.0.0.1',
        DIMSE_PORT: String(port),
        DIMSE_MAX_OBJECT_BYTES: String(2 * bytes.length),
        DIMSE_MAX_BUFFERED_BYTES: String(2 * bytes.length),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = gateway.pid!;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      gateway!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('dimse-gateway-listening')) resolve();
      });
      gateway!.once('exit', (code) => reject(new Error(`the DIMSE gateway exited ${code}`)));
    });
    const before = procStatusBytes(pid, 'VmRSS');
    resetPeakRss(pid);
    const stored = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const scu = spawn('storescu', ['-aec', aeTitle, '127.0.0.1', String(port), file], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      scu.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      scu.on('exit', (code) => resolve({ code, stderr }));
    });
    if (stored.code !== 0) throw new Error(`storescu exited ${stored.code}: ${stored.stderr.slice(-300)}`);
    return { bytes: bytes.length, before, peak: procStatusBytes(pid, 'VmHWM') };
  } finally {
    gateway?.kill('SIGTERM');
    await emulators.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export interface BundleCost {
  /** The function (route group or Send task entry). */
  readonly name: string;
  readonly bytes: number;
  /** Median of `runs` cold imports of the bundle, each in a fresh node process. */
  readonly initMs: number;
}

/**
 * Bundles each Lambda entry as the deployed functions are bundled (lib/constructs/bundling.ts:
 * CommonJS, node24, minified, the AWS SDK inside, a layer's packages outside) and times its cold load in
 * a fresh node process. Bundles go under node_modules/.cache, beside the packages they were built from
 * (where the render bundle finds sharp and the codecs, which it loads on its first image, not at start).
 */
export async function measureBundles(runs = 7): Promise<BundleCost[]> {
  const outDir = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'bench-bundles');
  await mkdir(outDir, { recursive: true });
  const entries = new Map<string, string>();
  for (const [name, spec] of Object.entries(functionGroups)) entries.set(name, spec.entry);
  for (const spec of Object.values(sendTaskFunctions)) entries.set(path.basename(spec.entry, '.ts'), spec.entry);
  const out: BundleCost[] = [];
  for (const [name, entry] of entries) {
    const outfile = path.join(outDir, `${name}.cjs`); // CommonJS whatever package.json says, as in the asset
    await esbuild.build({
      ...LAMBDA_BUNDLE,
      mainFields: [...LAMBDA_BUNDLE.mainFields],
      external: bundleExternals(name), // the render function's layer packages stay out, as deployed
      entryPoints: [path.join(PROJECT_ROOT, entry)],
      outfile,
      bundle: true,
      logLevel: 'error',
    });
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await coldImportMs(outfile));
    times.sort((a, b) => a - b);
    out.push({ name, bytes: (await stat(outfile)).size, initMs: times[Math.floor(times.length / 2)]! });
  }
  return out;
}

/**
 * Time to load a bundle in a fresh node process the way the Lambda runtime loads a CommonJS handler,
 * with require() (module initialisation, AWS SDK imports included).
 */
async function coldImportMs(file: string): Promise<number> {
  const script = `const t0 = performance.now(); require(${JSON.stringify(file)}); console.log(JSON.stringify({ ms: performance.now() - t0 }));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], {
      env: { ...process.env, BUCKET_NAME: 'bench', TABLE_NAME: 'bench', AWS_REGION: 'us-east-1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      if (code === 0) resolve((JSON.parse(stdout.trim().split('\n').pop()!) as { ms: number }).ms);
      else reject(new Error(`importing ${path.basename(file)} failed: ${stderr.slice(-500)}`));
    });
  });
}
