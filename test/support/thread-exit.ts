/**
 * A module for lib/local/module-threads.ts tests: its function answers the length of `bytes`, or, with
 * `exit`, ends the worker thread it runs on (process.exit on a worker ends that thread alone), as a
 * thread dying of an out-of-memory error or a native crash in a codec would.
 */
export function lengthOrExit(bytes: Uint8Array, exit: boolean): number {
  if (exit) process.exit(7);
  return bytes.length;
}

let held: Uint8Array | undefined;
/**
 * The length the previous call's `bytes` has on this thread now (0 once detached: transferred back
 * with its answer), then holds `bytes` for the next call.
 */
export function heldLength(bytes: Uint8Array): number {
  const length = held?.byteLength ?? -1;
  held = bytes;
  return length;
}
