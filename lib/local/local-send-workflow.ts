/**
 * The Send workflow of the embedded runtime: the state machine built by lib/send-workflow.ts in its
 * inline mode, executed in-process by aws-local-stepfunctions, its Task states running the same task
 * code (lambdas/send/tasks.ts) the Lambda functions run in AWS.
 */
import './polyfills';
import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import type { SendTasks } from '../../lambdas/send/tasks';
import type { DeliverInput, FailInput, FinalizeInput, ResolveInput } from '../../lambdas/send/workflow-io';
import { asInvocationsOf, isRecordingAwsCalls, recordAwsCall } from '../../lambdas/storage/call-recorder';
import { AlreadyExistsError } from '../../lambdas/storage/errors';
import type { ExecutionState, SendWorkflow } from '../../lambdas/storage/ports';
import { sendManifestKey } from '../../lambdas/storage/keys';
import { executionArn, executionName } from '../../lambdas/storage/sfn';
import { buildSendStateMachineDefinition, localTaskHandlers, type SendTaskName } from '../send-workflow';
import { Caller } from './call-attribution';

const REGION = 'us-east-1';
/** The ARN of a task function in the embedded runtime (its Task states' Resource). */
export const localTaskArn = (task: SendTaskName) => `arn:aws:lambda:${REGION}:000000000000:function:local-send-${task}`;
const arn = localTaskArn;
const LOCAL_STATE_MACHINE_ARN = `arn:aws:states:${REGION}:000000000000:stateMachine:local-send`;

export class LocalSendWorkflow implements SendWorkflow {
  private readonly definition;
  /**
   * Built, and its definition validated, once: aws-local-stepfunctions compiles the ASL schema for every
   * StateMachine it constructs, CPU that would otherwise delay each Send request, and one machine runs
   * any number of executions, as a Step Functions state machine does.
   */
  private readonly machine: StateMachine;
  private readonly executions = new Map<string, { state: ExecutionState; abort: () => void; done: Promise<unknown>; arn?: string }>();
  private readonly byTransaction = new Map<string, { executionId: string; destination: string }>();
  /** The ARN this stands in for (SEND_STATE_MACHINE_ARN), named in the calls it records. */
  private readonly stateMachineArn: string;
  private readonly manifestBucket?: string;

  constructor(
    private readonly tasks: () => SendTasks,
    opts: {
      readonly batchSize: number;
      readonly maxConcurrency: number;
      readonly stateMachineArn?: string;
      /** Bucket of the manifests, which the Distributed Map of AWS reads (recorded for the IAM harness). */
      readonly manifestBucket?: string;
    },
  ) {
    this.stateMachineArn = opts.stateMachineArn ?? LOCAL_STATE_MACHINE_ARN;
    this.manifestBucket = opts.manifestBucket;
    this.definition = buildSendStateMachineDefinition({
      mode: 'inline',
      resolveArn: arn('resolve'),
      deliverArn: arn('deliver'),
      finalizeArn: arn('finalize'),
      failArn: arn('fail'),
      batchSize: opts.batchSize,
      maxConcurrency: opts.maxConcurrency,
    });
    this.machine = new StateMachine(this.definition as never);
  }

  async start(input: { readonly transactionUID: string; readonly destination: string }): Promise<string> {
    // One execution per Transaction UID, as Step Functions names it (lambdas/storage/sfn.ts): the same
    // request again answers that execution, another input is refused.
    const started = this.byTransaction.get(input.transactionUID);
    if (started) {
      if (started.destination !== input.destination)
        throw new AlreadyExistsError('a workflow execution already exists for this Transaction UID');
      return started.executionId;
    }
    const tasks = this.tasks();
    // The execution Step Functions would start (lambdas/storage/sfn.ts names it), for the IAM harness.
    const name = isRecordingAwsCalls() ? executionName(input.transactionUID) : undefined;
    if (name)
      recordAwsCall({
        service: 'SFN',
        operation: 'StartExecution',
        input: { stateMachineArn: this.stateMachineArn, name },
        region: REGION,
      });
    const handlers = localTaskHandlers(this.definition, {
      [arn('resolve')]: invocation('resolve', (i: unknown) => tasks.resolve(i as ResolveInput)),
      [arn('deliver')]: invocation('deliver', async (i: unknown) => {
        this.recordManifestRead(input.transactionUID);
        await tasks.deliver(i as DeliverInput);
        return {};
      }),
      [arn('finalize')]: invocation('finalize', (i: unknown) => tasks.finalize(i as FinalizeInput)),
      [arn('fail')]: invocation('fail', async (i: unknown) => {
        await tasks.fail(i as FailInput);
        return {};
      }),
    });
    const executionId = `local:send:${input.transactionUID}:${randomUUID()}`;
    const execution = this.machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: handlers as never },
    });
    const entry = {
      state: 'RUNNING' as ExecutionState,
      abort: execution.abort,
      done: Promise.resolve() as Promise<unknown>,
      arn: name && executionArn(this.stateMachineArn, name),
    };
    entry.done = execution.result.then(
      () => (entry.state = 'SUCCEEDED'),
      (error: unknown) => (entry.state = error instanceof Error && error.name === 'ExecutionAbortedError' ? 'ABORTED' : 'FAILED'),
    );
    this.executions.set(executionId, entry);
    this.byTransaction.set(input.transactionUID, { executionId, destination: input.destination });
    return executionId;
  }

  /**
   * Executions live in this process: one started by an earlier run of the archive (before a restart)
   * is gone, and is reported ABORTED so that Check Send Result ends its request instead of waiting.
   */
  async describe(executionId: string): Promise<ExecutionState | undefined> {
    const executionArn = this.executions.get(executionId)?.arn;
    if (executionArn) recordAwsCall({ service: 'SFN', operation: 'DescribeExecution', input: { executionArn }, region: REGION });
    return this.executions.get(executionId)?.state ?? (executionId.startsWith('local:send:') ? 'ABORTED' : undefined);
  }

  /** Resolves once the execution has ended (at once for one this process does not run). */
  async settled(executionId: string): Promise<void> {
    await this.executions.get(executionId)?.done;
  }

  /**
   * In AWS the Distributed Map's ItemReader reads the manifest, and the Map starts its batches as
   * child executions of this state machine, under the state machine's role.
   */
  private recordManifestRead(transactionUID: string): void {
    if (!this.manifestBucket) return;
    const input = { Bucket: this.manifestBucket, Key: sendManifestKey(transactionUID) };
    asInvocationsOf(Caller.stateMachine, () => {
      recordAwsCall({ service: 'S3', operation: 'GetObject', input, region: REGION });
      recordAwsCall({ service: 'SFN', operation: 'StartExecution', input: { stateMachineArn: this.stateMachineArn }, region: REGION });
    })();
  }

  /** Aborts what still runs (on shutdown) and waits for it to settle. */
  async close(): Promise<void> {
    for (const e of this.executions.values()) if (e.state === 'RUNNING') e.abort();
    await Promise.all([...this.executions.values()].map((e) => e.done));
  }
}

/**
 * A Task's handler as Step Functions runs it: the state machine's role invokes the task function
 * (lambda:InvokeFunction), which runs under its own role.
 */
function invocation<A extends unknown[], R>(task: SendTaskName, fn: (...args: A) => R): (...args: A) => R {
  const invoke = asInvocationsOf(Caller.stateMachine, () =>
    recordAwsCall({ service: 'Lambda', operation: 'Invoke', input: { FunctionName: localTaskArn(task) }, region: REGION }),
  );
  const asTask = asInvocationsOf(Caller.task(task), fn);
  return (...args) => {
    invoke();
    return asTask(...args);
  };
}
