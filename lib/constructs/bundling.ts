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
export const LAMBDA_BUNDLE = {
  format: 'cjs',
  platform: 'node',
  target: 'node24',
  minify: true,
  /** ESM builds of dependencies first: esbuild tree-shakes them better. */
  mainFields: ['module', 'main'],
  /** Provided by the Lambda runtime. */
  external: ['@aws-sdk/*'],
} as const;
