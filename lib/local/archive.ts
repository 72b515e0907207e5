/**
 * The embedded archive: the same handlers behind the embedded gateway, over the local engine (files
 * and SQLite, STORAGE=local) or over the AWS adapters speaking AWS SDK v3 to in-process emulators
 * (s3rver, dynalite; STORAGE=aws-emulators). No adapter is swapped for a fake. Several archives may
 * run in one process (each has its own configuration, storage and services).
 */
import path from 'node:path';
import { loadConfig, type Config } from '../../lambdas/config';
import { dicomwebHandler } from '../../lambdas/http/middleware';
import { createServices, type Services } from '../../lambdas/handlers/services';
import { operations as adminOperations } from '../../lambdas/handlers/admin';
import { operations as capabilitiesOperations } from '../../lambdas/handlers/capabilities';
import { operations as deleteOperations } from '../../lambdas/handlers/delete';
import { operations as npiOperations } from '../../lambdas/handlers/npi';
import { operations as sendOperations } from '../../lambdas/handlers/send';
import { operations as renderOperations } from '../../lambdas/handlers/render';
import { operations as retrieveOperations } from '../../lambdas/handlers/retrieve';
import { operations as searchOperations } from '../../lambdas/handlers/search';
import { operations as storeOperations } from '../../lambdas/handlers/store';
import { operations as uploadOperations } from '../../lambdas/handlers/upload';
import { loadDimseConfig } from '../../lambdas/dimse/config';
import { startArchiveDimseGateway } from '../../lambdas/dimse/gateway';
import { deliverSubOperations } from '../../lambdas/dimse/sub-operations';
import { runAsFunction } from '../../lambdas/storage/call-recorder';
import { blobStore } from '../../lambdas/storage/factory/blob-store';
import { optionalClientStore } from '../../lambdas/storage/factory/client-store';
import { optionalShareLinkStore } from '../../lambdas/storage/factory/share-link-store';
import { directTransfer } from '../../lambdas/storage/factory/direct-transfer';
import { uploadStore } from '../../lambdas/storage/factory/upload-store';
import { metadataIndex } from '../../lambdas/storage/factory/metadata-index';
import { npiIndex } from '../../lambdas/storage/factory/npi-index';
import { sendRequestStore } from '../../lambdas/storage/factory/send-request-store';
import { destinations } from '../../lambdas/storage/factory/destinations';
import { DESTINATION_REGISTRY_FORMAT } from '../../lambdas/send/destinations';
import type { FunctionGroup } from '../../lambdas/http/routes';
import { asSecretRegistry, attributeHandlers, attributeServices, Caller } from './call-attribution';
import { archiveStorage, type ArchiveStorage } from './data-layout';
import { LOCAL_BUCKET, LOCAL_CLIENTS_TABLE, LOCAL_TABLE, openArchiveStorage } from './storage';
import { startGateway, type ProxyHandler } from './gateway';
import { viewerSite } from './viewer-site';
import { startHourlySweep } from './sweeps';
import { startUploadSweeper, transferSite } from './transfer-site';
import { FileDirectTransfer } from '../../lambdas/storage/local/file-transfer';
import { LocalBlobStore } from '../../lambdas/storage/local/local-blobs';
import { sweepSendRequestObjects } from '../../lambdas/storage/local/send-object-sweep';
import { sendRequestObjectExpiryDays } from '../../lambdas/storage/keys';
import { LocalSendWorkflow } from './local-send-workflow';
import { defaultRenderWorkers, RenderWorkers } from './render-workers';
import { PooledPartBuffers } from './part-buffers';
import { defaultStoreWorkers, StoreWorkers } from './store-workers';

export { LOCAL_BUCKET, LOCAL_CLIENTS_TABLE, LOCAL_TABLE } from './storage';

export interface ArchiveOptions {
  /** Where the storage keeps its files; restarting on the same directory keeps the data. */
  readonly dataDir: string;
  /**
   * The local engine, or the AWS adapters on s3rver and dynalite (./data-layout.ts); default STORAGE
   * of `env`, else DEFAULT_ARCHIVE_STORAGE. A data directory holding the other layout is refused.
   */
  readonly storage?: ArchiveStorage;
  readonly port?: number;
  readonly host?: string;
  /**
   * Extra environment-style settings (e.g. MAX_REQUEST_BYTES, AUTH_TOKEN, DESTINATIONS_FILE), read like
   * in AWS. DESTINATIONS_FILE defaults to ${dataDir}/destinations.json.
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * DIMSE gateway (lambdas/dimse): listens on this port (0: ephemeral) when given, with the AE Title
   * DIMSE_AET of env (default ARCHIVE); bound to `host` like the HTTP gateway.
   */
  readonly dimsePort?: number;
  /**
   * The OHIF Viewer under /viewer/ (./viewer-site.ts): its build's directory (lib/viewer/dist.ts), or
   * none with the reason, which /viewer/ then answers 503 with. No viewer when absent.
   */
  readonly viewer?: { readonly dist?: string; readonly unavailableReason?: string };
}

export interface EmbeddedArchive {
  /** Base URL of the service root; the Studies service is at `${url}/studies`. */
  readonly url: string;
  readonly config: Config;
  readonly services: Services;
  /** The DIMSE gateway, when ArchiveOptions.dimsePort was given. */
  readonly dimse?: { readonly port: number; readonly aeTitle: string };
  close(): Promise<void>;
}

/** True for the loopback interface (127.0.0.0/8, ::1, localhost): reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Without a credential check (AUTH none, or iam, which only API Gateway can check), the archive is
 * open to whoever reaches it: bind loopback only.
 */
function refuseOpenBinding(config: Config, host: string | undefined): void {
  if (host === undefined || isLoopbackHost(host) || config.auth.some((m) => m !== 'none' && m !== 'iam')) return;
  throw new Error(
    `HOST=${host} exposes the archive beyond this machine, and AUTH=${config.auth.join(',')} checks no credential: ` +
      'set AUTH (token with AUTH_TOKEN, api-keys, or oidc with OIDC_ISSUER and OIDC_AUDIENCE), or bind 127.0.0.1',
  );
}

export async function startArchive(opts: ArchiveOptions): Promise<EmbeddedArchive> {
  const dataDir = path.resolve(opts.dataDir);
  const storage = opts.storage ?? archiveStorage(opts.env?.STORAGE);
  // STORAGE and DATA_DIR are the archive's own (the storage sets them); other settings override its endpoints.
  const { STORAGE: _storage, DATA_DIR: _dataDir, ...settings } = opts.env ?? {};
  // Checked before anything starts (the configuration is read again below, with the emulators' endpoints).
  refuseOpenBinding(
    loadConfig({
      BUCKET_NAME: LOCAL_BUCKET,
      TABLE_NAME: LOCAL_TABLE,
      CLIENTS_TABLE_NAME: LOCAL_CLIENTS_TABLE,
      AWS_REGION: 'us-east-1',
      ...settings,
    }),
    opts.host,
  );
  const store = await openArchiveStorage(storage, dataDir);
  try {
    const config = loadConfig({
      BUCKET_NAME: LOCAL_BUCKET,
      TABLE_NAME: LOCAL_TABLE,
      CLIENTS_TABLE_NAME: LOCAL_CLIENTS_TABLE,
      AWS_REGION: 'us-east-1',
      DESTINATIONS_FILE: path.join(dataDir, 'destinations.json'),
      ...store.env,
      ...settings,
    });
    const clients = store.clients(config);
    const workflow = new LocalSendWorkflow(() => services.sendTasks, {
      batchSize: config.sendBatchSize,
      maxConcurrency: config.sendMaxConcurrency,
      stateMachineArn: config.sendStateMachineArn,
      manifestBucket: config.bucketName,
    });
    // C-STORE sub-operations call from this archive's own AE Title (DIMSE_AET of its settings).
    const callingAeTitle = loadDimseConfig({ ...opts.env }).aeTitle;
    await runAsFunction(Caller.operator, () => store.prepare(config.indexShards));
    // The local engine's object files (its sweeps below; its buffers shared by the Store's parts and copies).
    const blobs = storage === 'local' ? clients.local?.blobStore() : undefined;
    const objects = blobs instanceof LocalBlobStore ? blobs.files : undefined;
    // On the local engine the instances of a Store are read on other cores (./store-workers.ts), their
    // copies and parts in the object store's buffers, where a copy written goes back (./part-buffers.ts);
    // the emulators' path keeps the functions' one thread.
    const workerCount = config.storeWorkers ?? defaultStoreWorkers();
    const storeWorkers =
      objects && workerCount > 0 ? new StoreWorkers(workerCount, config.bulkDataThreshold, { buffers: objects.buffers }) : undefined;
    // Rendered images too (./render-workers.ts).
    const renderCount = config.renderWorkers ?? defaultRenderWorkers();
    const renderWorkers = storage === 'local' && renderCount > 0 ? new RenderWorkers(renderCount) : undefined;
    const services: Services = createServices(
      config,
      {
        index: metadataIndex(config, clients),
        npiIndex: npiIndex(config, clients),
        blobs: blobStore(config, clients),
        sendRequests: sendRequestStore(config, clients),
        workflow,
        destinations: asSecretRegistry(
          // The embedded runtime reads the file even where a secret is named (the IAM harness names one).
          destinations({ ...config, destinationsSecretArn: undefined }, DESTINATION_REGISTRY_FORMAT),
          config.destinationsSecretArn,
          config.region,
        ),
        clientStore: optionalClientStore(config, clients),
        shareLinkStore: optionalShareLinkStore(config, clients),
        uploads: { store: uploadStore(config, clients), transfer: directTransfer(config, clients) },
      },
      {
        deliverBatch: (destination, instances, o) => deliverSubOperations(destination, instances, { ...o, callingAeTitle }),
        // Its parts assembled in pooled memory (./part-buffers.ts).
        ...(storeWorkers && { prepareInstance: storeWorkers.prepare, partBuffers: new PooledPartBuffers(objects?.buffers) }),
        ...(renderWorkers && { imager: renderWorkers.imager }),
      },
    );
    const get = () => services;
    const handlers: Record<FunctionGroup, ProxyHandler> = attributeHandlers({
      store: dicomwebHandler('store', storeOperations, get),
      search: dicomwebHandler('search', searchOperations, get),
      retrieve: dicomwebHandler('retrieve', retrieveOperations, get),
      render: dicomwebHandler('render', renderOperations, get),
      delete: dicomwebHandler('delete', deleteOperations, get),
      send: dicomwebHandler('send', sendOperations, get),
      capabilities: dicomwebHandler('capabilities', capabilitiesOperations, get),
      npi: dicomwebHandler('npi', npiOperations, get),
      admin: dicomwebHandler('admin', adminOperations, get),
      upload: dicomwebHandler('upload', uploadOperations, get),
    });
    // The local engine serves its own signed part and object URLs (./transfer-site.ts), and sweeps the
    // uploads abandoned past UPLOAD_EXPIRY, at start and hourly (what S3's lifecycle rules do in AWS).
    const transfer = storage === 'local' ? clients.local?.directTransfer() : undefined;
    const sweeper = transfer instanceof FileDirectTransfer ? startUploadSweeper(transfer, config.uploads.expirySeconds) : undefined;
    // And the objects of send requests past their result, as the SendRequests lifecycle rule does.
    const sendObjectsSweeper = objects
      ? startHourlySweep('SendRequestObjectSweep', () =>
          sweepSendRequestObjects(objects, Date.now() - sendRequestObjectExpiryDays(config.sendResultTtlSeconds) * 86_400_000),
        )
      : undefined;
    const gateway = await startGateway({
      handlers,
      maxRequestBytes: config.maxRequestBytes,
      // The emulators' path keeps the cloud's whole base64 body in the event, and its limits with it.
      streamRequestBodies: storage === 'local',
      maxInFlightRequests: config.maxInFlightRequests,
      corsAllowedOrigins: config.corsAllowedOrigins,
      ...(opts.viewer && { site: viewerSite({ ...opts.viewer, config }) }),
      ...(transfer instanceof FileDirectTransfer && { transfer: transferSite(transfer, config.corsAllowedOrigins) }),
      host: opts.host,
      port: opts.port,
    });
    const dimse =
      opts.dimsePort === undefined
        ? undefined
        : await startArchiveDimseGateway(
            attributeServices(Caller.dimse, services),
            loadDimseConfig({ ...opts.env, DIMSE_PORT: String(opts.dimsePort) }, { host: opts.host }),
            { baseUrl: config.publicBaseUrl ?? gateway.url },
          );
    return {
      url: gateway.url,
      config,
      services,
      ...(dimse ? { dimse: { port: dimse.port, aeTitle: dimse.aeTitle } } : {}),
      close: async () => {
        await dimse?.close();
        await gateway.close();
        sweeper?.stop();
        sendObjectsSweeper?.stop();
        // Deletes continued in the background (lambdas/dicomweb/delete.ts) end before the storage does.
        await services.delete.settled();
        await workflow.close();
        await storeWorkers?.close();
        await renderWorkers?.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
