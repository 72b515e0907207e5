/** Unit: the ids of Deliver batches (lambdas/send/outcomes.ts), by which a batch run again is known. */
import { describe, expect, it } from 'vitest';
import { batchIdOf } from '../../../lambdas/send/outcomes';
import { sendOutcomeKey } from '../../../lambdas/storage/keys';
import type { ManifestItem } from '../../../lambdas/send/workflow-io';

const item = (n: number, npi?: string): ManifestItem => ({
  studyInstanceUID: npi ? '' : '1.2.3',
  seriesInstanceUID: npi ? '' : '1.2.3.4',
  sopInstanceUID: `1.2.3.4.${n}`,
  sopClassUID: '1.2.840.10008.5.1.4.1.1.2',
  ...(npi ? { npi } : {}),
});

describe('batchIdOf', () => {
  it('names the same batch alike whenever it is handed to Deliver, and other batches otherwise', () => {
    const batch = [item(1), item(2), item(3)];
    expect(batchIdOf(batch)).toBe(batchIdOf(batch.map((i) => ({ ...i }))));
    expect(batchIdOf(batch)).not.toBe(batchIdOf([item(1), item(2)]));
    expect(batchIdOf(batch)).not.toBe(batchIdOf([item(4), item(5), item(6)]));
    expect(batchIdOf([item(1)])).not.toBe(batchIdOf([item(1, 'color-palettes')]));
  });

  it('is usable in an object key', () => {
    const id = batchIdOf([item(1), item(2)]);
    expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(sendOutcomeKey('2.25.7', id)).toBe(`send-requests/2.25.7/outcomes/${id}.json`);
  });
});
