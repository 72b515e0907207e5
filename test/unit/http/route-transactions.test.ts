/**
 * Unit: a route's transaction is typed by its function group, and a group's operations are keyed by
 * those transactions (lambdas/http/routes.ts GroupTransactions), so a route without an operation, or
 * an operation of no route, does not compile. The `@ts-expect-error` lines are checked by `tsc`.
 */
import { describe, expect, it } from 'vitest';
import type { Operations } from '../../../lambdas/http/middleware';
import { routes, type Route } from '../../../lambdas/http/routes';

describe('route transactions', () => {
  it('a route names a transaction of its own group only', () => {
    const ok: Route = { method: 'POST', path: '/studies', group: 'store', transaction: 'StoreInstances' };
    // @ts-expect-error RetrieveStudy is a transaction of the retrieve group, not of store
    const wrong: Route = { method: 'POST', path: '/studies', group: 'store', transaction: 'RetrieveStudy' };
    expect([ok, wrong].map((r) => r.group)).toEqual(['store', 'store']);
  });

  it("a group's operations cover each of its transactions", () => {
    const answer = async () => ({ status: 200 });
    // @ts-expect-error the search group also serves SearchForSeries and SearchForInstances
    const partial: Operations<'search', object> = { SearchForStudies: answer };
    const all: Operations<'search', object> = { SearchForStudies: answer, SearchForSeries: answer, SearchForInstances: answer };
    const searchTransactions = new Set(routes.filter((r) => r.group === 'search').map((r) => r.transaction));
    expect(Object.keys(all).sort()).toEqual([...searchTransactions].sort());
    expect(Object.keys(partial)).toEqual(['SearchForStudies']);
  });
});
