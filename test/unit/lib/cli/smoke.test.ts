/** The smoke CLI without a network: its options, its step runner and output, and how it authenticates. */
import { describe, expect, it } from 'vitest';
import { authorizedFetch, call, checkFor, StepFailure } from '../../../../lib/cli/smoke-http';
import { formatStep, main, parseSmokeArgs, runSteps, SmokeUsageError, type StepReport } from '../../../../lib/cli/smoke';
import type { SmokeContext, SmokeStep } from '../../../../lib/cli/smoke-steps';

const API = 'https://abc123.execute-api.eu-central-1.amazonaws.com/prod';

describe('parseSmokeArgs', () => {
  it('maps every option', () => {
    expect(
      parseSmokeArgs([
        '--url',
        `${API}/`,
        '--token',
        't0k',
        '--destination',
        'https://dest.example.org/dicomweb',
        '--verify-destination',
        '--keep',
        '--timeout',
        '12',
        '--max-wait',
        '90',
      ]),
    ).toEqual({
      url: API,
      auth: { kind: 'bearer', token: 't0k' },
      destination: 'https://dest.example.org/dicomweb',
      verifyDestination: true,
      keep: true,
      timeoutSeconds: 12,
      maxWaitSeconds: 90,
    });
  });

  it('defaults: no authentication, no destination, 30 s per request, 300 s of waiting', () => {
    expect(parseSmokeArgs(['--url', API])).toEqual({
      url: API,
      auth: { kind: 'none' },
      verifyDestination: false,
      keep: false,
      timeoutSeconds: 30,
      maxWaitSeconds: 300,
    });
  });

  it('takes the bearer token from DICOMWEB_TOKEN unless --token gives one', () => {
    expect(parseSmokeArgs(['--url', API], { DICOMWEB_TOKEN: 'from-env' }).auth).toEqual({ kind: 'bearer', token: 'from-env' });
    expect(parseSmokeArgs(['--url', API, '--token', 'given'], { DICOMWEB_TOKEN: 'from-env' }).auth).toEqual({
      kind: 'bearer',
      token: 'given',
    });
    expect(parseSmokeArgs(['--url', API, '--basic', 'u:p'], { DICOMWEB_TOKEN: 'from-env' }).auth.kind).toBe('basic');
  });

  it('--basic splits at the first colon', () => {
    expect(parseSmokeArgs(['--url', API, '--basic', 'smoke:pa:ss']).auth).toEqual({ kind: 'basic', user: 'smoke', password: 'pa:ss' });
  });

  it('--sigv4 takes the region of the execute-api host, or --region', () => {
    expect(parseSmokeArgs(['--url', API, '--sigv4']).auth).toEqual({ kind: 'sigv4', region: 'eu-central-1' });
    expect(parseSmokeArgs(['--url', 'https://dicom.example.org/api', '--sigv4', '--region', 'us-west-2']).auth).toEqual({
      kind: 'sigv4',
      region: 'us-west-2',
    });
  });

  it.each([
    [[], '--url is required'],
    [['--url', 'dicom.example.org'], '--url must be an absolute http(s) URL'],
    [['--url', API, '--token', 't', '--sigv4'], 'choose one of --token, --sigv4'],
    [['--url', API, '--region', 'eu-west-1'], '--region is for --sigv4'],
    [['--url', 'https://dicom.example.org', '--sigv4'], '--sigv4: give --region'],
    [['--url', API, '--basic', 'nocolon'], '--basic expects user:password'],
    [['--url', API, '--verify-destination'], '--verify-destination needs --destination'],
    [['--url', API, '--destination', 'ftp://x'], '--destination must be an absolute http(s) URL'],
    [['--url', API, '--timeout', '0'], '--timeout must be a positive number of seconds'],
    [['--url', API, '--max-wait', 'soon'], '--max-wait must be a positive number of seconds'],
    [['--url', API, '--verbose'], "Unknown option '--verbose'"],
  ])('%j is a usage error: %s', (argv, message) => {
    expect(() => parseSmokeArgs(argv)).toThrow(SmokeUsageError);
    expect(() => parseSmokeArgs(argv)).toThrow(message);
  });

  it('main answers a usage error with exit 2 and the usage on stderr, before any request', async () => {
    let out = '';
    let requests = 0;
    const code = await main(
      ['--url', API, '--keep', 'extra'],
      { stdout: { write: () => true }, stderr: { write: (t: string) => (out += t) } },
      {
        fetch: async () => {
          requests++;
          return new Response(null);
        },
      },
    );
    expect(code).toBe(2);
    expect(out).toContain('Usage: npm run smoke');
    expect(requests).toBe(0);
  });
});

/** A context for steps that do not use it. */
const ctx = { keep: false } as SmokeContext;

function step(title: string, run: () => Promise<string>, more: Partial<SmokeStep> = {}): SmokeStep {
  return { title, run, ...more };
}

describe('runSteps', () => {
  it('runs every step, times it, and reports pass, fail with what to check, and skip', async () => {
    const reports = await runSteps(
      ctx,
      [
        step('one', async () => 'fine'),
        step('two', async () => {
          throw new StepFailure('GET /studies answered 500', {
            status: 500,
            statusReport: { title: 'Internal Server Error', detail: 'logged' },
            check: 'the logs',
          });
        }),
        step('three', async () => 'fine too', { skip: () => 'no --destination given' }),
        step('four', async () => 'still runs'),
      ],
      () => {},
    );
    expect(reports.map((r) => [r.outcome, r.summary])).toEqual([
      ['pass', 'fine'],
      ['fail', 'GET /studies answered 500\nStatus Report: Internal Server Error: logged\ncheck: the logs'],
      ['skip', 'no --destination given'],
      ['pass', 'still runs'],
    ]);
  });

  it('a failed required step skips the rest', async () => {
    let ran = false;
    const reports = await runSteps(
      ctx,
      [
        step('store', async () => Promise.reject(new StepFailure('nothing stored')), { required: true }),
        step('search', async () => {
          ran = true;
          return '';
        }),
      ],
      () => {},
    );
    expect(reports.map((r) => r.outcome)).toEqual(['fail', 'skip']);
    expect(reports[1]!.summary).toBe('not run: step 1 failed');
    expect(ran).toBe(false);
  });
});

describe('formatStep', () => {
  const failed: StepReport = { title: 'Search', outcome: 'fail', ms: 41.6, summary: 'answered 500\ncheck: the logs' };
  it('prints the label, number, title, timing and the failure lines indented', () => {
    expect(formatStep(3, failed, false)).toBe('  FAIL  3. Search  (42 ms)  answered 500\n        check: the logs');
  });
  it('colours the label green, red or yellow on a terminal', () => {
    expect(formatStep(3, failed, true)).toContain('\x1b[31mFAIL\x1b[0m');
    expect(formatStep(1, { title: 'x', outcome: 'pass', ms: 1, summary: '' }, true)).toContain('\x1b[32mPASS\x1b[0m');
    expect(formatStep(5, { title: 'x', outcome: 'skip', ms: 0, summary: 'no' }, true)).toBe('  \x1b[33mSKIP\x1b[0m  5. x  no');
  });
});

describe('authorizedFetch', () => {
  async function sent(
    auth: Parameters<typeof authorizedFetch>[0],
  ): Promise<{ url: string; headers: Headers; signal: AbortSignal | null | undefined }> {
    let seen: { url: string; headers: Headers; signal: AbortSignal | null | undefined } | undefined;
    const doFetch = (async (url: URL, init: RequestInit) => {
      seen = { url: url.href, headers: new Headers(init.headers), signal: init.signal };
      return new Response(null, { status: 204 });
    }) as typeof fetch;
    await authorizedFetch(
      auth,
      5_000,
      doFetch,
    )(`${API}/studies?PatientID=X`, { method: 'GET', headers: { Accept: 'application/dicom+json' } });
    return seen!;
  }

  it('adds a bearer token, or HTTP Basic credentials, keeping the request headers and bounding the request', async () => {
    const bearer = await sent({ kind: 'bearer', token: 't0k' });
    expect(bearer.headers.get('authorization')).toBe('Bearer t0k');
    expect(bearer.headers.get('accept')).toBe('application/dicom+json');
    expect(bearer.signal).toBeInstanceOf(AbortSignal);
    expect((await sent({ kind: 'basic', user: 'smoke', password: 'pa:ss' })).headers.get('authorization')).toBe(
      `Basic ${Buffer.from('smoke:pa:ss').toString('base64')}`,
    );
    expect((await sent({ kind: 'none' })).headers.has('authorization')).toBe(false);
  });

  it('sends the headers the SigV4 signer gives, without Host (fetch sets the same one)', async () => {
    const signed = await sent({
      kind: 'sigv4',
      signer: async (request) => ({
        ...request.headers,
        host: request.url.host,
        authorization: `AWS4-HMAC-SHA256 for ${request.method} ${request.url.pathname}`,
      }),
    });
    expect(signed.headers.get('authorization')).toBe('AWS4-HMAC-SHA256 for GET /prod/studies');
    expect(signed.headers.has('host')).toBe(false);
    expect(signed.url).toBe(`${API}/studies?PatientID=X`);
  });
});

describe('call', () => {
  it('a request the timeout aborts is a failure naming the host and the bound', async () => {
    const hanging = (async (_url: URL, init: RequestInit) =>
      new Promise<Response>((_resolve, reject) =>
        init.signal!.addEventListener('abort', () => reject(init.signal!.reason)),
      )) as typeof fetch;
    const failure = await call(authorizedFetch({ kind: 'none' }, 50, hanging), 50, 'OPTIONS', `${API}/`, { expect: [200] }).catch(
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(StepFailure);
    expect((failure as StepFailure).message).toBe('no answer from https://abc123.execute-api.eu-central-1.amazonaws.com within 0.05 s');
    expect((failure as StepFailure).details.check).toContain('--timeout');
  });

  it('SigV4 without credentials is a failure that names the credentials, not the network', async () => {
    const signer = async () => {
      throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    };
    const unused = (async () => new Response(null)) as typeof fetch;
    const failure = (await call(authorizedFetch({ kind: 'sigv4', signer }, 1_000, unused), 1_000, 'OPTIONS', `${API}/`, {
      expect: [200],
    }).catch((err: unknown) => err)) as StepFailure;
    expect(failure).toBeInstanceOf(StepFailure);
    expect(failure.message).toBe('could not sign the request with SigV4 (Could not load credentials from any providers)');
    expect(failure.details.check).toContain('AWS_PROFILE');
  });

  it('an unexpected status is a failure with the status, the Status Report and what to check', async () => {
    const answer = (async () =>
      new Response(JSON.stringify({ status: 429, title: 'Too Many Requests', detail: 'slow down' }), { status: 429 })) as typeof fetch;
    const failure = (await call(answer, 1_000, 'GET', `${API}/studies?PatientID=X`, { expect: [200] }).catch(
      (err: unknown) => err,
    )) as StepFailure;
    expect(failure.message).toBe('GET /prod/studies?PatientID=X answered 429');
    expect(failure.details).toEqual({
      status: 429,
      statusReport: { title: 'Too Many Requests', detail: 'slow down' },
      check: checkFor(429),
    });
    expect(checkFor(429)).toContain('throttl');
  });
});
