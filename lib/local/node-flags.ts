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
 *
 * --initial-old-space-size=48: V8 starts a full collection when the old generation has grown by a
 * margin over what the last one left, and run as a bundle (./archive-build.mjs) the archive's heap is
 * small (~28 MB live): storing ~0.5 MB instances ran one every ~100 ms, the GC threads taking about
 * half the process's CPU (10 ms per instance against 6 under tsx, whose loaded sources made the heap,
 * and so the margin, larger). A 48 MB floor for that limit: 4.6-4.8 ms per instance, peak RSS storing
 * 1 GB 270 MB (64 MB: 4.4 ms, 296-309 MB; 32 MB: 6.7-8.3 ms, 226 MB).
 */
export const ARCHIVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--initial-old-space-size=48'];

/** The script `npm start` runs, relative to the project's root: it builds the archive and runs it (./start.mjs). */
export const ARCHIVE_START = 'lib/local/start.mjs';
