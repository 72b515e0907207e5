/**
 * Lambda entries of the Send state machine's Finalize and Fail tasks (lib/send-workflow.ts
 * sendTaskFunctions): they end a send request from its counters, so they build the send-request store
 * only (lambdas/send/finish.ts) and load neither the search nor dcmjs. Logs carry the Transaction UID,
 * never patient data.
 */
import { SendFinish } from '../send/finish';
import type { FailInput, FinalizeInput } from '../send/workflow-io';
import { sendRequestStore } from '../storage/factory/send-request-store';
import { functionServices } from './function-services';
import { taskEntry } from '../http/source-mapped-stack';

const services = functionServices((cfg) => ({
  finish: new SendFinish(sendRequestStore(cfg)),
}));

export const finalize = taskEntry((input: FinalizeInput) => services().finish.finalize(input));

export const fail = taskEntry(async (input: FailInput): Promise<void> => {
  console.error(JSON.stringify({ level: 'error', task: 'fail', transactionUID: input.transactionUID, error: input.error.Error }));
  await services().finish.fail(input);
});
