/**
 * Records the AWS calls this process makes, for the IAM harness (docs/testing.md): each call with the
 * function that made it, so a test can evaluate it against that function's role in the synthesized
 * template. Off unless a test installs a recorder before the clients are built: then each client
 * built by this module's `recordCalls` carries one middleware, and nothing else changes.
 *
 * In the embedded runtime every function group runs in one process; the caller is the function whose
 * invocation is running (`runAsFunction`, carried across awaits by AsyncLocalStorage).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** One AWS API call, as the SDK is asked to make it. */
export interface RecordedAwsCall {
  /** The function (role) making the call; undefined outside any invocation. */
  readonly caller: string | undefined;
  /** SDK client name without "Client": S3, DynamoDB, SFN, SecretsManager, Lambda. */
  readonly service: string;
  /** API operation without "Command": GetObject, Query, StartExecution... */
  readonly operation: string;
  /** The call's parameters (bucket, key, table, index, ARNs); read, never kept beyond the test. */
  readonly input: Readonly<Record<string, unknown>>;
  readonly region: string;
}

export type AwsCallSink = (call: RecordedAwsCall) => void;

let sink: AwsCallSink | undefined;
const callers = new AsyncLocalStorage<string>();

/** Starts recording into `to` (tests only); returns the function that stops it. */
export function installAwsCallRecorder(to: AwsCallSink): () => void {
  sink = to;
  return () => {
    if (sink === to) sink = undefined;
  };
}

export function isRecordingAwsCalls(): boolean {
  return sink !== undefined;
}

/**
 * Runs `fn` as an invocation of the function (role) `caller`; without a recorder, simply runs it:
 * an AsyncLocalStorage once run makes Node call a hook at every promise of the process thereafter
 * (about 1 % of the archive's CPU serving WADO-RS, perf), a cost only the IAM harness needs.
 */
export function runAsFunction<T>(caller: string, fn: () => T): T {
  return sink ? callers.run(caller, fn) : fn();
}

/**
 * Records a call made on the caller's behalf by an embedded stand-in for a service that has no
 * emulator (the in-process Step Functions, the destination file in place of Secrets Manager).
 */
export function recordAwsCall(call: Omit<RecordedAwsCall, 'caller'>): void {
  sink?.({ caller: callers.getStore(), ...call });
}

type Handler = (args: { input: object }) => Promise<unknown>;

interface SdkClient {
  readonly config: { region: string | (() => Promise<string>) };
  readonly middlewareStack: {
    add(
      middleware: (next: Handler, context: { clientName?: string; commandName?: string }) => Handler,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/** The client, with the recording middleware when a recorder is installed. */
export function recordCalls<C>(client: C): C {
  if (!sink) return client;
  const sdk = client as unknown as SdkClient;
  sdk.middlewareStack.add(
    (next, context) => async (args) => {
      const region = typeof sdk.config.region === 'function' ? await sdk.config.region() : sdk.config.region;
      recordAwsCall({
        service: (context.clientName ?? 'Unknown').replace(/Client$/, ''),
        operation: (context.commandName ?? 'Unknown').replace(/Command$/, ''),
        input: args.input as Record<string, unknown>,
        region,
      });
      return next(args);
    },
    { step: 'initialize', name: 'awsCallRecorder' },
  );
  return client;
}

/** `fn` as invocations of `caller` while a recorder is installed; `fn` itself otherwise. */
export function asInvocationsOf<A extends unknown[], R>(caller: string, fn: (...args: A) => R): (...args: A) => R {
  if (!sink) return fn;
  return (...args) => callers.run(caller, () => fn(...args));
}
