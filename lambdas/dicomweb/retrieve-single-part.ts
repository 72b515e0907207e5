/**
 * Retrieve Instance as the single part application/dicom (PS3.18 10.4.4: it "specifies a single
 * encoded object and shall only be used for individual Instance Resources"), and what the Retrieve
 * Transaction advises when a response would exceed the response limit. Above the limit, an instance
 * asked as stored leaves by a 303 See Other to a short-lived URL of its object (the DirectTransfer
 * port: an S3 presigned URL, the local engine's signed URL), so its bytes never pass through the
 * function (docs/large-instances.md).
 */
import type { BlobStore, DirectTransfer, InstanceObject, Level, ReadLease } from '../storage/ports';
import { ANY_TRANSFER_SYNTAX } from './accept';
import { NotAcceptableError, PayloadTooLargeError } from './errors';
import { MediaType, type DicomwebResponse } from './messages';
import { representationOf } from './representation';
import { dcmjsCodec, readObject, streamObject } from './stored-objects';
import { absolute, instancePath, transferUrl } from './uris';

/** How long the URL of a redirect stays valid: long enough to start the download (ranges may resume it), short enough to stay private. */
export const REDIRECT_URL_SECONDS = 300;

/** The Prefer header's preference (RFC 7240 2, an extension value of `return`) asking for the redirect below the limit too. */
export const REDIRECT_PREFERENCE = 'return=redirect';

/** Whether a Prefer header field holds return=redirect (RFC 7240 2: comma-separated preferences, token or quoted value). */
export function prefersRedirect(prefer: string | undefined): boolean {
  return (prefer ?? '').split(',').some((p) => /^return\s*=\s*"?redirect"?\s*(;|$)/i.test(p.trim()));
}

/** What to ask for instead when a response would be too large (docs/large-instances.md). */
const LOWER_LEVEL_ADVICE: Readonly<Record<Level, string>> = {
  STUDY: 'retrieve the study series by series (/studies/{study}/series/{series})',
  SERIES: 'retrieve the series instance by instance (/studies/{study}/series/{series}/instances/{instance})',
  INSTANCE: 'retrieve the instance frame by frame (/studies/{study}/series/{series}/instances/{instance}/frames/{frames})',
};

export const FRAMES_ADVICE = 'retrieve fewer frames per request';

const SINGLE_PART_ADVICE = `or the instance whole as single part (Accept: ${MediaType.Dicom}; transfer-syntax=${ANY_TRANSFER_SYNTAX}), answered 303 See Other to its object`;

/** The advice of a 413 at this level; with `redirects`, the single part instance's redirect too (not for a study: series first). */
export function lowerLevelAdvice(level: Level, redirects: boolean): string {
  return redirects && level !== 'STUDY' ? `${LOWER_LEVEL_ADVICE[level]}, ${SINGLE_PART_ADVICE}` : LOWER_LEVEL_ADVICE[level];
}

export interface SinglePartContext {
  readonly blobs: BlobStore;
  readonly transfer: DirectTransfer | undefined;
  readonly limits: { readonly maxResponseBytes: number };
  /** The answer's lease (BlobStore ReadLease), its object read into the lease's memory. */
  readonly lease?: ReadLease;
}

interface InstanceUids {
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID: string;
  readonly sopInstanceUID: string;
}

/**
 * One instance as the single part application/dicom, its Part 10 bytes the body. Asked as stored
 * (transfer-syntax=* or its own syntax) and above the response limit, or below it when the client
 * prefers so (`Prefer: return=redirect`): 303 See Other to its object, `Cache-Control: no-store` (the
 * URL expires). Transcoded (Explicit VR Little Endian from another uncompressed syntax), or without a
 * DirectTransfer, an instance above the limit is 413 advising the as-stored redirect or its frames.
 */
export async function singlePartInstance(
  ctx: SinglePartContext,
  object: InstanceObject,
  uids: InstanceUids,
  syntaxes: readonly string[],
  req: { readonly baseUrl: string; readonly prefer?: string },
): Promise<DicomwebResponse> {
  const representation = representationOf(object, syntaxes);
  if (!representation) {
    throw new NotAcceptableError('the instance cannot be returned in the requested transfer syntax', [
      {
        target: 'Accept',
        message: `stored in ${object.transferSyntaxUID}; ask for transfer-syntax=${ANY_TRANSFER_SYNTAX} or ${object.transferSyntaxUID}`,
      },
    ]);
  }
  const { maxResponseBytes } = ctx.limits;
  const overLimit = object.size > maxResponseBytes;
  const preferred = prefersRedirect(req.prefer);
  if (ctx.transfer && !representation.transcode && (overLimit || preferred)) {
    const url = await ctx.transfer.downloadUrl(object.objectKey, REDIRECT_URL_SECONDS, {
      contentType: `${MediaType.Dicom}; transfer-syntax=${object.transferSyntaxUID}`,
      filename: `${uids.sopInstanceUID}.dcm`,
    });
    return {
      // RFC 9110 15.4.4: the answer is at another URI, retrieved with GET.
      status: 303,
      headers: {
        Location: transferUrl(req.baseUrl, url),
        'Cache-Control': 'no-store',
        ...(preferred && { 'Preference-Applied': REDIRECT_PREFERENCE }),
      },
    };
  }
  if (overLimit) {
    const advice =
      representation.transcode && ctx.transfer
        ? `ask for transfer-syntax=${ANY_TRANSFER_SYNTAX} (the instance as stored), answered 303 See Other to its object, or ${LOWER_LEVEL_ADVICE.INSTANCE}`
        : LOWER_LEVEL_ADVICE.INSTANCE;
    throw new PayloadTooLargeError(`the response would exceed ${maxResponseBytes} bytes`, [{ message: advice }]);
  }
  const body = representation.transcode
    ? (await dcmjsCodec()).toExplicitVRLittleEndian(await readObject(ctx.blobs, object))
    : await streamObject(ctx.blobs, object, 0, ctx.lease);
  return {
    status: 200,
    headers: {
      'Content-Type': `${MediaType.Dicom}; transfer-syntax=${representation.transferSyntaxUID}`,
      'Content-Location': absolute(req.baseUrl, instancePath(uids.studyInstanceUID, uids.seriesInstanceUID, uids.sopInstanceUID)),
    },
    body,
  };
}
