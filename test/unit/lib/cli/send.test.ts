import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSendRequestResponse, sendRequestResponse } from '../../../../lambdas/send/response-module';
import { SendUsageError } from '../../../../lambdas/send/send-client';
import { main, parseSendArgs } from '../../../../lib/cli/send';

const STUDY = '1.2.826.0.1.3680043.8.498.1';
const SERIES = '1.2.826.0.1.3680043.8.498.2';
const required = ['--origin', 'http://127.0.0.1:8080', '--destination', 'http://127.0.0.1:8081'];

describe('parseSendArgs', () => {
  it('maps every option', () => {
    const cmd = parseSendArgs([
      ...required,
      '--study',
      STUDY,
      '--series',
      SERIES,
      '--query',
      'PatientID=X',
      '--query',
      'StudyDate=2024-',
      '--transaction-uid',
      '2.25.7',
      '--token',
      't0k',
      '--no-progress',
      '--max-wait',
      '90',
      '--json',
    ]);
    expect(cmd).toEqual({
      options: {
        origin: 'http://127.0.0.1:8080',
        destination: 'http://127.0.0.1:8081',
        resourcePath: `/studies/${STUDY}/series/${SERIES}/instances`,
        search: [
          ['PatientID', 'X'],
          ['StudyDate', '2024-'],
        ],
        transactionUID: '2.25.7',
        maxWaitSeconds: 90,
      },
      auth: { kind: 'bearer', token: 't0k' },
      progress: false,
      json: true,
    });
  });

  it('defaults: all studies, progress on, one hour', () => {
    expect(parseSendArgs(required)).toEqual({
      options: {
        origin: 'http://127.0.0.1:8080',
        destination: 'http://127.0.0.1:8081',
        resourcePath: '/studies',
        search: [],
        maxWaitSeconds: 3600,
      },
      auth: { kind: 'none' },
      progress: true,
      json: false,
    });
    expect(parseSendArgs([...required, '--level', 'instances']).options.resourcePath).toBe('/instances');
  });

  it.each([
    [['--destination', 'http://x']],
    [['--origin', 'http://x']],
    [[...required, '--level', 'patients']],
    [[...required, '--max-wait', '0']],
    [[...required, '--max-wait', 'soon']],
    [[...required, '--bogus']],
    [[...required, 'positional']],
    [[...required, '--query', 'NoEquals']],
  ])('refuses %j with a usage error', (argv) => {
    expect(() => parseSendArgs(argv)).toThrow(SendUsageError);
  });
});

function capture(isTTY = false) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t), isTTY } },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}

describe('main', () => {
  it('--json prints the final module on stdout and exits with the status code of the result', async () => {
    const term = capture();
    const payload = encodeSendRequestResponse(
      sendRequestResponse({ remaining: 0, completed: 0, failed: 2, warning: 0 }, ['1.2.3', '1.2.4']),
    );
    const fetch = (async () => new Response(JSON.stringify(payload), { status: 200 })) as typeof globalThis.fetch;
    const code = await main([...required, '--json', '--no-progress'], term.io, { fetch });
    expect(code).toBe(3);
    expect(JSON.parse(term.stdout())).toEqual(payload);
    expect(term.stderr()).toBe('');
  });

  it('--help prints the usage on stdout and exits 0', async () => {
    const term = capture();
    expect(await main(['--help'], term.io)).toBe(0);
    expect(term.stdout()).toContain('Usage: npm run send');
  });

  it('a usage error prints the usage and exits 1 without any request', async () => {
    const term = capture();
    let requests = 0;
    const fetch = (async () => (requests++, new Response(null, { status: 500 }))) as typeof globalThis.fetch;
    expect(await main(['--origin', 'http://x'], term.io, { fetch })).toBe(1);
    expect(await main([...required, '--transaction-uid', 'not-a-uid'], term.io, { fetch })).toBe(1);
    expect(requests).toBe(0);
    expect(term.stderr()).toContain('--destination is required');
    expect(term.stderr()).toContain('Usage: npm run send');
  });
});

describe('the CLI entry (tsx lib/cli/send.ts)', () => {
  let server: Server;
  let origin: string;
  const seen: { method: string; url: string; accept: string | undefined }[] = [];

  beforeAll(async () => {
    const final = encodeSendRequestResponse(sendRequestResponse({ remaining: 0, completed: 2, failed: 1, warning: 0 }, ['1.2.3.99']));
    const pending = encodeSendRequestResponse(sendRequestResponse({ remaining: 3, completed: 0, failed: 0, warning: 0 }));
    server = createServer((req: IncomingMessage, res) => {
      seen.push({ method: req.method!, url: req.url!, accept: req.headers.accept });
      const first = seen.length === 1;
      res.writeHead(first ? 202 : 200, { 'Content-Type': 'application/dicom+json', ...(first ? { 'Retry-After': '0' } : {}) });
      res.end(JSON.stringify(first ? pending : final));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends, polls and exits 2 for a Warning result', async () => {
    const child = spawn(
      'node_modules/.bin/tsx',
      [
        'lib/cli/send.ts',
        '--origin',
        origin,
        '--destination',
        'http://127.0.0.1:8081/dicomweb',
        '--study',
        STUDY,
        '--transaction-uid',
        '2.25.42',
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    expect(code).toBe(2);
    expect(seen.map((s) => s.method)).toEqual(['POST', 'GET']);
    expect(seen[0]!.url).toBe(`/studies/${STUDY}/series/send-requests/2.25.42?destination=http%3A%2F%2F127.0.0.1%3A8081%2Fdicomweb`);
    expect(seen[1]!.url).toBe(`/studies/${STUDY}/series/send-requests/2.25.42`);
    expect(seen.every((s) => s.accept === 'application/dicom+json')).toBe(true);
    expect(stdout).toContain('Send 2.25.42: B000 Warning: some sub-operations failed or warned');
    expect(stdout).toContain('completed 2  warning 0  failed 1  remaining 0');
    expect(stdout).toContain('1.2.3.99');
    // stderr is a pipe here, not a TTY: one plain line per response.
    expect(stderr.split('\n').filter((l) => l.startsWith('completed'))).toEqual([
      'completed 0  warning 0  failed 0  remaining 3  (0/3)',
      'completed 2  warning 0  failed 1  remaining 0  (3/3)',
    ]);
  });
});
