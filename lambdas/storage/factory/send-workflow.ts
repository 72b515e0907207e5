/** Builds the SendWorkflow port (see ./clients.ts for how the factory is laid out). */
import type { Config } from '../../config';
import type { SendWorkflow } from '../ports';
import { sendWorkflowOf } from '../sfn';

/** The Send workflow: the configured state machine, or one refusing every Send when none is. */
export function sendWorkflow(cfg: Pick<Config, 'region' | 'sfnEndpoint' | 'sendStateMachineArn'>): SendWorkflow {
  return sendWorkflowOf(cfg);
}
