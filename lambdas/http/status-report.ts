/**
 * The Status Report of failure responses (PS3.18 8.6.3: a failure response "may contain a Status
 * Report describing any failures, warnings, or other useful information").
 * One JSON shape for every failure, so user agents and people can read it alike.
 */
import type { StatusReportDetail } from '../dicomweb/errors';
import type { DicomwebResponse, StatusReport } from '../dicomweb/messages';
import { MediaType } from '../dicomweb/messages';

const reasonPhrases: Record<number, string> = {
  202: 'Accepted',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function statusReport(
  status: number,
  detail: string,
  errors: readonly StatusReportDetail[] = [],
  headers: Record<string, string> = {},
): DicomwebResponse {
  const report: StatusReport = {
    status,
    title: reasonPhrases[status] ?? 'Error',
    detail,
    ...(errors.length ? { errors } : {}),
  };
  return {
    status,
    headers: { ...headers, 'Content-Type': MediaType.Json },
    body: JSON.stringify(report),
  };
}
