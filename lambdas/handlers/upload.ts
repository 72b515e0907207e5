/**
 * The upload path (docs/uploads.md): POST /uploads and /studies/{study}/uploads, GET and DELETE
 * /uploads/{upload}, POST /uploads/{upload}/complete.
 */
import { json, negotiateJson, readJsonObject } from '../auth/admin-json';
import { dicomJson } from '../dicomweb/messages';
import { prepareStreamedInstance } from '../dicomweb/store-prepare-stream';
import { StoreService } from '../dicomweb/store';
import { UploadService } from '../dicomweb/upload';
import { dicomwebHandler, type Operations } from '../http/middleware';
import type { DicomwebRequest } from '../http/request';
import { blobStore } from '../storage/factory/blob-store';
import { directTransfer } from '../storage/factory/direct-transfer';
import { metadataIndex } from '../storage/factory/metadata-index';
import { uploadStore } from '../storage/factory/upload-store';
import { functionServices } from './function-services';
import { storeOptions, uploadOptions } from './service-options';
import type { Services } from './services';

type UploadServices = Pick<Services, 'upload'>;

function uploadOf(s: UploadServices): UploadService {
  if (!s.upload) throw new Error('the upload path is not configured in this process');
  return s.upload;
}

const caller = (req: DicomwebRequest) => ({ principal: req.principal ?? 'anonymous', baseUrl: req.baseUrl });

export const operations: Operations<'upload', UploadServices> = {
  CreateUpload: async (req, s) => {
    const body = await readJsonObject(
      { contentType: req.headers['content-type'], accept: req.headers.accept, body: req.body },
      'an upload request',
      '{"size": <bytes of the Part 10 file>}',
      ['size'],
    );
    negotiateJson(req.headers.accept);
    const upload = await uploadOf(s).create({ size: body.size, studyInstanceUID: req.pathParameters.study }, caller(req));
    return json(201, upload, { Location: UploadService.location(req.baseUrl, upload.uploadId) });
  },
  RetrieveUpload: async (req, s) => {
    negotiateJson(req.headers.accept);
    return json(200, await uploadOf(s).status(req.pathParameters.upload!, caller(req)), { 'Cache-Control': 'no-store' });
  },
  // Answered like STOW-RS (PS3.18 10.5.3): the Store Instances Response Module in DICOM JSON.
  CompleteUpload: async (req, s) => {
    const result = await uploadOf(s).complete(req.pathParameters.upload!, caller(req));
    return dicomJson(result.status, result.response);
  },
  AbortUpload: async (req, s) => {
    await uploadOf(s).abort(req.pathParameters.upload!, caller(req));
    return { status: 204, headers: {} };
  },
};

export const handler = dicomwebHandler(
  'upload',
  operations,
  functionServices((cfg) => {
    const blobs = blobStore(cfg);
    const store = new StoreService(metadataIndex(cfg), blobs, storeOptions(cfg));
    return {
      upload: new UploadService(uploadStore(cfg), directTransfer(cfg), blobs, store, prepareStreamedInstance, uploadOptions(cfg)),
    };
  }),
);
