/**
 * How a retrieved instance or value is represented (PS3.18 8.7): the transfer syntax it is returned
 * in, chosen from the acceptable ones (8.7.3.5.2, 8.7.3.3.2), and the multipart/related response
 * that carries it (8.7.3, 10.4.3).
 */
import { newBoundary, writeMultipartRelated, type OutgoingPart } from '../dicom/multipart';
import { isUncompressedTransferSyntax } from '../dicom/uid';
import type { InstanceObject } from '../storage/ports';
import { ANY_TRANSFER_SYNTAX, DEFAULT_TRANSFER_SYNTAX } from './accept';
import { NotAcceptableError } from './errors';
import { MediaType, type DicomwebResponse } from './messages';

/** How one stored instance is returned in a negotiated transfer syntax. */
export interface Representation {
  readonly transferSyntaxUID: string;
  /** Converted to Explicit VR Little Endian from another uncompressed transfer syntax. */
  readonly transcode: boolean;
}

/**
 * The first acceptable transfer syntax this instance can be returned in (PS3.18 8.7.3.5.2):
 * '*' means as stored; Explicit VR Little Endian is produced from any uncompressed transfer syntax;
 * any other UID only when the instance is stored in it. Compressed instances are never decompressed.
 */
export function representationOf(object: InstanceObject, syntaxes: readonly string[]): Representation | undefined {
  const stored = object.transferSyntaxUID;
  for (const ts of syntaxes) {
    if (ts === ANY_TRANSFER_SYNTAX || ts === stored) return { transferSyntaxUID: stored, transcode: false };
    if (ts === DEFAULT_TRANSFER_SYNTAX && isUncompressedTransferSyntax(stored)) {
      return { transferSyntaxUID: ts, transcode: true };
    }
  }
  return undefined;
}

/**
 * Transfer syntax of frames or bulkdata returned as application/octet-stream (PS3.18 8.7.3.3.2):
 * native values are little endian bytes (Explicit VR Little Endian); encapsulated pixel data keeps the
 * transfer syntax it is stored in, and is returned only when that one (or '*') is acceptable.
 */
export function octetStreamTransferSyntax(stored: string, isPixelData: boolean, syntaxes: readonly string[]): string {
  const produced = isPixelData && !isUncompressedTransferSyntax(stored) ? stored : DEFAULT_TRANSFER_SYNTAX;
  if (syntaxes.includes(ANY_TRANSFER_SYNTAX) || syntaxes.includes(produced)) return produced;
  throw new NotAcceptableError('the value cannot be returned in the requested transfer syntax', [
    { target: 'Accept', message: `available as transfer-syntax=${produced} (or ask for transfer-syntax=${ANY_TRANSFER_SYNTAX})` },
  ]);
}

/** A multipart/related response of `partType` parts; 206 with the Warning when only part of what was asked is returned. */
export function multipartResponse(
  partType: string,
  parts: Iterable<OutgoingPart> | AsyncIterable<OutgoingPart>,
  warning?: string,
): DicomwebResponse {
  const boundary = newBoundary();
  return {
    // 206: only part of what was asked can be returned (PS3.18 10.4.3, Table 10.4.3-1).
    status: warning ? 206 : 200,
    headers: {
      'Content-Type': `${MediaType.MultipartRelated}; type="${partType}"; boundary=${boundary}`,
      ...(warning && { Warning: warning }),
    },
    body: writeMultipartRelated(parts, boundary),
  };
}
