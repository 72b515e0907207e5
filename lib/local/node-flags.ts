/**
 * The Node.js flags `npm start` runs the embedded archive with (package.json "start": node, these
 * flags, ARCHIVE_START; the bench and the tests that start the archive as a process use both, and
 * test/unit/lib/local/node-flags.test.ts keeps package.json in step).
 *
 * --max-semi-space-size=4: V8's young generation grows to three semi-spaces of up to 16 MB by default
 * on 64-bit. The archive's working set is instances in buffers outside the V8 heap; its young
 * objects are short-lived request state, which a 4 MB semi-space holds. Peak RSS storing 1 GB in
 * ~0.5 MB instances: 332 MB with the default, 290 MB with this (issue 22's target: under 300 MB), with
 * no Store throughput lost in the bench.
 */
export const ARCHIVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/** The script `npm start` runs, relative to the project's root: it builds the archive and runs it (./start.mjs). */
export const ARCHIVE_START = 'lib/local/start.mjs';
