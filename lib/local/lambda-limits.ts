/**
 * What Lambda and API Gateway impose on one invocation, reproduced by the embedded gateway so that a
 * handler that breaks them fails here as it would in AWS:
 * - a buffered function's serialized proxy result is at most 6 MB (Lambda quotas, "Invocation
 *   payload"); beyond it the invoke fails and API Gateway answers 502;
 * - a function runs at most its timeout (lambdas/http/routes.ts functionGroups); a timed-out invoke is a
 *   function error, which API Gateway answers 502 for a proxy integration;
 * - API Gateway waits 29 s for a buffered integration, then answers 504; a streamed integration waits
 *   the function's timeout, and its stream ends there (API Gateway, "Stream the integration response").
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { LAMBDA_MAX_PAYLOAD_BYTES } from '../../lambdas/config';
import type { ProxyResult } from '../../lambdas/http/proxy';
import type { FunctionGroup } from '../../lambdas/http/routes';
import { functionGroups, integrationTimeoutSeconds } from '../../lambdas/http/routes';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<ProxyResult>;

/** Timeouts in ms that replace the route table's, so tests of them run fast. */
export interface InvocationTimeouts {
  /** A function group's timeout (its functionGroups timeoutSeconds by default). */
  readonly functionMs?: Partial<Record<FunctionGroup, number>>;
  /** API Gateway's wait for a buffered integration (29 s by default). */
  readonly bufferedIntegrationMs?: number;
}

/** How the invoke failed, answered as API Gateway answers it. */
export class GatewayFailure extends Error {
  constructor(
    readonly status: 502 | 504,
    readonly reason: 'FunctionTimeout' | 'IntegrationTimeout' | 'ResponsePayloadTooLarge',
  ) {
    super(reason);
  }

  /** API Gateway's default gateway responses: `{"message": ...}` in application/json. */
  result(): ProxyResult {
    const message = this.status === 504 ? 'Endpoint request timed out' : 'Internal server error';
    return {
      statusCode: this.status,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ message }),
      isBase64Encoded: false,
    };
  }
}

export interface Invocation {
  readonly result: ProxyResult;
  /** When the function times out (epoch ms): a streamed body ends there. */
  readonly deadline: number;
}

function lambdaContext(group: FunctionGroup, deadline: number): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `local-${group}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:local-${group}`,
    memoryLimitInMB: String(functionGroups[group].memorySize),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/local-${group}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The bytes of a buffered result as Lambda returns it: the proxy result serialized as JSON. */
export function bufferedPayloadBytes(result: ProxyResult): number {
  return Buffer.byteLength(JSON.stringify(result), 'utf8');
}

/**
 * Invokes a group's handler within its limits: rejects with GatewayFailure when the function or the
 * integration times out first, or when a buffered result is over the payload limit. A handler that
 * outlives its timeout is left to finish unheard, as Lambda's answer would be dropped.
 */
export async function invokeWithinLimits(
  group: FunctionGroup,
  handler: ProxyHandler,
  event: APIGatewayProxyEvent,
  timeouts: InvocationTimeouts = {},
): Promise<Invocation> {
  const spec = functionGroups[group];
  const functionMs = timeouts.functionMs?.[group] ?? spec.timeoutSeconds * 1000;
  const integrationMs = spec.streaming ? functionMs : (timeouts.bufferedIntegrationMs ?? integrationTimeoutSeconds(spec) * 1000);
  const deadline = Date.now() + functionMs;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    // The gateway gives up first when its wait is not longer than the function's timeout. The error
    // is made when it happens: an Error's stack, taken for every request, showed in profiles.
    timer = setTimeout(
      () =>
        reject(integrationMs <= functionMs ? new GatewayFailure(504, 'IntegrationTimeout') : new GatewayFailure(502, 'FunctionTimeout')),
      Math.min(functionMs, integrationMs),
    );
  });
  try {
    const result = await Promise.race([handler(event, lambdaContext(group, deadline)), timedOut]);
    if (!spec.streaming && !(result.body instanceof Readable) && bufferedPayloadBytes(result) > LAMBDA_MAX_PAYLOAD_BYTES) {
      throw new GatewayFailure(502, 'ResponsePayloadTooLarge');
    }
    return { result, deadline };
  } finally {
    clearTimeout(timer);
  }
}
