/**
 * Unit: what a share link's principal may do, route by route (lambdas/http/share-scope.ts): its study's
 * search, retrieve, rendered and thumbnail resources and Retrieve Capabilities; a search without a
 * study in its path narrowed to the study; every other study, Store, Delete, Send, NPI and the admin
 * routes refused with 403. Other principals pass untouched.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../lambdas/auth/authenticate';
import { ForbiddenError } from '../../../lambdas/dicomweb/errors';
import { routes, type Route } from '../../../lambdas/http/routes';
import { restrictToSharedStudy } from '../../../lambdas/http/share-scope';
import { proxyEvent } from '../../support/proxy-event';

const SHARED = '1.2.826.0.1.3680043.8.498.1';
const OTHER = '1.2.826.0.1.3680043.8.498.2';
const share: Principal = { mechanism: 'share', principal: 'abcdefghijkl', scopes: ['read'], study: SHARED, expiresAt: 2e9 };

function eventFor(route: Route, study: string, query?: Record<string, string[]>): APIGatewayProxyEvent {
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const pathParameters = Object.fromEntries(params.map((p) => [p, p === 'study' ? study : '1.2.3']));
  const event = proxyEvent({ method: route.method, resource: route.path, pathParameters });
  if (query) {
    event.multiValueQueryStringParameters = query;
    event.queryStringParameters = Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v[v.length - 1]!]));
  }
  return event;
}

const decision = (principal: Principal, route: Route, study: string, query?: Record<string, string[]>) => {
  try {
    restrictToSharedStudy(principal, route, eventFor(route, study, query));
    return 'allowed';
  } catch (error) {
    expect(error).toBeInstanceOf(ForbiddenError);
    return 'refused';
  }
};

const hasStudy = (r: Route) => r.path.includes('{study}');
const readable = (r: Route) => r.group === 'search' || r.group === 'retrieve' || r.group === 'render';

describe('a share link', () => {
  it('allows every search, retrieve, rendered and thumbnail resource of its study, and Retrieve Capabilities', () => {
    const allowed = routes.filter(
      (r) => (readable(r) && hasStudy(r)) || r.group === 'capabilities' || (r.group === 'search' && !hasStudy(r)),
    );
    expect(allowed.length).toBeGreaterThan(40);
    for (const route of allowed) expect([route.path, decision(share, route, SHARED)]).toEqual([route.path, 'allowed']);
  });

  it('refuses every resource of another study', () => {
    for (const route of routes.filter((r) => readable(r) && hasStudy(r))) {
      expect([route.path, decision(share, route, OTHER)]).toEqual([route.path, 'refused']);
    }
  });

  it('refuses Store, the upload path, Delete, Send, Check Send Result, the NPI service and the admin routes, even of its study', () => {
    const refused = routes.filter((r) => ['store', 'upload', 'delete', 'send', 'npi', 'admin'].includes(r.group));
    expect(refused.map((r) => r.group)).toEqual(expect.arrayContaining(['store', 'upload', 'delete', 'send', 'npi', 'admin']));
    for (const route of refused)
      expect([route.method, route.path, decision(share, route, SHARED)]).toEqual([route.method, route.path, 'refused']);
  });

  it('refuses a route it cannot name, with a Status Report naming its study', () => {
    const error = (() => {
      try {
        restrictToSharedStudy(share, undefined, proxyEvent({ method: 'GET', resource: '/x' }));
      } catch (e) {
        return e as ForbiddenError;
      }
    })();
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error?.details[0]?.message).toContain(SHARED);
  });

  describe('narrows a search without a study in its path', () => {
    const studies = routes.find((r) => r.method === 'GET' && r.path === '/studies')!;
    const narrowed = (query?: Record<string, string[]>) => {
      const event = eventFor(studies, SHARED, query);
      restrictToSharedStudy(share, studies, event);
      return { multi: event.multiValueQueryStringParameters, single: event.queryStringParameters };
    };

    it('to its study, keeping the other parameters', () => {
      expect(narrowed({ limit: ['25'], includefield: ['00081030', 'ModalitiesInStudy'] })).toEqual({
        multi: { limit: ['25'], includefield: ['00081030', 'ModalitiesInStudy'], StudyInstanceUID: [SHARED] },
        single: { limit: '25', includefield: 'ModalitiesInStudy', StudyInstanceUID: SHARED },
      });
      expect(narrowed().multi).toEqual({ StudyInstanceUID: [SHARED] });
    });

    it('replacing a StudyInstanceUID filter (keyword or tag, a UID list) that names its study', () => {
      expect(narrowed({ StudyInstanceUID: [SHARED] }).multi).toEqual({ StudyInstanceUID: [SHARED] });
      expect(narrowed({ '0020000D': [`${OTHER},${SHARED}`] }).multi).toEqual({ StudyInstanceUID: [SHARED] });
      expect(narrowed({ StudyInstanceUID: [`${OTHER}\\${SHARED}`] }).multi).toEqual({ StudyInstanceUID: [SHARED] });
      expect(narrowed({ '(0020,000d)': [SHARED], '0020000d': [SHARED] }).multi).toEqual({ StudyInstanceUID: [SHARED] });
    });

    it('refusing a StudyInstanceUID filter that does not name it', () => {
      expect(decision(share, studies, SHARED, { StudyInstanceUID: [OTHER] })).toBe('refused');
      expect(decision(share, studies, SHARED, { '0020000D': [`${OTHER}`] })).toBe('refused');
      expect(decision(share, studies, SHARED, { StudyInstanceUID: ['*'] })).toBe('refused');
    });
  });

  it('leaves any other principal untouched', () => {
    const oidc: Principal = { mechanism: 'oidc', principal: 'alice', scopes: ['read'], expiresAt: 2e9 };
    for (const route of routes) expect(decision(oidc, route, OTHER)).toBe('allowed');
    const search = routes.find((r) => r.path === '/studies' && r.method === 'GET')!;
    const event = eventFor(search, OTHER, { limit: ['1'] });
    restrictToSharedStudy(oidc, search, event);
    expect(event.multiValueQueryStringParameters).toEqual({ limit: ['1'] });
  });

  it('without its study is refused everything', () => {
    const broken: Principal = { ...share, study: undefined };
    for (const route of routes.filter((r) => r.group === 'capabilities' || readable(r)))
      expect(decision(broken, route, SHARED)).toBe('refused');
  });
});
