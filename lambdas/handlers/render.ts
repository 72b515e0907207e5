/** Rendered and thumbnail resources of the Retrieve Transaction (WADO-RS), PS3.18 10.4.1.1.3-4. */
import { RenderService } from '../dicomweb/rendered';
import { blobStore } from '../storage/factory/blob-store';
import { metadataIndex } from '../storage/factory/metadata-index';
import { functionServices } from './function-services';
import type { DicomwebRequest } from '../http/request';
import { dicomwebHandler, type Operations } from '../http/middleware';
import { renderOptions } from './service-options';
import type { Services } from './services';

function target(req: DicomwebRequest) {
  return {
    studyInstanceUID: req.pathParameters.study!,
    seriesInstanceUID: req.pathParameters.series,
    sopInstanceUID: req.pathParameters.instance,
    frames: req.pathParameters.frames,
    query: req.query,
    accept: req.headers.accept,
    acceptQuery: req.query.get('accept')?.join(','),
    ifNoneMatch: req.headers['if-none-match'],
    baseUrl: req.baseUrl,
  };
}

export const operations: Operations<'render', Pick<Services, 'render'>> = {
  RetrieveRenderedStudy: (req, { render }) => render.retrieveRenderedStudy(target(req)),
  RetrieveRenderedSeries: (req, { render }) => render.retrieveRenderedSeries(target(req)),
  RetrieveRenderedInstance: (req, { render }) => render.retrieveRenderedInstance(target(req)),
  RetrieveRenderedFrames: (req, { render }) => render.retrieveRenderedFrames(target(req)),
  RetrieveStudyThumbnail: (req, { render }) => render.retrieveStudyThumbnail(target(req)),
  RetrieveSeriesThumbnail: (req, { render }) => render.retrieveSeriesThumbnail(target(req)),
  RetrieveInstanceThumbnail: (req, { render }) => render.retrieveInstanceThumbnail(target(req)),
  RetrieveFramesThumbnail: (req, { render }) => render.retrieveFramesThumbnail(target(req)),
};

export const handler = dicomwebHandler(
  'render',
  operations,
  functionServices((cfg) => ({
    render: new RenderService(metadataIndex(cfg), blobStore(cfg), renderOptions(cfg)),
  })),
);
