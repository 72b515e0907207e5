/**
 * The upload path for instances above the request limit (docs/uploads.md; an extension of the Studies
 * Service, not in PS3.18): create an upload, the client PUTs its parts straight to object storage
 * (DirectTransfer), then complete it, which applies exactly the Store rules of STOW-RS
 * (StoreService.storeObject) to the joined object, read as a stream, and answers like STOW-RS with the
 * Store Instances Response Module. Only the upload's creator sees, completes or aborts it.
 *
 * Completing is safe to repeat: UPLOADING -> STORING is a conditional write, so one caller stores;
 * STORED answers the recorded result; a Store cut short (a killed function) leaves STORING, which a
 * complete after storingRetrySeconds runs again (the Store rules are idempotent: an identical
 * instance stored already is a success, and each write goes to keys of its own).
 */
import { randomBytes } from 'node:crypto';
import type { DicomJson } from '../dicom/json';
import { isValidUid } from '../dicom/uid';
import { uploadObjectKey } from '../storage/keys';
import type { BlobStore, DirectTransfer, UploadedPart, UploadRecord, UploadStore } from '../storage/ports';
import { BadRequestError, ConflictError, GoneError, NotFoundError, PayloadTooLargeError } from './errors';
import type { StoreService } from './store';
import type { Preparation } from './store-prepare';
import { storeInstancesResponse } from './store-request';
import { partSizeFor, partSpans, receivedPart, receivedParts, resultUnder, uploadPath, uploadView, type UploadView } from './upload-parts';
import { absolute, transferUrl } from './uris';

export type { UploadView } from './upload-parts';

const DICOM = 'application/dicom';

export interface UploadOptions {
  readonly maxBytes: number;
  readonly urlExpirySeconds: number;
  readonly expirySeconds: number;
  readonly storingRetrySeconds: number;
  readonly bulkDataThreshold: number;
}

/** Prepares an instance from its object's stream (store-prepare-stream.ts). */
export type StreamPreparer = (stream: AsyncIterable<Uint8Array>, bulkDataThreshold: number) => Promise<Preparation>;

/** Who asks and where the archive answers from: every operation is the creator's own. */
export interface UploadCaller {
  /** `mechanism:principal` (DicomwebRequest.principal); 'anonymous' without authentication. */
  readonly principal: string;
  readonly baseUrl: string;
}

/** The Store's answer to a complete: STOW-RS's status and Store Instances Response Module. */
export interface UploadResult {
  readonly status: number;
  readonly response: DicomJson;
}

export class UploadService {
  constructor(
    private readonly uploads: UploadStore,
    private readonly transfer: DirectTransfer,
    private readonly blobs: BlobStore,
    private readonly store: StoreService,
    private readonly prepare: StreamPreparer,
    private readonly opts: UploadOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** POST /uploads, POST /studies/{study}/uploads: a new upload of `size` bytes. */
  async create(req: { readonly size: unknown; readonly studyInstanceUID?: string }, caller: UploadCaller): Promise<UploadView> {
    const { size, studyInstanceUID } = req;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) {
      throw new BadRequestError('"size" is the Part 10 file\'s size in bytes, a positive integer', [
        { target: 'size', message: String(size) },
      ]);
    }
    if (size > this.opts.maxBytes) {
      throw new PayloadTooLargeError(`the file's ${size} bytes exceed ${this.opts.maxBytes}, the largest upload this archive takes`, [
        { target: 'size', message: 'UPLOAD_MAX_BYTES bounds an upload (docs/uploads.md)' },
      ]);
    }
    if (studyInstanceUID !== undefined && !isValidUid(studyInstanceUID)) {
      throw new BadRequestError(`"${studyInstanceUID}" is not a valid Study Instance UID`, [
        { target: 'study', message: 'a UID is at most 64 characters of digits and dots (PS3.5 9.1)' },
      ]);
    }
    const uploadId = randomBytes(16).toString('base64url');
    const objectKey = uploadObjectKey(uploadId);
    const multipartUploadId = await this.transfer.createMultipartUpload(objectKey, DICOM);
    const now = this.now();
    const record: UploadRecord = {
      uploadId,
      objectKey,
      multipartUploadId,
      size,
      partSize: partSizeFor(size),
      ...(studyInstanceUID !== undefined && { studyInstanceUID }),
      createdBy: caller.principal,
      state: 'UPLOADING',
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.opts.expirySeconds * 1000).toISOString(),
    };
    await this.uploads.create(record);
    return this.view(record, caller, []);
  }

  /** GET /uploads/{upload}: the upload, fresh URLs for the parts not received yet. */
  async status(uploadId: string, caller: UploadCaller): Promise<UploadView> {
    const record = await this.own(uploadId, caller);
    const received = record.state === 'UPLOADING' ? await this.transfer.listParts(record.objectKey, record.multipartUploadId) : undefined;
    return this.view(record, caller, received);
  }

  /** DELETE /uploads/{upload}: the parts discarded, the upload ABORTED. A stored upload is not undone. */
  async abort(uploadId: string, caller: UploadCaller): Promise<void> {
    const record = await this.own(uploadId, caller);
    if (record.state === 'ABORTED') return;
    if (!(await this.uploads.transition(uploadId, ['UPLOADING'], 'ABORTED'))) {
      throw new ConflictError(
        `the upload is ${(await this.uploads.get(uploadId))?.state ?? 'gone'}: only an upload in progress is aborted`,
      );
    }
    await this.transfer.abortMultipartUpload(record.objectKey, record.multipartUploadId);
  }

  /** POST /uploads/{upload}/complete: the Store rules applied to the joined object, answered like STOW-RS. */
  async complete(uploadId: string, caller: UploadCaller): Promise<UploadResult> {
    let record = await this.own(uploadId, caller);
    if (record.state === 'STORED' && record.result) return resultUnder(record.result, caller.baseUrl);
    if (record.state === 'ABORTED') throw new ConflictError('the upload was aborted; create another');
    if (record.state === 'STORING') {
      const since = Date.parse(record.storingSince ?? record.createdAt);
      const wait = Math.ceil((since + this.opts.storingRetrySeconds * 1000 - this.now()) / 1000);
      if (wait > 0) {
        const busy = new ConflictError('the upload is being stored; poll it or complete it again later');
        busy.headers['Retry-After'] = String(Math.min(wait, 60));
        throw busy;
      }
    }
    const parts = await this.transfer.listParts(record.objectKey, record.multipartUploadId);
    // Parts listed: the multipart upload is open, so every part must be there at its length.
    if (parts) this.checkParts(record, parts);
    const from = record.state;
    const since = new Date(this.now()).toISOString();
    if (!(await this.uploads.transition(uploadId, [from], 'STORING', { storingSince: since }))) {
      // Another complete moved it first: answer what it recorded, or that it is under way.
      record = await this.own(uploadId, caller);
      if (record.state === 'STORED' && record.result) return resultUnder(record.result, caller.baseUrl);
      throw new ConflictError(`the upload is ${record.state}; poll it`);
    }
    try {
      const result = await this.storeUpload(record, parts);
      await this.uploads.transition(uploadId, ['STORING'], 'STORED', { result });
      await this.blobs.delete([record.objectKey]).catch(() => undefined);
      return resultUnder(result, caller.baseUrl);
    } catch (error) {
      // A fault (storage unavailable), not the file: the next complete may run again at once.
      await this.uploads.transition(uploadId, ['STORING'], 'STORING', { storingSince: new Date(0).toISOString() }).catch(() => false);
      throw error;
    }
  }

  /** Joins the parts (unless an earlier run did), prepares the object from its stream, and stores it. */
  private async storeUpload(record: UploadRecord, parts: readonly UploadedPart[] | undefined): Promise<UploadResult> {
    if (parts) {
      const held = receivedParts(parts);
      const ordered = partSpans(record.size, record.partSize).map((span) => receivedPart(span, held)!);
      await this.transfer.completeMultipartUpload(record.objectKey, record.multipartUploadId, ordered);
    }
    const stream = await this.blobs.getStream(record.objectKey);
    if (!stream) {
      // Neither parts nor object: expired by the lifecycle rule, or never joined before they went.
      await this.uploads.transition(record.uploadId, ['STORING'], 'ABORTED');
      throw new GoneError("the upload's parts are gone (expired); create another upload");
    }
    const preparation = await this.prepare(stream, this.opts.bulkDataThreshold);
    // Recorded with relative Retrieve URLs, answered under each request's base URL (resultUnder).
    const target = { studyInstanceUID: record.studyInstanceUID, baseUrl: '' };
    const outcome = await this.store.storeObject(preparation, record.objectKey, target);
    const { status, response } = storeInstancesResponse([outcome], target);
    return { status, response };
  }

  /** 409 naming the parts missing or of the wrong length; the upload stays open. */
  private checkParts(record: UploadRecord, parts: readonly UploadedPart[]): void {
    const held = receivedParts(parts);
    const problems = partSpans(record.size, record.partSize).flatMap((span) => {
      if (receivedPart(span, held)) return [];
      const got = held.get(span.partNumber);
      const message = got
        ? `received ${got.size} bytes, expected ${span.length}`
        : `not received (bytes ${span.offset} to ${span.offset + span.length - 1})`;
      return [{ target: `part ${span.partNumber}`, message }];
    });
    if (problems.length === 0) return;
    throw new ConflictError(
      `${problems.length} parts are missing or of the wrong length; send them, then complete again`,
      problems.slice(0, 100),
    );
  }

  /** The record when it exists and `caller` created it; 404 otherwise, never saying which. */
  private async own(uploadId: string, caller: UploadCaller): Promise<UploadRecord> {
    const record = /^[A-Za-z0-9_-]{16,64}$/.test(uploadId) ? await this.uploads.get(uploadId) : undefined;
    if (!record || record.createdBy !== caller.principal) throw new NotFoundError('no such upload');
    return record;
  }

  private async view(record: UploadRecord, caller: UploadCaller, received: readonly UploadedPart[] | undefined): Promise<UploadView> {
    const urls = new Map<number, string>();
    if (record.state === 'UPLOADING') {
      const held = receivedParts(received);
      for (const span of partSpans(record.size, record.partSize)) {
        if (receivedPart(span, held)) continue;
        const url = await this.transfer.partUploadUrl(
          record.objectKey,
          record.multipartUploadId,
          span.partNumber,
          this.opts.urlExpirySeconds,
        );
        urls.set(span.partNumber, transferUrl(caller.baseUrl, url));
      }
    }
    return uploadView(record, caller.baseUrl, received, urls);
  }

  /** Where the upload is: the Location of the 201. */
  static location(baseUrl: string, uploadId: string): string {
    return absolute(baseUrl, uploadPath(uploadId));
  }
}
