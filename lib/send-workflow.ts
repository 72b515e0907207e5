/**
 * The Send state machine (Amazon States Language), one builder for both places it runs:
 *
 *   Resolve -> AnyMatches? -> DeliverBatches (Map: Deliver per batch) -> Finalize
 *   any failure (after the Tasks' retries) -> MarkFailed -> SendFailed (Fail)
 *
 * 'distributed' (AWS Step Functions Standard): a Distributed Map whose ItemReader reads the manifest
 * (JSON Lines in S3) and whose ItemBatcher groups items, so a Send of any size never passes its
 * instance list through the state payload. 'inline' (aws-local-stepfunctions, which has no
 * Distributed Map, ItemReader or ItemBatcher): an inline Map over the batches Resolve returns.
 * Deliver sees `{ Items, BatchInput }` either way (lambdas/send/workflow-io.ts).
 */
import { STORAGE_UNAVAILABLE } from '../lambdas/send/task-errors';

export interface SendStateMachineOptions {
  readonly mode: 'distributed' | 'inline';
  readonly resolveArn: string;
  readonly deliverArn: string;
  readonly finalizeArn: string;
  readonly failArn: string;
  /** Bucket holding send-requests/{transactionUID}/manifest.jsonl; required in distributed mode. */
  readonly manifestBucket?: string;
  /** Instances per Deliver call (one STOW request or one association). */
  readonly batchSize: number;
  /** Deliver calls running at once. */
  readonly maxConcurrency: number;
  /** AWS partition of the service integration ARNs (the deployment's, e.g. aws-cn; default aws). */
  readonly partition?: string;
}

export type AslState = Record<string, unknown>;
export interface AslDefinition {
  readonly Comment: string;
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
}

/** State names, shared with the embedded runtime's handler mapping and with tests. */
export const SendState = {
  Resolve: 'Resolve',
  AnyMatches: 'AnyMatches',
  DeliverBatches: 'DeliverBatches',
  Deliver: 'Deliver',
  Finalize: 'Finalize',
  MarkFailed: 'MarkFailed',
  SendFailed: 'SendFailed',
} as const;

/** Errors of the Lambda service itself (not of our code), worth retrying on every Task. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/**
 * Every Task's Retry rules (States Language, "Retrying after an error"): the Lambda service's own
 * errors, and a throttled or unavailable S3 / DynamoDB / Secrets Manager call, which the tasks name
 * STORAGE_UNAVAILABLE (lambdas/send/task-errors.ts). Exponential backoff with full jitter, so the
 * batches of a Distributed Map throttled together do not retry together; each Task is safe to run
 * again (Deliver counts a batch once, lambdas/storage/send-requests.ts).
 */
const taskRetry = [
  { ErrorEquals: [...LAMBDA_SERVICE_ERRORS], IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2, JitterStrategy: 'FULL' },
  { ErrorEquals: [STORAGE_UNAVAILABLE], IntervalSeconds: 1, MaxAttempts: 8, BackoffRate: 2, MaxDelaySeconds: 30, JitterStrategy: 'FULL' },
];

/** Any failure of Resolve, the Map or Finalize marks the request failed; the error lands in $.error. */
const catchAll = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: SendState.MarkFailed }];

function task(resource: string, extra: AslState): AslState {
  return { Type: 'Task', Resource: resource, Retry: taskRetry, ...extra };
}

export function buildSendStateMachineDefinition(opts: SendStateMachineOptions): AslDefinition {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  if (!Number.isInteger(opts.maxConcurrency) || opts.maxConcurrency < 1) {
    throw new RangeError('maxConcurrency must be a positive integer');
  }
  if (opts.mode === 'distributed' && !opts.manifestBucket) {
    throw new RangeError('distributed mode reads the manifest from S3: manifestBucket is required');
  }
  const batchInput = { 'transactionUID.$': '$.transactionUID', 'destination.$': '$.destination' };
  // The counters live in the send-request item (atomic ADD by Deliver), so batch outputs are dropped:
  // a Distributed Map's result then stays small whatever the number of batches.
  const deliver = task(opts.deliverArn, { OutputPath: null, End: true });

  const map: AslState =
    opts.mode === 'distributed'
      ? {
          Type: 'Map',
          Label: 'DeliverBatches',
          ItemReader: {
            Resource: `arn:${opts.partition ?? 'aws'}:states:::s3:getObject`,
            ReaderConfig: { InputType: 'JSONL' },
            Parameters: { Bucket: opts.manifestBucket, 'Key.$': '$.resolved.manifestKey' },
          },
          ItemBatcher: { MaxItemsPerBatch: opts.batchSize, BatchInput: batchInput },
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
            StartAt: SendState.Deliver,
            States: { [SendState.Deliver]: deliver },
          },
        }
      : {
          Type: 'Map',
          ItemsPath: '$.resolved.batches',
          ItemSelector: { 'Items.$': '$$.Map.Item.Value', BatchInput: batchInput },
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: SendState.Deliver,
            States: { [SendState.Deliver]: deliver },
          },
        };

  return {
    Comment: 'SEND-RS (DICOM Sup 248): resolve the matches, deliver them in batches, finalize the response module',
    StartAt: SendState.Resolve,
    States: {
      [SendState.Resolve]: task(opts.resolveArn, {
        Parameters: {
          'transactionUID.$': '$.transactionUID',
          ...(opts.mode === 'inline' ? { batchSize: opts.batchSize } : {}),
        },
        ResultPath: '$.resolved',
        Catch: catchAll,
        Next: SendState.AnyMatches,
      }),
      // Nothing matched: no sub-operations, the final status is Success with all counters 0.
      [SendState.AnyMatches]: {
        Type: 'Choice',
        Choices: [{ Variable: '$.resolved.matched', NumericGreaterThan: 0, Next: SendState.DeliverBatches }],
        Default: SendState.Finalize,
      },
      [SendState.DeliverBatches]: {
        ...map,
        MaxConcurrency: opts.maxConcurrency,
        ResultPath: null,
        Catch: catchAll,
        Next: SendState.Finalize,
      },
      [SendState.Finalize]: task(opts.finalizeArn, {
        Parameters: { 'transactionUID.$': '$.transactionUID' },
        Catch: catchAll,
        End: true,
      }),
      // Counts the remaining sub-operations as failed and writes the final response module.
      [SendState.MarkFailed]: task(opts.failArn, {
        Parameters: { 'transactionUID.$': '$.transactionUID', 'error.$': '$.error' },
        Next: SendState.SendFailed,
      }),
      [SendState.SendFailed]: {
        Type: 'Fail',
        Error: 'SendRequestFailed',
        Cause: 'the send request could not be completed; remaining sub-operations were counted as failed',
      },
    },
  };
}

/**
 * For the embedded runtime: aws-local-stepfunctions overrides Tasks by state name, so map each Task
 * state (nested Map processors included) to the local handler of its Resource ARN. A Task whose ARN
 * has no handler is an error, so nothing silently calls AWS.
 */
export function localTaskHandlers<H>(
  definition: { States: Record<string, AslState> },
  handlersByArn: Record<string, H>,
): Record<string, H> {
  const byState: Record<string, H> = {};
  const visit = (states: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') {
        const handler = handlersByArn[String(state.Resource)];
        if (!handler) throw new Error(`no local handler for Task ${name} (${String(state.Resource)})`);
        byState[name] = handler;
      }
      const processor = (state.ItemProcessor ?? state.Iterator) as { States?: Record<string, AslState> } | undefined;
      if (processor?.States) visit(processor.States);
    }
  };
  visit(definition.States);
  return byState;
}

/**
 * The Lambda functions behind the Send state machine's Task states: one exported handler per task, in
 * two modules so that only Deliver carries the DIMSE C-STORE client. The CDK construct builds a
 * function per task; the embedded runtime calls the same task code in-process.
 */
export const sendTaskFunctions = {
  resolve: { entry: 'lambdas/handlers/send-resolve.ts', handler: 'resolve', memorySize: 1024, timeoutSeconds: 900 },
  deliver: { entry: 'lambdas/handlers/deliver.ts', handler: 'deliver', memorySize: 1024, timeoutSeconds: 900 },
  finalize: { entry: 'lambdas/handlers/send-finish.ts', handler: 'finalize', memorySize: 512, timeoutSeconds: 60 },
  fail: { entry: 'lambdas/handlers/send-finish.ts', handler: 'fail', memorySize: 512, timeoutSeconds: 60 },
} as const;
export type SendTaskName = keyof typeof sendTaskFunctions;
