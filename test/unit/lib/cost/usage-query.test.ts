/**
 * Unit: the documented Logs Insights query (lib/cost/usage-query.ts, docs/cost.md) evaluated on usage
 * lines the real handlers wrote: the totals per client per month are the requests each client made.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { newUid } from '../../../../lambdas/dicom/uid';
import { evaluateUsageQuery, fieldsRead, USAGE_QUERY, type LogEvent } from '../../../../lib/cost/usage-query';
import { makeInstance } from '../../../support/dicom-factory';
import { usageArchive } from '../../../support/usage-lines';

describe('the per-client usage query', () => {
  it('is the query docs/cost.md documents', () => {
    const doc = readFileSync(path.join(__dirname, '../../../../docs/cost.md'), 'utf8');
    expect(doc).toContain(USAGE_QUERY);
  });

  it('reads only fields the usage line carries', async () => {
    const archive = usageArchive();
    const study = { studyInstanceUID: newUid(), seriesInstanceUID: newUid() };
    await archive.storeInstances('site-a', [makeInstance({ ...study, approximateBytes: 5_000 })]);
    const line = archive.lines[0] as unknown as Record<string, unknown>;
    for (const field of fieldsRead(USAGE_QUERY)) expect(line, field).toHaveProperty(field);
  });

  it('totals requests, instances and bytes per client, function and month', async () => {
    const archive = usageArchive();
    const a = { studyInstanceUID: newUid(), seriesInstanceUID: newUid() };
    const b = { studyInstanceUID: newUid(), seriesInstanceUID: newUid() };
    const filesA = [1, 2, 3].map(() => makeInstance({ ...a, approximateBytes: 8_000 }));
    const filesB = [1, 2].map(() => makeInstance({ ...b, approximateBytes: 8_000 }));
    await archive.storeInstances('site-a', filesA.slice(0, 2));
    await archive.storeInstances('site-a', filesA.slice(2));
    await archive.storeInstances('site-b', filesB);
    await archive.retrieveSeries('site-b', a.studyInstanceUID, a.seriesInstanceUID);
    // Two months: the same lines again, a month later, for site-a only.
    const november = new Date('2026-11-15T10:00:00Z');
    const december = new Date('2026-12-03T10:00:00Z');
    const events: LogEvent[] = [
      ...archive.lines.map((l) => ({ ...l, '@timestamp': november })),
      ...archive.lines.filter((l) => l.client === 'oidc:site-a').map((l) => ({ ...l, '@timestamp': december })),
      { '@timestamp': november, level: 'info', event: 'share-link-use', client: 'oidc:site-a' },
    ];
    const rows = evaluateUsageQuery(USAGE_QUERY, events);
    const sum = (client: string, fn: string, field: 'bytesIn' | 'bytesOut') =>
      archive.lines.filter((l) => l.client === client && l.function === fn).reduce((n, l) => n + l[field], 0);
    expect(rows).toHaveLength(4);
    expect(rows).toContainEqual(
      expect.objectContaining({
        client: 'oidc:site-a',
        function: 'store',
        'bin(1mo)': '2026-11',
        requests: 2,
        instances: 3,
        bytesIn: sum('oidc:site-a', 'store', 'bytesIn'),
        bytesOut: sum('oidc:site-a', 'store', 'bytesOut'),
      }),
    );
    expect(rows).toContainEqual(
      expect.objectContaining({ client: 'oidc:site-a', function: 'store', 'bin(1mo)': '2026-12', requests: 2, instances: 3 }),
    );
    expect(rows).toContainEqual(expect.objectContaining({ client: 'oidc:site-b', function: 'store', requests: 1, instances: 2 }));
    expect(rows).toContainEqual(
      expect.objectContaining({
        client: 'oidc:site-b',
        function: 'retrieve',
        requests: 1,
        instances: 3,
        bytesOut: sum('oidc:site-b', 'retrieve', 'bytesOut'),
      }),
    );
  });
});
