import '../../../lib/local/polyfills';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import {
  LAMBDA_SERVICE_ERRORS,
  SendState,
  buildSendStateMachineDefinition,
  localTaskHandlers,
  type AslState,
  type SendStateMachineOptions,
} from '../../../lib/send-workflow';
import { RetryableStorageFault, STORAGE_UNAVAILABLE } from '../../../lambdas/send/task-errors';

const arn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:send-${name}`;
const base: Omit<SendStateMachineOptions, 'mode'> = {
  resolveArn: arn('resolve'),
  deliverArn: arn('deliver'),
  finalizeArn: arn('finalize'),
  failArn: arn('fail'),
  manifestBucket: 'archive-bucket',
  batchSize: 25,
  maxConcurrency: 4,
};
const distributed = buildSendStateMachineDefinition({ ...base, mode: 'distributed' });
const inline = buildSendStateMachineDefinition({ ...base, mode: 'inline' });

const processorStates = (map: AslState) => (map.ItemProcessor as { States: Record<string, AslState> }).States;

describe('Send state machine definition', () => {
  it.each([
    ['distributed', distributed],
    ['inline', inline],
  ])('%s: Resolve -> AnyMatches -> DeliverBatches -> Finalize, failures -> MarkFailed -> SendFailed', (_, def) => {
    const s = def.States;
    expect(def.StartAt).toBe(SendState.Resolve);
    expect(s.Resolve).toMatchObject({ Type: 'Task', Resource: base.resolveArn, ResultPath: '$.resolved', Next: 'AnyMatches' });
    expect(s.AnyMatches).toMatchObject({ Type: 'Choice', Default: 'Finalize' });
    expect(s.DeliverBatches).toMatchObject({ Type: 'Map', MaxConcurrency: 4, ResultPath: null, Next: 'Finalize' });
    expect(s.Finalize).toMatchObject({ Type: 'Task', Resource: base.finalizeArn, End: true });
    expect(s.MarkFailed).toMatchObject({ Type: 'Task', Resource: base.failArn, Next: 'SendFailed' });
    expect(s.SendFailed).toMatchObject({ Type: 'Fail' });
    for (const name of ['Resolve', 'DeliverBatches', 'Finalize']) {
      expect(s[name]!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'MarkFailed' }]);
    }
    expect(processorStates(s.DeliverBatches!).Deliver).toMatchObject({ Type: 'Task', Resource: base.deliverArn, End: true });
  });

  it.each([
    ['distributed', distributed],
    ['inline', inline],
  ])('%s: every Task retries Lambda service errors and transient storage faults, with backoff and jitter', (_, def) => {
    const tasks = [...Object.values(def.States), ...Object.values(processorStates(def.States.DeliverBatches!))].filter(
      (s) => s.Type === 'Task',
    );
    expect(tasks).toHaveLength(4);
    for (const t of tasks) {
      const retry = t.Retry as {
        ErrorEquals: string[];
        MaxAttempts: number;
        BackoffRate: number;
        JitterStrategy: string;
        IntervalSeconds: number;
      }[];
      expect(retry.map((r) => r.ErrorEquals)).toEqual([[...LAMBDA_SERVICE_ERRORS], [STORAGE_UNAVAILABLE]]);
      for (const r of retry) {
        expect(r.ErrorEquals).not.toContain('States.ALL');
        expect(r.MaxAttempts).toBeGreaterThanOrEqual(5);
        expect(r.BackoffRate).toBeGreaterThan(1);
        expect(r.IntervalSeconds).toBeGreaterThan(0);
        expect(r.JitterStrategy).toBe('FULL');
      }
    }
  });

  it.each(['Resolve', 'Deliver', 'Finalize', 'MarkFailed'])(
    'inline, run by aws-local-stepfunctions: %s throttled twice is retried and the run goes on',
    async (throttledState) => {
      const calls: Record<string, number> = {};
      const task = (name: string, result: unknown) => async () => {
        calls[name] = (calls[name] ?? 0) + 1;
        if (name === throttledState && calls[name]! <= 2) throw new RetryableStorageFault('DynamoDB is unavailable, retry later');
        if (name === 'Finalize' && throttledState === 'MarkFailed') throw new Error('not transient');
        return result;
      };
      const handlers = {
        [base.resolveArn]: task('Resolve', { matched: 2, manifestKey: 'k', batches: [[{ n: 1 }], [{ n: 2 }]] }),
        [base.deliverArn]: task('Deliver', {}),
        [base.finalizeArn]: task('Finalize', [{}]),
        [base.failArn]: task('MarkFailed', {}),
      };
      const run = new StateMachine(inline as never).run({ transactionUID: '1.2.3', destination: 'http://d' } as never, {
        overrides: {
          taskResourceLocalHandlers: localTaskHandlers(inline, handlers) as never,
          retryIntervalOverrides: { [throttledState]: 0 },
        },
      });
      if (throttledState === 'MarkFailed') await expect(run.result).rejects.toThrow();
      else await run.result;
      // Two throttled attempts and the one that succeeded; the other Tasks ran as often as without faults.
      const expected: Record<string, number> =
        throttledState === 'MarkFailed'
          ? { Resolve: 1, Deliver: 2, Finalize: 1, MarkFailed: 3 }
          : { Resolve: 1, Deliver: 2, Finalize: 1, [throttledState]: throttledState === 'Deliver' ? 4 : 3 };
      expect(calls).toEqual(expected);
    },
  );

  it('distributed: a Distributed Map reading the JSONL manifest from S3 with an ItemBatcher', () => {
    const map = distributed.States.DeliverBatches!;
    expect(map.ItemReader).toEqual({
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSONL' },
      Parameters: { Bucket: 'archive-bucket', 'Key.$': '$.resolved.manifestKey' },
    });
    expect(map.ItemBatcher).toEqual({
      MaxItemsPerBatch: 25,
      BatchInput: { 'transactionUID.$': '$.transactionUID', 'destination.$': '$.destination' },
    });
    expect((map.ItemProcessor as AslState).ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    expect(map.ItemsPath).toBeUndefined();
    expect(distributed.States.Resolve!.Parameters).toEqual({ 'transactionUID.$': '$.transactionUID' });
  });

  it('inline: an inline Map over the batches Resolve computed, shaped like the ItemBatcher output', () => {
    const map = inline.States.DeliverBatches!;
    expect(map.ItemsPath).toBe('$.resolved.batches');
    expect(map.ItemSelector).toEqual({
      'Items.$': '$$.Map.Item.Value',
      BatchInput: { 'transactionUID.$': '$.transactionUID', 'destination.$': '$.destination' },
    });
    expect((map.ItemProcessor as AslState).ProcessorConfig).toEqual({ Mode: 'INLINE' });
    expect(map.ItemReader).toBeUndefined();
    expect(map.ItemBatcher).toBeUndefined();
    expect(inline.States.Resolve!.Parameters).toEqual({ 'transactionUID.$': '$.transactionUID', batchSize: 25 });
  });

  it.each([
    ['distributed', distributed],
    ['inline', inline],
  ])('%s: passes the ASL validator of aws-local-stepfunctions', (_, def) => {
    expect(() => new StateMachine(def as never)).not.toThrow();
    // The validator is not a no-op: a dangling transition is refused.
    const broken = { ...def, States: { ...def.States, Finalize: { ...def.States.Finalize, End: undefined, Next: 'Nowhere' } } };
    expect(() => new StateMachine(broken as never)).toThrow(/invalid/);
  });

  it('refuses options it cannot build from', () => {
    expect(() => buildSendStateMachineDefinition({ ...base, mode: 'distributed', manifestBucket: undefined })).toThrow(RangeError);
    expect(() => buildSendStateMachineDefinition({ ...base, mode: 'inline', batchSize: 0 })).toThrow(RangeError);
    expect(() => buildSendStateMachineDefinition({ ...base, mode: 'inline', maxConcurrency: 1.5 })).toThrow(RangeError);
  });

  it('maps every Task state, nested ones included, to the local handler of its ARN', () => {
    const handlers = { [base.resolveArn]: 'r', [base.deliverArn]: 'd', [base.finalizeArn]: 'f', [base.failArn]: 'x' };
    expect(localTaskHandlers(inline, handlers)).toEqual({ Resolve: 'r', Deliver: 'd', Finalize: 'f', MarkFailed: 'x' });
    expect(() => localTaskHandlers(inline, { [base.resolveArn]: 'r' })).toThrow(/no local handler/);
  });
});
