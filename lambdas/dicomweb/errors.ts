/**
 * Typed errors of the DICOMweb services, each carrying its HTTP status, mapped to a response in one
 * place, the middleware's error handler (lambdas/http/middleware.ts; docs/architecture.md, habits).
 * A 5xx never leaks its internal message.
 */

export interface StatusReportDetail {
  /** What the detail is about, e.g. a query parameter or a part of a multipart body. */
  readonly target?: string;
  readonly message: string;
}

export abstract class DicomwebError extends Error {
  abstract readonly status: number;
  /** Extra response headers, e.g. Retry-After. */
  readonly headers: Record<string, string> = {};
  readonly details: readonly StatusReportDetail[];
  constructor(message: string, details: readonly StatusReportDetail[] = []) {
    super(message);
    this.details = details;
  }
}

/** 400: the request is malformed (PS3.18 8.6.1.2). */
export class BadRequestError extends DicomwebError {
  readonly status = 400;
}
/** 401: a bearer token is required and was missing or wrong. */
export class UnauthorizedError extends DicomwebError {
  readonly status = 401;
}
/** 403: the credential is valid but does not hold the scope the transaction requires. */
export class ForbiddenError extends DicomwebError {
  readonly status = 403;
}
/** 404: the target resource does not exist. */
export class NotFoundError extends DicomwebError {
  readonly status = 404;
}
/** 405: the resource exists but not with this method. */
export class MethodNotAllowedError extends DicomwebError {
  readonly status = 405;
  constructor(message: string, allow: readonly string[]) {
    super(message);
    this.headers.Allow = allow.join(', ');
  }
}
/** 406: no acceptable representation can be produced. */
export class NotAcceptableError extends DicomwebError {
  readonly status = 406;
}
/** 409: conflict with the state of the resource (e.g. no instance stored, Transaction UID in use). */
export class ConflictError extends DicomwebError {
  readonly status = 409;
}
/** 410: the resource existed and was deleted or has expired. */
export class GoneError extends DicomwebError {
  readonly status = 410;
}
/** 413: the request or the response would exceed the service limits. */
export class PayloadTooLargeError extends DicomwebError {
  readonly status = 413;
}
/** 415: the request payload media type is not supported. */
export class UnsupportedMediaTypeError extends DicomwebError {
  readonly status = 415;
}
/** 503: a backing service cannot answer now; retry later. */
export class ServiceUnavailableError extends DicomwebError {
  readonly status = 503;
  constructor(message: string, retryAfterSeconds = 5) {
    super(message);
    this.headers['Retry-After'] = String(retryAfterSeconds);
  }
}
