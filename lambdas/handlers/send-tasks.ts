/**
 * Lambda entries of the Send state machine's Task states (lib/send-workflow.ts sendTaskFunctions).
 * Each only hands its input to the task code; errors propagate to the state machine, whose Catch
 * marks the request failed. Logs carry the Transaction UID and counts, never patient data.
 */
import { deliverSubOperations } from '../dimse/sub-operations';
import type { DeliverInput, FailInput, FinalizeInput, ResolveInput } from '../send/workflow-io';
import { services as allServices } from './services';

/** The task functions deliver sub-operations: C-STORE where the registry says so, else STOW-RS. */
const services = () => allServices({ deliverBatch: deliverSubOperations });

export const resolve = (input: ResolveInput) => services().sendTasks.resolve(input);

export const deliver = async (input: DeliverInput): Promise<void> => {
  await services().sendTasks.deliver(input);
};

export const finalize = (input: FinalizeInput) => services().sendTasks.finalize(input);

export const fail = async (input: FailInput): Promise<void> => {
  console.error(JSON.stringify({ level: 'error', task: 'fail', transactionUID: input.transactionUID, error: input.error.Error }));
  await services().sendTasks.fail(input);
};
