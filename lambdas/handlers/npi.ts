/** Non-Patient Instance Service, PS3.18 12: Store, Search and Retrieve on /{npi-name} of every category. */
import { requireNpiCategory } from '../dicomweb/npi-categories';
import { NpiService, parseNpiSearchParameters } from '../dicomweb/npi';
import { blobStore } from '../storage/factory/blob-store';
import { npiIndex } from '../storage/factory/npi-index';
import { functionServices } from './function-services';
import type { DicomwebRequest } from '../http/request';
import { dicomJson } from '../dicomweb/messages';
import { dicomwebHandler, type Operations } from '../http/middleware';
import { npiOptions } from './service-options';
import type { Services } from './services';

/** The {npi-name} is the first path segment of the route template (lambdas/http/routes.ts npiRoutes). */
export function npiCategoryOf(req: Pick<DicomwebRequest, 'resource'>) {
  return requireNpiCategory(req.resource.split('/')[1] ?? '');
}

export const operations: Operations<'npi', Pick<Services, 'npi'>> = {
  StoreInstances: async (req, { npi }) => {
    const result = await npi.storeInstances({
      category: npiCategoryOf(req),
      contentType: req.headers['content-type'],
      body: req.body,
      baseUrl: req.baseUrl,
    });
    return dicomJson(result.status, result.response, result.warning ? { Warning: result.warning } : {});
  },
  SearchForInstances: async (req, { npi }) => {
    const category = npiCategoryOf(req);
    const { results, truncated } = await npi.search({
      category,
      parameters: parseNpiSearchParameters(req.query, category),
      baseUrl: req.baseUrl,
    });
    // PS3.18 12.6 / 10.6.3.1: 204 when nothing matches; 8.3.4.4: a Warning when more results exist.
    if (results.length === 0) return { status: 204 };
    return dicomJson(200, results, truncated ? { Warning: '299 - "There are additional results that can be requested"' } : {});
  },
  RetrieveInstance: (req, { npi }) =>
    npi.retrieveInstance({
      category: npiCategoryOf(req),
      sopInstanceUID: req.pathParameters.uid,
      accept: req.headers.accept,
      acceptQuery: req.query.get('accept')?.join(','),
      baseUrl: req.baseUrl,
    }),
};

export const handler = dicomwebHandler(
  'npi',
  operations,
  functionServices((cfg) => ({
    npi: new NpiService(npiIndex(cfg), blobStore(cfg), npiOptions(cfg)),
  })),
);
