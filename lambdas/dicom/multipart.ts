/**
 * multipart/related (RFC 2387) bodies of STOW-RS requests and WADO-RS responses (PS3.18 8.6.1.2),
 * framed as RFC 2046 5.1.1 says, and media types with parameters (RFC 9110 8.3.1).
 */
import { randomBytes } from 'node:crypto';

/** The body is not a well-formed multipart body for the given boundary. */
export class MultipartError extends Error {}

export interface MediaTypeValue {
  readonly mediaType: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * 'multipart/related; type="application/dicom"; boundary=x' -> { mediaType: 'multipart/related',
 * params: { type: 'application/dicom', boundary: 'x' } }. Type and parameter names are lower-cased,
 * quoted values unquoted (RFC 9110 5.6.4); a parameter without '=' is ignored. Never throws: a
 * malformed header yields a media type no caller supports.
 */
export function parseMediaType(header: string): MediaTypeValue {
  const semicolon = header.indexOf(';');
  const mediaType = (semicolon < 0 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  const params: Record<string, string> = {};
  let i = semicolon < 0 ? header.length : semicolon + 1;
  while (i < header.length) {
    const eq = header.indexOf('=', i);
    const nextSemicolon = header.indexOf(';', i);
    if (eq < 0 || (nextSemicolon >= 0 && nextSemicolon < eq)) {
      i = nextSemicolon < 0 ? header.length : nextSemicolon + 1;
      continue;
    }
    const name = header.slice(i, eq).trim().toLowerCase();
    let value = '';
    i = eq + 1;
    while (header[i] === ' ' || header[i] === '\t') i++;
    if (header[i] === '"') {
      // quoted-string: backslash escapes the next character
      for (i++; i < header.length && header[i] !== '"'; i++) value += header[i] === '\\' ? (header[++i] ?? '') : header[i];
      const end = header.indexOf(';', i);
      i = end < 0 ? header.length : end + 1;
    } else {
      const end = header.indexOf(';', i);
      value = header.slice(i, end < 0 ? header.length : end).trim();
      i = end < 0 ? header.length : end + 1;
    }
    if (name !== '' && !(name in params)) params[name] = value;
  }
  return { mediaType, params };
}

export interface MultipartPart {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

function isLinearWhiteSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09;
}

/**
 * If a boundary line ('--boundary' already matched at `pos`) ends here, returns where the next part
 * starts (after transport padding and CRLF) or 'close' for a close delimiter; undefined when the match
 * is not a boundary line (RFC 2046 5.1.1: dash-boundary transport-padding CRLF, or dash-boundary '--').
 */
function afterBoundary(bytes: Uint8Array, pos: number): number | 'close' | undefined {
  if (bytes[pos] === DASH && bytes[pos + 1] === DASH) return 'close';
  while (isLinearWhiteSpace(bytes[pos])) pos++;
  return bytes[pos] === CR && bytes[pos + 1] === LF ? pos + 2 : undefined;
}

function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  // RFC 5322 2.2.3: a line starting with white space continues the previous header.
  for (const line of text.replace(/\r\n(?=[ \t])/g, '').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError('malformed part header');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function parsePart(bytes: Uint8Array, start: number, end: number): MultipartPart {
  const part = bytes.subarray(start, end);
  // A part may have no header at all: its body then follows the boundary line's CRLF directly.
  if (part.length === 0) return { headers: {}, body: part };
  if (part[0] === CR && part[1] === LF) return { headers: {}, body: part.subarray(2) };
  const headerEnd = Buffer.from(part.buffer, part.byteOffset, part.length).indexOf(HEADER_END);
  if (headerEnd < 0) throw new MultipartError('part without the blank line that ends its headers');
  const headers = parseHeaders(Buffer.from(part.buffer, part.byteOffset, headerEnd).toString('latin1'));
  return { headers, body: part.subarray(headerEnd + HEADER_END.length) };
}

/**
 * Splits a complete multipart body; part bodies are subarrays (no copy). Throws MultipartError for a
 * missing opening boundary, a missing closing delimiter, or a part without the CRLFCRLF header end.
 * The preamble and the epilogue are ignored (RFC 2046 5.1.1).
 */
export function parseMultipartRelated(body: Uint8Array, boundary: string): MultipartPart[] {
  if (boundary === '' || boundary.length > 70) throw new MultipartError('invalid boundary');
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.length);
  const dashBoundary = Buffer.from(`--${boundary}`, 'latin1');
  const delimiter = Buffer.concat([CRLF, dashBoundary]);

  /** The next delimiter (CRLF--boundary) at or after `from` that ends a boundary line. */
  const nextDelimiter = (from: number): { at: number; next: number | 'close' } | undefined => {
    for (let at = buffer.indexOf(delimiter, from); at >= 0; at = buffer.indexOf(delimiter, at + 1)) {
      const next = afterBoundary(body, at + delimiter.length);
      if (next !== undefined) return { at, next };
    }
    return undefined;
  };

  // The opening boundary starts the body or follows a preamble ending in CRLF.
  let next: number | 'close' | undefined = buffer.subarray(0, dashBoundary.length).equals(dashBoundary)
    ? afterBoundary(body, dashBoundary.length)
    : undefined;
  if (next === undefined) next = nextDelimiter(0)?.next;
  if (next === undefined) throw new MultipartError('missing opening boundary');

  const parts: MultipartPart[] = [];
  while (next !== 'close') {
    const found = nextDelimiter(next);
    if (found === undefined) throw new MultipartError('missing closing delimiter');
    parts.push(parsePart(body, next, found.at));
    next = found.next;
  }
  return parts;
}

/** A boundary (RFC 2046 5.1.1: at most 70 characters) that no DICOM payload is expected to contain. */
export function newBoundary(): string {
  return `DICOMwebBoundary-${randomBytes(16).toString('hex')}`;
}

export interface OutgoingPart {
  readonly contentType: string;
  readonly headers?: Record<string, string>;
  readonly body: Uint8Array | AsyncIterable<Uint8Array>;
}

const encoder = new TextEncoder();

function headerLine(name: string, value: string): string {
  // A CR or LF would let a value inject headers or end the part's header block.
  if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new MultipartError(`header ${name.replace(/[\r\n]/g, ' ')} contains a line break`);
  return `${name}: ${value}\r\n`;
}

/** Streams parts as a multipart body; never buffers more than one part's chunk at a time. */
export async function* writeMultipartRelated(
  parts: AsyncIterable<OutgoingPart> | Iterable<OutgoingPart>,
  boundary: string,
): AsyncIterable<Uint8Array> {
  for await (const part of parts) {
    let head = `--${boundary}\r\n${headerLine('Content-Type', part.contentType)}`;
    for (const [name, value] of Object.entries(part.headers ?? {})) head += headerLine(name, value);
    yield encoder.encode(`${head}\r\n`);
    if (part.body instanceof Uint8Array) yield part.body;
    else for await (const chunk of part.body) yield chunk;
    yield CRLF;
  }
  yield encoder.encode(`--${boundary}--\r\n`);
}
