/**
 * Who makes each AWS call in the embedded runtime, for the IAM harness (docs/testing.md): every
 * function group, Send task and the DIMSE gateway runs in this one process, and each is a role of its
 * own in AWS. Only in effect while a test records calls (lambdas/storage/call-recorder.ts).
 */
import { Readable } from 'node:stream';
import type { DestinationRegistrySource } from '../../lambdas/send/destinations';
import { asInvocationsOf, isRecordingAwsCalls, recordAwsCall, runAsFunction } from '../../lambdas/storage/call-recorder';
import type { SendTaskName } from '../send-workflow';
import type { ProxyHandler } from './gateway';

/** Callers beside the function groups of lambdas/http/routes.ts (named as they are). */
export const Caller = {
  /** Whoever runs the archive: in AWS the operator's own credentials (e.g. `npm run index-names`). */
  operator: 'operator',
  /** The DIMSE gateway's Fargate task role. */
  dimse: 'dimse-gateway',
  /** The Send state machine's role: it invokes the task functions. */
  stateMachine: 'send-state-machine',
  /** One Send task function (lambdas/handlers/send-*.ts, deliver.ts). */
  task: (name: SendTaskName) => `send-${name}`,
} as const;

/**
 * Each handler running as the function of its group, a streamed response body included: the gateway
 * reads it after the handler has returned, and in AWS it is still the function that produces it.
 */
export function attributeHandlers<K extends string>(handlers: Record<K, ProxyHandler>): Record<K, ProxyHandler> {
  if (!isRecordingAwsCalls()) return handlers;
  const out = {} as Record<K, ProxyHandler>;
  for (const [group, handler] of Object.entries(handlers) as [K, ProxyHandler][]) {
    const invoke = asInvocationsOf(group, handler);
    out[group] = async (event, context) => {
      const result = await invoke(event, context);
      if (!(result.body instanceof Readable)) return result;
      return { ...result, body: Readable.from(attributeIterable(group, result.body) as AsyncIterable<unknown>, { objectMode: false }) };
    };
  }
  return out;
}

/**
 * The destination file standing in for the Secrets Manager secret of AWS: each load is recorded as
 * the GetSecretValue of `secretArn` that SecretsManagerDestinationRegistrySource makes in AWS.
 */
export function asSecretRegistry(
  source: DestinationRegistrySource,
  secretArn: string | undefined,
  region: string,
): DestinationRegistrySource {
  if (!secretArn) return source;
  return {
    load: () => {
      recordAwsCall({ service: 'SecretsManager', operation: 'GetSecretValue', input: { SecretId: secretArn }, region });
      return source.load();
    },
  };
}

/**
 * `services` as `caller` uses them: each method of each service runs as an invocation of `caller`,
 * and so does each step of an async iterable it answers. For a server whose sockets lose the async
 * context they were accepted in (the DIMSE gateway), so its calls are attributed by what it calls.
 */
export function attributeServices<S extends object>(caller: string, services: S): S {
  if (!isRecordingAwsCalls()) return services;
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(services, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'object' || value === null || property === 'config') return value;
      if (!wrapped.has(property)) wrapped.set(property, attributeMethods(caller, value));
      return wrapped.get(property);
    },
  });
}

function attributeMethods<T extends object>(caller: string, service: T): T {
  return new Proxy(service, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => runAsFunction(caller, () => attributeIterable(caller, value.apply(target, args)));
    },
  });
}

function attributeIterable(caller: string, result: unknown): unknown {
  if (typeof result !== 'object' || result === null || result instanceof Promise || !(Symbol.asyncIterator in result)) return result;
  const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const step: AsyncIterableIterator<unknown> = {
    next: (...args: [] | [unknown]) => runAsFunction(caller, () => iterator.next(...args)),
    return: (value?: unknown) => runAsFunction(caller, () => iterator.return?.(value) ?? Promise.resolve({ done: true as const, value })),
    [Symbol.asyncIterator]: () => step,
  };
  return step;
}
