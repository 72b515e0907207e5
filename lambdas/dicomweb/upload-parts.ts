/**
 * The parts of an upload (docs/uploads.md) and the Upload object the resources answer: pure
 * functions of the record, the parts received and the part URLs.
 */
import type { DicomJson } from '../dicom/json';
import type { UploadedPart, UploadRecord } from '../storage/ports';
import { Tag } from '../dicom/tags';
import { absolute } from './uris';

const MiB = 1024 * 1024;
/** The smallest part the archive asks for (S3 needs 5 MiB for every part but the last). */
export const MIN_PART_BYTES = 16 * MiB;
/** S3's most parts per multipart upload. */
export const MAX_PARTS = 10_000;

/** max(16 MiB, size / 10,000 rounded up to a whole MiB): at most 10,000 parts. */
export function partSizeFor(size: number): number {
  return Math.max(MIN_PART_BYTES, Math.ceil(size / MAX_PARTS / MiB) * MiB);
}

export interface PartSpan {
  readonly partNumber: number;
  readonly offset: number;
  readonly length: number;
}

/** The byte spans of an upload's parts, in order. */
export function partSpans(size: number, partSize: number): PartSpan[] {
  const spans: PartSpan[] = [];
  for (let offset = 0, n = 1; offset < size; offset += partSize, n++)
    spans.push({ partNumber: n, offset, length: Math.min(partSize, size - offset) });
  return spans;
}

/** The parts the store holds, by part number: looked up once per span (up to S3's 10,000 parts). */
export type ReceivedParts = ReadonlyMap<number, UploadedPart>;

export function receivedParts(received: readonly UploadedPart[] | undefined): ReceivedParts {
  return new Map((received ?? []).map((p) => [p.partNumber, p]));
}

/** A part counts as received when the store holds it at its span's length. */
export function receivedPart(span: PartSpan, received: ReceivedParts): UploadedPart | undefined {
  const part = received.get(span.partNumber);
  return part?.size === span.length ? part : undefined;
}

export interface UploadPartView extends PartSpan {
  readonly received: boolean;
  readonly url?: string;
}

/** The Upload object (docs/uploads.md). */
export interface UploadView {
  readonly uploadId: string;
  readonly state: UploadRecord['state'];
  readonly size: number;
  readonly partSize: number;
  readonly expiresAt: string;
  readonly studyInstanceUID?: string;
  readonly parts: readonly UploadPartView[];
  readonly complete: string;
  readonly result?: { readonly status: number; readonly response: DicomJson };
}

export function uploadPath(uploadId: string): string {
  return `/uploads/${encodeURIComponent(uploadId)}`;
}

export function uploadView(
  record: UploadRecord,
  baseUrl: string,
  received: readonly UploadedPart[] | undefined,
  urls: ReadonlyMap<number, string>,
): UploadView {
  const done = record.state !== 'UPLOADING';
  const held = receivedParts(received);
  return {
    uploadId: record.uploadId,
    state: record.state,
    size: record.size,
    partSize: record.partSize,
    expiresAt: record.expiresAt,
    ...(record.studyInstanceUID !== undefined && { studyInstanceUID: record.studyInstanceUID }),
    parts: partSpans(record.size, record.partSize).map((span) => {
      const url = urls.get(span.partNumber);
      return { ...span, received: done || receivedPart(span, held) !== undefined, ...(url !== undefined && { url }) };
    }),
    complete: absolute(baseUrl, `${uploadPath(record.uploadId)}/complete`),
    ...(record.result && { result: resultUnder(record.result, baseUrl) }),
  };
}

/**
 * A recorded Store answer as the asking client reaches the archive: its Retrieve URLs are recorded
 * relative (the path alone), since a later poll may come through another proxy or port than the
 * complete that stored it, and are made absolute under each request's base URL. URLs recorded
 * absolute (by an earlier version) are answered as they are.
 */
export function resultUnder<R extends { readonly response: DicomJson }>(result: R, baseUrl: string): R {
  const under = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(under);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => {
        if (key !== Tag.RetrieveURL) return [key, under(v)];
        const element = v as { vr: string; Value?: unknown[] };
        const urls = element.Value?.map((url) => (typeof url === 'string' && url.startsWith('/') ? absolute(baseUrl, url) : url));
        return [key, { ...element, ...(urls && { Value: urls }) }];
      }),
    );
  };
  return { ...result, response: under(result.response) as DicomJson };
}
