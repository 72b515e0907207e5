/**
 * The request every DICOMweb operation sees, independent of API Gateway. lambdas/http/proxy.ts builds
 * it from an API Gateway REST proxy event, and the embedded gateway (lib/local/gateway.ts) builds the
 * very same proxy events.
 */
import type { RequestBody } from '../dicomweb/messages';

export interface DicomwebRequest {
  readonly method: string;
  /** The concrete path, e.g. /studies/1.2.3/series. */
  readonly path: string;
  /** The route template that matched, e.g. /studies/{study}/series. */
  readonly resource: string;
  readonly pathParameters: Readonly<Record<string, string>>;
  /** Query parameters with every value (repeated keys keep all their values, in order). */
  readonly query: ReadonlyMap<string, readonly string[]>;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: RequestBody;
  /** Base URL of the service root, e.g. http://127.0.0.1:8080 or https://x.execute-api.../prod. */
  readonly baseUrl: string;
  /** Who the request speaks for, `mechanism:principal` (never a credential); absent when no credential is checked. */
  readonly principal?: string;
  /** Milliseconds left before the function times out (Lambda context), when the caller knows it. */
  readonly remainingTimeMillis?: () => number;
}
