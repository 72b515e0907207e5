/**
 * The services of this process, built once per cold start from the configuration (STYLE.md 7):
 * SDK clients -> adapters -> services. Handlers receive them; nothing else builds clients.
 */
import { config, type Config } from '../config';
import { DeleteService } from '../dicomweb/delete';
import { NpiService } from '../dicomweb/npi';
import { RetrieveService } from '../dicomweb/retrieve';
import { SearchService } from '../dicomweb/search';
import { SendService } from '../dicomweb/send';
import { StoreService } from '../dicomweb/store';
import { SendTasks, type DeliverBatch } from '../send/tasks';
import { createAwsClients } from '../storage/clients';
import {
  FileDestinationRegistrySource,
  SecretsManagerDestinationRegistrySource,
  type DestinationRegistrySource,
} from '../storage/destinations';
import { DynamoMetadataIndex } from '../storage/dynamodb';
import { DynamoNpiIndex } from '../storage/npi-index';
import type { BlobStore, MetadataIndex, NpiIndex, SendRequestStore, SendWorkflow } from '../storage/ports';
import { S3BlobStore } from '../storage/s3';
import { DynamoSendRequestStore } from '../storage/send-requests';
import { StepFunctionsSendWorkflow } from '../storage/sfn';

export interface Ports {
  readonly index: MetadataIndex;
  /** Non-Patient Instances (PS3.18 12), in the same table apart from the studies. */
  readonly npiIndex: NpiIndex;
  readonly blobs: BlobStore;
  readonly sendRequests: SendRequestStore;
  readonly workflow: SendWorkflow;
  readonly destinations: DestinationRegistrySource;
}

export interface Services extends Ports {
  readonly config: Config;
  readonly store: StoreService;
  readonly search: SearchService;
  readonly retrieve: RetrieveService;
  readonly delete: DeleteService;
  readonly npi: NpiService;
  readonly send: SendService;
  readonly sendTasks: SendTasks;
}

/** Wires services over the given ports (used by the AWS wiring below, the embedded runtime and tests). */
/** What only some functions carry (the Deliver task's DIMSE sub-operations). */
export interface ServiceExtras {
  readonly deliverBatch?: DeliverBatch;
}

export function createServices(cfg: Config, ports: Ports, extras: ServiceExtras = {}): Services {
  const search = new SearchService(ports.index, {
    maxCandidates: cfg.qidoMaxCandidates,
    defaultLimit: cfg.qidoDefaultLimit,
    maxLimit: cfg.qidoMaxLimit,
  });
  const npi = new NpiService(ports.npiIndex, ports.blobs, {
    maxCandidates: cfg.qidoMaxCandidates,
    defaultLimit: cfg.qidoDefaultLimit,
    maxLimit: cfg.qidoMaxLimit,
    maxRequestBytes: cfg.maxRequestBytes,
    maxResponseBytes: cfg.maxResponseBytes,
  });
  return {
    ...ports,
    config: cfg,
    store: new StoreService(ports.index, ports.blobs, { bulkDataThreshold: cfg.bulkDataThreshold, maxRequestBytes: cfg.maxRequestBytes }),
    search,
    retrieve: new RetrieveService(ports.index, ports.blobs, { maxResponseBytes: cfg.maxResponseBytes }),
    delete: new DeleteService(ports.index, ports.blobs),
    npi,
    send: new SendService(ports.sendRequests, ports.workflow, ports.destinations, {
      waitMs: cfg.sendWaitMs,
      retryAfterSeconds: cfg.sendRetryAfterSeconds,
      resultTtlSeconds: cfg.sendResultTtlSeconds,
      tombstoneTtlSeconds: cfg.sendTombstoneTtlSeconds,
    }),
    sendTasks: new SendTasks({
      requests: ports.sendRequests,
      search,
      index: ports.index,
      blobs: ports.blobs,
      destinations: ports.destinations,
      npi: { service: npi, index: ports.npiIndex },
      deliverBatch: extras.deliverBatch,
    }),
  };
}

/** The destination registry: Secrets Manager in AWS, the local file in the embedded runtime. */
function destinationsOf(cfg: Config, clients: ReturnType<typeof createAwsClients>): DestinationRegistrySource {
  if (cfg.destinationsSecretArn && clients.secretsManager) {
    return new SecretsManagerDestinationRegistrySource(clients.secretsManager, cfg.destinationsSecretArn);
  }
  return new FileDestinationRegistrySource(cfg.destinationsFile ?? '.data/destinations.json');
}

/** Refuses every Send: the function was deployed without a state machine. */
const noWorkflow: SendWorkflow = {
  start: () => Promise.reject(new Error('SEND_STATE_MACHINE_ARN is not configured')),
  describe: async () => undefined,
};

let cached: Services | undefined;

/**
 * The services of this process over AWS SDK adapters (AWS, or the emulators when endpoints are set).
 * `extras` count on the first call, which builds them.
 */
export function services(extras: ServiceExtras = {}): Services {
  if (!cached) {
    const cfg = config();
    const clients = createAwsClients(cfg, { sfn: !!cfg.sendStateMachineArn, secretsManager: !!cfg.destinationsSecretArn });
    cached = createServices(cfg, {
      index: new DynamoMetadataIndex(clients.dynamodb, cfg.tableName, cfg.indexShards),
      npiIndex: new DynamoNpiIndex(clients.dynamodb, cfg.tableName),
      blobs: new S3BlobStore(clients.s3, cfg.bucketName),
      sendRequests: new DynamoSendRequestStore(clients.dynamodb, cfg.tableName),
      workflow:
        cfg.sendStateMachineArn && clients.sfn ? new StepFunctionsSendWorkflow(clients.sfn, cfg.sendStateMachineArn) : noWorkflow,
      destinations: destinationsOf(cfg, clients),
    }, extras);
  }
  return cached;
}
