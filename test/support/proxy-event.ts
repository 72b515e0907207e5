/**
 * An API Gateway proxy event as the REST API hands it to a function (Lambda proxy integration), for
 * unit tests that call a handler directly: the fields the handlers read, the rest null or empty.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';

export interface ProxyEventOptions {
  readonly method: string;
  /** The route template API Gateway matched, e.g. /studies/{study}. */
  readonly resource: string;
  /** The concrete path; the resource with its parameters filled in by default. */
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly pathParameters?: Record<string, string>;
  readonly requestContext?: Partial<APIGatewayProxyEvent['requestContext']>;
}

export function proxyEvent(opts: ProxyEventOptions): APIGatewayProxyEvent {
  const path = opts.path ?? opts.resource.replace(/\{(\w+)\}/g, (_, name: string) => opts.pathParameters?.[name] ?? `{${name}}`);
  return {
    resource: opts.resource,
    path,
    httpMethod: opts.method,
    headers: opts.headers ?? {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: opts.pathParameters ?? null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: (opts.requestContext ?? {}) as APIGatewayProxyEvent['requestContext'],
  };
}
