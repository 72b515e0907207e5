/**
 * The Lambda bundles (esbuild, with lib/constructs/bundling.ts as the deployed functions) carry only what
 * their function uses (issue 7: small, fast cold start): the SDK clients of their own ports, at the
 * version of package-lock.json (issue 19: the SDK ships in the bundle, not from the runtime), the
 * DICOM library only where a data set or the data dictionary is read, and the DIMSE library only in
 * Deliver, loaded there on the first C-STORE. Assertions on the import graph, not on timings.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { readPart10 } from '../../lambdas/dicom/part10';
import { TransferSyntax } from '../../lambdas/dicom/uid';
import { dcmtkSuite, startStoreScp, type StoreScp } from '../support/dcmtk';
import { stow, tempArchive } from '../support/http';
import { proxyEvent } from '../support/proxy-event';
import { CT_SLICE, ctInstance, ctPixels, freshUids, jpeg2000Lossless } from '../support/rendered-instances';
import { makeInstance } from '../support/dicom-factory';
import { bundleExternals, LAMBDA_BUNDLE, LAYER_PACKAGES, MAX_BUNDLE_BYTES } from '../../lib/constructs/bundling';
import { AUTHORIZER_ENTRY } from '../../lib/constructs/auth';
import { stageRenderLayer } from '../../lib/constructs/render-layer';
import { functionGroups } from '../../lambdas/http/routes';
import { sendTaskFunctions } from '../../lib/send-workflow';

const root = path.resolve(__dirname, '../..');
const lockfile = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string }>;
};

/** The bundle of `entry` as its function deploys it; `group` names the function group whose layer it uses. */
async function bundle(entry: string, group?: string) {
  const result = await build({
    entryPoints: [path.join(root, entry)],
    ...LAMBDA_BUNDLE,
    mainFields: [...LAMBDA_BUNDLE.mainFields],
    external: bundleExternals(group),
    bundle: true,
    outfile: 'index.js', // names the output and its source map; write: false keeps both in memory
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const metafile = result.metafile!;
  const output = (ext: string) => result.outputFiles.find((f) => f.path.endsWith(ext))!.contents;
  return {
    code: output('.js'),
    /** The source map beside the bundle (LAMBDA_BUNDLE.sourcemap). */
    map: output('.js.map'),
    bytes: output('.js').byteLength,
    /** Files evaluated at start: reached from the entry by static imports (not by `await import()`). */
    atStart: reachable(metafile, path.relative(root, path.join(root, entry)), (kind) => kind !== 'dynamic-import'),
    all: new Set(Object.keys(metafile.inputs)),
    /** SDK clients and libraries (client-*, lib-*) inside the bundle. */
    sdk: [
      ...new Set(Object.keys(metafile.inputs).flatMap((f) => /node_modules\/(@aws-sdk\/(?:client|lib)-[^/]+)\//.exec(f)?.[1] ?? [])),
    ].sort(),
    /** Packages left to the runtime: none, but those of the function's layer (package names, subpaths cut). */
    external: [
      ...new Set(
        Object.values(metafile.inputs).flatMap((i) =>
          i.imports
            .filter((x) => x.external && !x.path.startsWith('node:') && !isBuiltin(x.path))
            .map((x) =>
              x.path
                .split('/')
                .slice(0, x.path.startsWith('@') ? 2 : 1)
                .join('/'),
            ),
        ),
      ),
    ].sort(),
  };
}

function reachable(metafile: Metafile, entry: string, follow: (kind: string) => boolean): Set<string> {
  const seen = new Set<string>([entry]);
  const todo = [entry];
  while (todo.length) {
    for (const i of metafile.inputs[todo.pop()!]?.imports ?? []) {
      if (!i.external && follow(i.kind) && !seen.has(i.path)) {
        seen.add(i.path);
        todo.push(i.path);
      }
    }
  }
  return seen;
}

/** Writes a bundle under node_modules (its cache directory), where tests may write. */
function writeBundle(name: string, code: Uint8Array, map?: Uint8Array): string {
  const dir = path.join(root, 'node_modules', '.cache', 'bundle-test');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.cjs`);
  writeFileSync(file, code);
  if (map) writeFileSync(`${file}.map`, map);
  else rmSync(`${file}.map`, { force: true });
  return file;
}

const has = (files: Set<string>, pkg: string) => [...files].some((f) => f.includes(`node_modules/${pkg}/`));

const DYNAMODB = ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'];
const S3 = ['@aws-sdk/client-s3'];

/**
 * Each function's SDK clients, and whether it reads DICOM (Part 10 or the data dictionary): loading dcmjs
 * at its start, or on the first request that needs it.
 */
const expected: Record<string, { entry: string; sdk: string[]; dicom: 'at-start' | 'on-first-use' | false; group?: string }> = {
  store: { entry: functionGroups.store.entry, sdk: [...DYNAMODB, ...S3], dicom: 'at-start' },
  search: { entry: functionGroups.search.entry, sdk: DYNAMODB, dicom: 'at-start' }, // the dictionary, for query keys
  // Instances as stored, metadata, frames and top-level bulk data of native objects need no dcmjs: only transcoding, other bulk data and frames whose items do not say where they are.
  retrieve: { entry: functionGroups.retrieve.entry, sdk: [...DYNAMODB, ...S3], dicom: 'on-first-use' },
  // Rendered and thumbnail resources: Retrieve's reads, and the thumbnails it caches; the codec layer
  // (dcmjs) loads with the first image, sharp and the WebAssembly codecs come from its layer (test/cdk/render-function.test.ts, and the run below).
  render: { entry: functionGroups.render.entry, sdk: [...DYNAMODB, ...S3], dicom: 'on-first-use', group: 'render' },
  // Lambda: a delete the request's time does not cover continues in an invocation of the function itself.
  delete: { entry: functionGroups.delete.entry, sdk: [...DYNAMODB, '@aws-sdk/client-lambda', ...S3], dicom: false },
  // Check Send Result reads the batch outcomes' objects for the Failed SOP Instance UID List.
  send: {
    entry: functionGroups.send.entry,
    sdk: [...DYNAMODB, ...S3, '@aws-sdk/client-secrets-manager', '@aws-sdk/client-sfn'],
    dicom: 'at-start',
  },
  // No storage of its own; DynamoDB for the API key clients every function verifies (lambdas/handlers/function-services.ts).
  capabilities: { entry: functionGroups.capabilities.entry, sdk: DYNAMODB, dicom: false },
  // The API key clients' table, and the archive's index to find a share link's study.
  admin: { entry: functionGroups.admin.entry, sdk: DYNAMODB, dicom: false },
  npi: { entry: functionGroups.npi.entry, sdk: [...DYNAMODB, ...S3], dicom: 'at-start' },
  // The upload path: multipart uploads and presigned part URLs, the uploads' items, then the Store rules.
  upload: { entry: functionGroups.upload.entry, sdk: [...DYNAMODB, ...S3], dicom: 'at-start' },
  resolve: { entry: sendTaskFunctions.resolve.entry, sdk: [...DYNAMODB, ...S3], dicom: 'at-start' },
  // Finalize and Fail end the send request from its counters: the send-request item only.
  finish: { entry: sendTaskFunctions.finalize.entry, sdk: DYNAMODB, dicom: false },
  // STOW-RS sub-operations send the objects as stored; only a C-STORE (dcmjs-dimse, transcoding) needs dcmjs.
  deliver: { entry: sendTaskFunctions.deliver.entry, sdk: [...DYNAMODB, ...S3, '@aws-sdk/client-secrets-manager'], dicom: 'on-first-use' },
};

describe('Lambda bundles', () => {
  it('cover every function of the route table and of the Send workflow', () => {
    const entries = new Set([...Object.values(functionGroups), ...Object.values(sendTaskFunctions)].map((f) => f.entry));
    expect(new Set(Object.values(expected).map((e) => e.entry))).toEqual(entries);
  });

  it.each(Object.entries(expected))(
    '%s: only its own SDK clients and libraries',
    async (_name, spec) => {
      const b = await bundle(spec.entry, spec.group);
      expect(b.sdk).toEqual([...spec.sdk].sort());
      expect(has(b.atStart, 'dcmjs')).toBe(spec.dicom === 'at-start');
      expect(has(b.all, 'dcmjs')).toBe(spec.dicom !== false);
      expect(has(b.atStart, 'dcmjs-dimse')).toBe(false);
      if (spec.entry !== sendTaskFunctions.deliver.entry) expect(has(b.all, 'dcmjs-dimse')).toBe(false);
      expect(b.bytes).toBeLessThan(MAX_BUNDLE_BYTES);
      // Only its layer's packages (sharp, the codecs) are left out of a bundle, and only the render function
      // has one; besides them the render bundle names the embedded install's JPEG 2000 addon, which no
      // function has: its codec then decodes with WebAssembly (the run of the bundle and its layer below).
      const layer = (spec.group && LAYER_PACKAGES[spec.group as keyof typeof LAYER_PACKAGES]) || [];
      const notInLambda = spec.group === 'render' ? ['@dicomweb-archive/openjpeg-native'] : [];
      expect(b.external.filter((p) => !layer.includes(p) && !notInLambda.includes(p))).toEqual([]);
      if (spec.group === 'render') expect(b.external).toContain('sharp');
      // The local engine (SQLite, files) is the embedded runtime's: not a line of it in a function.
      expect([...b.all].filter((f) => f.includes('lambdas/storage/local/') || f.includes('better-sqlite3'))).toEqual([]);
      expect(Buffer.from(b.code).toString()).not.toContain('better-sqlite3');
      // The package.json each client reports in its user agent, at the lockfile's version.
      const code = Buffer.from(b.code).toString();
      for (const pkg of spec.sdk) {
        const version = lockfile.packages[`node_modules/${pkg}`]?.version;
        expect(version, pkg).toMatch(/^3\./);
        if (pkg.startsWith('@aws-sdk/client-')) expect(code, pkg).toContain(`{name:"${pkg}",version:"${version}"`);
      }
      // One build of dcmjs, whoever imports or requires it (bundling.ts `alias`).
      expect([...b.all].filter((f) => /node_modules\/dcmjs\/build\//.test(f)).length).toBe(spec.dicom ? 1 : 0);
    },
    60_000,
  );

  // On every request with a credential, before any function: no DICOM, no object storage, no workflow;
  // DynamoDB only, for API keys (the clients table), once the client store is wired.
  it('the authorizer: nothing but its own, small and self-contained', async () => {
    const b = await bundle(AUTHORIZER_ENTRY);
    expect(b.sdk.filter((p) => !DYNAMODB.includes(p))).toEqual([]);
    expect(has(b.all, 'dcmjs')).toBe(false);
    expect(has(b.all, 'jose')).toBe(true);
    expect(b.external).toEqual([]);
    expect(b.bytes).toBeLessThan(MAX_BUNDLE_BYTES);
  }, 60_000);

  // The functions run without --enable-source-maps (it read and parsed the map at every cold start):
  // a Task's failure and the 500 log map their stacks from the map beside the bundle when they happen.
  it('ship a positions-only source map without a sourceMappingURL, and a failing Task reports source positions', async () => {
    const b = await bundle(sendTaskFunctions.finalize.entry);
    expect(Buffer.from(b.code).toString()).not.toContain('sourceMappingURL');
    expect(JSON.parse(Buffer.from(b.map).toString())).not.toHaveProperty('sourcesContent');
    const failure = async (map?: Uint8Array) => {
      const file = writeBundle(`send-finish-${map ? 'mapped' : 'bare'}`, b.code, map);
      const { finalize } = createRequire(import.meta.url)(file) as typeof import('../../lambdas/handlers/send-finish');
      const saved = { BUCKET_NAME: process.env.BUCKET_NAME, TABLE_NAME: process.env.TABLE_NAME };
      // Without them config() refuses to start: a fault inside the bundle.
      delete process.env.BUCKET_NAME;
      delete process.env.TABLE_NAME;
      try {
        return await finalize({ transactionUID: '1.2.3' }).then(
          () => undefined,
          (e: Error) => e,
        );
      } finally {
        for (const [name, value] of Object.entries(saved)) if (value !== undefined) process.env[name] = value;
      }
    };
    const mapped = await failure(b.map);
    expect(mapped?.message).toMatch(/^environment variable \w+ is required$/);
    expect(mapped?.stack).toMatch(/lambdas\/config\.ts:\d+:\d+/);
    expect(mapped?.stack).toMatch(/lambdas\/handlers\/function-services\.ts:\d+:\d+/);
    expect(mapped?.stack).not.toMatch(/send-finish-mapped\.cjs:/);
    // Without its map the stack stays as V8 wrote it.
    expect((await failure())?.stack).toMatch(/send-finish-bare\.cjs:\d+:\d+/);
  }, 60_000);

  it('Deliver carries dcmjs-dimse for C-STORE sub-operations, loaded on the first one only', async () => {
    const b = await bundle(sendTaskFunctions.deliver.entry);
    expect(has(b.all, 'dcmjs-dimse')).toBe(true);
    expect(has(b.atStart, 'dcmjs-dimse')).toBe(false);
  }, 60_000);

  // Deliver's C-STORE runs dcmjs-dimse and dcmjs-codecs on the archive's dcmjs build (the alias): the
  // bundled SCU stores to a dcmtk storescp, transcoding Explicit to Implicit VR Little Endian when that
  // is all the peer accepts (dcmjs-codecs' Transcoder over dcmjs).
  dcmtkSuite('the bundled C-STORE SCU', () => {
    let scp: StoreScp | undefined;
    afterAll(async () => scp?.close());

    it('stores to storescp from the bundle, transcoding to the one transfer syntax the peer accepts', async () => {
      const b = await bundle('lambdas/dimse/store-scu.ts');
      const file = writeBundle('store-scu', b.code);
      const { storeByCStore } = createRequire(import.meta.url)(file) as typeof import('../../lambdas/dimse/store-scu');
      scp = await startStoreScp('BUNDLE_SCP', ['+xi']); // Implicit VR Little Endian only
      const bytes = makeInstance({ patientID: 'BUNDLE-1', approximateBytes: 20_000 });
      const { sopInstanceUID, sopClassUID } = readPart10(bytes);
      const outcome = await storeByCStore(
        { aeTitle: 'BUNDLE_SCP', host: '127.0.0.1', port: scp.port },
        [{ sopInstanceUID, sopClassUID, bytes }],
        {
          callingAeTitle: 'ARCHIVE',
          timeoutMs: 10_000,
        },
      );
      expect(outcome).toMatchObject({ completed: [sopInstanceUID], warning: [], failed: [] });
      const received = await readdir(scp.dir);
      expect(received).toHaveLength(1);
      const stored = readPart10(new Uint8Array(await readFile(path.join(scp.dir, received[0]!))));
      expect(stored.transferSyntaxUID).toBe(TransferSyntax.ImplicitVRLittleEndian);
      expect(stored.sopInstanceUID).toBe(sopInstanceUID);
      expect(stored.dict['00100020']?.Value).toEqual(['BUNDLE-1']);
    }, 60_000);
  });

  it.each([
    ...Object.entries(functionGroups).map(([group, f]) => [f.entry, 'handler', group] as const),
    ...Object.values(sendTaskFunctions).map((f) => [f.entry, f.handler, undefined] as const),
  ])(
    '%s loads with require(), as the Lambda runtime loads a CommonJS handler, and exports %s',
    async (entry, handlerName, group) => {
      const b = await bundle(entry, group);
      const file = writeBundle(path.basename(entry, '.ts'), b.code);
      const script = `const m = require(${JSON.stringify(file)}); process.stdout.write(typeof m[${JSON.stringify(handlerName)}]);`;
      // A fresh process with the variables the CDK sets: loading must not reach the network.
      const env = {
        PATH: process.env.PATH,
        BUCKET_NAME: 'b',
        TABLE_NAME: 't',
        AWS_REGION: 'us-east-1',
        SEND_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:s',
      };
      expect(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' })).toBe('function');
    },
    60_000,
  );

  // The render function as Lambda runs it: its bundle alone in a directory, its layer's packages on
  // NODE_PATH (/opt/nodejs/node_modules in Lambda), nothing of this repository's node_modules within
  // reach; invoked with proxy events of instances stored on the emulators, one per decoder the layer
  // carries a file for, so a .wasm, native addon or library left behind fails here.
  describe('the render bundle with its layer', () => {
    let archive: Awaited<ReturnType<typeof tempArchive>> | undefined;
    let work: string | undefined;
    afterAll(async () => {
      await archive?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('renders stored instances in a fresh node process, from the bundle and the layer only', async () => {
      work = mkdtempSync(path.join(os.tmpdir(), 'render-bundle-'));
      const b = await bundle(functionGroups.render.entry, 'render');
      mkdirSync(path.join(work, 'function'));
      const file = path.join(work, 'function', 'index.js');
      writeFileSync(file, b.code);
      stageRenderLayer(path.join(work, 'layer'));

      archive = await tempArchive({ storage: 'aws-emulators' });
      const pixels = ctPixels();
      const fixture = (name: string, file: string) => {
        const bytes = new Uint8Array(readFileSync(path.join(root, 'test/fixtures/render', file)));
        const { dict } = readPart10(bytes);
        return { name, bytes, width: dict['00280011']!.Value![0] as number, height: dict['00280010']!.Value![0] as number };
      };
      // One instance per decoder: the native path, each WebAssembly codec of the layer, and the bundled
      // JPEG Lossless decoder; the encoder (sharp, libvips) for all.
      const images = [
        {
          name: 'CT 512x512, Explicit VR Little Endian',
          bytes: ctInstance(freshUids(), pixels),
          width: CT_SLICE.columns,
          height: CT_SLICE.rows,
        },
        {
          name: 'CT 512x512, JPEG 2000 lossless (OpenJPEG)',
          bytes: ctInstance(freshUids(), pixels, await jpeg2000Lossless(pixels)),
          width: CT_SLICE.columns,
          height: CT_SLICE.rows,
        },
        fixture('RGB, JPEG Baseline (libjpeg-turbo)', 'rgb-jpeg-baseline.dcm'),
        fixture('MR, JPEG-LS lossless (CharLS)', 'mr-jpeg-ls.dcm'),
        fixture('MR, HTJ2K lossless (OpenJPH)', 'mr-htj2k-lossless.dcm'),
        fixture('CT, JPEG Lossless SV1 (jpeg-lossless-decoder-js)', 'ct-jpeg-lossless-sv1.dcm'),
        fixture('CT, JPEG Extended 12-bit (dcmjs-codecs, IJG libjpeg 12)', 'ct-jpeg-extended.dcm'),
      ];
      const stored = await stow(
        archive.url,
        images.map((i) => i.bytes),
      );
      expect(stored.status, await stored.text()).toBe(200);
      const events = images.map(({ bytes }) => {
        const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = readPart10(bytes);
        return proxyEvent({
          method: 'GET',
          resource: '/studies/{study}/series/{series}/instances/{instance}/rendered',
          pathParameters: { study: studyInstanceUID, series: seriesInstanceUID, instance: sopInstanceUID },
          headers: { Accept: 'image/jpeg', Host: '127.0.0.1' },
        });
      });
      const eventsFile = path.join(work, 'events.json');
      writeFileSync(eventsFile, JSON.stringify(events));

      const { config } = archive;
      const out = execFileSync(process.execPath, ['-e', INVOKE_SCRIPT, file, eventsFile], {
        stdio: ['ignore', 'pipe', 'inherit'],
        cwd: work,
        env: {
          PATH: process.env.PATH,
          NODE_PATH: path.join(work, 'layer', 'nodejs', 'node_modules'),
          BUCKET_NAME: config.bucketName,
          TABLE_NAME: config.tableName,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'render-bundle',
          AWS_SECRET_ACCESS_KEY: 'render-bundle',
          S3_ENDPOINT: config.s3Endpoint!,
          DYNAMODB_ENDPOINT: config.dynamodbEndpoint!,
        },
        encoding: 'utf8',
      });
      const answers = JSON.parse(out) as { statusCode: number; headers: Record<string, string>; body: string }[];
      for (const [k, image] of images.entries()) {
        const answer = answers[k]!;
        expect(answer.statusCode, `${image.name}: ${Buffer.from(answer.body, 'base64').toString().slice(0, 300)}`).toBe(200);
        expect(answer.headers['Content-Type'] ?? answer.headers['content-type'], image.name).toMatch(/^image\/jpeg/);
        const { info } = await sharp(Buffer.from(answer.body, 'base64')).raw().toBuffer({ resolveWithObject: true });
        expect([info.width, info.height], image.name).toEqual([image.width, image.height]);
      }
    }, 120_000);
  });
});

/**
 * Run with `node -e` in the function's directory: requires the bundle (argv[1]), invokes its handler
 * with each proxy event of the file argv[2], and prints the answers, bodies in base64 (a streamed body
 * drained).
 */
const INVOKE_SCRIPT = `
const { readFileSync } = require('node:fs');
const [file, eventsFile] = process.argv.slice(1);
(async () => {
  const { handler } = require(file);
  const answers = [];
  for (const event of JSON.parse(readFileSync(eventsFile, 'utf8'))) {
    const r = await handler(event, { awsRequestId: 'render-bundle', getRemainingTimeInMillis: () => 60000 });
    let body = r.body ?? '';
    if (typeof body.pipe === 'function') {
      const chunks = [];
      for await (const c of body) chunks.push(Buffer.from(c));
      body = Buffer.concat(chunks);
    } else body = Buffer.from(body, r.isBase64Encoded ? 'base64' : 'utf8');
    answers.push({ statusCode: r.statusCode, headers: r.headers ?? {}, body: body.toString('base64') });
  }
  process.stdout.write(JSON.stringify(answers));
})().catch((e) => { console.error(e); process.exit(1); });
`;
