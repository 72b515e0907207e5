/**
 * HTTP for the deploy smoke test: a fetch that authenticates every request the way the deployed API
 * expects (bearer token, HTTP Basic, or SigV4 for an IAM-authorized API), bounds each request with a
 * timeout, and turns an answer or a transport fault into a failure that says what to check.
 */
import { TokenRequestError } from '../../lambdas/auth/oauth2-client';
import { faultName } from '../../lambdas/send/retry';
import { readStatusReport, type RemoteStatusReport } from '../../lambdas/send/send-client';
import { credentialsFetch, SigningError, type ResolvedCredentials } from './credentials';

/** The smoke test's authentication: the CLI credentials (./credentials), SigV4's signer made. */
export type SmokeAuth = ResolvedCredentials;

/** A step's failure: what went wrong, the HTTP status and Status Report (PS3.18 8.6.3) if any, what to check. */
export class StepFailure extends Error {
  constructor(
    message: string,
    readonly details: { readonly status?: number; readonly statusReport?: RemoteStatusReport; readonly check?: string } = {},
  ) {
    super(message);
  }
}

/** A fetch that adds the authentication of `auth` and aborts a request after `timeoutMs`. */
export function authorizedFetch(auth: SmokeAuth, timeoutMs: number, doFetch: typeof fetch = fetch): typeof fetch {
  const authenticated = credentialsFetch(auth, { fetch: doFetch, timeoutMs });
  return async (input, init = {}) => {
    try {
      return await authenticated(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      if (err instanceof SigningError) {
        throw new StepFailure(err.message, {
          check: 'the AWS credentials of this shell: AWS_PROFILE, aws sso login, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
        });
      }
      if (err instanceof TokenRequestError) {
        throw new StepFailure(err.message, {
          check:
            'the client credentials: --token-url, --client-id and --client-secret (or DICOMWEB_CLIENT_ID / DICOMWEB_CLIENT_SECRET), --scope',
        });
      }
      throw err;
    }
  };
}

/** What to check for an unexpected answer, by status: the usual causes in a deployment. */
export function checkFor(status: number): string {
  if (status === 401)
    return 'the credentials: --token (or DICOMWEB_TOKEN), --client-credentials, --basic user:pass, or --sigv4 for an API with IAM authorization';
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
