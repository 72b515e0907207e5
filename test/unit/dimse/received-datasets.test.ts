import type { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../../lambdas/dimse/byte-budget';
import { ReceivedDatasets } from '../../../lambdas/dimse/received-datasets';

const TS = '1.2.840.10008.1.2.1';

/** Writes `chunks` into a collector as the library does with P-DATA fragments, and ends it. */
async function collect(writable: Writable, chunks: readonly Buffer[]): Promise<void> {
  for (const chunk of chunks)
    await new Promise<void>((resolve, reject) => writable.write(chunk, (error) => (error ? reject(error) : resolve())));
  await new Promise<void>((resolve) => writable.end(resolve));
}

describe('ReceivedDatasets (C-STORE data set bytes in the gateway budget)', () => {
  it('keeps the fragments as they arrived, counted in the budget until released once', async () => {
    const budget = new ByteBudget(100);
    const datasets = new ReceivedDatasets(50, budget);
    const writable = datasets.collector();
    const chunks = [Buffer.from('abcd'), Buffer.from('efghij')];
    await collect(writable, chunks);
    const dataset = datasets.received(writable, TS);
    expect(dataset.refusal).toBeUndefined();
    expect(dataset.getTransferSyntaxUid()).toBe(TS);
    expect(budget.inUse).toBe(10);
    expect(Buffer.concat(dataset.takeFragments()).toString()).toBe('abcdefghij');
    expect(dataset.takeFragments()).toEqual([]);
    dataset.release();
    dataset.release();
    datasets.releaseAll();
    expect(budget.inUse).toBe(0);
  });

  it('keeps a data set of the size limit; refuses one byte more: nothing kept, its bytes given back, all counted', async () => {
    const budget = new ByteBudget(100);
    const datasets = new ReceivedDatasets(10, budget);
    const atLimit = datasets.collector();
    await collect(atLimit, [Buffer.alloc(5), Buffer.alloc(5)]);
    const kept = datasets.received(atLimit, TS);
    expect(kept.refusal).toBeUndefined();
    kept.release();
    const over = datasets.collector();
    await collect(over, [Buffer.alloc(5), Buffer.alloc(5), Buffer.alloc(1)]);
    const dataset = datasets.received(over, TS);
    expect(dataset.refusal).toEqual({ reason: 'too-large', received: 11 });
    expect(dataset.takeFragments()).toEqual([]);
    expect(budget.inUse).toBe(0);
    // What comes after the refusal is counted, not kept.
    const larger = datasets.collector();
    await collect(larger, [Buffer.alloc(8), Buffer.alloc(3), Buffer.alloc(4)]);
    expect(datasets.received(larger, TS).refusal).toEqual({ reason: 'too-large', received: 15 });
    expect(budget.inUse).toBe(0);
  });

  it('refuses a data set that does not fit beside another in the budget; the other is kept', async () => {
    const budget = new ByteBudget(12);
    const first = new ReceivedDatasets(100, budget);
    const second = new ReceivedDatasets(100, budget);
    const held = first.collector();
    await collect(held, [Buffer.alloc(8)]);
    const refused = second.collector();
    await collect(refused, [Buffer.alloc(3), Buffer.alloc(3)]);
    expect(second.received(refused, TS).refusal).toEqual({ reason: 'over-budget', received: 6 });
    expect(budget.inUse).toBe(8);
    expect(first.received(held, TS).refusal).toBeUndefined();
  });

  it('gives back, when the association ends, the bytes of data sets arriving or received and not stored', async () => {
    const budget = new ByteBudget(100);
    const datasets = new ReceivedDatasets(100, budget);
    const arriving = datasets.collector();
    await new Promise<void>((resolve) => arriving.write(Buffer.alloc(7), () => resolve()));
    const received = datasets.collector();
    await collect(received, [Buffer.alloc(11)]);
    const dataset = datasets.received(received, TS);
    expect(budget.inUse).toBe(18);
    datasets.releaseAll();
    expect(budget.inUse).toBe(0);
    // Stored after its association ended: gives back nothing twice.
    dataset.release();
    expect(budget.inUse).toBe(0);
  });
});
