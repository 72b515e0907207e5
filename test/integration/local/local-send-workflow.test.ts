/**
 * The embedded runtime's Send workflow (lib/local/local-send-workflow.ts): the inline state machine
 * run in-process, and what it tells the Send transaction about its executions.
 */
import { describe, expect, it } from 'vitest';
import type { SendTasks } from '../../../lambdas/send/tasks';
import { describeSendWorkflowContract } from '../../contract/send-workflow.contract';
import { LocalSendWorkflow } from '../../../lib/local/local-send-workflow';

/** Tasks of a Send that matched nothing, Finalize held until `finish()`. */
function heldTasks() {
  let finish!: () => void;
  const finishing = new Promise<void>((resolve) => (finish = resolve));
  const tasks = {
    resolve: async () => ({ matched: 0, manifestKey: 'send-requests/x/manifest.jsonl', batches: [] }),
    deliver: async () => undefined,
    finalize: async () => (await finishing, []),
    fail: async () => undefined,
  } as unknown as SendTasks;
  return { tasks, finish };
}

describe('LocalSendWorkflow', () => {
  it('settles an execution when it ends, and at once one it does not run', async () => {
    const { tasks, finish } = heldTasks();
    const workflow = new LocalSendWorkflow(() => tasks, { batchSize: 10, maxConcurrency: 4 });
    const id = await workflow.start({ transactionUID: '1.2.3', destination: 'http://127.0.0.1:1/dicom-web' });
    let settled = false;
    const settling = workflow.settled(id).then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    expect(await workflow.describe(id)).toBe('RUNNING');

    finish();
    await settling;
    expect(await workflow.describe(id)).toBe('SUCCEEDED');
    await expect(workflow.settled('local:send:1.2.4:unknown')).resolves.toBeUndefined();
    await workflow.close();
  });
});

describeSendWorkflowContract('LocalSendWorkflow', () => {
  const { tasks, finish } = heldTasks();
  const workflow = new LocalSendWorkflow(() => tasks, { batchSize: 10, maxConcurrency: 4 });
  // Its own ids (local:send:...) outlive a restart as ABORTED (describe); an id of another form is unknown.
  return {
    workflow,
    unknownExecutionId: 'arn:aws:states:us-east-1:123456789012:execution:Send:send-9-9',
    finishAll: finish,
    close: () => workflow.close(),
  };
});
