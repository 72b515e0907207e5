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
const EMPTY = Buffer.alloc(0);

function isLinearWhiteSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09;
}

/**
 * If a boundary line ('--boundary' already matched at `pos`) ends here, returns where the next part
 * starts (after transport padding and CRLF) or 'close' for a close delimiter; undefined when the match
 * is not a boundary line (RFC 2046 5.1.1: dash-boundary transport-padding CRLF, or dash-boundary '--');
 * 'more' when the bytes end before telling, unless they are all there is (`final`).
 */
function afterBoundary(bytes: Uint8Array, pos: number, final: boolean): number | 'close' | 'more' | undefined {
  const more = final ? undefined : 'more';
  if (bytes[pos] === DASH) {
    if (pos + 1 >= bytes.length) return more;
    return bytes[pos + 1] === DASH ? 'close' : undefined;
  }
  while (isLinearWhiteSpace(bytes[pos])) pos++;
  if (pos >= bytes.length) return more;
  if (bytes[pos] !== CR) return undefined;
  if (pos + 1 >= bytes.length) return more;
  return bytes[pos + 1] === LF ? pos + 2 : undefined;
}

/** The header lines of a part, names in lower case (RFC 2046 5.1.1 body-part headers). */
export function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  // RFC 5322 2.2.3: a line starting with white space continues the previous header.
  for (const line of text.replace(/\r\n(?=[ \t])/g, '').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError('malformed part header');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function parsePart(part: Buffer): MultipartPart {
  // A part may have no header at all: its body then follows the boundary line's CRLF directly.
  if (part.length === 0) return { headers: {}, body: part };
  if (part[0] === CR && part[1] === LF) return { headers: {}, body: part.subarray(2) };
  const headerEnd = part.indexOf(HEADER_END);
  if (headerEnd < 0) throw new MultipartError('part without the blank line that ends its headers');
  const headers = parseHeaders(part.subarray(0, headerEnd).toString('latin1'));
  return { headers, body: part.subarray(headerEnd + HEADER_END.length) };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * An incremental multipart/related parser: takes the body in chunks split anywhere (`push`) and hands
 * out each part as soon as its closing delimiter has arrived, holding no more than the part being read
 * and a delimiter's length of lookahead; the preamble and the epilogue are skipped, not kept
 * (RFC 2046 5.1.1). `end` says the body is over. The parts are those parseMultipartRelated finds in
 * the whole body, and the errors the same MultipartErrors, thrown by the `push` or `end` that reveals
 * them: a part whose headers do not end, as soon as the part is complete; a missing opening boundary
 * or closing delimiter, at the end.
 */
export class MultipartReader {
  private readonly dashBoundary: Buffer;
  private readonly delimiter: Buffer;
  private state: 'start' | 'preamble' | 'part' | 'epilogue' = 'start';
  /** Bytes received and not yet settled: where a delimiter may still start. */
  private window: Buffer = EMPTY;
  /** Bytes of the current part that come before any delimiter. */
  private held: Buffer[] = [];
  private ended = false;

  /**
   * `allocate`: memory of at least the size asked for, where each part is assembled (a copy, also of
   * a part that arrived in one chunk), or undefined to assemble it as without: in one chunk it is a
   * view of that chunk, else a new buffer.
   */
  constructor(
    boundary: string,
    private readonly allocate?: (size: number) => Uint8Array | undefined,
  ) {
    if (boundary === '' || boundary.length > 70) throw new MultipartError('invalid boundary');
    this.dashBoundary = Buffer.from(`--${boundary}`, 'latin1');
    this.delimiter = Buffer.concat([CRLF, this.dashBoundary]);
  }

  /**
   * Reads the next chunk of the body and yields the parts it completes, one by one, then throws if
   * one of them is malformed. Iterate each result to its end before the next push.
   */
  *push(chunk: Uint8Array): Generator<MultipartPart, void, undefined> {
    if (this.ended) throw new Error('MultipartReader: push after end');
    if (chunk.length === 0 || this.state === 'epilogue') return;
    // What is left of the window is a few bytes at most (a possible delimiter start) unless a boundary
    // line is still arriving: copying it is cheap.
    this.window = this.window.length === 0 ? asBuffer(chunk) : Buffer.concat([this.window, chunk]);
    yield* this.scan(false);
  }

  /** The body is complete: yields the parts still pending, then throws if the body is not well formed. */
  *end(): Generator<MultipartPart, void, undefined> {
    if (this.ended) return;
    yield* this.scan(true);
    this.ended = true;
    if (this.state === 'start' || this.state === 'preamble') throw new MultipartError('missing opening boundary');
    if (this.state === 'part') throw new MultipartError('missing closing delimiter');
  }

  private *scan(final: boolean): Generator<MultipartPart, void, undefined> {
    if (this.state === 'start' && !this.opening(final)) return;
    let from = 0;
    while (this.state === 'preamble' || this.state === 'part') {
      const at = this.window.indexOf(this.delimiter, from);
      if (at < 0) {
        this.settle(this.window.length - this.partialDelimiterLength());
        return;
      }
      const next = afterBoundary(this.window, at + this.delimiter.length, final);
      if (next === undefined) {
        from = at + 1; // '--boundary' followed by other text is part of the content
        continue;
      }
      if (next === 'more') {
        this.settle(at);
        return;
      }
      const part = this.state === 'part' ? parsePart(this.take(at)) : undefined;
      this.window = next === 'close' ? EMPTY : this.window.subarray(next);
      this.state = next === 'close' ? 'epilogue' : 'part';
      from = 0;
      if (part) yield part;
    }
    this.window = EMPTY;
  }

  /**
   * The opening boundary may start the body without a CRLF before it; otherwise it follows a preamble
   * ending in CRLF, which the delimiter search finds. False while too few bytes have come to tell.
   */
  private opening(final: boolean): boolean {
    const { window, dashBoundary } = this;
    const n = Math.min(window.length, dashBoundary.length);
    if (!window.subarray(0, n).equals(dashBoundary.subarray(0, n))) {
      this.state = 'preamble';
      return true;
    }
    if (n < dashBoundary.length) {
      if (!final) return false;
      this.state = 'preamble';
      return true;
    }
    const next = afterBoundary(window, dashBoundary.length, final);
    if (next === 'more') return false;
    if (next === undefined) this.state = 'preamble';
    else if (next === 'close') this.state = 'epilogue';
    else {
      this.state = 'part';
      this.window = window.subarray(next);
    }
    return true;
  }

  /**
   * How many bytes at the end of the window could begin a delimiter that the next chunk completes: the
   * longest suffix that is a prefix of the delimiter (usually none, as the delimiter starts with CR).
   */
  private partialDelimiterLength(): number {
    const { window, delimiter } = this;
    for (let start = Math.max(0, window.length - delimiter.length + 1); start < window.length; start++) {
      if (window[start] !== CR) continue;
      const length = window.length - start;
      if (window.subarray(start).equals(delimiter.subarray(0, length))) return length;
    }
    return 0;
  }

  /** Moves the first `n` bytes of the window into the current part (or drops them in the preamble). */
  private settle(n: number): void {
    if (n <= 0) return;
    if (this.state === 'part') this.held.push(this.window.subarray(0, n));
    this.window = this.window.subarray(n);
  }

  /** The current part: what is held plus the first `n` bytes of the window. */
  private take(n: number): Buffer {
    const last = this.window.subarray(0, n);
    const held = this.held;
    this.held = [];
    const size = held.reduce((sum, chunk) => sum + chunk.length, n);
    const into = this.allocate?.(size);
    if (into) {
      let at = 0;
      for (const chunk of [...held, last]) {
        into.set(chunk, at);
        at += chunk.length;
      }
      return asBuffer(into.subarray(0, size));
    }
    return held.length === 0 ? last : Buffer.concat([...held, last]);
  }
}

/**
 * Splits a complete multipart body; part bodies are subarrays (no copy). Throws MultipartError for a
 * missing opening boundary, a missing closing delimiter, or a part without the CRLFCRLF header end.
 * The preamble and the epilogue are ignored (RFC 2046 5.1.1).
 */
export function parseMultipartRelated(body: Uint8Array, boundary: string): MultipartPart[] {
  const reader = new MultipartReader(boundary);
  return [...reader.push(body), ...reader.end()];
}

/**
 * The parts of a multipart body read chunk by chunk (MultipartReader), one at a time: the next chunk
 * is read only when the consumer asks for the next part, so a slow consumer holds the body back.
 * `allocate`: see MultipartReader.
 */
export async function* readMultipartRelated(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  boundary: string,
  allocate?: (size: number) => Uint8Array | undefined,
): AsyncGenerator<MultipartPart, void, undefined> {
  const reader = new MultipartReader(boundary, allocate);
  for await (const chunk of chunks) yield* reader.push(chunk);
  yield* reader.end();
}

/** 128 random bits drawn once per process: the unpredictable part of every boundary. */
const BOUNDARY_TAG = randomBytes(16).toString('hex');
let boundaryCount = 0;

/**
 * A boundary (RFC 2046 5.1.1: at most 70 characters) that no DICOM payload is expected to contain:
 * the process's random tag and a counter, so that no two responses share one (a random draw per
 * response showed in profiles of small retrieves).
 */
export function newBoundary(): string {
  boundaryCount = (boundaryCount + 1) >>> 0;
  return `DICOMwebBoundary-${BOUNDARY_TAG}-${boundaryCount.toString(16)}`;
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
