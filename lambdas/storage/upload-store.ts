/**
 * The UploadStore port (re-exported by ./ports.ts): the uploads of the upload path for instances
 * above the request limit (docs/uploads.md). One record per upload: what the client declared, the
 * object storage's multipart upload behind it, and its state; once stored, the Store Instances
 * Response Module it answered, so that completing again or polling answers the same.
 * DynamoDB item UPLOAD#{uploadId} / #UPLOAD with a TTL in AWS, a row of SQLite on the local engine.
 */
import type { DicomJson } from '../dicom/json';

/**
 * UPLOADING: parts are being sent. STORING: completed by the client, the archive reads and indexes
 * the object. STORED: the Store rules ran; `result` holds their answer (stored, warned or failed).
 * ABORTED: abandoned by the client or expired.
 */
export type UploadState = 'UPLOADING' | 'STORING' | 'STORED' | 'ABORTED';

export interface UploadRecord {
  /** The archive's identifier of the upload (random, URL-safe). */
  readonly uploadId: string;
  /** Where the parts are joined (keys.ts uploadObjectKey). */
  readonly objectKey: string;
  /** The object storage's multipart upload id (DirectTransfer). */
  readonly multipartUploadId: string;
  /** Bytes the client declared it will send: the Part 10 file's size. */
  readonly size: number;
  /** Bytes of every part but the last. */
  readonly partSize: number;
  /** The study the upload was created under (POST /studies/{study}/uploads), checked like a STOW to it. */
  readonly studyInstanceUID?: string;
  /** Who created it (mechanism:principal, never a credential); only they may see, complete or abort it. */
  readonly createdBy: string;
  readonly state: UploadState;
  /** ISO 8601 UTC. */
  readonly createdAt: string;
  /** ISO 8601 UTC: after it an UPLOADING upload is abandoned, and the record may be removed. */
  readonly expiresAt: string;
  /** ISO 8601 UTC when STORING began: a Store cut short (a killed function) is run again after a while. */
  readonly storingSince?: string;
  /** STORED: the HTTP status and the Store Instances Response Module (PS3.18 10.5.3) of the Store. */
  readonly result?: { readonly status: number; readonly response: DicomJson };
}

export interface UploadStore {
  /** Records a new upload; AlreadyExistsError when its id is taken. */
  create(record: UploadRecord): Promise<void>;
  get(uploadId: string): Promise<UploadRecord | undefined>;
  /**
   * Moves the upload to `to`, setting `fields`, only when its state is one of `from` (a conditional
   * write): true when this call moved it, false when its state was another or it does not exist.
   */
  transition(
    uploadId: string,
    from: readonly UploadState[],
    to: UploadState,
    fields?: Partial<Pick<UploadRecord, 'storingSince' | 'result'>>,
  ): Promise<boolean>;
}
