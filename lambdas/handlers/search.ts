/** Search Transaction (QIDO-RS), PS3.18 10.6: the six search resources. */
import { parseSearchParameters } from '../dicomweb/query-params';
import { SearchService } from '../dicomweb/search';
import { metadataIndex } from '../storage/factory/metadata-index';
import type { Level } from '../storage/ports';
import { functionServices } from './function-services';
import type { DicomwebResponse } from '../dicomweb/messages';
import type { DicomwebRequest } from '../http/request';
import { dicomJson, warningHeader } from '../dicomweb/messages';
import { dicomwebHandler, type Operation, type Operations } from '../http/middleware';
import { BUFFERED_JSON_ARRAY_BUDGET } from '../http/proxy';
import { searchOptions } from './service-options';
import type { Services } from './services';

type SearchServices = Pick<Services, 'search'>;

/**
 * The search function answers buffered, so a page ends within Lambda's 6 MB payload (5,000 results
 * with includefield=all pass it, which API Gateway answers 502), with the Warning of PS3.18 8.3.4.4.1
 * giving the number remaining, which QIDO-RS clients page through with offset. Streaming the page
 * would keep it as large, at 2 MB/s after 6 MB, for clients that page anyway.
 */
function searchFor(level: Level): Operation<SearchServices> {
  return async (req: DicomwebRequest, { search }: SearchServices): Promise<DicomwebResponse> => {
    const { results, truncated, remaining } = await search.search({
      level,
      studyInstanceUID: req.pathParameters.study,
      seriesInstanceUID: req.pathParameters.series,
      parameters: parseSearchParameters(req.query, level),
      baseUrl: req.baseUrl,
      budget: BUFFERED_JSON_ARRAY_BUDGET,
    });
    // PS3.18 10.6.3.1: 204 when nothing matches; 8.3.4.4.1: a Warning when more results exist.
    if (results.length === 0) return { status: 204 };
    const more = remaining === undefined ? 'There are additional results' : `There are ${remaining} additional results`;
    return dicomJson(200, results, truncated ? { Warning: warningHeader(req.baseUrl, `${more} that can be requested`) } : {});
  };
}

export const operations: Operations<'search', SearchServices> = {
  SearchForStudies: searchFor('STUDY'),
  SearchForSeries: searchFor('SERIES'),
  SearchForInstances: searchFor('INSTANCE'),
};

/** The index alone: a search reads no object. */
export const handler = dicomwebHandler(
  'search',
  operations,
  functionServices((cfg) => ({
    search: new SearchService(metadataIndex(cfg), searchOptions(cfg)),
  })),
);
