/**
 * Packing instances into STOW-RS requests (PS3.18 10.5.1.2: multipart/related;
 * type="application/dicom") that each stay within the archive's request limit, and the bodies of
 * those requests.
 */
import { readFile } from 'node:fs/promises';

/** Content-Type of a Store request with this boundary. */
export function storeContentType(boundary: string): string {
  return `multipart/related; type="application/dicom"; boundary=${boundary}`;
}

const partHead = (boundary: string) => `--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`;
const closing = (boundary: string) => `--${boundary}--\r\n`;

/** Bytes a body adds around each part (its boundary line, header and trailing CRLF) and at its end. */
export function multipartOverhead(boundary: string): { readonly perPart: number; readonly closing: number } {
  return { perPart: Buffer.byteLength(partHead(boundary)) + 2, closing: Buffer.byteLength(closing(boundary)) };
}

export interface Sized {
  readonly size: number;
}

export interface Packing<T extends Sized> {
  /** Requests, each within the limit, in the order of the items. */
  readonly batches: T[][];
  /** Items whose request would exceed the limit even alone. */
  readonly tooLarge: T[];
}

/**
 * Packs items in order into requests of at most `maxRequestBytes` (body bytes) and `maxInstances`
 * parts: a request is closed when the next item does not fit. An item that does not fit an empty
 * request goes to `tooLarge`.
 */
export function packRequests<T extends Sized>(
  items: readonly T[],
  maxRequestBytes: number,
  boundary: string,
  maxInstances = Number.POSITIVE_INFINITY,
): Packing<T> {
  const { perPart, closing: end } = multipartOverhead(boundary);
  const batches: T[][] = [];
  const tooLarge: T[] = [];
  let current: T[] = [];
  let bytes = end;
  for (const item of items) {
    const cost = item.size + perPart;
    if (end + cost > maxRequestBytes) {
      tooLarge.push(item);
      continue;
    }
    if (current.length > 0 && (bytes + cost > maxRequestBytes || current.length >= maxInstances)) {
      batches.push(current);
      current = [];
      bytes = end;
    }
    current.push(item);
    bytes += cost;
  }
  if (current.length > 0) batches.push(current);
  return { batches, tooLarge };
}

/** The body of a Store request holding these files, read now. */
export async function storeBody(files: readonly { readonly path: string }[], boundary: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (const file of files) chunks.push(Buffer.from(partHead(boundary)), await readFile(file.path), Buffer.from('\r\n'));
  chunks.push(Buffer.from(closing(boundary)));
  return Buffer.concat(chunks);
}
