/**
 * How every Lambda function is bundled, in one place: the CDK construct (dicomweb-function.ts), the
 * bundle assertions (test/cdk/bundles.test.ts) and the bench's cold-start measurement
 * (test/bench/cost.ts) all build from these settings, so what is tested and measured is what deploys.
 *
 * The AWS SDK is bundled, not taken from the Lambda runtime: what deploys is the version of
 * package-lock.json that the tests ran, not whichever version the runtime carries that day. Its
 * ES builds tree-shake to the commands a function uses; a bundle grows by about 0.5 MB, and its cold
 * module initialisation is lower than with the SDK required from node_modules (one file to parse
 * instead of a few hundred to resolve).
 *
 * CommonJS, not ESM: an ES module importing CommonJS packages makes Node lex each for its named
 * exports and check its syntax first (nodejs/node#59913), and the Lambda runtime loads a CommonJS
 * handler with require().
 */
import { fileURLToPath } from 'node:url';
import type { FunctionGroup } from '../../lambdas/http/routes';

/**
 * The one build of dcmjs every bundle carries: its ES build, the one `import` resolves to, which is
 * what the archive runs on under Node (tests, embedded archive) and what esbuild can tree-shake (the
 * archive imports `data` and `log` by name; the rest of dcmjs, its SR, segmentation and viewer
 * adapters, stays out: about 100 KB less per bundle than its CommonJS build).
 * dcmjs's package.json maps `import` to the ES build and `require` to the CommonJS one; the archive
 * imports it, dcmjs-dimse and dcmjs-codecs (Deliver's C-STORE) require it, so without the alias Deliver
 * carried both builds, 1.4 MB of the same library. package.json's `overrides` keeps a single dcmjs
 * version in node_modules for the same reason.
 */
const DCMJS_BUILD = fileURLToPath(import.meta.resolve('dcmjs'));

/**
 * The size a function's bundle stays under (test/cdk/bundles.test.ts, the bench's cost section): the
 * largest, Deliver's (STOW-RS and C-STORE clients, S3, DynamoDB, Secrets Manager), is 1.4 MiB with the
 * SDK inside.
 */
export const MAX_BUNDLE_BYTES = 1.5 * 1024 * 1024;

export const LAMBDA_BUNDLE = {
  format: 'cjs',
  platform: 'node',
  target: 'node24',
  minify: true,
  /** ESM builds of dependencies first: esbuild tree-shakes them better. */
  mainFields: ['module', 'main'],
  /**
   * The AWS SDK too ships in the bundle (see above). better-sqlite3 (the embedded runtime's local
   * engine, a native addon) never does: no function reaches lambdas/storage/local (the factory takes
   * the engine from the embedded runtime), and were one to, the build would not pull in the addon.
   * Nor does the OpenJPEG addon of the embedded archive's install, built against the machine's
   * libopenjp2 (lambdas/dicom/render/codecs/openjpeg-native): the render function's JPEG 2000 codec
   * finds no such package and decodes with OpenJPEG's WebAssembly build (codecs/jpeg2000.ts).
   */
  external: ['better-sqlite3', '@dicomweb-archive/openjpeg-native'] as readonly string[],
  /**
   * `import()` compiled to `require()` (still lazy, inside the promise): the Lambda runtime loads a
   * CommonJS handler with require(), and a dynamic import of a package left to a layer (sharp, the
   * codecs: RENDER_LAYER_PACKAGES) would go through Node's ES module resolver, which ignores NODE_PATH
   * and so the layer's /opt/nodejs/node_modules (ERR_MODULE_NOT_FOUND); require() finds it there.
   */
  supported: { 'dynamic-import': false },
  /** Import path -> file, for every importer (esbuild `alias`). */
  alias: { dcmjs: DCMJS_BUILD },
  /**
   * The source map beside the bundle (`index.js.map`), positions only (no `sourcesContent`, a
   * fraction of the size) and without a `sourceMappingURL` comment: the function maps a stack when it
   * logs one (lambdas/http/source-mapped-stack.ts), not with `--enable-source-maps`, which reads
   * and parses the map at every cold start.
   */
  sourcemap: 'external',
  sourcesContent: false,
} as const;

/**
 * Packages the render function (group `render` of lambdas/http/routes.ts) loads from its Lambda layer
 * (./render-layer.ts) instead of its bundle: sharp is a native addon beside a 16 MB libvips, and the
 * @cornerstonejs codecs are Emscripten builds that read their .wasm from their own directory
 * (`__dirname`), neither of which esbuild can inline. A package here is external to the bundle with
 * its subpaths (`@cornerstonejs/codec-openjpeg/decodewasmjs`), so the codec layer (lambdas/dicom/render)
 * may import any entry of a codec and it is found, with its .wasm, where npm installed it.
 */
export const RENDER_LAYER_PACKAGES = [
  'sharp',
  '@cornerstonejs/codec-charls',
  '@cornerstonejs/codec-libjpeg-turbo-8bit',
  '@cornerstonejs/codec-openjpeg',
  '@cornerstonejs/codec-openjph',
  // IJG's 12-bit libjpeg for JPEG Extended process 4 (lambdas/dicom/render/codecs/jpeg-12bit.ts);
  // the layer carries its dcmjs too, loaded with the first 12-bit frame only.
  'dcmjs-codecs',
] as const;

/** The function groups whose bundles leave packages to a layer, and those packages. */
export const LAYER_PACKAGES: Readonly<Partial<Record<FunctionGroup, readonly string[]>>> = { render: RENDER_LAYER_PACKAGES };

/** The esbuild externals of a function's bundle: LAMBDA_BUNDLE's, and its layer's packages. */
export function bundleExternals(group?: string): string[] {
  return [...LAMBDA_BUNDLE.external, ...(LAYER_PACKAGES[group as FunctionGroup] ?? [])];
}

/**
 * The DIMSE gateway container's program (lib/dimse/build.ts, which lib/dimse/Dockerfile runs): built as
 * the functions are, with its source map linked, since a long-running container pays for
 * `--enable-source-maps` once, not per cold start.
 */
export const DIMSE_CONTAINER_BUNDLE = {
  ...LAMBDA_BUNDLE,
  sourcemap: 'linked',
} as const;
