/**
 * The tasks of the Send state machine (lib/send-workflow.ts) together: Resolve (./resolve.ts), Deliver
 * (./deliver.ts), Finalize and Fail (./finish.ts), for the processes that run all of them: the embedded
 * runtime, where aws-local-stepfunctions calls them in-process. In AWS each is a Lambda function of its
 * own that builds only its task (lambdas/handlers/send-resolve.ts, deliver.ts, send-finish.ts). Counters
 * live in the send-request item and change only by atomic per-batch updates, so Completed + Warning +
 * Failed + Remaining equals the number of matches at every poll (PS3.4 C.4.2.3.1.1.4).
 */
import type { DicomJson } from '../dicom/json';
import { SendDelivery, type SendDeliveryDeps } from './deliver';
import { SendFinish } from './finish';
import { SendResolve, type SendResolveDeps } from './resolve';
import type { DeliverInput, FailInput, FinalizeInput, ResolveInput, ResolveOutput } from './workflow-io';

export type { DeliverBatch } from './deliver';

/** What Resolve needs and what Deliver needs (its NPI index is Resolve's `npi.index`). */
export interface SendTasksDeps extends SendResolveDeps, Omit<SendDeliveryDeps, 'npiIndex'> {}

export class SendTasks {
  private readonly resolution: SendResolve;
  private readonly delivery: SendDelivery;
  private readonly finish: SendFinish;

  constructor(deps: SendTasksDeps) {
    this.resolution = new SendResolve(deps);
    this.delivery = new SendDelivery({ ...deps, npiIndex: deps.npi?.index });
    this.finish = new SendFinish(deps.requests);
  }

  /** Resolve: the search, expanded to instances, as the manifest (./resolve.ts). */
  resolve(input: ResolveInput): Promise<ResolveOutput> {
    return this.resolution.resolve(input);
  }

  /** Deliver: one Store sub-operation batch (./deliver.ts). */
  deliver(input: DeliverInput): Promise<void> {
    return this.delivery.deliver(input);
  }

  /** Finalize: the final Status from the counters (./finish.ts). */
  finalize(input: FinalizeInput): Promise<DicomJson[]> {
    return this.finish.finalize(input);
  }

  /** Fail (the Catch of the whole run, ./finish.ts). */
  fail(input: FailInput): Promise<void> {
    return this.finish.fail(input);
  }
}
