/**
 * Wires the DIMSE gateway over the archive's services (the same StoreService, SearchService, index,
 * object store and destination registry as the DICOMweb handlers).
 */
import type { DimseConfig } from './config';
import { startDimseGateway, type DimseGateway, type DimseGatewayDeps } from './scp';

/** The archive's services and ports the gateway uses, as the entry (./main.ts) builds them. */
export interface ArchiveServices extends Pick<DimseGatewayDeps, 'store' | 'search' | 'index' | 'blobs' | 'destinations'> {
  readonly config: { readonly sendBatchSize: number; readonly sendMaxBatchBytes?: number };
}

export function startArchiveDimseGateway(
  services: ArchiveServices,
  dimse: DimseConfig,
  opts: { readonly baseUrl: string },
): Promise<DimseGateway> {
  return startDimseGateway(
    {
      store: services.store,
      search: services.search,
      index: services.index,
      blobs: services.blobs,
      destinations: services.destinations,
      aeTitle: dimse.aeTitle,
      batchSize: services.config.sendBatchSize,
      maxBatchBytes: services.config.sendMaxBatchBytes,
      cStoreTimeoutMs: dimse.cStoreTimeoutMs,
      proxy: dimse.proxy,
      baseUrl: opts.baseUrl,
    },
    {
      port: dimse.port,
      host: dimse.host,
      maxAssociations: dimse.maxAssociations,
      maxObjectBytes: dimse.maxObjectBytes,
      maxBufferedBytes: dimse.maxBufferedBytes,
    },
  );
}
