/**
 * SendWorkflow over AWS Step Functions: one Standard execution per send request, named after its
 * Transaction UID so a retried Send cannot start a second one (docs/architecture.md, SEND-RS).
 */
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionLimitExceeded,
  KmsThrottlingException,
  SFNClient,
  StartExecutionCommand,
  type ExecutionStatus,
} from '@aws-sdk/client-sfn';
import type { Config } from '../config';
import { AlreadyExistsError } from './errors';
import { callAws, clientOptions, isThrottlingException } from './aws-calls';
import { recordCalls } from './call-recorder';

/** The Step Functions client of this process (AWS, or aws-local-stepfunctions' endpoint in tests). */
export function createSfnClient(config: Pick<Config, 'region' | 'sfnEndpoint'>): SFNClient {
  return recordCalls(new SFNClient(clientOptions(config, config.sfnEndpoint)));
}
import type { ExecutionState, SendWorkflow } from './ports';

/** Step Functions execution names: 1 to 80 characters of [A-Za-z0-9-_]. */
const MAX_EXECUTION_NAME = 80;

/**
 * The execution name of a send request: 'send-' + the Transaction UID with '.' as '-'. A UID (PS3.5
 * 9.1: digits and dots, at most 64 characters) always fits and maps one to one.
 */
export function executionName(transactionUID: string): string {
  const name = `send-${transactionUID.replace(/\./g, '-')}`;
  if (!/^[A-Za-z0-9_-]+$/.test(name) || name.length > MAX_EXECUTION_NAME) {
    throw new RangeError('Transaction UID cannot name a Step Functions execution');
  }
  return name;
}

/** arn:…:stateMachine:{machine} -> arn:…:execution:{machine}:{name} (the ARN StartExecution answers). */
export function executionArn(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

const STATES: Record<ExecutionStatus, ExecutionState> = {
  RUNNING: 'RUNNING',
  // A redrive was requested and is about to run the failed steps again.
  PENDING_REDRIVE: 'RUNNING',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  TIMED_OUT: 'TIMED_OUT',
  ABORTED: 'ABORTED',
};

/** Step Functions answers that mean "retry later" beyond throttling statuses. */
function isSfnUnavailable(error: unknown): boolean {
  return (
    isThrottlingException(error) ||
    error instanceof KmsThrottlingException ||
    // Too many open executions: frees up as running ones end.
    error instanceof ExecutionLimitExceeded
  );
}

export class StepFunctionsSendWorkflow implements SendWorkflow {
  constructor(
    private readonly client: Pick<SFNClient, 'send'>,
    private readonly stateMachineArn: string,
  ) {}

  async start(input: { readonly transactionUID: string; readonly destination: string }): Promise<string> {
    const name = executionName(input.transactionUID);
    const payload = JSON.stringify({ transactionUID: input.transactionUID, destination: input.destination });
    try {
      const out = await this.call(() =>
        this.client.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: payload })),
      );
      if (!out.executionArn) throw new TypeError('StartExecution answered without an executionArn');
      return out.executionArn;
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
      // The name is taken: by this very request (a retry) that is fine, by another input it is not.
      const arn = executionArn(this.stateMachineArn, name);
      const existing = await this.call(() => this.client.send(new DescribeExecutionCommand({ executionArn: arn })));
      if (!sameInput(existing.input, payload)) {
        throw new AlreadyExistsError('a workflow execution already exists for this Transaction UID');
      }
      return existing.executionArn ?? arn;
    }
  }

  async describe(executionId: string): Promise<ExecutionState | undefined> {
    try {
      const out = await this.call(() => this.client.send(new DescribeExecutionCommand({ executionArn: executionId })));
      return out.status ? STATES[out.status] : undefined;
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return undefined;
      throw error;
    }
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return callAws('Step Functions', fn, isSfnUnavailable);
  }
}

function sameInput(stored: string | undefined, payload: string): boolean {
  if (stored === undefined) return false;
  try {
    const a = JSON.parse(stored) as Record<string, unknown>;
    const b = JSON.parse(payload) as Record<string, unknown>;
    return a.transactionUID === b.transactionUID && a.destination === b.destination;
  } catch {
    return false;
  }
}
