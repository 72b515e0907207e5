/**
 * The embedded runtime's emulators (./emulators.ts) on a worker thread of this process. The handlers
 * and the embedded gateway keep the main thread; s3rver and dynalite answer on their own thread, so
 * the archive uses a second core instead of queueing every S3 and DynamoDB answer behind the
 * handlers' work. Still one process: a SIGKILL ends both, and both keep one data directory.
 */
import { Worker } from 'node:worker_threads';
import type { EmulatorOptions, Emulators } from './emulators';

type FromThread =
  | { readonly ready: { readonly s3Endpoint: string; readonly dynamodbEndpoint: string } }
  | { readonly failed: string }
  | { readonly closed: true };

/**
 * The thread loads TypeScript through tsx's loader, registered in the thread itself: the same
 * whether the archive runs under the tsx CLI (`npm start`) or under vitest, which transforms
 * modules without a Node loader.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { register } = await import('tsx/esm/api');
  register();
  const { startEmulators } = await import(workerData.module);
  let emulators;
  try {
    emulators = await startEmulators(workerData.options);
  } catch (error) {
    parentPort.postMessage({ failed: String(error && error.stack || error) });
    return;
  }
  parentPort.on('message', async () => {
    await emulators.close();
    parentPort.postMessage({ closed: true });
    parentPort.close();
  });
  parentPort.postMessage({ ready: { s3Endpoint: emulators.s3Endpoint, dynamodbEndpoint: emulators.dynamodbEndpoint } });
})();
`;

/** Starts s3rver and dynalite on a worker thread; resolves once both listen and the table exists. */
export async function startEmulatorThread(options: EmulatorOptions): Promise<Emulators> {
  const worker = new Worker(THREAD_SOURCE, {
    eval: true,
    // The thread registers its own loader; inheriting the main thread's would register it twice.
    execArgv: [],
    workerData: { module: new URL('./emulators.ts', import.meta.url).href, options },
  });
  const next = () =>
    new Promise<FromThread>((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`the emulator thread exited (${code})`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (message: FromThread) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        resolve(message);
      });
    });
  const first = await next();
  if ('failed' in first) {
    await worker.terminate();
    throw new Error(`the emulators did not start: ${first.failed}`);
  }
  if (!('ready' in first)) throw new Error('the emulator thread answered out of turn');
  let closing: Promise<void> | undefined;
  return {
    ...first.ready,
    close: () =>
      (closing ??= (async () => {
        const closed = next();
        worker.postMessage('close');
        await closed;
        await worker.terminate();
      })()),
  };
}
