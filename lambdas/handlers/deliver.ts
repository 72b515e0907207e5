/**
 * Lambda entry of the Send state machine's Deliver task (lib/send-workflow.ts sendTaskFunctions): one
 * batch of sub-operations, by C-STORE where the registry maps the destination to a DIMSE AE, else by
 * STOW-RS. A function of its own because only it may need the DIMSE library, which
 * lambdas/dimse/sub-operations.ts loads on the first C-STORE, not at start.
 */
import { deliverSubOperations } from '../dimse/sub-operations';
import type { DeliverInput } from '../send/workflow-io';
import { sendTaskServices } from './send-tasks';

const services = sendTaskServices(deliverSubOperations);

export const deliver = async (input: DeliverInput): Promise<void> => {
  await services().sendTasks.deliver(input);
};
