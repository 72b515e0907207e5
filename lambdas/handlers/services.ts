/**
 * All the services of a process over given ports: SDK clients -> adapters -> services.
 * The embedded runtime, the DIMSE gateway and tests build them all; a Lambda function builds only
 * the ones its handler uses (./function-services.ts), with the same options (./service-options.ts).
 */
import { ClientsService } from '../auth/clients-service';
import { ShareLinksService } from '../auth/share-links-service';
import { config, type Config } from '../config';
import { DeleteService } from '../dicomweb/delete';
import { NpiService } from '../dicomweb/npi';
import { RenderService } from '../dicomweb/rendered';
import { RetrieveService } from '../dicomweb/retrieve';
import { SearchService } from '../dicomweb/search';
import { SendService } from '../dicomweb/send';
import { StoreService } from '../dicomweb/store';
import type { InstancePreparer } from '../dicomweb/store-prepare';
import type { PartBuffers } from '../dicomweb/store-request';
import type { FrameImager } from '../dicomweb/frame-images';
import { SendOutcomes } from '../send/outcomes';
import { SendTasks, type DeliverBatch } from '../send/tasks';
import { createAwsClients } from '../storage/clients';
import { blobStore } from '../storage/factory/blob-store';
import { optionalClientStore } from '../storage/factory/client-store';
import { optionalShareLinkStore } from '../storage/factory/share-link-store';
import { destinations } from '../storage/factory/destinations';
import { DESTINATION_REGISTRY_FORMAT, type DestinationRegistrySource } from '../send/destinations';
import { metadataIndex } from '../storage/factory/metadata-index';
import { npiIndex } from '../storage/factory/npi-index';
import { sendRequestStore } from '../storage/factory/send-request-store';
import { sendWorkflow } from '../storage/factory/send-workflow';
import type {
  BlobStore,
  ClientStore,
  DirectTransfer,
  MetadataIndex,
  NpiIndex,
  SendRequestStore,
  SendWorkflow,
  ShareLinkStore,
  UploadStore,
} from '../storage/ports';
import { UploadService } from '../dicomweb/upload';
import { prepareStreamedInstance } from '../dicomweb/store-prepare-stream';
import { directTransfer } from '../storage/factory/direct-transfer';
import { uploadStore } from '../storage/factory/upload-store';
import {
  npiOptions,
  renderOptions,
  shareLinksOptions,
  retrieveOptions,
  searchOptions,
  sendOptions,
  storeOptions,
  uploadOptions,
} from './service-options';

export interface Ports {
  readonly index: MetadataIndex;
  /** Non-Patient Instances (PS3.18 12), in the same table apart from the studies. */
  readonly npiIndex: NpiIndex;
  readonly blobs: BlobStore;
  readonly sendRequests: SendRequestStore;
  readonly workflow: SendWorkflow;
  readonly destinations: DestinationRegistrySource;
  /** The API key clients, in their own table; absent without CLIENTS_TABLE_NAME. */
  readonly clientStore?: ClientStore;
  /** Share links, in the clients' table; absent without CLIENTS_TABLE_NAME. */
  readonly shareLinkStore?: ShareLinkStore;
  /** The upload path's records and direct transfers (docs/uploads.md); no upload path without them. */
  readonly uploads?: { readonly store: UploadStore; readonly transfer: DirectTransfer };
}

export interface Services extends Ports {
  readonly config: Config;
  readonly store: StoreService;
  readonly search: SearchService;
  readonly retrieve: RetrieveService;
  /** Rendered and thumbnail resources (PS3.18 10.4.1.1.3-4). */
  readonly render: RenderService;
  readonly delete: DeleteService;
  readonly npi: NpiService;
  readonly send: SendService;
  readonly sendTasks: SendTasks;
  /** Management of the API key clients (the admin routes); with the clients table only. */
  readonly clients?: ClientsService;
  /** Management of share links (the admin routes); with the clients table only. */
  readonly shares?: ShareLinksService;
  /** The upload path (docs/uploads.md), when the ports have its stores. */
  readonly upload?: UploadService;
}

/** What only some runtimes carry (the Deliver task's DIMSE sub-operations; the embedded runtime's store workers). */
export interface ServiceExtras {
  readonly deliverBatch?: DeliverBatch;
  /** Where stored instances are read and prepared; inline when absent (lambdas/dicomweb/store-prepare.ts). */
  readonly prepareInstance?: InstancePreparer;
  /** Where the parts of Store requests are assembled; new memory when absent (lambdas/dicomweb/store-request.ts). */
  readonly partBuffers?: PartBuffers;
  /** Where rendered images are made; inline when absent (lambdas/dicomweb/frame-images.ts). */
  readonly imager?: FrameImager;
}

/** Wires services over the given ports (used by the AWS wiring below, the embedded runtime and tests). */
export function createServices(cfg: Config, ports: Ports, extras: ServiceExtras = {}): Services {
  const search = new SearchService(ports.index, searchOptions(cfg));
  const npi = new NpiService(ports.npiIndex, ports.blobs, npiOptions(cfg));
  const store = new StoreService(ports.index, ports.blobs, storeOptions(cfg), extras.prepareInstance, extras.partBuffers);
  return {
    ...ports,
    config: cfg,
    store,
    search,
    retrieve: new RetrieveService(ports.index, ports.blobs, retrieveOptions(cfg), ports.uploads?.transfer),
    render: new RenderService(ports.index, ports.blobs, { ...renderOptions(cfg), ...(extras.imager && { imager: extras.imager }) }),
    delete: new DeleteService(ports.index, ports.blobs),
    npi,
    send: new SendService(
      ports.sendRequests,
      new SendOutcomes(ports.sendRequests, ports.blobs),
      ports.workflow,
      ports.destinations,
      sendOptions(cfg),
    ),
    sendTasks: new SendTasks({
      requests: ports.sendRequests,
      search,
      index: ports.index,
      blobs: ports.blobs,
      destinations: ports.destinations,
      npi: { service: npi, index: ports.npiIndex },
      deliverBatch: extras.deliverBatch,
      maxBatchBytes: cfg.sendMaxBatchBytes,
    }),
    ...(ports.clientStore && { clients: new ClientsService(ports.clientStore) }),
    ...(ports.shareLinkStore && {
      shares: new ShareLinksService(ports.shareLinkStore, ports.index, shareLinksOptions(cfg)),
    }),
    ...(ports.uploads && {
      upload: new UploadService(
        ports.uploads.store,
        ports.uploads.transfer,
        ports.blobs,
        store,
        prepareStreamedInstance,
        uploadOptions(cfg),
      ),
    }),
  };
}

let cached: Services | undefined;

/**
 * Every service of this process over AWS SDK adapters (AWS, or the emulators when endpoints are set):
 * the DIMSE gateway container, which serves every transaction. `extras` count on the first call.
 */
export function services(extras: ServiceExtras = {}): Services {
  if (!cached) {
    const cfg = config();
    const clients = createAwsClients(cfg);
    cached = createServices(
      cfg,
      {
        index: metadataIndex(cfg, clients),
        npiIndex: npiIndex(cfg, clients),
        blobs: blobStore(cfg, clients),
        sendRequests: sendRequestStore(cfg, clients),
        workflow: sendWorkflow(cfg),
        destinations: destinations(cfg, DESTINATION_REGISTRY_FORMAT),
        clientStore: optionalClientStore(cfg, clients),
        shareLinkStore: optionalShareLinkStore(cfg, clients),
        uploads: { store: uploadStore(cfg, clients), transfer: directTransfer(cfg, clients) },
      },
      extras,
    );
  }
  return cached;
}
