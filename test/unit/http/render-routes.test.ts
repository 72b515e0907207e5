/** Unit: the render group of the route table (PS3.18 10.4.1.1.3-4). */
import { describe, expect, it } from 'vitest';
import { functionGroups, requiredScope, routes, routesForPath } from '../../../lambdas/http/routes';

describe('render routes', () => {
  const render = routes.filter((r) => r.group === 'render');

  it('serves the eight rendered and thumbnail transactions with GET, under the read scope like Retrieve', () => {
    expect(render.map((r) => r.transaction).sort()).toEqual([
      'RetrieveFramesThumbnail',
      'RetrieveInstanceThumbnail',
      'RetrieveRenderedFrames',
      'RetrieveRenderedInstance',
      'RetrieveRenderedSeries',
      'RetrieveRenderedStudy',
      'RetrieveSeriesThumbnail',
      'RetrieveStudyThumbnail',
    ]);
    expect(new Set(render.map((r) => r.method))).toEqual(new Set(['GET']));
    expect(new Set(render.map(requiredScope))).toEqual(new Set(['read']));
    expect(functionGroups.render.entry).toBe('lambdas/handlers/render.ts');
  });

  it('matches concrete paths to their transaction, and answers OPTIONS with Retrieve Capabilities', () => {
    const get = (path: string) => routesForPath(path).find((m) => m.route.method === 'GET');
    expect(get('/studies/1.2/rendered')?.route.transaction).toBe('RetrieveRenderedStudy');
    const frames = get('/studies/1.2/series/3.4/instances/5.6/frames/1,3/thumbnail');
    expect(frames?.route.transaction).toBe('RetrieveFramesThumbnail');
    expect(frames?.pathParameters).toEqual({ study: '1.2', series: '3.4', instance: '5.6', frames: '1,3' });
    const options = routesForPath('/studies/1.2/series/3.4/thumbnail').find((m) => m.route.method === 'OPTIONS');
    expect(options?.route.transaction).toBe('RetrieveCapabilities');
  });
});
