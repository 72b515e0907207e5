/**
 * Unit: stacks of a minified bundle mapped back to their sources when logged
 * (lambdas/http/source-mapped-stack.ts), over a bundle built as the functions are
 * (lib/constructs/bundling.ts) in a temporary directory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_BUNDLE } from '../../../lib/constructs/bundling';
import { errorResponse } from '../../../lambdas/http/middleware';
import { sourceMappedStack, taskEntry } from '../../../lambdas/http/source-mapped-stack';

const SOURCE = [
  '// fixture: a fault on line 4, column 9',
  'export function explode(what: string): never {',
  '  const detail = `no ${what}`;',
  '  throw new TypeError(detail);',
  '}',
  '',
].join('\n');

let dir: string;
let explode: (what: string) => never;
let bundleFile: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'source-map-'));
  writeFileSync(path.join(dir, 'fixture.ts'), SOURCE);
  bundleFile = path.join(dir, 'out', 'index.js');
  await build({
    ...LAMBDA_BUNDLE,
    mainFields: [...LAMBDA_BUNDLE.mainFields],
    external: [...LAMBDA_BUNDLE.external],
    entryPoints: [path.join(dir, 'fixture.ts')],
    outfile: bundleFile,
    bundle: true,
    logLevel: 'silent',
  });
  ({ explode } = createRequire(import.meta.url)(bundleFile) as { explode: typeof explode });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const thrown = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
};

describe('sourceMappedStack', () => {
  it('replaces a bundle location with its source file, line and column', () => {
    const stack = thrown(() => explode('table')).stack!;
    expect(stack).toContain(`${bundleFile}:1:`);
    const mapped = sourceMappedStack(stack);
    expect(mapped).toContain('fixture.ts:4:9');
    expect(mapped).not.toContain(bundleFile);
    expect(mapped.split('\n')[0]).toBe('TypeError: no table');
  });

  it('leaves locations without a map beside them, and the rest of the stack, as they are', () => {
    const stack = 'Error: x\n    at f (/nowhere/index.js:1:200)\n    at node:internal/process/task_queues:95:5';
    expect(sourceMappedStack(stack)).toBe(stack);
  });

  it('leaves the stack as it is when the map is unreadable', async () => {
    const broken = path.join(dir, 'broken.js');
    writeFileSync(broken, '');
    writeFileSync(`${broken}.map`, '{ not json');
    const stack = `Error: x\n    at f (${broken}:1:20)`;
    expect(sourceMappedStack(stack)).toBe(stack);
  });
});

describe('where stacks are logged', () => {
  it('[common.500] the 500 error log carries source positions', () => {
    const original = console.error;
    const logged: string[] = [];
    console.error = (line: string) => logged.push(line);
    try {
      expect(errorResponse(thrown(() => explode('index'))).status).toBe(500);
    } finally {
      console.error = original;
    }
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0]!).stack).toContain('fixture.ts:4:9');
  });

  it('a Task entry rethrows the same error with its stack mapped', async () => {
    const task = taskEntry(async (what: string) => explode(what));
    const error = await task('manifest').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(error?.message).toBe('no manifest');
    expect(error?.stack).toContain('fixture.ts:4:9');
    await expect(taskEntry(async (n: number) => n + 1)(1)).resolves.toBe(2);
  });
});
