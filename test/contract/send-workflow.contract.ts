/**
 * The behaviours every SendWorkflow promises (lambdas/storage/ports.ts), which the Send transaction
 * relies on (lambdas/dicomweb/send.ts): one execution per Transaction UID, a repeated start of the
 * same request answered with that execution (a retried Send), another input refused
 * (AlreadyExistsError, 409), and the execution's state told until it ends. Run against every adapter:
 * the embedded runtime's LocalSendWorkflow and StepFunctionsSendWorkflow on a model of the Step
 * Functions API (test/support/step-functions-model.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AlreadyExistsError } from '../../lambdas/storage/errors';
import type { SendWorkflow } from '../../lambdas/storage/ports';

export interface SendWorkflowUnderTest {
  readonly workflow: SendWorkflow;
  /** An execution id in the adapter's own form that names no execution it started. */
  readonly unknownExecutionId: string;
  /** Lets the executions started so far end (their tasks finish). */
  finishAll(): void;
  close?(): Promise<void>;
}

let counter = 0;
const request = () => ({ transactionUID: `2.25.${Date.now()}${++counter}`, destination: 'https://pacs.example.org/dicom-web' });

export function describeSendWorkflowContract(name: string, makeAdapter: () => SendWorkflowUnderTest): void {
  describe(`${name} (SendWorkflow contract)`, () => {
    let current: SendWorkflowUnderTest | undefined;
    const make = () => (current = makeAdapter());
    afterEach(async () => {
      current?.finishAll();
      await current?.close?.();
    });

    it('starts an execution and tells its state: running, then ended', async () => {
      const { workflow, finishAll } = make();
      const id = await workflow.start(request());
      expect(await workflow.describe(id)).toBe('RUNNING');
      finishAll();
      await workflow.settled?.(id);
      await expect.poll(() => workflow.describe(id), { timeout: 5_000 }).toBe('SUCCEEDED');
    });

    it('answers a repeated start of the same request with the same execution', async () => {
      const { workflow } = make();
      const r = request();
      const id = await workflow.start(r);
      expect(await workflow.start({ ...r })).toBe(id);
    });

    it('refuses a second execution for the Transaction UID with another destination', async () => {
      const { workflow } = make();
      const r = request();
      await workflow.start(r);
      await expect(workflow.start({ ...r, destination: 'https://other.example.org/dicom-web' })).rejects.toBeInstanceOf(AlreadyExistsError);
    });

    it('keeps the executions of different Transaction UIDs apart', async () => {
      const { workflow } = make();
      const [a, b] = [await workflow.start(request()), await workflow.start(request())];
      expect(a).not.toBe(b);
    });

    it('describes an execution it never started as unknown', async () => {
      const { workflow, unknownExecutionId } = make();
      expect(await workflow.describe(unknownExecutionId)).toBeUndefined();
    });
  });
}
