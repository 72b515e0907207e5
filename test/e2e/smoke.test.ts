/**
 * e2e: the deploy smoke test (lib/cli/smoke.ts, run as a child process as users run it) against
 * `npm start` (A, with a bearer token) and a second archive B registered in A's destinations as the
 * Send destination: every step green and exit 0; then failures that each turn one step red and the
 * exit code non-zero.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DICOM_JSON, tempArchive } from '../support/http';
import { freePort } from '../support/net';
import { startNpmStart } from '../support/npm-start';
import { sigV4Signer } from '../../lib/cli/sigv4';

type Archive = Awaited<ReturnType<typeof tempArchive>>;

const TSX = path.resolve('node_modules/.bin/tsx');
const CLI = path.resolve('lib/cli/smoke.ts');
const TOKEN = 'smoke-e2e-token';
/** Bound on one CLI run (within vitest's 30 s testTimeout); --max-wait bounds the polling inside it. */
const RUN_TIMEOUT_MS = 25_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runSmoke(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      [CLI, ...args, '--max-wait', '15', '--timeout', '10'],
      { timeout: RUN_TIMEOUT_MS, env: { ...process.env, NO_COLOR: '1', ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

/** The line of step n, e.g. `  PASS  2. Store Instances (STOW-RS)  (312 ms)  4 instances stored`. */
function stepLine(run: Run, n: number): string {
  return (
    run.stdout.split('\n').find((line) => new RegExp(`^  (PASS|FAIL|SKIP)  ${n}\\. `).test(line)) ??
    `(no line for step ${n})\n${run.stdout}${run.stderr}`
  );
}

/** The study UID the run announced. */
function studyOf(run: Run): string {
  return /synthetic study ([0-9.]+)/.exec(run.stdout)?.[1] ?? 'none';
}

/** An answer a proxy gives instead of forwarding: a Status Report (PS3.18 8.6.3) with this status. */
interface Refusal {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
}

/**
 * A proxy in front of `target` that forwards every request, except that one `refuse` answers is
 * answered by it, an answer `corrupt` picks has one body byte changed, and with `deferDeletes` a
 * DELETE is answered 202 at once and forwarded that many ms later (an asynchronous delete).
 */
async function proxy(
  target: string,
  opts: {
    refuse?: (req: IncomingMessage, body: Buffer) => Promise<Refusal | undefined> | Refusal | undefined;
    corrupt?: (req: IncomingMessage) => boolean;
    deferDeletes?: number;
  },
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const requestBody = Buffer.concat(chunks);
    const refusal = await opts.refuse?.(req, requestBody);
    if (refusal) {
      res.writeHead(refusal.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(refusal));
      return;
    }
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'content-length')) as Record<
      string,
      string
    >;
    const forward = () => fetch(`${target}${req.url}`, { method: req.method!, headers, ...(chunks.length ? { body: requestBody } : {}) });
    if (opts.deferDeletes !== undefined && req.method === 'DELETE') {
      setTimeout(() => void forward(), opts.deferDeletes);
      res.writeHead(202).end();
      return;
    }
    const upstream = await forward();
    const body = Buffer.from(await upstream.arrayBuffer());
    if (opts.corrupt?.(req) && body.length > 0) body.writeUInt8(body.readUInt8(body.length >> 1) ^ 0xff, body.length >> 1);
    res.writeHead(upstream.status, { 'Content-Type': upstream.headers.get('content-type') ?? 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The example credentials of the AWS documentation, given to the CLI through the environment. */
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

/**
 * Checks a request's SigV4 signature the way API Gateway does for IAM authorization: signs the request
 * as received (method, Host, path, query, the signed headers, body) at its X-Amz-Date and compares.
 */
async function badSignature(req: IncomingMessage, body: Buffer): Promise<Refusal | undefined> {
  const given = req.headers.authorization ?? '';
  const m =
    /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/(us-east-1)\/execute-api\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$/.exec(
      given,
    );
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(String(req.headers['x-amz-date']));
  if (!m || !date) return { status: 403, title: 'Forbidden', detail: 'Missing Authentication Token' };
  const generated = ['host', 'x-amz-date'];
  const headers = Object.fromEntries(
    m[2]!
      .split(';')
      .filter((h) => !generated.includes(h))
      .map((h) => [h, String(req.headers[h])]),
  );
  const signer = sigV4Signer({ region: m[1]!, credentials: CREDENTIALS });
  const at = new Date(`${date[1]}-${date[2]}-${date[3]}T${date[4]}:${date[5]}:${date[6]}Z`);
  const expected = await signer(
    { method: req.method!, url: new URL(req.url!, `http://${req.headers.host}`), headers, ...(body.length ? { body } : {}) },
    at,
  );
  if (expected.authorization === given) return undefined;
  return { status: 403, title: 'Forbidden', detail: 'The request signature we calculated does not match the signature you provided' };
}

/** A: `npm start` with a bearer token, B registered in its destinations; B: an embedded archive. */
let a: { url: string; stop(): Promise<unknown> };
let aDataDir: string;
let b: Archive;

beforeAll(async () => {
  b = await tempArchive();
  aDataDir = await mkdtemp(path.join(os.tmpdir(), 'archive-smoke-'));
  await writeFile(path.join(aDataDir, 'destinations.json'), JSON.stringify({ destinations: [{ url: b.url, auth: { type: 'none' } }] }));
  a = await startNpmStart(aDataDir, { AUTH_TOKEN: TOKEN, SEND_WAIT_MS: '1', SEND_RETRY_AFTER_SECONDS: '1' });
});
afterAll(async () => {
  await a?.stop();
  await b?.close();
  if (aDataDir) await rm(aDataDir, { recursive: true, force: true });
});

describe('npm run smoke (lib/cli/smoke.ts) against npm start', () => {
  it('every step green, exit 0; the study reached B and is gone from A', async () => {
    const run = await runSmoke(['--url', a.url, '--destination', b.url, '--verify-destination'], { DICOMWEB_TOKEN: TOKEN });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const n of [1, 2, 3, 4, 5, 6]) expect(stepLine(run, n)).toMatch(/^  PASS  /);
    expect(stepLine(run, 4)).toContain('4 instances byte-identical');
    expect(stepLine(run, 5)).toContain('0000 Success');
    expect(run.stdout).toContain('all 6 steps that ran passed');
    const study = studyOf(run);
    const inB = await fetch(`${b.url}/studies/${study}/instances`, { headers: { Accept: DICOM_JSON } });
    expect(((await inB.json()) as unknown[]).length).toBe(4);
    const inA = await fetch(`${a.url}/studies/${study}/metadata`, { headers: { Accept: DICOM_JSON, Authorization: `Bearer ${TOKEN}` } });
    expect([404, 410]).toContain(inA.status);
  });

  it('without --destination the Send step is skipped with a notice; --keep leaves the study', async () => {
    const run = await runSmoke(['--url', a.url, '--token', TOKEN, '--keep']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(stepLine(run, 5)).toMatch(/^  SKIP  5\. .*no --destination given/);
    expect(stepLine(run, 6)).toMatch(/^  SKIP  6\. .*--keep/);
    const kept = await fetch(`${a.url}/studies/${studyOf(run)}/metadata`, {
      headers: { Accept: DICOM_JSON, Authorization: `Bearer ${TOKEN}` },
    });
    expect(kept.status).toBe(200);
  });

  it('a wrong token: step 1 red with 401 and the Status Report, the rest not run, exit 1', async () => {
    const run = await runSmoke(['--url', a.url, '--token', 'not-the-token']);
    expect(run.code).toBe(1);
    expect(stepLine(run, 1)).toMatch(/^  FAIL  1\. .*answered 401/);
    expect(run.stdout).toContain('Status Report: ');
    expect(run.stdout).toContain('check: the credentials');
    expect(stepLine(run, 2)).toMatch(/^  SKIP  2\. .*not run: step 1 failed/);
  });

  it('a destination A does not know: Send red with the 400 Status Report, the other steps green, exit 1', async () => {
    const run = await runSmoke(['--url', a.url, '--token', TOKEN, '--destination', 'http://127.0.0.1:9/dicomweb']);
    expect(run.code).toBe(1);
    for (const n of [1, 2, 3, 4, 6]) expect(stepLine(run, n)).toMatch(/^  PASS  /);
    expect(stepLine(run, 5)).toMatch(/^  FAIL  5\. .*the origin server answered 400/);
    expect(run.stdout).toContain('the destination is not a registered destination of this archive');
    expect(run.stdout).toContain("check: that the destination is registered in the origin's destinations");
  });

  it('a search answering 500: Search red with the Status Report, the other steps green, exit 1', async () => {
    const front = await proxy(a.url, {
      refuse: (req) =>
        req.method === 'GET' && /^\/studies\?PatientID=/.test(req.url ?? '')
          ? { status: 500, title: 'Internal Server Error', detail: 'injected fault' }
          : undefined,
    });
    try {
      const run = await runSmoke(['--url', front.url, '--token', TOKEN]);
      expect(run.code).toBe(1);
      for (const n of [1, 2, 4, 6]) expect(stepLine(run, n)).toMatch(/^  PASS  /);
      expect(stepLine(run, 3)).toMatch(/^  FAIL  3\. .*GET \/studies\?PatientID=SMOKE-[0-9-]+ answered 500/);
      expect(run.stdout).toContain('Status Report: Internal Server Error: injected fault');
      expect(run.stdout).toContain("check: the function's CloudWatch logs");
    } finally {
      await front.close();
    }
  });

  it('an instance retrieved with one byte changed: Retrieve red, exit 1', async () => {
    const front = await proxy(a.url, { corrupt: (req) => req.method === 'GET' && /\/instances\/[0-9.]+$/.test(req.url ?? '') });
    try {
      const run = await runSmoke(['--url', front.url, '--token', TOKEN]);
      expect(run.code).toBe(1);
      expect(stepLine(run, 4)).toMatch(/^  FAIL  4\. .*came back different from the bytes stored/);
      expect(stepLine(run, 6)).toMatch(/^  PASS  /);
    } finally {
      await front.close();
    }
  });

  it('--sigv4 signs every request as API Gateway checks it (an archive behind the check, B the destination): all green', async () => {
    const open = await tempArchive();
    const front = await proxy(open.url, { refuse: badSignature });
    try {
      await writeFile(
        path.join(open.dataDir, 'destinations.json'),
        JSON.stringify({ destinations: [{ url: b.url, auth: { type: 'none' } }] }),
      );
      const env = {
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        AWS_PROFILE: '',
        AWS_EC2_METADATA_DISABLED: 'true',
      };
      const run = await runSmoke(['--url', front.url, '--sigv4', '--region', 'us-east-1', '--destination', b.url], env);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toContain('(auth: sigv4)');
      const wrong = await runSmoke(['--url', front.url, '--sigv4', '--region', 'us-east-1'], {
        ...env,
        AWS_SECRET_ACCESS_KEY: 'not-the-secret',
      });
      expect(wrong.code).toBe(1);
      expect(stepLine(wrong, 1)).toMatch(/^  FAIL  1\. .*answered 403/);
      expect(wrong.stdout).toContain('The request signature we calculated does not match');
    } finally {
      await front.close();
      await open.close();
    }
  });

  it('an asynchronous delete (202): polled until the study answers 404 / 410', async () => {
    const front = await proxy(a.url, { deferDeletes: 1_500 });
    try {
      const run = await runSmoke(['--url', front.url, '--token', TOKEN]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(stepLine(run, 6)).toMatch(/^  PASS  6\. .*DELETE 202, then 410/);
    } finally {
      await front.close();
    }
  });

  it('a URL where nothing listens: a clear unreachable message, exit 1', async () => {
    const port = await freePort();
    const run = await runSmoke(['--url', `http://127.0.0.1:${port}/prod`]);
    expect(run.code).toBe(1);
    expect(stepLine(run, 1)).toMatch(new RegExp(`^  FAIL  1\\. .*cannot reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
    expect(run.stdout).toContain('check: the URL');
  });

  it('bad usage: exit 2 with the usage text', async () => {
    const run = await runSmoke(['--url', 'ftp://example.org']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--url must be an absolute http(s) URL');
    expect(run.stderr).toContain('Usage: npm run smoke');
  });
});
