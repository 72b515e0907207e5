/**
 * Reliability, bad input: property-based and mutation fuzzing (fast-check, fixed seeds) of what a
 * client controls, over HTTP against one embedded archive: multipart bodies, Part 10 files, attribute
 * values (as they travel through DICOM JSON metadata), query strings, UIDs in paths and Transaction
 * UIDs. Thousands of cases per run. Invariants: never a 5xx, the archive keeps answering, and nothing
 * is stored from a rejected part: at the end the archive holds exactly the instances it acknowledged
 * in a Referenced SOP Sequence.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransferSyntax } from '../../lambdas/dicom/uid';
import { makeInstance } from '../support/dicom-factory';
import { DICOM_JSON, stowBody, tempArchive } from '../support/http';
import { mutate, mutationsArb } from '../support/mutations';
import { startRecordingServer, type RecordingServer } from '../support/recording-server';

type Archive = Awaited<ReturnType<typeof tempArchive>>;
type Item = Record<string, { vr: string; Value?: unknown[] }>;

/** Fixed, so every run tries the same cases; FUZZ_SEED=<n> explores others (a failure prints its seed and path). */
const SEED = Number(process.env.FUZZ_SEED ?? 42);
const REFERENCED_SOP_SEQUENCE = '00081199';
const FAILED_SOP_SEQUENCE = '00081198';
const REFERENCED_SOP_INSTANCE_UID = '00081155';
const SOP_INSTANCE_UID = '00080018';
const RETRIEVE_URL = '00081190';

let archive: Archive;
let destination: RecordingServer;
/** Every SOP Instance UID some Store response acknowledged (Referenced SOP Sequence). */
const acknowledged = new Set<string>();
/** SOP Instance UIDs of parts the archive refused; none may be findable unless acknowledged elsewhere. */
const refused = new Set<string>();
let requests = 0;

beforeAll(async () => {
  destination = await startRecordingServer({ kind: 'status', status: 200 });
  archive = await tempArchive({ env: { SEND_WAIT_MS: '100' } });
  await writeFile(
    path.join(archive.dataDir, 'destinations.json'),
    JSON.stringify({ destinations: [{ url: destination.url, auth: { type: 'none' } }] }),
  );
});
afterAll(async () => {
  await archive?.close();
  await destination?.close();
});

/** Deterministic UIDs of a fixed length, so that mutation positions mean the same in every run. */
let serial = 100_000;
function caseUids() {
  const n = serial++;
  return {
    studyInstanceUID: `1.2.826.0.1.3680043.10.511.1.${n}`,
    seriesInstanceUID: `1.2.826.0.1.3680043.10.511.2.${n}`,
    sopInstanceUID: `1.2.826.0.1.3680043.10.511.3.${n}`,
  };
}

function sequenceUids(module: Item | undefined, tag: string): string[] {
  const items = (module?.[tag]?.Value ?? []) as Item[];
  return items.map((i) => i[REFERENCED_SOP_INSTANCE_UID]?.Value?.[0]).filter((u): u is string => typeof u === 'string');
}

/** A request whose answer must never be a 5xx; the body is read so the connection is reused. */
async function request(url: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  requests++;
  const r = await fetch(url, init);
  const text = await r.text();
  if (r.status >= 500) throw new Error(`${init.method ?? 'GET'} ${url.slice(0, 200)} answered ${r.status}: ${text.slice(0, 300)}`);
  return { status: r.status, text };
}

/**
 * POST a Store request; checks the response module against the status (PS3.18 10.5.3.1) and records
 * what was acknowledged and what was refused. `sent` are the SOP Instance UIDs of the parts as built,
 * before any mutation.
 */
async function store(body: Uint8Array, contentType: string | undefined, sent: readonly string[], study?: string): Promise<number> {
  const headers: Record<string, string> = { Accept: DICOM_JSON };
  if (contentType !== undefined) headers['Content-Type'] = contentType;
  const { status, text } = await request(`${archive.url}/studies${study ? `/${encodeURIComponent(study)}` : ''}`, {
    method: 'POST',
    headers,
    body,
  });
  let module: Item | undefined;
  if ([200, 202, 409].includes(status)) module = JSON.parse(text) as Item;
  const referenced = sequenceUids(module, REFERENCED_SOP_SEQUENCE);
  if (status === 200 || status === 202) expect(referenced.length).toBeGreaterThan(0);
  else expect(referenced).toEqual([]);
  if (status === 200) expect(module?.[FAILED_SOP_SEQUENCE]).toBeUndefined();
  for (const uid of referenced) acknowledged.add(uid);
  for (const uid of [...sent, ...sequenceUids(module, FAILED_SOP_SEQUENCE)]) if (!referenced.includes(uid)) refused.add(uid);
  return status;
}

async function findable(sopInstanceUID: string): Promise<boolean> {
  const { status } = await request(`${archive.url}/instances?SOPInstanceUID=${encodeURIComponent(sopInstanceUID)}`, {
    headers: { Accept: DICOM_JSON },
  });
  return status === 200;
}

const run = <T>(arb: fc.Arbitrary<T>, numRuns: number, property: (t: T) => Promise<void>) =>
  fc.assert(fc.asyncProperty(arb, property), { seed: SEED, numRuns, endOnFailure: true });

describe('Part 10 files: mutations of a valid instance', () => {
  it('never a 5xx; a refused instance is not findable', async () => {
    const transferSyntaxes = [
      TransferSyntax.ExplicitVRLittleEndian,
      TransferSyntax.ImplicitVRLittleEndian,
      TransferSyntax.JPEGBaseline8Bit,
    ];
    await run(fc.tuple(mutationsArb, fc.constantFrom(...transferSyntaxes)), 700, async ([mutations, transferSyntaxUID]) => {
      const uids = caseUids();
      const file = mutate(makeInstance({ ...uids, transferSyntaxUID, patientID: 'FUZZ-P10' }), mutations);
      const { body, contentType } = stowBody([file], 'fuzz-part10');
      const status = await store(body, contentType, [uids.sopInstanceUID]);
      expect([200, 202, 400, 409]).toContain(status);
      if (status === 409) expect(await findable(uids.sopInstanceUID)).toBe(false);
    });
  }, 120_000);
});

describe('multipart bodies', () => {
  const token = fc.stringMatching(/^[A-Za-z0-9'()+_,./:=?-]{1,70}$/);
  const partArb = fc.record({
    kind: fc.constantFrom('valid', 'mutated', 'random', 'empty'),
    mutations: mutationsArb,
    random: fc.uint8Array({ maxLength: 512 }),
    contentType: fc.constantFrom(
      undefined,
      'application/dicom',
      'Application/DICOM; transfer-syntax=1.2.840.10008.1.2.1',
      'application/dicom+json',
      'text/plain',
      'application/octet-stream',
      '',
      ';;;',
      'application/dicom; type="',
    ),
    extraHeader: fc.option(fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,20}$/), fc.string({ maxLength: 40 })), { nil: undefined }),
  });
  const bodyArb = fc.record({
    boundary: token,
    declaredBoundary: fc.option(token, { nil: undefined }),
    parts: fc.array(partArb, { maxLength: 3 }),
    preamble: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
    epilogue: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
    close: fc.boolean(),
    newline: fc.constantFrom('\r\n', '\n'),
    mediaType: fc.constantFrom(
      'multipart/related; type="application/dicom"; boundary=',
      'multipart/related; boundary=',
      'multipart/related; type=application/dicom; boundary="',
      'multipart/related; type="application/dicom+json"; boundary=',
      'multipart/mixed; boundary=',
      'application/dicom; boundary=',
      'multipart/related; type="application/dicom"; boundary=;boundary=',
      'MULTIPART/RELATED; TYPE="APPLICATION/DICOM"; BOUNDARY=',
    ),
    noContentType: fc.boolean(),
    wholeBodyMutations: fc.option(mutationsArb, { freq: 4, nil: undefined }),
  });

  it('never a 5xx; parts that are refused are not stored', async () => {
    await run(bodyArb, 800, async (b) => {
      const nl = b.newline;
      const chunks: Buffer[] = [];
      const sent: string[] = [];
      if (b.preamble !== undefined) chunks.push(Buffer.from(`${b.preamble}${nl}`));
      for (const p of b.parts) {
        const uids = caseUids();
        let content: Uint8Array = new Uint8Array();
        if (p.kind === 'valid' || p.kind === 'mutated') {
          content = makeInstance({ ...uids, patientID: 'FUZZ-MP' });
          if (p.kind === 'mutated') content = mutate(content, p.mutations);
          sent.push(uids.sopInstanceUID);
        } else if (p.kind === 'random') content = p.random;
        const headers = [
          ...(p.contentType !== undefined ? [`Content-Type: ${p.contentType}`] : []),
          ...(p.extraHeader ? [`${p.extraHeader[0]}: ${p.extraHeader[1]}`] : []),
        ];
        chunks.push(
          Buffer.from(`--${b.boundary}${nl}${headers.map((h) => `${h}${nl}`).join('')}${nl}`),
          Buffer.from(content),
          Buffer.from(nl),
        );
      }
      if (b.close) chunks.push(Buffer.from(`--${b.boundary}--${nl}`));
      if (b.epilogue !== undefined) chunks.push(Buffer.from(b.epilogue));
      let body: Uint8Array = Buffer.concat(chunks);
      if (b.wholeBodyMutations) body = mutate(body, b.wholeBodyMutations);
      const quoted = b.mediaType.endsWith('"') ? '"' : '';
      const contentType = b.noContentType ? undefined : `${b.mediaType}${b.declaredBoundary ?? b.boundary}${quoted}`;
      const status = await store(body, contentType, sent);
      expect([200, 202, 400, 409, 413, 415]).toContain(status);
    });
  }, 120_000);

  it('a valid body with a refused part beside a valid one: 202, the refused part not findable', async () => {
    await run(mutationsArb, 100, async (mutations) => {
      const good = caseUids();
      const bad = caseUids();
      const { body, contentType } = stowBody([makeInstance({ ...good }), mutate(makeInstance({ ...bad }), mutations)], 'fuzz-pair');
      const status = await store(body, contentType, [good.sopInstanceUID, bad.sopInstanceUID]);
      expect([200, 202, 400]).toContain(status);
      if (status === 202 && !acknowledged.has(bad.sopInstanceUID)) expect(await findable(bad.sopInstanceUID)).toBe(false);
    });
  }, 60_000);
});

describe('attribute values through DICOM JSON', () => {
  const text = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.constantFrom('*', '?', '\\', '^^^^', '=', 'a\\b\\c', '', ' ', '\u0000', '..\\..', '"}]', '%00', '19700101-'),
  );
  // Thousands of values: more than an index item holds (DynamoDB, 400 KB) unless the index leaves it out.
  const manyValues = fc.integer({ min: 9_000, max: 11_000 }).map((n) =>
    Object.assign(
      Array.from({ length: n }, (_, i) => `description value number ${i}, one of many`),
      { [fc.toStringMethod]: () => `<${n} description values>` }, // a short counterexample
    ),
  );
  const attributes = fc.record({
    PatientName: text,
    PatientID: text,
    StudyDescription: fc.oneof({ arbitrary: text, weight: 9 }, { arbitrary: manyValues, weight: 1 }),
    AccessionNumber: text,
    InstitutionName: text,
    StudyDate: fc.oneof(fc.stringMatching(/^[0-9]{0,10}$/), text),
    ReferringPhysicianName: text,
  });

  it('an instance stored with arbitrary values serves its metadata and can be searched, never a 5xx', async () => {
    await run(attributes, 250, async (values) => {
      const uids = caseUids();
      let file: Uint8Array;
      try {
        const { PatientID, StudyDate, ...extra } = values;
        file = makeInstance({ ...uids, patientID: PatientID, studyDate: StudyDate, extra });
      } catch {
        return; // the test's encoder (dcmjs) refused the value: nothing to send
      }
      const { body, contentType } = stowBody([file], 'fuzz-json');
      const status = await store(body, contentType, [uids.sopInstanceUID]);
      if (status !== 200 && status !== 202) return;
      const metadata = await request(
        `${archive.url}/studies/${uids.studyInstanceUID}/series/${uids.seriesInstanceUID}/instances/${uids.sopInstanceUID}/metadata`,
        { headers: { Accept: DICOM_JSON } },
      );
      expect(metadata.status).toBe(200);
      const [dataset] = JSON.parse(metadata.text) as Item[];
      expect(dataset![SOP_INSTANCE_UID]?.Value).toEqual([uids.sopInstanceUID]);
      const q = new URLSearchParams({ PatientID: values.PatientID, StudyDate: values.StudyDate, PatientName: values.PatientName });
      await request(`${archive.url}/studies?${q}`, { headers: { Accept: DICOM_JSON } });
    });
  }, 120_000);

  it('a Store request whose parts are DICOM JSON (not supported) is refused with 415, whatever the JSON', async () => {
    await run(fc.json({ maxDepth: 3 }), 150, async (json) => {
      const body = Buffer.from(`--j\r\nContent-Type: application/dicom+json\r\n\r\n${json}\r\n--j--\r\n`);
      const status = await store(body, 'multipart/related; type="application/dicom+json"; boundary=j', []);
      expect(status).toBe(415);
    });
  }, 60_000);
});

describe('query strings', () => {
  const keys = [
    'PatientID',
    'PatientName',
    'StudyDate',
    'StudyTime',
    'AccessionNumber',
    'ModalitiesInStudy',
    'Modality',
    'StudyInstanceUID',
    'SeriesInstanceUID',
    'SOPInstanceUID',
    'SOPClassUID',
    '00100020',
    '0020000D',
    '00080020',
    'ReferringPhysicianName',
    'includefield',
    'limit',
    'offset',
    'fuzzymatching',
    'StudyDescription',
    'SeriesNumber',
    'InstanceNumber',
    'PatientBirthDate',
    '00081030',
    'ScheduledProcedureStepSequence.Modality',
    'NotAKeyword',
    'zzzz',
    '',
    // Non-Patient Instance keys (PS3.18 12, Sup 248 Table 12.X.1-2).
    'ContentLabel',
    'HangingProtocolName',
    'InstanceCreationDate',
    'PotentialScheduledProtocolCodeSequence.CodeValue',
  ];
  const value = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.integer({ min: -5, max: 1e12 }).map(String),
    fc.constantFrom(
      '*',
      '?',
      'A*',
      '*^*',
      '-',
      '20240101-',
      '-20240101',
      '20240101-20230101',
      '2024-01-01',
      'all',
      'true',
      'false',
      '1.2.3,1.2.4',
      '1.2.3\\1.2.4',
      '00100010',
      'PatientName,StudyDate',
      '1e309',
      'NaN',
      '',
      '%',
      '%%',
      '%zz',
      '\u0000',
    ),
  );
  const queryArb = fc.record({
    resource: fc.constantFrom(
      '/studies',
      '/series',
      '/instances',
      '/studies/1.2.3/series',
      '/studies/1.2.3/instances',
      '/studies/1.2.3/series/1.2.4/instances',
      '/color-palettes',
      '/hanging-protocols',
      '/defined-procedure-protocols',
    ),
    pairs: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 12 })), value), { maxLength: 6 }),
    raw: fc.option(fc.string({ maxLength: 40 }), { freq: 5, nil: undefined }),
    accept: fc.constantFrom(
      undefined,
      DICOM_JSON,
      'application/json',
      'text/html',
      '*/*',
      'multipart/related; type="application/dicom+xml"',
      ';',
      'application/dicom+json; q=0',
    ),
    header: fc.option(
      fc.tuple(
        fc.oneof(
          fc.constantFrom('__proto__', 'valueOf', 'constructor', 'toString', 'hasOwnProperty'),
          fc.stringMatching(/^[A-Za-z-]{1,20}$/),
        ),
        fc.stringMatching(/^[\x20-\x7e]{0,40}$/),
      ),
      { nil: undefined },
    ),
  });

  it('never a 5xx for any search, whatever the query string and header names', async () => {
    await run(queryArb, 1000, async ({ resource, pairs, raw, accept, header }) => {
      const query = raw ?? new URLSearchParams(pairs).toString();
      const headers = new Headers(accept === undefined ? {} : { Accept: accept });
      if (header) headers.append(header[0], header[1]);
      const { status } = await request(`${archive.url}${resource}?${query}`, { headers });
      expect([200, 204, 400, 406, 413]).toContain(status);
    });
  }, 120_000);
});

describe('UIDs in paths', () => {
  const segment = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.stringMatching(/^[0-9.]{0,70}$/),
    fc.constantFrom(
      '..',
      '.',
      '%2e%2e',
      '1.2.3',
      '0.0',
      '1..2',
      '1.02',
      '1.2.',
      '.1.2',
      '1'.repeat(65),
      '1.2.3 ',
      ' ',
      '\\',
      'send-requests',
      'metadata',
    ),
  );
  const pathArb = fc.record({
    template: fc.constantFrom(
      (s: string[]) => `/studies/${s[0]}`,
      (s: string[]) => `/studies/${s[0]}/metadata`,
      (s: string[]) => `/studies/${s[0]}/series/${s[1]}`,
      (s: string[]) => `/studies/${s[0]}/series/${s[1]}/metadata`,
      (s: string[]) => `/studies/${s[0]}/series/${s[1]}/instances/${s[2]}`,
      (s: string[]) => `/studies/${s[0]}/series/${s[1]}/instances/${s[2]}/metadata`,
      (s: string[]) => `/studies/${s[0]}/series/${s[1]}/instances/${s[2]}/frames/${s[3]}`,
      (s: string[]) => `/studies/${s[0]}/series/${s[1]}/instances/${s[2]}/bulkdata/${s[3]}`,
      (s: string[]) => `/studies/${s[0]}/series/${s[1]}/instances`,
      (s: string[]) => `/studies/${s[0]}/instances`,
      (s: string[]) => `/color-palettes/${s[0]}`,
      (s: string[]) => `/hanging-protocols/${s[0]}`,
    ),
    segments: fc.array(segment, { minLength: 4, maxLength: 4 }),
    method: fc.constantFrom('GET', 'GET', 'GET', 'DELETE', 'POST', 'PUT', 'OPTIONS'),
  });

  it('never a 5xx for retrieve, delete and other methods on arbitrary UID segments', async () => {
    await run(pathArb, 600, async ({ template, segments, method }) => {
      const url = `${archive.url}${template(segments.map((s) => encodeURIComponent(s)))}`;
      const { status } = await request(url, {
        method,
        headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
      });
      expect(status).toBeGreaterThanOrEqual(200);
    });
  }, 120_000);
});

describe('Transaction UIDs and Send parameters', () => {
  const sendArb = fc.record({
    resource: fc.constantFrom('/studies', '/series', '/instances', '/studies/1.2.3', '/studies/1.2.3/series/1.2.4', '/hanging-protocols'),
    transactionUID: fc.oneof(
      fc.string({ maxLength: 70 }),
      fc.stringMatching(/^[0-9.]{1,70}$/),
      fc.integer({ min: 1, max: 1e9 }).map((n) => `2.25.${n}`),
      fc.constantFrom('..', '%2F', '0', '00', '1.2.3.', '1'.repeat(65)),
    ),
    // Destinations are arbitrary strings or loopback URLs beside the registered one: nothing here may
    // ever make the archive connect anywhere but to the recorder.
    destination: fc.option(
      fc.oneof(
        fc.constant('registered'),
        fc.string({ maxLength: 40 }),
        fc.webPath().map((p) => `loopback:${p}`),
      ),
      { nil: undefined },
    ),
    extra: fc.array(
      fc.tuple(
        fc.constantFrom('StudyInstanceUID', 'PatientID', 'limit', 'includefield', 'Modality', 'destination', 'x'),
        fc.string({ maxLength: 20 }),
      ),
      {
        maxLength: 3,
      },
    ),
    body: fc.option(fc.uint8Array({ minLength: 1, maxLength: 20 }), { freq: 5, nil: undefined }),
    method: fc.constantFrom('POST', 'POST', 'GET', 'DELETE'),
  });

  it('never a 5xx for Send and Check Send Result, whatever the Transaction UID and parameters', async () => {
    await run(sendArb, 500, async ({ resource, transactionUID, destination: d, extra, body, method }) => {
      const q = new URLSearchParams(extra);
      if (d === 'registered') q.append('destination', destination.url);
      else if (d?.startsWith('loopback:')) q.append('destination', `http://127.0.0.1:${destination.port}${d.slice('loopback:'.length)}`);
      else if (d !== undefined) q.append('destination', d);
      // Match nothing on the registered destination so a send that starts finishes at once.
      q.append('PatientID', 'NOBODY-FUZZ');
      const url = `${archive.url}${resource}/send-requests/${encodeURIComponent(transactionUID)}?${q}`;
      const { status } = await request(url, { method, body: method === 'POST' ? body : undefined, headers: { Accept: DICOM_JSON } });
      expect(status).toBeGreaterThanOrEqual(200);
    });
    // Sends to the registered destination matched nothing to deliver; every other one was refused.
    expect(destination.connections).toBe(0);
  }, 120_000);
});

describe('after the fuzzing', () => {
  it('the archive holds exactly the acknowledged instances, each retrievable; thousands of requests, no 5xx', async () => {
    expect(requests).toBeGreaterThan(3000);
    const held = new Set<string>();
    const retrieveUrls: string[] = [];
    for (let offset = 0; ; offset += 1000) {
      const { status, text } = await request(`${archive.url}/instances?limit=1000&offset=${offset}`, { headers: { Accept: DICOM_JSON } });
      if (status === 204) break;
      expect(status).toBe(200);
      const page = JSON.parse(text) as Item[];
      for (const i of page) {
        held.add(i[SOP_INSTANCE_UID]!.Value![0] as string);
        retrieveUrls.push(i[RETRIEVE_URL]!.Value![0] as string);
      }
      if (page.length < 1000) break;
    }
    expect(acknowledged.size).toBeGreaterThan(100);
    expect([...held].filter((uid) => !acknowledged.has(uid))).toEqual([]);
    expect([...acknowledged].filter((uid) => !held.has(uid))).toEqual([]);
    expect([...refused].filter((uid) => !acknowledged.has(uid) && held.has(uid))).toEqual([]);
    for (const url of retrieveUrls) {
      const r = await request(url, { headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' } });
      expect(r.status, url).toBe(200);
    }
  }, 60_000);
});
