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
import type { ExecutionState, SendWorkflow } from '../../lambdas/storage/ports';
import { buildSendStateMachineDefinition, localTaskHandlers, type SendTaskName } from '../send-workflow';

const arn = (task: SendTaskName) => `arn:aws:lambda:us-east-1:000000000000:function:local-send-${task}`;

export class LocalSendWorkflow implements SendWorkflow {
  private readonly definition;
  /**
   * Built, and its definition validated, once: aws-local-stepfunctions compiles the ASL schema for every
   * StateMachine it constructs (some 150 ms of CPU on this machine, which held up each Send request), and
   * one machine runs any number of executions, as a Step Functions state machine does.
   */
  private readonly machine: StateMachine;
  private readonly executions = new Map<string, { state: ExecutionState; abort: () => void; done: Promise<unknown> }>();

  constructor(
    private readonly tasks: () => SendTasks,
    opts: { readonly batchSize: number; readonly maxConcurrency: number },
  ) {
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
    const tasks = this.tasks();
    const handlers = localTaskHandlers(this.definition, {
      [arn('resolve')]: (i: unknown) => tasks.resolve(i as ResolveInput),
      [arn('deliver')]: async (i: unknown) => {
        await tasks.deliver(i as DeliverInput);
        return {};
      },
      [arn('finalize')]: (i: unknown) => tasks.finalize(i as FinalizeInput),
      [arn('fail')]: async (i: unknown) => {
        await tasks.fail(i as FailInput);
        return {};
      },
    });
    const executionId = `local:send:${input.transactionUID}:${randomUUID()}`;
    const execution = this.machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: handlers as never },
    });
    const entry = { state: 'RUNNING' as ExecutionState, abort: execution.abort, done: Promise.resolve() as Promise<unknown> };
    entry.done = execution.result.then(
      () => (entry.state = 'SUCCEEDED'),
      (error: unknown) => (entry.state = error instanceof Error && error.name === 'ExecutionAbortedError' ? 'ABORTED' : 'FAILED'),
    );
    this.executions.set(executionId, entry);
    return executionId;
  }

  /**
   * Executions live in this process: one started by an earlier run of the archive (before a restart)
   * is gone, and is reported ABORTED so that Check Send Result ends its request instead of waiting.
   */
  async describe(executionId: string): Promise<ExecutionState | undefined> {
    return this.executions.get(executionId)?.state ?? (executionId.startsWith('local:send:') ? 'ABORTED' : undefined);
  }

  /** Resolves once the execution has ended (at once for one this process does not run). */
  async settled(executionId: string): Promise<void> {
    await this.executions.get(executionId)?.done;
  }

  /** Aborts what still runs (on shutdown) and waits for it to settle. */
  async close(): Promise<void> {
    for (const e of this.executions.values()) if (e.state === 'RUNNING') e.abort();
    await Promise.all([...this.executions.values()].map((e) => e.done));
  }
}
