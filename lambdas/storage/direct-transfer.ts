/**
 * The DirectTransfer port (re-exported by ./ports.ts): object bytes moving between a client and object
 * storage without passing through a function, for instances above what one request or one streamed
 * response may carry (API Gateway and Lambda: about 4.65 MB in, 200 MB out; docs/uploads.md).
 * S3 in AWS (multipart uploads and presigned URLs); the local engine serves the same URLs itself,
 * signed with a secret of its DATA_DIR. Its contract suite is test/contract/direct-transfer.contract.ts.
 *
 * A URL may be relative (starting with `/`): it is then resolved against the request's public base
 * URL (lambdas/http/public-uri.ts), as the local engine's gateway serves it; S3's URLs are absolute.
 */

/** One part of a multipart upload as the store received it. */
export interface UploadedPart {
  /** 1 to 10,000 (S3's limit). */
  readonly partNumber: number;
  readonly size: number;
  /** The store's entity tag of the part, which completing the upload names. */
  readonly etag: string;
}

export interface DirectTransfer {
  /** Starts a multipart upload of the object at `key`; resolves with the store's upload id. */
  createMultipartUpload(key: string, contentType: string): Promise<string>;
  /**
   * A URL to which a client PUTs the bytes of one part, with no other credential, until it expires
   * after `expiresInSeconds`. The answer to that PUT carries the part's ETag.
   */
  partUploadUrl(key: string, uploadId: string, partNumber: number, expiresInSeconds: number): Promise<string>;
  /** The parts received so far, by part number; undefined when the upload is not in progress (never started, completed or aborted). */
  listParts(key: string, uploadId: string): Promise<readonly UploadedPart[] | undefined>;
  /** Joins the parts, in the order given, into the object at `key`; the upload is then over. */
  completeMultipartUpload(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<void>;
  /** Discards the upload and its parts; nothing when it is not in progress. */
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
  /**
   * A URL from which a client GETs the object at `key` (ranges included), with no other credential,
   * until it expires after `expiresInSeconds`; answered with `contentType` and, when given, a
   * Content-Disposition attachment naming `filename`.
   */
  downloadUrl(key: string, expiresInSeconds: number, opts: { readonly contentType: string; readonly filename?: string }): Promise<string>;
}
