/**
 * ModuleThreads when a thread dies with calls in hand: those whose buffers went with them reject with
 * ThreadFailedError (their bytes are detached here, so running them inline would compute on nothing),
 * the others run inline; later calls go to the threads left.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ModuleThreads, ThreadFailedError } from '../../../lib/local/module-threads';

const PROGRAM = { module: '../../test/support/thread-exit.ts', exportName: 'lengthOrExit', name: 'testWorker', youngGenerationMb: 8 };
/** What the threads run, on this thread: never exits (the test process stays). */
const inline = (bytes: Uint8Array, _exit: boolean) => bytes.length;

describe('ModuleThreads when a thread dies', () => {
  let threads: ModuleThreads<typeof inline> | undefined;
  afterEach(async () => {
    await threads?.close();
  });

  it('rejects the calls that took their buffers with ThreadFailedError, runs the others inline', async () => {
    threads = new ModuleThreads(PROGRAM, 1, inline);
    await threads.start();
    expect(threads.readyThreads).toBe(1);
    const kept = new Uint8Array(10);
    const given = new Uint8Array(20);
    // Both on the one thread: the first ends it while the second waits there.
    const exiting = threads.call([kept, true]);
    const transferred = threads.call([given, false], [given.buffer]);
    expect(given.byteLength).toBe(0); // detached here: it went to the thread
    await expect(exiting).resolves.toBe(10);
    await expect(transferred).rejects.toBeInstanceOf(ThreadFailedError);
    expect(threads.readyThreads).toBe(0);
    // With no thread left, calls run inline.
    const later = new Uint8Array(30);
    await expect(threads.call([later, false], [later.buffer])).resolves.toBe(30);
  });

  it('keeps serving on the threads that are left', async () => {
    threads = new ModuleThreads(PROGRAM, 2, inline);
    await threads.start();
    await expect(threads.call([new Uint8Array(5), true])).resolves.toBe(5);
    await expect.poll(() => threads!.readyThreads).toBe(1);
    const bytes = new Uint8Array(40);
    await expect(threads.call([bytes, false], [bytes.buffer])).resolves.toBe(40);
  });

  it('gives the caller back the arguments with the answer, their buffers transferred back', async () => {
    threads = new ModuleThreads(PROGRAM, 1, inline);
    await threads.start();
    const bytes = new Uint8Array([1, 2, 3, 4]);
    let back: readonly unknown[] | undefined;
    await expect(threads.call([bytes, false], [bytes.buffer], (args) => (back = args))).resolves.toBe(4);
    expect(bytes.byteLength).toBe(0); // went to the thread
    expect(back?.[0]).toBeInstanceOf(Uint8Array);
    expect([...(back![0] as Uint8Array)]).toEqual([1, 2, 3, 4]);
  });

  it('transfers back an argument that is a view of the first bytes of a larger buffer (a pooled copy)', async () => {
    const held = new ModuleThreads({ ...PROGRAM, exportName: 'heldLength' }, 1, (_bytes: Uint8Array) => -1);
    try {
      await held.start();
      const pooled = new Uint8Array(new ArrayBuffer(64 * 1024), 0, 50_000);
      let back: readonly unknown[] | undefined;
      await held.call([pooled], [pooled.buffer], (args) => (back = args));
      expect((back![0] as Uint8Array).buffer.byteLength).toBe(64 * 1024);
      // Cloned back, the thread would still hold its 50,000 bytes; transferred, they are detached there.
      await expect(held.call([new Uint8Array(1)])).resolves.toBe(0);
    } finally {
      await held.close();
    }
  });
});
