/**
 * How every Lambda function is bundled, in one place: the CDK construct (dicomweb-function.ts), the
 * bundle assertions (test/cdk/bundles.test.ts) and the bench's cold-start measurement
 * (test/bench/cost.ts) all build from these settings, so what is tested and measured is what deploys.
 *
 * CommonJS, not ESM: the runtime provides the AWS SDK as CommonJS packages. An ES module importing
 * them makes Node lex each package for its named exports and check its syntax first, which on this
 * Node doubled the cold module initialisation of a function (about 250 CPU-ms against 130 for the
 * same bundle required as CommonJS; nodejs/node#59913 reports the same on Node 24). The Lambda
 * runtime loads a CommonJS handler with require().
 */
import { fileURLToPath } from 'node:url';

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

export const LAMBDA_BUNDLE = {
  format: 'cjs',
  platform: 'node',
  target: 'node24',
  minify: true,
  /** ESM builds of dependencies first: esbuild tree-shakes them better. */
  mainFields: ['module', 'main'],
  /** Provided by the Lambda runtime. */
  external: ['@aws-sdk/*'],
  /** Import path -> file, for every importer (esbuild `alias`). */
  alias: { dcmjs: DCMJS_BUILD },
  /**
   * The source map beside the bundle (`index.js.map`), positions only (no `sourcesContent`: 460 KB
   * instead of 2 MB for the store function) and without a `sourceMappingURL` comment: the function
   * maps a stack when it logs one (lambdas/handlers/source-mapped-stack.ts) instead of running with
   * `--enable-source-maps`, which read and parsed the map at every cold start.
   */
  sourcemap: 'external',
  sourcesContent: false,
} as const;

/**
 * The DIMSE gateway container's program (lib/dimse/build.ts, which lib/dimse/Dockerfile runs): built as
 * the functions are, with the AWS SDK inside (the container image has no SDK of its own) and its
 * source map linked, since a long-running container pays for `--enable-source-maps` once, not per
 * cold start.
 */
export const DIMSE_CONTAINER_BUNDLE = {
  ...LAMBDA_BUNDLE,
  external: [] as readonly string[],
  sourcemap: 'linked',
} as const;
