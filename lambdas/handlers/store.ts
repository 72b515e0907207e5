/** Store Transaction (STOW-RS), PS3.18 10.5: POST /studies and POST /studies/{study}. */
import { dicomJson } from './http';
import { dicomwebHandler, type Operations } from './middleware';

export const operations: Operations = {
  StoreInstances: async (req, { store }) => {
    const result = await store.storeInstances({
      studyInstanceUID: req.pathParameters.study,
      contentType: req.headers['content-type'],
      body: req.body,
      baseUrl: req.baseUrl,
    });
    return dicomJson(result.status, result.response, result.warning ? { Warning: result.warning } : {});
  },
};

export const handler = dicomwebHandler('store', operations);
