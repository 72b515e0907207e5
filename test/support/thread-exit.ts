/**
 * A module for lib/local/module-threads.ts tests: its function answers the length of `bytes`, or, with
 * `exit`, ends the worker thread it runs on (process.exit on a worker ends that thread alone), as a
 * thread dying of an out-of-memory error or a native crash in a codec would.
 */
export function lengthOrExit(bytes: Uint8Array, exit: boolean): number {
  if (exit) process.exit(7);
  return bytes.length;
}
