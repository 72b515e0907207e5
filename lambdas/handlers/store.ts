/** Store Transaction (STOW-RS), PS3.18 10.5: POST /studies and POST /studies/{study}. */
import { StoreService } from '../dicomweb/store';
import { blobStore } from '../storage/factory/blob-store';
import { metadataIndex } from '../storage/factory/metadata-index';
import { functionServices } from './function-services';
import { storeOptions } from './service-options';
import { dicomJson } from '../dicomweb/messages';
import { dicomwebHandler, type Operations } from '../http/middleware';
import type { Services } from './services';

export const operations: Operations<'store', Pick<Services, 'store'>> = {
  StoreInstances: async (req, { store }) => {
    const result = await store.storeInstances({
      studyInstanceUID: req.pathParameters.study,
      contentType: req.headers['content-type'],
      body: req.body,
      baseUrl: req.baseUrl,
      remainingMillis: req.remainingTimeMillis,
    });
    const response = dicomJson(result.status, result.response, result.warning ? { Warning: result.warning } : {});
    return { ...response, instances: result.stored + result.failed };
  },
};

export const handler = dicomwebHandler(
  'store',
  operations,
  functionServices((cfg) => ({
    store: new StoreService(metadataIndex(cfg), blobStore(cfg), storeOptions(cfg)),
  })),
);
