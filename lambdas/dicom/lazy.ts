/**
 * A module (or anything costly) loaded on first use and kept for the life of the process. Every call
 * of a dynamic `import()` goes through the module loader again (under tsx, a message to its loader
 * thread: about a tenth of the main thread of a rendered image), so a caller keeps the promise.
 */

/** A loader answering the same promise every call, started on the first; `forget` drops it. */
export interface Lazy<T> {
  (): Promise<T>;
  forget(): void;
}

/** `load` run once; a failed load (e.g. out of memory) is tried again on the next call. */
export function once<T>(load: () => Promise<T>): Lazy<T> {
  let loaded: Promise<T> | undefined;
  const get = () => {
    loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    });
    return loaded;
  };
  return Object.assign(get, { forget: () => (loaded = undefined) });
}
