/**
 * HTTP for the deploy smoke test: a fetch that authenticates every request the way the deployed API
 * expects (bearer token, HTTP Basic, or SigV4 for an IAM-authorized API), bounds each request with a
 * timeout, and turns an answer or a transport fault into a failure that says what to check.
 */
import { faultName } from '../../lambdas/send/retry';
import { readStatusReport, type RemoteStatusReport } from '../../lambdas/send/send-client';
import type { RequestSigner } from './sigv4';

export type SmokeAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'basic'; readonly user: string; readonly password: string }
  | { readonly kind: 'sigv4'; readonly signer: RequestSigner };

/** A step's failure: what went wrong, the HTTP status and Status Report (PS3.18 8.6.3) if any, what to check. */
export class StepFailure extends Error {
  constructor(
    message: string,
    readonly details: { readonly status?: number; readonly statusReport?: RemoteStatusReport; readonly check?: string } = {},
  ) {
    super(message);
  }
}

function bodyBytes(body: RequestInit['body']): Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return body;
  throw new TypeError('the smoke test sends strings and byte arrays only');
}

/** A fetch that adds the authentication of `auth` and aborts a request after `timeoutMs`. */
export function authorizedFetch(auth: SmokeAuth, timeoutMs: number, doFetch: typeof fetch = fetch): typeof fetch {
  return async (input, init = {}) => {
    if (input instanceof Request) throw new TypeError('the smoke test fetches URLs, not Request objects');
    const url = new URL(input);
    const body = bodyBytes(init.body);
    let headers: Record<string, string> = Object.fromEntries(new Headers(init.headers).entries());
    if (auth.kind === 'bearer') headers.authorization = `Bearer ${auth.token}`;
    if (auth.kind === 'basic') headers.authorization = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
    if (auth.kind === 'sigv4') {
      const { host: _host, ...signed } = await auth
        .signer({ method: init.method ?? 'GET', url, headers, ...(body ? { body } : {}) })
        .catch((err: unknown) => {
          // Mostly the credential chain finding no credentials (CredentialsProviderError).
          throw new StepFailure(`could not sign the request with SigV4 (${err instanceof Error ? err.message : String(err)})`, {
            check: 'the AWS credentials of this shell: AWS_PROFILE, aws sso login, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
          });
        });
      headers = signed; // fetch sends Host itself, with the value signed (url.host)
    }
    return doFetch(url, { ...init, headers, ...(body ? { body } : {}), signal: AbortSignal.timeout(timeoutMs) });
  };
}

/** What to check for an unexpected answer, by status: the usual causes in a deployment. */
export function checkFor(status: number): string {
  if (status === 401)
    return 'the credentials: --token (or DICOMWEB_TOKEN), --basic user:pass, or --sigv4 for an API with IAM authorization';
  if (status === 403) {
    return 'the token or IAM identity lacks permission for this transaction (scope, execute-api:Invoke), or the web ACL blocked the request (WAF logs)';
  }
  if (status === 404)
    return 'the URL: the ApiUrl output of the stack, stage included (e.g. https://{id}.execute-api.{region}.amazonaws.com/prod)';
  if (status === 413) return 'the request is larger than the API accepts (STOW body limit in docs/conformance-statement.md)';
  if (status === 429) return "API Gateway throttled the request: the stage's rate and burst limits, the account's quota";
  if (status === 502) return "the function failed or its response was too large for API Gateway: the function's CloudWatch logs";
  if (status === 504) return "the integration timed out: the function's duration and timeout in its CloudWatch logs";
  if (status >= 500) return "the function's CloudWatch logs (the Status Report never carries internals)";
  return 'the Status Report above';
}

/** The failure for a thrown transport fault: unreachable host, refused connection, timeout. */
export function transportFailure(err: unknown, url: string, timeoutMs: number): StepFailure {
  const fault = faultName(err);
  if (fault === 'timeout' || fault === 'TimeoutError') {
    return new StepFailure(`no answer from ${new URL(url).origin} within ${timeoutMs / 1000} s`, {
      check: 'the API is reachable from here, and --timeout is long enough for a cold start',
    });
  }
  return new StepFailure(`cannot reach ${new URL(url).origin} (${fault})`, {
    check: 'the URL (host, port, https), DNS, and the network path (VPN, proxy, private API endpoint)',
  });
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

/** Sends a request and reads the whole answer; a status outside `expect` becomes a StepFailure. */
export async function call(
  doFetch: typeof fetch,
  timeoutMs: number,
  method: string,
  url: string,
  opts: { readonly headers?: Record<string, string>; readonly body?: Uint8Array; readonly expect: readonly number[] },
): Promise<Answer> {
  let res: Response;
  let body: Uint8Array;
  try {
    res = await doFetch(url, {
      method,
      redirect: 'manual',
      ...(opts.headers ? { headers: opts.headers } : {}),
      ...(opts.body ? { body: opts.body } : {}),
    });
    body = new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    throw err instanceof StepFailure ? err : transportFailure(err, url, timeoutMs);
  }
  if (!opts.expect.includes(res.status)) {
    const statusReport = readStatusReport(Buffer.from(body).toString('utf8'));
    throw new StepFailure(
      `${method} ${new URL(url).pathname}${new URL(url).search} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`,
      {
        status: res.status,
        ...(statusReport ? { statusReport } : {}),
        check: checkFor(res.status),
      },
    );
  }
  return { status: res.status, headers: res.headers, body };
}
