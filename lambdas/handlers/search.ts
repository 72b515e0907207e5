/** Search Transaction (QIDO-RS), PS3.18 10.6: the six search resources. */
import { parseSearchParameters } from '../dicomweb/query-params';
import { SearchService } from '../dicomweb/search';
import { createDynamoDbClient, DynamoMetadataIndex } from '../storage/dynamodb';
import type { Level } from '../storage/ports';
import { functionServices } from './function-services';
import type { DicomwebRequest, DicomwebResponse } from './http';
import { dicomJson } from './http';
import { dicomwebHandler, type Operation, type Operations } from './middleware';
import { searchOptions } from './service-options';
import type { Services } from './services';

type SearchServices = Pick<Services, 'search'>;

function searchFor(level: Level): Operation<SearchServices> {
  return async (req: DicomwebRequest, { search }: SearchServices): Promise<DicomwebResponse> => {
    const { results, truncated } = await search.search({
      level,
      studyInstanceUID: req.pathParameters.study,
      seriesInstanceUID: req.pathParameters.series,
      parameters: parseSearchParameters(req.query, level),
      baseUrl: req.baseUrl,
    });
    // PS3.18 10.6.3.1: 204 when nothing matches; 8.3.4.4: a Warning when more results exist.
    if (results.length === 0) return { status: 204 };
    const headers: Record<string, string> = truncated
      ? { Warning: '299 - "There are additional results that can be requested"' }
      : {};
    return dicomJson(200, results, headers);
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
