/**
 * What a share link's principal may do (docs/security.md, "Share links"): Search and Retrieve of its
 * one study, and Retrieve Capabilities; nothing else. Applied by the middleware before the scope check,
 * to every request a share token makes:
 * - a route with a {study} path parameter (search, retrieve, rendered, thumbnail): that study only;
 * - a search without a study in its path (/studies, /series, /instances): answered as if the query said
 *   StudyInstanceUID=<the study>; a StudyInstanceUID filter that does not list that study is a 403
 *   (the reader asked for a study the link does not open);
 * - Store, Delete, Send, the NPI service and the admin routes: 403.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Principal } from '../auth/authenticate';
import { ForbiddenError } from '../dicomweb/errors';
import type { Route } from './routes';

/**
 * The Study Instance UID as a query key: its keyword, or its tag as the search accepts it (`0020000D`
 * or `(0020,000D)`, either case). Not the dictionary: the middleware runs in every function, and the
 * dictionary loads dcmjs. A spelling missed here stays beside the one added, which the search refuses
 * (400, given twice): never a wider answer.
 */
function isStudyInstanceUidKey(name: string): boolean {
  return name === 'StudyInstanceUID' || /^(?:0020000D|\(0020,000D\))$/i.test(name);
}

/** 403 with a Status Report naming what the link gives. */
function refused(principal: Principal, message: string): ForbiddenError {
  return new ForbiddenError(`a share link gives Search and Retrieve of one study only: ${message}`, [
    { target: 'StudyInstanceUID', message: `this link opens study ${principal.study}` },
  ]);
}

/**
 * Throws ForbiddenError when a share link's principal may not make this request; narrows a search
 * without a study in its path to the link's study (in place, on the event's query). Any other
 * principal passes untouched.
 */
export function restrictToSharedStudy(principal: Principal, route: Route | undefined, event: APIGatewayProxyEvent): void {
  if (principal.mechanism !== 'share') return;
  const study = principal.study;
  if (!study) throw new ForbiddenError('a share link without its study gives nothing');
  if (!route) throw refused(principal, 'this resource is not one of them');
  switch (route.group) {
    case 'capabilities':
      return;
    case 'search':
    case 'retrieve':
    case 'render': {
      const pathStudy = event.pathParameters?.study;
      if (pathStudy !== undefined) {
        if (pathStudy !== study) throw refused(principal, `study ${pathStudy.slice(0, 64)} is not the shared study`);
        return;
      }
      if (route.group !== 'search') throw refused(principal, 'this resource is not one of them');
      narrowSearch(principal, event);
      return;
    }
    default:
      throw refused(principal, `${route.transaction} is not allowed`);
  }
}

/** Replaces every StudyInstanceUID filter (by keyword or tag) with the shared study. */
function narrowSearch(principal: Principal, event: APIGatewayProxyEvent): void {
  const study = principal.study!;
  const multi: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) if (values) multi[name] = [...values];
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) if (value != null && !multi[name]) multi[name] = [value];
  for (const name of Object.keys(multi)) {
    if (!isStudyInstanceUidKey(name)) continue;
    // A UID list (PS3.18 8.3.4.1: comma-separated; backslash as in PS3.4 C.2.2.2.2) must name the study.
    const listsStudy = multi[name]!.every((v) => v.split(/[,\\]/).some((uid) => uid.trim() === study));
    if (!listsStudy) throw refused(principal, 'the StudyInstanceUID filter does not name the shared study');
    delete multi[name];
  }
  multi.StudyInstanceUID = [study];
  event.multiValueQueryStringParameters = multi;
  event.queryStringParameters = Object.fromEntries(Object.entries(multi).map(([name, values]) => [name, values[values.length - 1]!]));
}
