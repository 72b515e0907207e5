/**
 * The Lambda bundles (esbuild, with lib/constructs/bundling.ts as the deployed functions) carry only what
 * their function uses (issue 7: small, fast cold start): the SDK clients of their own ports, at the
 * version of package-lock.json (issue 19: the SDK ships in the bundle, not from the runtime), the
 * DICOM library only where a data set or the data dictionary is read, and the DIMSE library only in
 * Deliver, loaded there on the first C-STORE. Assertions on the import graph, not on timings.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { readPart10 } from '../../lambdas/dicom/part10';
import { TransferSyntax } from '../../lambdas/dicom/uid';
import { dcmtkSuite, startStoreScp, type StoreScp } from '../support/dcmtk';
import { makeInstance } from '../support/dicom-factory';
import { LAMBDA_BUNDLE, MAX_BUNDLE_BYTES } from '../../lib/constructs/bundling';
import { AUTHORIZER_ENTRY } from '../../lib/constructs/auth';
import { functionGroups } from '../../lambdas/http/routes';
import { sendTaskFunctions } from '../../lib/send-workflow';

const root = path.resolve(__dirname, '../..');
const lockfile = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string }>;
};

async function bundle(entry: string) {
  const result = await build({
    entryPoints: [path.join(root, entry)],
    ...LAMBDA_BUNDLE,
    mainFields: [...LAMBDA_BUNDLE.mainFields],
    external: [...LAMBDA_BUNDLE.external],
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
    /** Packages left to the runtime: none. */
    external: Object.values(metafile.inputs).flatMap((i) =>
      i.imports.filter((x) => x.external && !x.path.startsWith('node:') && !isBuiltin(x.path)).map((x) => x.path),
    ),
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
const expected: Record<string, { entry: string; sdk: string[]; dicom: 'at-start' | 'on-first-use' | false }> = {
  store: { entry: functionGroups.store.entry, sdk: [...DYNAMODB, ...S3], dicom: 'at-start' },
  search: { entry: functionGroups.search.entry, sdk: DYNAMODB, dicom: 'at-start' }, // the dictionary, for query keys
  // Instances as stored, metadata, frames and top-level bulk data of native objects need no dcmjs: only transcoding, other bulk data and frames whose items do not say where they are.
  retrieve: { entry: functionGroups.retrieve.entry, sdk: [...DYNAMODB, ...S3], dicom: 'on-first-use' },
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
  // The API key clients' table alone.
  admin: { entry: functionGroups.admin.entry, sdk: DYNAMODB, dicom: false },
  npi: { entry: functionGroups.npi.entry, sdk: [...DYNAMODB, ...S3], dicom: 'at-start' },
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
      const b = await bundle(spec.entry);
      expect(b.sdk).toEqual([...spec.sdk].sort());
      expect(has(b.atStart, 'dcmjs')).toBe(spec.dicom === 'at-start');
      expect(has(b.all, 'dcmjs')).toBe(spec.dicom !== false);
      expect(has(b.atStart, 'dcmjs-dimse')).toBe(false);
      if (spec.entry !== sendTaskFunctions.deliver.entry) expect(has(b.all, 'dcmjs-dimse')).toBe(false);
      expect(b.bytes).toBeLessThan(MAX_BUNDLE_BYTES);
      expect(b.external).toEqual([]);
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

  it.each(
    [...Object.values(functionGroups), ...Object.values(sendTaskFunctions)].map(
      (f) => [f.entry, 'handler' in f ? f.handler : 'handler'] as const,
    ),
  )(
    '%s loads with require(), as the Lambda runtime loads a CommonJS handler, and exports %s',
    async (entry, handlerName) => {
      const b = await bundle(entry);
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
});
