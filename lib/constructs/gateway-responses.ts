/**
 * API Gateway's own answers, which no function writes: the authorizer's 401, 403 and 503 as Status Reports
 * (PS3.18 8.6.3, the JSON shape of lambdas/http/status-report.ts) with the Bearer challenge (RFC 6750
 * 3), and the CORS headers on them and on DEFAULT_4XX/5XX (throttling 429, integration failures
 * 502/504) so a browser script can read them (lambdas/http/cors.ts).
 */
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { CORS_EXPOSED_HEADERS } from '../../lambdas/http/cors';
import type { StatusReport } from '../../lambdas/dicomweb/messages';

/** The realm of the WWW-Authenticate challenge (RFC 6750 3), as the functions answer it. */
export const BEARER_REALM = 'dicomweb';
/** Retry-After of a credential that cannot be checked now, as the functions answer an unreachable issuer. */
export const AUTHORIZER_RETRY_AFTER_SECONDS = 10;

export interface GatewayResponseOptions {
  /** The allowed CORS origins; a gateway response's headers are static, so only one can be named. */
  readonly corsAllowedOrigins: readonly string[];
  /** Auth 'oidc': UNAUTHORIZED, ACCESS_DENIED and AUTHORIZER_FAILURE as Status Reports. */
  readonly bearer: boolean;
}

/** A gateway response header value: a quoted static string in API Gateway's mapping syntax. */
const quoted = (value: string) => `'${value}'`;

function statusReportTemplate(report: StatusReport): Record<string, string> {
  // Mapping templates are Velocity: the reports below hold neither '$' nor '#'.
  return { 'application/json': JSON.stringify(report) };
}

export function addGatewayResponses(api: apigateway.RestApi, options: GatewayResponseOptions): void {
  const origins = options.corsAllowedOrigins;
  // With several origins a static header would name the wrong one: none, and the browser sees those
  // failures as network errors.
  const cors: Record<string, string> =
    origins.length === 1
      ? {
          'Access-Control-Allow-Origin': quoted(origins[0]!),
          'Access-Control-Expose-Headers': quoted(CORS_EXPOSED_HEADERS.join(', ')),
          Vary: quoted('Origin'),
        }
      : {};
  if (Object.keys(cors).length) {
    api.addGatewayResponse('Default4xx', { type: apigateway.ResponseType.DEFAULT_4XX, responseHeaders: cors });
    api.addGatewayResponse('Default5xx', { type: apigateway.ResponseType.DEFAULT_5XX, responseHeaders: cors });
  }
  if (!options.bearer) return;
  api.addGatewayResponse('Unauthorized', {
    type: apigateway.ResponseType.UNAUTHORIZED,
    statusCode: '401',
    responseHeaders: { ...cors, 'WWW-Authenticate': quoted(`Bearer realm="${BEARER_REALM}"`) },
    templates: statusReportTemplate({
      status: 401,
      title: 'Unauthorized',
      detail: 'A valid credential is required: Authorization: Bearer with an access token or an API key, or Basic with an API key.',
    }),
  });
  api.addGatewayResponse('AccessDenied', {
    type: apigateway.ResponseType.ACCESS_DENIED,
    statusCode: '403',
    responseHeaders: cors,
    templates: statusReportTemplate({ status: 403, title: 'Forbidden', detail: 'The credential does not allow this request.' }),
  });
  // The authorizer fails closed when it cannot check a credential now (issuer, its keys or the clients
  // table unreachable): a 503 to retry, instead of API Gateway's 500.
  api.addGatewayResponse('AuthorizerFailure', {
    type: apigateway.ResponseType.AUTHORIZER_FAILURE,
    statusCode: '503',
    responseHeaders: { ...cors, 'Retry-After': quoted(String(AUTHORIZER_RETRY_AFTER_SECONDS)) },
    templates: statusReportTemplate({
      status: 503,
      title: 'Service Unavailable',
      detail: 'The credential cannot be checked now (its issuer or the API key clients did not answer); retry later.',
    }),
  });
}
