import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionLimitExceeded,
  InvalidArn,
  SFNServiceException,
  StartExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { errorResponse } from '../../../lambdas/http/middleware';
import { AlreadyExistsError, StorageUnavailableError } from '../../../lambdas/storage/errors';
import { executionArn, executionName, StepFunctionsSendWorkflow } from '../../../lambdas/storage/sfn';
import { describeSendWorkflowContract } from '../../contract/send-workflow.contract';
import { stepFunctionsModel } from '../../support/step-functions-model';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:Send';
const UID = '1.2.826.0.1.3680043.8.498.12345678901234567890123456789012345678901234';

/** A fake SFNClient: records the commands sent and answers from a script. */
function fakeClient(answer: (command: unknown) => unknown) {
  const sent: unknown[] = [];
  const client = {
    send: async (command: unknown) => {
      sent.push(command);
      const out = answer(command);
      if (out instanceof Error) throw out;
      return out;
    },
  } as unknown as Pick<SFNClient, 'send'>;
  return { client, sent };
}

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

describe('executionName', () => {
  it("is 'send-' + the Transaction UID with '.' replaced by '-', within 80 characters", () => {
    expect(executionName('1.2.3')).toBe('send-1-2-3');
    const name = executionName('9'.repeat(64));
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(executionName(UID)).toBe(`send-${UID.split('.').join('-')}`);
  });

  it('refuses what cannot name an execution', () => {
    expect(() => executionName('1.2/3')).toThrow(RangeError);
    expect(() => executionName('1'.repeat(76))).toThrow(RangeError);
  });

  it('derives the execution ARN from the state machine ARN', () => {
    expect(executionArn(MACHINE, 'send-1-2')).toBe('arn:aws:states:us-east-1:123456789012:execution:Send:send-1-2');
  });
});

describe('StepFunctionsSendWorkflow.start', () => {
  it('starts one execution named after the Transaction UID with the request as input', async () => {
    const { client, sent } = fakeClient(() => ({ executionArn: 'arn:exec:1', startDate: new Date() }));
    const arn = await new StepFunctionsSendWorkflow(client, MACHINE).start({
      transactionUID: '1.2.3',
      destination: 'https://pacs.example.org/',
    });
    expect(arn).toBe('arn:exec:1');
    expect(sent).toHaveLength(1);
    const command = sent[0] as StartExecutionCommand;
    expect(command).toBeInstanceOf(StartExecutionCommand);
    expect(command.input.stateMachineArn).toBe(MACHINE);
    expect(command.input.name).toBe('send-1-2-3');
    expect(JSON.parse(command.input.input!)).toEqual({ transactionUID: '1.2.3', destination: 'https://pacs.example.org/' });
  });

  it('answers the existing execution when the same request was already started', async () => {
    const { client, sent } = fakeClient((c) =>
      c instanceof StartExecutionCommand
        ? new ExecutionAlreadyExists({ message: 'exists', ...meta(400) })
        : {
            executionArn: (c as DescribeExecutionCommand).input.executionArn,
            input: JSON.stringify({ destination: 'https://d/', transactionUID: '1.2.3' }),
            status: 'RUNNING',
          },
    );
    const arn = await new StepFunctionsSendWorkflow(client, MACHINE).start({ transactionUID: '1.2.3', destination: 'https://d/' });
    expect(arn).toBe('arn:aws:states:us-east-1:123456789012:execution:Send:send-1-2-3');
    expect(sent[1]).toBeInstanceOf(DescribeExecutionCommand);
  });

  it('is a conflict when the name is taken by another input', async () => {
    const { client } = fakeClient((c) =>
      c instanceof StartExecutionCommand
        ? new ExecutionAlreadyExists({ message: 'exists', ...meta(400) })
        : { input: JSON.stringify({ transactionUID: '1.2.3', destination: 'https://other/' }), status: 'SUCCEEDED' },
    );
    await expect(
      new StepFunctionsSendWorkflow(client, MACHINE).start({ transactionUID: '1.2.3', destination: 'https://d/' }),
    ).rejects.toBeInstanceOf(AlreadyExistsError);
  });

  it.each([
    ['ThrottlingException (400)', new SFNServiceException({ name: 'ThrottlingException', $fault: 'client', ...meta(400) })],
    ['ExecutionLimitExceeded', new ExecutionLimitExceeded({ message: 'too many', ...meta(400) })],
    ['a 503', new SFNServiceException({ name: 'ServiceUnavailable', $fault: 'server', ...meta(503) })],
  ])('turns %s into StorageUnavailableError (503)', async (_name, error) => {
    const { client } = fakeClient(() => error);
    const start = new StepFunctionsSendWorkflow(client, MACHINE).start({ transactionUID: '1.2.3', destination: 'https://d/' });
    await expect(start).rejects.toBeInstanceOf(StorageUnavailableError);
    await start.catch((e: StorageUnavailableError) => expect(errorResponse(e).status).toBe(503));
  });

  it('lets other faults through', async () => {
    const { client } = fakeClient(() => new InvalidArn({ message: 'bad arn', ...meta(400) }));
    await expect(
      new StepFunctionsSendWorkflow(client, MACHINE).start({ transactionUID: '1.2.3', destination: 'https://d/' }),
    ).rejects.toBeInstanceOf(InvalidArn);
  });
});

describe('StepFunctionsSendWorkflow.describe', () => {
  it.each([
    ['RUNNING', 'RUNNING'],
    ['PENDING_REDRIVE', 'RUNNING'],
    ['SUCCEEDED', 'SUCCEEDED'],
    ['FAILED', 'FAILED'],
    ['TIMED_OUT', 'TIMED_OUT'],
    ['ABORTED', 'ABORTED'],
  ])('maps %s to %s', async (status, state) => {
    const { client, sent } = fakeClient(() => ({ status }));
    expect(await new StepFunctionsSendWorkflow(client, MACHINE).describe('arn:exec:7')).toBe(state);
    expect((sent[0] as DescribeExecutionCommand).input.executionArn).toBe('arn:exec:7');
  });

  it('answers undefined for an unknown execution', async () => {
    const { client } = fakeClient(() => new ExecutionDoesNotExist({ message: 'none', ...meta(400) }));
    expect(await new StepFunctionsSendWorkflow(client, MACHINE).describe('arn:exec:8')).toBeUndefined();
  });

  it('turns throttling into StorageUnavailableError', async () => {
    const { client } = fakeClient(() => new SFNServiceException({ name: 'ThrottlingException', $fault: 'client', ...meta(400) }));
    await expect(new StepFunctionsSendWorkflow(client, MACHINE).describe('arn:exec:9')).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});

describeSendWorkflowContract('StepFunctionsSendWorkflow on a model of the Step Functions API', () => {
  const { client, finishAll } = stepFunctionsModel();
  return {
    workflow: new StepFunctionsSendWorkflow(client, MACHINE),
    unknownExecutionId: `${MACHINE.replace(':stateMachine:', ':execution:')}:send-9-9`,
    finishAll,
  };
});
