/**
 * Polyfills the embedded runtime needs on Node 20 (Lambda runs Node 24, which has them natively).
 * Import for its side effect before aws-local-stepfunctions runs a state machine.
 */

interface WithResolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

// Promise.withResolvers (ES2024, Node 22+): aws-local-stepfunctions 3 calls it for Task timeouts.
const PromiseWithResolvers = Promise as unknown as { withResolvers?: <T>() => WithResolvers<T> };
if (typeof PromiseWithResolvers.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(): WithResolvers<T> {
      let resolve!: WithResolvers<T>['resolve'];
      let reject!: WithResolvers<T>['reject'];
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export {};
