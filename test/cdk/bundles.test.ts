/**
 * The Lambda bundles (esbuild, as lib/constructs/dicomweb-function.ts bundles them): the API functions
 * carry no DIMSE library and stay under 1 MiB (issue 7's target); only the Send task functions, which
 * deliver sub-operations, include dcmjs-dimse for C-STORE.
 */
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { functionGroups } from '../../lib/routes';
import { sendTaskFunctions } from '../../lib/send-workflow';

const root = path.resolve(__dirname, '../..');

async function bundle(entry: string) {
  const result = await build({
    entryPoints: [path.join(root, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    external: ['@aws-sdk/*'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { bytes: result.outputFiles[0]!.contents.byteLength, inputs: Object.keys(result.metafile!.inputs) };
}

describe('Lambda bundles', () => {
  it.each(Object.entries(functionGroups))('%s: no DIMSE library, under 1 MiB', async (_group, spec) => {
    const { bytes, inputs } = await bundle(spec.entry);
    expect(inputs.filter((i) => i.includes('dcmjs-dimse'))).toEqual([]);
    expect(bytes).toBeLessThan(1024 * 1024);
  }, 60_000);

  it('the Send task functions include dcmjs-dimse for C-STORE sub-operations', async () => {
    const { inputs } = await bundle(sendTaskFunctions.deliver.entry);
    expect(inputs.some((i) => i.includes('dcmjs-dimse'))).toBe(true);
  }, 60_000);
});
