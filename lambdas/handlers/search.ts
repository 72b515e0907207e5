/** Search Transaction (QIDO-RS), PS3.18 10.6: the six search resources. */
import { LAMBDA_MAX_PAYLOAD_BYTES, PROXY_FIELDS_HEADROOM_BYTES } from '../config';
import { parseSearchParameters } from '../dicomweb/query-params';
import { SearchService, type ResultBudget } from '../dicomweb/search';
import { createDynamoDbClient, DynamoMetadataIndex } from '../storage/dynamodb';
import type { Level } from '../storage/ports';
import { functionServices } from './function-services';
import type { DicomwebRequest, DicomwebResponse } from './http';
import { dicomJson, warningHeader } from './http';
import { dicomwebHandler, type Operation, type Operations } from './middleware';
import { bufferedJsonBytes } from './proxy';
import { searchOptions } from './service-options';
import type { Services } from './services';

type SearchServices = Pick<Services, 'search'>;

/**
 * The search function answers buffered, so a page ends before Lambda's 6 MB payload (a full
 * includefield=all page of 5,000 would pass it, and API Gateway answer 502): the results that fit,
 * and the Warning of PS3.18 8.3.4.4.1 with the number remaining, which every QIDO-RS client pages
 * through with offset. Streaming the page instead would leave it as large, slowed to 2 MB/s after
 * 6 MB, for clients that page anyway. The budget counts each result as its text travels in the
 * proxy result (escaped), with its comma; the brackets are kept out of it.
 */
export const SEARCH_RESPONSE_BUDGET: ResultBudget = {
  maxBytes: LAMBDA_MAX_PAYLOAD_BYTES - PROXY_FIELDS_HEADROOM_BYTES - 2,
  sizeOf: (result) => bufferedJsonBytes(result) + 1,
};

function searchFor(level: Level): Operation<SearchServices> {
  return async (req: DicomwebRequest, { search }: SearchServices): Promise<DicomwebResponse> => {
    const { results, truncated, remaining } = await search.search({
      level,
      studyInstanceUID: req.pathParameters.study,
      seriesInstanceUID: req.pathParameters.series,
      parameters: parseSearchParameters(req.query, level),
      baseUrl: req.baseUrl,
      budget: SEARCH_RESPONSE_BUDGET,
    });
    // PS3.18 10.6.3.1: 204 when nothing matches; 8.3.4.4.1: a Warning when more results exist.
    if (results.length === 0) return { status: 204 };
    const more = remaining === undefined ? 'There are additional results' : `There are ${remaining} additional results`;
    return dicomJson(200, results, truncated ? { Warning: warningHeader(req.baseUrl, `${more} that can be requested`) } : {});
  };
}

export const operations: Operations<SearchServices> = {
  SearchForStudies: searchFor('STUDY'),
  SearchForSeries: searchFor('SERIES'),
  SearchForInstances: searchFor('INSTANCE'),
};

/** The index alone: a search reads no object. */
export const handler = dicomwebHandler(
  'search',
  operations,
  functionServices((cfg) => ({
    search: new SearchService(new DynamoMetadataIndex(createDynamoDbClient(cfg), cfg.tableName, cfg.indexShards), searchOptions(cfg)),
  })),
);
