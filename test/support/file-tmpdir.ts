/**
 * Each test file gets a temporary directory of its own (TMPDIR, which os.tmpdir() reads at every
 * call, and which the processes a test starts inherit), removed once the file's tests have run
 * (vitest runs a setup file's afterAll last). What a test or a library leaves there goes with it:
 * aws-cdk-lib synthesizes every App into a new `cdk.out*` directory of the temporary directory, up to
 * ~230 MB with its bundles, about 180 in a run of the suite, and no test removed them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const parent = tmpdir();
const own = mkdtempSync(join(parent, 'vitest-'));
process.env.TMPDIR = own;

afterAll(() => {
  process.env.TMPDIR = parent;
  rmSync(own, { recursive: true, force: true });
});
