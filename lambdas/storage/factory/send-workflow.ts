/** Builds the SendWorkflow port (see ./clients.ts for how the factory is laid out). */
import type { Config } from '../../config';
import type { SendWorkflow } from '../ports';
import { createSfnClient, StepFunctionsSendWorkflow } from '../sfn';

/** Refuses every Send: the function was deployed without a state machine. */
const noWorkflow: SendWorkflow = {
  start: () => Promise.reject(new Error('SEND_STATE_MACHINE_ARN is not configured')),
  describe: async () => undefined,
};

/** The Send workflow: the configured state machine, or one refusing every Send when none is. */
export function sendWorkflow(cfg: Pick<Config, 'region' | 'sfnEndpoint' | 'sendStateMachineArn'>): SendWorkflow {
  return cfg.sendStateMachineArn ? new StepFunctionsSendWorkflow(createSfnClient(cfg), cfg.sendStateMachineArn) : noWorkflow;
}
