import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MultipartError,
  newBoundary,
  parseMediaType,
  parseMultipartRelated,
  writeMultipartRelated,
  type OutgoingPart,
} from '../../../lambdas/dicom/multipart';

const text = (s: string) => Buffer.from(s, 'latin1');
const asText = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const all: Uint8Array[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return Buffer.concat(all);
}

describe('parseMediaType', () => {
  it('lower-cases the type and parameter names and unquotes values', () => {
    expect(parseMediaType('Multipart/Related; Type="application/dicom"; BOUNDARY=Ab-12')).toEqual({
      mediaType: 'multipart/related',
      params: { type: 'application/dicom', boundary: 'Ab-12' },
    });
  });
  it('keeps ; and = inside a quoted value and resolves backslash escapes', () => {
    expect(parseMediaType('multipart/related; boundary="a;b=c"; type="x\\"y"').params).toEqual({ boundary: 'a;b=c', type: 'x"y' });
  });
  it('tolerates white space and ignores parameters without a value', () => {
    expect(parseMediaType(' application/dicom ;  transfer-syntax = 1.2.840.10008.1.2.1 ; q')).toEqual({
      mediaType: 'application/dicom',
      params: { 'transfer-syntax': '1.2.840.10008.1.2.1' },
    });
  });
  it('never throws on malformed input', () => {
    fc.assert(
      fc.property(fc.string(), (header) => {
        const parsed = parseMediaType(header);
        expect(typeof parsed.mediaType).toBe('string');
      }),
      { seed: 7, numRuns: 500 },
    );
  });
});

describe('parseMultipartRelated (RFC 2046 5.1.1)', () => {
  it('splits parts, ignoring the preamble and the epilogue', () => {
    const body = text(
      'This is the preamble.\r\n' +
        '--b1\r\nContent-Type: application/dicom\r\nContent-Location: /one\r\n\r\nFIRST\r\n' +
        '--b1 \t\r\nContent-Type: application/dicom\r\n\r\nSECOND\r\nwith a line\r\n' +
        '--b1--\r\nThis is the epilogue. --b1\r\n',
    );
    const parts = parseMultipartRelated(body, 'b1');
    expect(parts.map((p) => p.headers)).toEqual([
      { 'content-type': 'application/dicom', 'content-location': '/one' },
      { 'content-type': 'application/dicom' },
    ]);
    expect(parts.map((p) => asText(p.body))).toEqual(['FIRST', 'SECOND\r\nwith a line']);
  });

  it('returns part bodies as views of the request body (no copy)', () => {
    const body = text('--b\r\nContent-Type: application/dicom\r\n\r\nDATA\r\n--b--');
    const [part] = parseMultipartRelated(body, 'b');
    expect(part!.body.buffer).toBe(body.buffer);
  });

  it('takes the boundary from a quoted media type parameter', () => {
    const boundary = parseMediaType('multipart/related; type="application/dicom"; boundary="simple boundary:="').params.boundary!;
    const body = text(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\nX\r\n--${boundary}--`);
    expect(parseMultipartRelated(body, boundary).map((p) => asText(p.body))).toEqual(['X']);
  });

  it('does not end a part at a boundary-like string that is not a delimiter line', () => {
    const body = text('--b\r\nContent-Type: text/plain\r\n\r\nline\r\n--bx is not a boundary\r\n--b--');
    expect(parseMultipartRelated(body, 'b').map((p) => asText(p.body))).toEqual(['line\r\n--bx is not a boundary']);
  });

  it('accepts a part without headers and an empty part', () => {
    const parts = parseMultipartRelated(text('--b\r\n\r\nbody only\r\n--b\r\n\r\n--b--'), 'b');
    expect(parts.map((p) => [p.headers, asText(p.body)])).toEqual([
      [{}, 'body only'],
      [{}, ''],
    ]);
  });

  it('accepts a body with no part at all', () => {
    expect(parseMultipartRelated(text('--b--\r\n'), 'b')).toEqual([]);
  });

  it('refuses a body whose boundary is not the declared one', () => {
    expect(() => parseMultipartRelated(text('--other\r\n\r\nX\r\n--other--'), 'b')).toThrow(MultipartError);
  });

  it('refuses a body without the close delimiter', () => {
    expect(() => parseMultipartRelated(text('--b\r\nContent-Type: application/dicom\r\n\r\nX\r\n--b\r\n\r\nY'), 'b')).toThrow(/closing delimiter/);
    expect(() => parseMultipartRelated(text('--b\r\nContent-Type: application/dicom\r\n\r\nX'), 'b')).toThrow(MultipartError);
  });

  it('refuses a part whose headers never end', () => {
    expect(() => parseMultipartRelated(text('--b\r\nContent-Type: application/dicom\r\nX\r\n--b--'), 'b')).toThrow(/blank line/);
  });

  it('refuses an empty or over-long boundary', () => {
    expect(() => parseMultipartRelated(text('----\r\n'), '')).toThrow(MultipartError);
    expect(() => parseMultipartRelated(text('--b--'), 'b'.repeat(71))).toThrow(MultipartError);
  });

  it('never throws anything but MultipartError on arbitrary bodies', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('--b', '\r\n', '--', 'b', 'x', ': ', '\r\n\r\n', 'Content-Type'), { maxLength: 30 }), (pieces) => {
        try {
          parseMultipartRelated(text(pieces.join('')), 'b');
        } catch (error) {
          expect(error).toBeInstanceOf(MultipartError);
        }
      }),
      { seed: 11, numRuns: 2000 },
    );
  });
});

describe('writeMultipartRelated', () => {
  it('writes what parseMultipartRelated reads back, from byte arrays and streamed chunks', async () => {
    const boundary = newBoundary();
    async function* chunks() {
      yield text('stream');
      yield text('ed\r\n--');
      yield text(' body');
    }
    const parts: OutgoingPart[] = [
      { contentType: 'application/dicom', headers: { 'Content-Location': '/studies/1' }, body: Uint8Array.from([0, 1, 2, 13, 10, 255]) },
      { contentType: 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1', body: chunks() },
      { contentType: 'application/dicom', body: new Uint8Array() },
    ];
    const body = await collect(writeMultipartRelated(parts, boundary));
    const back = parseMultipartRelated(body, boundary);
    expect(back.map((p) => p.headers)).toEqual([
      { 'content-type': 'application/dicom', 'content-location': '/studies/1' },
      { 'content-type': 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1' },
      { 'content-type': 'application/dicom' },
    ]);
    expect(back.map((p) => Buffer.from(p.body))).toEqual([Buffer.from([0, 1, 2, 13, 10, 255]), text('streamed\r\n-- body'), Buffer.alloc(0)]);
  });

  it('round-trips arbitrary binary parts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 5 }), async (bodies) => {
        const boundary = newBoundary();
        const written = await collect(writeMultipartRelated(bodies.map((body) => ({ contentType: 'application/dicom', body })), boundary));
        expect(parseMultipartRelated(written, boundary).map((p) => Buffer.from(p.body))).toEqual(bodies.map((b) => Buffer.from(b)));
      }),
      { seed: 13, numRuns: 200 },
    );
  });

  it('consumes parts lazily, one at a time', async () => {
    let produced = 0;
    function* parts(): Iterable<OutgoingPart> {
      for (let i = 0; i < 3; i++) {
        produced++;
        yield { contentType: 'application/dicom', body: text(`part ${i}`) };
      }
    }
    const iterator = writeMultipartRelated(parts(), 'b')[Symbol.asyncIterator]();
    await iterator.next();
    expect(produced).toBe(1);
  });

  it('refuses a header value with a line break', async () => {
    const parts = [{ contentType: 'application/dicom\r\nX-Injected: 1', body: new Uint8Array() }];
    await expect(collect(writeMultipartRelated(parts, 'b'))).rejects.toThrow(MultipartError);
  });

  it('makes distinct boundaries of at most 70 characters', () => {
    const boundaries = new Set(Array.from({ length: 50 }, newBoundary));
    expect(boundaries.size).toBe(50);
    for (const boundary of boundaries) expect(boundary.length).toBeLessThanOrEqual(70);
  });
});
