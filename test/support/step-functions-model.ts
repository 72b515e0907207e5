/**
 * A model of the two Step Functions API calls StepFunctionsSendWorkflow makes, as the API Reference
 * states them, for the SendWorkflow contract suite (no Step Functions emulator runs here):
 * - StartExecution: a name unique per state machine; the same name with the same input while that
 *   execution runs answers the original response (idempotent), anything else ExecutionAlreadyExists;
 * - DescribeExecution: status and input of an execution, ExecutionDoesNotExist for an unknown ARN.
 * Executions run until finishAll() ends them (SUCCEEDED).
 */
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  StartExecutionCommand,
  type ExecutionStatus,
  type SFNClient,
} from '@aws-sdk/client-sfn';

export function stepFunctionsModel(): { client: Pick<SFNClient, 'send'>; finishAll(): void } {
  const executions = new Map<string, { input: string; status: ExecutionStatus }>();
  const $metadata = {};
  const send = async (command: unknown): Promise<unknown> => {
    if (command instanceof StartExecutionCommand) {
      const { stateMachineArn, name, input = '{}' } = command.input;
      const arn = `${stateMachineArn!.replace(':stateMachine:', ':execution:')}:${name}`;
      const existing = executions.get(arn);
      if (existing && !(existing.status === 'RUNNING' && existing.input === input)) {
        throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${arn}'`, $metadata });
      }
      executions.set(arn, existing ?? { input, status: 'RUNNING' });
      return { executionArn: arn, startDate: new Date(), $metadata };
    }
    if (command instanceof DescribeExecutionCommand) {
      const arn = command.input.executionArn!;
      const execution = executions.get(arn);
      if (!execution) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${arn}'`, $metadata });
      return { executionArn: arn, status: execution.status, input: execution.input, $metadata };
    }
    throw new TypeError('the model answers StartExecution and DescribeExecution only');
  };
  return {
    client: { send } as Pick<SFNClient, 'send'>,
    finishAll: () => {
      for (const execution of executions.values()) execution.status = 'SUCCEEDED';
    },
  };
}
