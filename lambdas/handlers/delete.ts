/** Delete of a study, series or instance: removes objects and index entries, leaves a tombstone (410). */
import { DeleteService } from '../dicomweb/delete';
import { createDynamoDbClient, DynamoMetadataIndex } from '../storage/dynamodb';
import { createS3Client, S3BlobStore } from '../storage/s3';
import { functionServices } from './function-services';
import type { DicomwebRequest } from './http';
import { dicomwebHandler, type Operations } from './middleware';
import type { Services } from './services';

function target(req: DicomwebRequest) {
  return {
    studyInstanceUID: req.pathParameters.study!,
    seriesInstanceUID: req.pathParameters.series,
    sopInstanceUID: req.pathParameters.instance,
  };
}

const noContent = { status: 204 } as const;

export const operations: Operations<Pick<Services, 'delete'>> = {
  DeleteStudy: async (req, s) => (await s.delete.deleteStudy(target(req)), noContent),
  DeleteSeries: async (req, s) => (await s.delete.deleteSeries(target(req)), noContent),
  DeleteInstance: async (req, s) => (await s.delete.deleteInstance(target(req)), noContent),
};

export const handler = dicomwebHandler(
  'delete',
  operations,
  functionServices((cfg) => ({
    delete: new DeleteService(
      new DynamoMetadataIndex(createDynamoDbClient(cfg), cfg.tableName, cfg.indexShards),
      new S3BlobStore(createS3Client(cfg), cfg.bucketName),
    ),
  })),
);
