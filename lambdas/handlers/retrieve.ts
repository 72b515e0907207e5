/** Retrieve Transaction (WADO-RS), PS3.18 10.4: instances, metadata, frames and bulkdata. */
import { RetrieveService } from '../dicomweb/retrieve';
import { blobStore } from '../storage/factory/blob-store';
import { directTransfer } from '../storage/factory/direct-transfer';
import { metadataIndex } from '../storage/factory/metadata-index';
import { functionServices } from './function-services';
import type { DicomwebRequest } from '../http/request';
import { dicomwebHandler, type Operations } from '../http/middleware';
import { retrieveOptions } from './service-options';
import type { Services } from './services';

function target(req: DicomwebRequest) {
  return {
    studyInstanceUID: req.pathParameters.study!,
    seriesInstanceUID: req.pathParameters.series,
    sopInstanceUID: req.pathParameters.instance,
    frames: req.pathParameters.frames,
    tag: req.pathParameters.tag,
    accept: req.headers.accept,
    acceptQuery: req.query.get('accept')?.join(','),
    baseUrl: req.baseUrl,
    prefer: req.headers.prefer,
  };
}

export const operations: Operations<'retrieve', Pick<Services, 'retrieve'>> = {
  RetrieveStudy: (req, { retrieve }) => retrieve.retrieveStudy(target(req)),
  RetrieveSeries: (req, { retrieve }) => retrieve.retrieveSeries(target(req)),
  RetrieveInstance: (req, { retrieve }) => retrieve.retrieveInstance(target(req)),
  RetrieveStudyMetadata: (req, { retrieve }) => retrieve.retrieveStudyMetadata(target(req)),
  RetrieveSeriesMetadata: (req, { retrieve }) => retrieve.retrieveSeriesMetadata(target(req)),
  RetrieveInstanceMetadata: (req, { retrieve }) => retrieve.retrieveInstanceMetadata(target(req)),
  RetrieveFrames: (req, { retrieve }) => retrieve.retrieveFrames(target(req)),
  RetrieveBulkdata: (req, { retrieve }) => retrieve.retrieveBulkdata(target(req)),
};

export const handler = dicomwebHandler(
  'retrieve',
  operations,
  functionServices((cfg) => ({
    // The object's URL a single part instance above the response limit is redirected to.
    retrieve: new RetrieveService(metadataIndex(cfg), blobStore(cfg), retrieveOptions(cfg), directTransfer(cfg)),
  })),
);
