/**
 * Unit: every environment variable the archive reads (lambdas/config.ts, lambdas/dimse/config.ts) is
 * either passed from `npm start`'s environment or set by the embedded runtime (lib/local/variables.ts).
 * Without it, CORS_ALLOWED_ORIGINS was read by the handlers but never reached them from `npm start`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PASSED_VARIABLES, RUNTIME_VARIABLES } from '../../../../lib/local/variables';

const root = path.resolve(__dirname, '../../../..');

/** Names read as env.NAME, env['NAME'] or through a helper called as (env, 'NAME'). */
function variablesRead(file: string): string[] {
  const source = readFileSync(path.join(root, file), 'utf8');
  const names = new Set<string>();
  for (const m of source.matchAll(/\benv(?:\.([A-Z][A-Z0-9_]+)|\[['"]([A-Z][A-Z0-9_]+)['"]\]|, ['"]([A-Z][A-Z0-9_]+)['"])/g)) {
    names.add((m[1] ?? m[2] ?? m[3])!);
  }
  return [...names];
}

describe('npm start passes every setting through', () => {
  const read = [...variablesRead('lambdas/config.ts'), ...variablesRead('lambdas/dimse/config.ts')];
  const known = new Set<string>([...PASSED_VARIABLES, ...RUNTIME_VARIABLES]);

  it('finds the variables the configuration reads', () => {
    expect(read).toEqual(expect.arrayContaining(['BUCKET_NAME', 'CORS_ALLOWED_ORIGINS', 'AUTH', 'OIDC_SCOPE_PREFIX', 'DIMSE_AET']));
  });

  it('knows each of them: passed from the environment or set by the runtime', () => {
    expect(read.filter((name) => !known.has(name))).toEqual([]);
  });

  it('passes none that the runtime sets itself', () => {
    expect(PASSED_VARIABLES.filter((name) => (RUNTIME_VARIABLES as readonly string[]).includes(name))).toEqual([]);
  });
});
