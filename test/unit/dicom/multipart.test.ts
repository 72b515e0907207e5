import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MultipartError,
  MultipartReader,
  newBoundary,
  parseMediaType,
  parseMultipartRelated,
  readMultipartRelated,
  writeMultipartRelated,
  type MultipartPart,
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
    expect(() => parseMultipartRelated(text('--b\r\nContent-Type: application/dicom\r\n\r\nX\r\n--b\r\n\r\nY'), 'b')).toThrow(
      /closing delimiter/,
    );
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
      fc.property(
        fc.array(fc.constantFrom('--b', '\r\n', '--', 'b', 'x', ': ', '\r\n\r\n', 'Content-Type'), { maxLength: 30 }),
        (pieces) => {
          try {
            parseMultipartRelated(text(pieces.join('')), 'b');
          } catch (error) {
            expect(error).toBeInstanceOf(MultipartError);
          }
        },
      ),
      { seed: 11, numRuns: 2000 },
    );
  });
});

/** What a reader made of a body: the parts (headers and body bytes in hex) or the MultipartError message. */
type Outcome = { parts: [Record<string, string>, string][] } | { error: string };

function outcomeOf(read: () => Iterable<MultipartPart>): Outcome {
  try {
    return { parts: [...read()].map((p) => [p.headers, Buffer.from(p.body).toString('hex')]) };
  } catch (error) {
    if (!(error instanceof MultipartError)) throw error;
    return { error: error.message };
  }
}

/** The body pushed in the given chunks (cut at `cuts`), parts collected until the end or an error. */
function* chunked(
  body: Uint8Array,
  cuts: readonly number[],
  boundary: string,
  allocate?: (size: number) => Uint8Array | undefined,
): Iterable<MultipartPart> {
  const reader = new MultipartReader(boundary, allocate);
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    yield* reader.push(body.subarray(from, Math.max(from, cut)));
    from = Math.max(from, cut);
  }
  yield* reader.push(body.subarray(from));
  yield* reader.end();
}

describe('MultipartReader: the body in chunks split anywhere', () => {
  const pieces = fc.array(
    fc.constantFrom(
      '--b',
      '--b--',
      '\r\n',
      '--',
      'b',
      'x',
      ' ',
      '\t',
      ': ',
      '\r\n\r\n',
      '\r',
      'Content-Type',
      'Content-Type: application/dicom',
    ),
    { maxLength: 40 },
  );
  const written = fc
    .record({
      bodies: fc.array(fc.uint8Array({ maxLength: 120 }), { maxLength: 4 }),
      preamble: fc.constantFrom('', 'preamble\r\n', '\r\n', '--b is not here\r\n'),
      padding: fc.constantFrom('', ' ', ' \t '),
      epilogue: fc.constantFrom('', '\r\n', 'epilogue --b\r\n'),
      truncate: fc.option(fc.nat(), { nil: undefined }),
    })
    .map(({ bodies, preamble, padding, epilogue, truncate }) => {
      const chunks = [text(preamble)];
      for (const body of bodies)
        chunks.push(text(`--b${padding}\r\nContent-Type: application/dicom\r\n\r\n`), Buffer.from(body), text('\r\n'));
      chunks.push(text(`--b--${epilogue}`));
      const whole = Buffer.concat(chunks);
      // A malformed tail: the body cut short anywhere.
      return truncate === undefined ? whole : whole.subarray(0, truncate % (whole.length + 1));
    });
  const body = fc.oneof(
    pieces.map((p) => text(p.join(''))),
    written,
  );

  it('finds the parts, or the error, that the whole-buffer parser finds (arbitrary splits, fixed seed)', () => {
    fc.assert(
      fc.property(body, fc.array(fc.nat(), { maxLength: 12 }), (bytes, cuts) => {
        const whole = outcomeOf(() => parseMultipartRelated(bytes, 'b'));
        const split = outcomeOf(() =>
          chunked(
            bytes,
            cuts.map((c) => c % (bytes.length + 1)),
            'b',
          ),
        );
        expect(split).toEqual(whole);
      }),
      { seed: 17, numRuns: 3000 },
    );
  });

  it('assembles each part in the memory `allocate` lends (larger, holding other bytes), or as without when it lends none', () => {
    fc.assert(
      fc.property(body, fc.array(fc.nat(), { maxLength: 12 }), fc.boolean(), (bytes, cuts, lends) => {
        const whole = outcomeOf(() => parseMultipartRelated(bytes, 'b'));
        const lent: Uint8Array[] = [];
        const allocate = (size: number) => {
          if (!lends) return undefined;
          const memory = new Uint8Array(size + 7).fill(0xee);
          lent.push(memory);
          return memory;
        };
        const split = outcomeOf(() =>
          chunked(
            bytes,
            cuts.map((c) => c % (bytes.length + 1)),
            'b',
            allocate,
          ),
        );
        expect(split).toEqual(whole);
        if ('parts' in whole && lends) expect(lent.length).toBe(whole.parts.length);
      }),
      { seed: 23, numRuns: 2000 },
    );
    // A part's body is a view of the memory lent for it.
    const memory = new Uint8Array(64);
    const [part] = [...chunked(text('--b\r\n\r\nONE\r\n--b--'), [6], 'b', () => memory)];
    expect(part!.body.buffer).toBe(memory.buffer);
    expect(asText(part!.body)).toBe('ONE');
  });

  it('finds the same parts when the body comes a byte at a time, or cut in two anywhere (delimiters split across chunks)', () => {
    const bytes = text('pre\r\n--b \r\nContent-Type: application/dicom\r\n\r\none\r\n--bx\r\n--b\r\n\r\ntwo\r\n--b--\r\nafter');
    const whole = outcomeOf(() => parseMultipartRelated(bytes, 'b'));
    expect(whole).toEqual({
      parts: [
        [{ 'content-type': 'application/dicom' }, text('one\r\n--bx').toString('hex')],
        [{}, text('two').toString('hex')],
      ],
    });
    expect(
      outcomeOf(() =>
        chunked(
          bytes,
          Array.from({ length: bytes.length }, (_, i) => i),
          'b',
        ),
      ),
    ).toEqual(whole);
    for (let cut = 0; cut <= bytes.length; cut++) expect(outcomeOf(() => chunked(bytes, [cut], 'b'))).toEqual(whole);
  });

  it('hands out the parts before a malformed tail, then the error', () => {
    const good = '--b\r\nContent-Type: application/dicom\r\n\r\nONE\r\n';
    const cases: [string, RegExp][] = [
      [`${good}--b\r\nContent-Type: application/dicom\r\n\r\nTWO`, /closing delimiter/],
      [`${good}--b\r\nContent-Type: application/dicom\r\nTWO\r\n--b--`, /blank line/],
      [`${good}--b\r\nno colon here\r\n\r\nTWO\r\n--b--`, /malformed part header/],
    ];
    for (const [body, error] of cases) {
      const seen: string[] = [];
      expect(() => {
        for (const part of chunked(text(body), [7, 30, 50], 'b')) seen.push(asText(part.body));
      }).toThrow(error);
      expect(seen).toEqual(['ONE']);
    }
  });

  it('refuses a body that never opens only at its end, keeping no preamble meanwhile', () => {
    const reader = new MultipartReader('b');
    for (let i = 0; i < 100; i++) expect([...reader.push(text('x'.repeat(10_000)))]).toEqual([]);
    expect(() => [...reader.end()]).toThrow(/opening boundary/);
  });
});

describe('readMultipartRelated', () => {
  it('reads a chunk only when the consumer asks for the next part', async () => {
    const boundary = 'b';
    const read: number[] = [];
    function* chunks() {
      for (let i = 0; i < 3; i++) {
        read.push(i);
        yield text(`--b\r\n\r\npart ${i}\r\n`);
      }
      yield text('--b--');
    }
    const parts = readMultipartRelated(chunks(), boundary);
    // The first part ends only with the second chunk's delimiter.
    expect(asText((await parts.next()).value!.body)).toBe('part 0');
    expect(read).toEqual([0, 1]);
    expect(asText((await parts.next()).value!.body)).toBe('part 1');
    expect(read).toEqual([0, 1, 2]);
  });

  it('yields the parts of an async chunk source and rejects at a malformed tail', async () => {
    async function* chunks() {
      yield text('--b\r\n\r\nA\r\n--');
      yield text('b\r\n\r\nB');
    }
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const part of readMultipartRelated(chunks(), 'b')) seen.push(asText(part.body));
      })(),
    ).rejects.toThrow(/closing delimiter/);
    expect(seen).toEqual(['A']);
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
    expect(back.map((p) => Buffer.from(p.body))).toEqual([
      Buffer.from([0, 1, 2, 13, 10, 255]),
      text('streamed\r\n-- body'),
      Buffer.alloc(0),
    ]);
  });

  it('round-trips arbitrary binary parts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 5 }), async (bodies) => {
        const boundary = newBoundary();
        const written = await collect(
          writeMultipartRelated(
            bodies.map((body) => ({ contentType: 'application/dicom', body })),
            boundary,
          ),
        );
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
