import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseMultipartRelated } from '../../../lambdas/dicom/multipart';
import type { Destination } from '../../../lambdas/send/destinations';
import type { RetryPolicy } from '../../../lambdas/send/retry';
import {
  OAuth2TokenCache,
  storeInstances,
  type InstanceToStore,
  type StoredFile,
  type StoreOptions,
} from '../../../lambdas/send/stow-client';

/** A tiny destination: each test sets how a path answers; every request is recorded. */
interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}
type Answer = (req: Recorded, res: ServerResponse) => void;

let server: Server;
let base: string;
let answers: Record<string, Answer[]>;
let recorded: Recorded[];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      recorded.push(rec);
      const queue = answers[rec.path];
      const answer = queue && (queue.length > 1 ? queue.shift()! : queue[0]);
      if (!answer) return void res.writeHead(404).end();
      answer(rec, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  answers = {};
  recorded = [];
});

const CT = '1.2.840.10008.5.1.4.1.1.2';
const instances: { sopInstanceUID: string; sopClassUID: string; bytes: Uint8Array }[] = ['1.2.3.1', '1.2.3.2', '1.2.3.3'].map((uid) => ({
  sopInstanceUID: uid,
  sopClassUID: CT,
  bytes: new Uint8Array(Buffer.from(`\0\0DICM part 10 of ${uid}\r\n--not-a-boundary`)),
}));
const fast: RetryPolicy = { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 2000 };
let waits: number[];
const opts = (extra: StoreOptions = {}): StoreOptions => ({
  retry: fast,
  sleep: async (ms) => void waits.push(ms),
  random: () => 0,
  tokens: new OAuth2TokenCache(),
  ...extra,
});
beforeEach(() => {
  waits = [];
});
const dest = (path: string, auth: Destination['auth'] = { type: 'none' }): Destination => ({ url: `${base}${path}`, auth });

const json =
  (status: number, payload: unknown, headers: Record<string, string> = {}): Answer =>
  (_req, res) =>
    void res.writeHead(status, { 'Content-Type': 'application/dicom+json', ...headers }).end(JSON.stringify(payload));
const empty =
  (status: number, headers: Record<string, string> = {}): Answer =>
  (_req, res) =>
    void res.writeHead(status, headers).end();

const ref = (uid: string, warning?: number) => ({
  '00081150': { vr: 'UI', Value: [CT] },
  '00081155': { vr: 'UI', Value: [uid] },
  ...(warning !== undefined ? { '00081196': { vr: 'US', Value: [warning] } } : {}),
});
const failedItem = (uid: string, reason: number) => ({
  '00081150': { vr: 'UI', Value: [CT] },
  '00081155': { vr: 'UI', Value: [uid] },
  '00081197': { vr: 'US', Value: [reason] },
});
const moduleOf = (referenced: object[], failed: object[] = []) => ({
  ...(referenced.length ? { '00081199': { vr: 'SQ', Value: referenced } } : {}),
  ...(failed.length ? { '00081198': { vr: 'SQ', Value: failed } } : {}),
});

/** The parts of a recorded multipart/related body, split at the boundary its Content-Type names. */
function parts(rec: Recorded) {
  const boundary = /boundary=([^;]+)/.exec(String(rec.headers['content-type']))![1]!;
  return parseMultipartRelated(rec.body, boundary);
}

describe('storeInstances (PS3.18 10.5 as user agent)', () => {
  it('POSTs one multipart/related request to {destination}/studies and counts 200 + module as completed', async () => {
    answers['/dicomweb/studies'] = [json(200, moduleOf(instances.map((i) => ref(i.sopInstanceUID))))];
    const outcome = await storeInstances(dest('/dicomweb'), instances, opts());
    expect(outcome.completed).toEqual(['1.2.3.1', '1.2.3.2', '1.2.3.3']);
    expect(outcome.warning).toEqual([]);
    expect(outcome.failed).toEqual([]);
    expect(outcome.basis).toEqual({ kind: 'response-module', httpStatus: 200, attempts: 1 });
    expect(recorded).toHaveLength(1);
    const [rec] = recorded;
    expect(rec!.method).toBe('POST');
    expect(rec!.headers['content-type']).toMatch(/^multipart\/related; type="application\/dicom"; boundary=/);
    expect(rec!.headers.accept).toBe('application/dicom+json');
    expect(rec!.headers.authorization).toBeUndefined();
    const sent = parts(rec!);
    expect(sent).toHaveLength(3);
    sent.forEach((p, i) => {
      expect(p.headers['content-type']).toBe('application/dicom');
      expect(Buffer.from(p.body).equals(Buffer.from(instances[i]!.bytes))).toBe(true);
    });
  });

  it('413: splits the batch and sends the halves, down to one instance, which alone fails (a gateway-fronted destination)', async () => {
    // Like API Gateway before a Lambda integration: 413 above maxBytes of body, else stored.
    const sizes = instances.map((i) => i.bytes.byteLength);
    const maxBytes = 2 * (Math.max(...sizes) + 200);
    const limited: Answer = (req, res) => {
      if (req.body.byteLength > maxBytes)
        return void res.writeHead(413, { 'Content-Type': 'application/json' }).end('{"message":"Request Too Long"}');
      json(200, moduleOf(parts(req).map((p) => ref(/1\.2\.3\.\d/.exec(Buffer.from(p.body).toString('latin1'))![0]))))(req, res);
    };
    answers['/gw/studies'] = [limited];
    const big = { sopInstanceUID: '1.2.3.9', sopClassUID: CT, bytes: new Uint8Array(maxBytes + 1) };
    const outcome = await storeInstances(dest('/gw'), [...instances, big], opts());
    expect(outcome.completed).toEqual(['1.2.3.1', '1.2.3.2', '1.2.3.3']);
    expect(outcome.failed).toEqual(['1.2.3.9']);
    // 4 instances: 413; halves [1,2] stored and [3,9]: 413; then [3] stored and [9] alone: 413, failed.
    expect(recorded.map((r) => parts(r).length)).toEqual([4, 2, 2, 1, 1]);
    expect(recorded.filter((r) => r.body.byteLength <= maxBytes).flatMap((r) => parts(r)).length).toBe(3);
    expect(outcome.basis).toEqual({
      kind: 'split',
      httpStatus: 413,
      parts: [
        { kind: 'response-module', httpStatus: 200, attempts: 1 },
        {
          kind: 'split',
          httpStatus: 413,
          parts: [
            { kind: 'response-module', httpStatus: 200, attempts: 1 },
            { kind: 'http-status', httpStatus: 413, attempts: 1 },
          ],
        },
      ],
    });
    // 413 is not transient: no wait, no retry of the same request.
    expect(waits).toEqual([]);
  });

  it('sends to a destination that already names /studies as is', async () => {
    answers['/archive/studies'] = [json(200, moduleOf(instances.map((i) => ref(i.sopInstanceUID))))];
    await storeInstances(dest('/archive/studies'), instances, opts());
    expect(recorded.map((r) => r.path)).toEqual(['/archive/studies']);
  });

  it('counts Referenced SOP items with Warning Reason as warnings and never retries them (202)', async () => {
    answers['/w/studies'] = [json(202, moduleOf([ref('1.2.3.1'), ref('1.2.3.2', 0xb000)]))];
    const outcome = await storeInstances(dest('/w'), instances, opts());
    expect(outcome.completed).toEqual(['1.2.3.1']);
    // 1.2.3.2 warned; 1.2.3.3 is not in the module, so the 202 decides: stored with warnings.
    expect(outcome.warning).toEqual(['1.2.3.2', '1.2.3.3']);
    expect(outcome.failed).toEqual([]);
    expect(recorded).toHaveLength(1);
  });

  it('counts the Failed SOP Sequence as failed (409)', async () => {
    answers['/c/studies'] = [
      json(
        409,
        moduleOf(
          [],
          instances.map((i) => failedItem(i.sopInstanceUID, 0xa900)),
        ),
      ),
    ];
    const outcome = await storeInstances(dest('/c'), instances, opts());
    expect(outcome.failed).toEqual(['1.2.3.1', '1.2.3.2', '1.2.3.3']);
    expect(outcome.basis).toEqual({ kind: 'response-module', httpStatus: 409, attempts: 1 });
  });

  it('splits a mixed 202 module into completed, warning and failed', async () => {
    answers['/m/studies'] = [json(202, [moduleOf([ref('1.2.3.1'), ref('1.2.3.3', 0xb007)], [failedItem('1.2.3.2', 0x0122)])])];
    const outcome = await storeInstances(dest('/m'), instances, opts());
    expect(outcome).toMatchObject({ completed: ['1.2.3.1'], warning: ['1.2.3.3'], failed: ['1.2.3.2'] });
  });

  it.each([
    [200, 'completed'],
    [202, 'warning'],
    [400, 'failed'],
    [409, 'failed'],
    [415, 'failed'],
  ] as const)('without a usable module counts the whole batch by HTTP %i as %s, in one attempt', async (status, category) => {
    answers['/s/studies'] = [empty(status)];
    const outcome = await storeInstances(dest('/s'), instances, opts());
    expect(outcome[category]).toEqual(['1.2.3.1', '1.2.3.2', '1.2.3.3']);
    expect(outcome.basis).toEqual({ kind: 'http-status', httpStatus: status, attempts: 1 });
    expect(recorded).toHaveLength(1);
  });

  it('ignores a JSON body that is not a Store Instances Response Module', async () => {
    answers['/x/studies'] = [json(400, { error: 'nope' })];
    const outcome = await storeInstances(dest('/x'), instances, opts());
    expect(outcome.failed).toHaveLength(3);
    expect(outcome.basis.kind).toBe('http-status');
  });

  it('retries 503 after the Retry-After it names, then counts the answer', async () => {
    answers['/busy/studies'] = [empty(503, { 'Retry-After': '1' }), json(200, moduleOf(instances.map((i) => ref(i.sopInstanceUID))))];
    const outcome = await storeInstances(dest('/busy'), instances, opts());
    expect(outcome.completed).toHaveLength(3);
    expect(outcome.basis).toEqual({ kind: 'response-module', httpStatus: 200, attempts: 2 });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(1000);
  });

  it('fails the batch when 5xx persists beyond the retry budget', async () => {
    answers['/down/studies'] = [empty(500)];
    const outcome = await storeInstances(dest('/down'), instances, opts());
    expect(outcome.failed).toHaveLength(3);
    expect(outcome.basis).toEqual({ kind: 'http-status', httpStatus: 500, attempts: 3 });
    expect(recorded).toHaveLength(3);
    expect(waits).toEqual([5, 10]);
  });

  it('retries a connection the destination closes, then fails the batch as a transport fault', async () => {
    answers['/close/studies'] = [(req, res) => res.socket?.destroy()];
    const outcome = await storeInstances(dest('/close'), instances, opts());
    expect(outcome.failed).toHaveLength(3);
    expect(outcome.basis).toMatchObject({ kind: 'transport', attempts: 3 });
    expect(recorded).toHaveLength(3);
  });

  it('recovers when a closed connection is followed by success', async () => {
    answers['/flaky/studies'] = [(req, res) => res.socket?.destroy(), json(200, moduleOf(instances.map((i) => ref(i.sopInstanceUID))))];
    const outcome = await storeInstances(dest('/flaky'), instances, opts());
    expect(outcome.completed).toHaveLength(3);
    expect(outcome.basis).toMatchObject({ attempts: 2 });
  });

  it('retries a refused connection and reports ECONNREFUSED', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const outcome = await storeInstances({ url: `http://127.0.0.1:${port}/x`, auth: { type: 'none' } }, instances, opts());
    expect(outcome.failed).toHaveLength(3);
    expect(outcome.basis).toEqual({ kind: 'transport', fault: 'ECONNREFUSED', attempts: 3 });
  });

  it('does not follow a redirect: the batch fails and the target is never contacted', async () => {
    answers['/moved/studies'] = [empty(307, { Location: `${base}/ok/studies` })];
    answers['/ok/studies'] = [json(200, moduleOf(instances.map((i) => ref(i.sopInstanceUID))))];
    const outcome = await storeInstances(dest('/moved'), instances, opts());
    expect(outcome.failed).toHaveLength(3);
    expect(outcome.basis).toMatchObject({ kind: 'http-status', httpStatus: 307, attempts: 1 });
    expect(recorded.map((r) => r.path)).toEqual(['/moved/studies']);
  });

  it('gives up on an attempt that exceeds the time limit', async () => {
    answers['/slow/studies'] = [() => undefined];
    const outcome = await storeInstances(dest('/slow'), instances, opts({ timeoutMs: 100, retry: { ...fast, maxAttempts: 2 } }));
    expect(outcome.basis).toEqual({ kind: 'transport', fault: 'timeout', attempts: 2 });
  });

  it('refuses an empty batch', async () => {
    await expect(storeInstances(dest('/x'), [], opts())).rejects.toThrow(RangeError);
  });
});

/** A streamed instance of `size` bytes; `opened` counts its streams; `content` may differ from `size` (a damaged object). */
function streamedInstance(
  uid: string,
  size: number,
  content = size,
): InstanceToStore & { file: StoredFile; opened: number; bytes?: undefined } {
  const bytes = Buffer.alloc(content, uid);
  const instance = {
    sopInstanceUID: uid,
    sopClassUID: CT,
    opened: 0,
    file: {
      size,
      transferSyntaxUID: '1.2.840.10008.1.2.1',
      open: async () => {
        instance.opened++;
        return (async function* () {
          for (let at = 0; at < bytes.length; at += 1000) yield bytes.subarray(at, at + 1000);
        })();
      },
    },
  };
  return instance;
}

describe('streamed instances (a large instance read from storage as it is sent)', () => {
  it('goes alone, its body streamed with a Content-Length (not chunked); the others go together', async () => {
    const large = streamedInstance('1.2.3.7', 25_000);
    answers['/dicomweb/studies'] = [
      (req, res) =>
        json(200, moduleOf(parts(req).map((p) => ref(/1\.2\.3\.\d/.exec(Buffer.from(p.body).toString('latin1'))![0]))))(req, res),
    ];
    const outcome = await storeInstances(dest('/dicomweb'), [instances[0]!, large, instances[1]!], opts());
    expect(outcome.completed).toEqual(['1.2.3.1', '1.2.3.2', '1.2.3.7']);
    expect(outcome.basis).toEqual({
      kind: 'separate',
      parts: [
        { kind: 'response-module', httpStatus: 200, attempts: 1 },
        { kind: 'response-module', httpStatus: 200, attempts: 1 },
      ],
    });
    expect(recorded.map((r) => parts(r).length)).toEqual([2, 1]);
    const streamed = recorded[1]!;
    expect(streamed.headers['transfer-encoding']).toBeUndefined();
    expect(Number(streamed.headers['content-length'])).toBe(streamed.body.length);
    const [part] = parts(streamed);
    expect(part!.headers['content-type']).toBe('application/dicom');
    expect(Buffer.from(part!.body).equals(Buffer.alloc(25_000, '1.2.3.7'))).toBe(true);
  });

  it('opens the stream again for a retry', async () => {
    const large = streamedInstance('1.2.3.7', 25_000);
    answers['/dicomweb/studies'] = [empty(503, { 'Retry-After': '0' }), json(200, moduleOf([ref('1.2.3.7')]))];
    const outcome = await storeInstances(dest('/dicomweb'), [large], opts());
    expect(outcome.completed).toEqual(['1.2.3.7']);
    expect(large.opened).toBe(2);
    expect(recorded.map((r) => r.body.length)).toEqual([recorded[1]!.body.length, recorded[1]!.body.length]);
  });

  it('413 from the destination: the instance fails with the 413 as basis, sent once', async () => {
    answers['/gw/studies'] = [
      (_req, res) => void res.writeHead(413, { 'Content-Type': 'application/json' }).end('{"message":"Request Too Long"}'),
    ];
    const outcome = await storeInstances(dest('/gw'), [streamedInstance('1.2.3.7', 25_000)], opts());
    expect(outcome.failed).toEqual(['1.2.3.7']);
    expect(outcome.basis).toEqual({ kind: 'http-status', httpStatus: 413, attempts: 1 });
    expect(recorded).toHaveLength(1);
  });

  it('fails, without retrying, an instance whose object is gone or shorter than its entry says', async () => {
    answers['/dicomweb/studies'] = [json(200, moduleOf([ref('1.2.3.7')]))];
    const gone = { ...streamedInstance('1.2.3.7', 25_000) };
    const missing = await storeInstances(dest('/dicomweb'), [{ ...gone, file: { ...gone.file, open: async () => undefined } }], opts());
    expect(missing).toMatchObject({ failed: ['1.2.3.7'], basis: { kind: 'transport', fault: 'StoredObjectMissingError', attempts: 1 } });
    const short = await storeInstances(dest('/dicomweb'), [streamedInstance('1.2.3.7', 25_000, 24_000)], opts());
    expect(short).toMatchObject({ failed: ['1.2.3.7'], basis: { kind: 'transport', attempts: 1 } });
    expect(recorded.filter((r) => r.body.length === 25_000)).toHaveLength(0); // nothing whole reached the destination
  });
});

describe('destination credentials', () => {
  const okAll = json(200, moduleOf(instances.map((i) => ref(i.sopInstanceUID))));

  it('sends a bearer token and HTTP Basic credentials (RFC 6750, RFC 7617)', async () => {
    answers['/b/studies'] = [okAll];
    await storeInstances(dest('/b', { type: 'bearer', token: 'tok-1' }), instances, opts());
    answers['/u/studies'] = [okAll];
    await storeInstances(dest('/u', { type: 'basic', username: 'alice', password: 'pä:ss' }), instances, opts());
    expect(recorded.map((r) => r.headers.authorization)).toEqual([
      'Bearer tok-1',
      `Basic ${Buffer.from('alice:pä:ss', 'utf8').toString('base64')}`,
    ]);
  });

  const oauth = () => ({
    type: 'oauth2' as const,
    tokenUrl: `${base}/token`,
    clientId: 'archive client',
    clientSecret: 'secret&1',
    scope: 'stow',
  });

  it('fetches a client-credentials token once and reuses it until it expires', async () => {
    let issued = 0;
    answers['/token'] = [
      (_req, res) =>
        void res
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ access_token: `at-${++issued}`, token_type: 'Bearer', expires_in: 3600 })),
    ];
    answers['/o/studies'] = [okAll];
    let now = 1_000_000;
    const tokens = new OAuth2TokenCache();
    const o = opts({ tokens, now: () => now });
    await storeInstances(dest('/o', oauth()), instances, o);
    await storeInstances(dest('/o', oauth()), instances, o);
    const tokenRequests = recorded.filter((r) => r.path === '/token');
    expect(tokenRequests).toHaveLength(1);
    const form = new URLSearchParams(tokenRequests[0]!.body.toString());
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('scope')).toBe('stow');
    expect(tokenRequests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('archive%20client:secret%261').toString('base64')}`);
    expect(recorded.filter((r) => r.path === '/o/studies').map((r) => r.headers.authorization)).toEqual(['Bearer at-1', 'Bearer at-1']);
    now += 3600_000;
    await storeInstances(dest('/o', oauth()), instances, o);
    expect(recorded.at(-1)!.headers.authorization).toBe('Bearer at-2');
  });

  it('fetches a new token once when the destination answers 401', async () => {
    let issued = 0;
    answers['/token'] = [
      (_req, res) =>
        void res
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ access_token: `at-${++issued}`, expires_in: 3600 })),
    ];
    answers['/r/studies'] = [empty(401), okAll];
    const outcome = await storeInstances(dest('/r', oauth()), instances, opts());
    expect(outcome.completed).toHaveLength(3);
    expect(recorded.filter((r) => r.path === '/r/studies').map((r) => r.headers.authorization)).toEqual(['Bearer at-1', 'Bearer at-2']);
  });

  it('fails the batch without sending anything when the token endpoint refuses the client', async () => {
    answers['/token'] = [json(400, { error: 'invalid_client' })];
    answers['/n/studies'] = [okAll];
    const outcome = await storeInstances(dest('/n', oauth()), instances, opts());
    expect(outcome.failed).toHaveLength(3);
    expect(outcome.basis).toEqual({ kind: 'transport', fault: 'token endpoint HTTP 400', attempts: 1 });
    expect(JSON.stringify(outcome)).not.toContain('secret');
    expect(recorded.map((r) => r.path)).toEqual(['/token']);
  });
});
