import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyDelta,
  batchDelta,
  byteBoundedGroups,
  failRemainingDelta,
  initialCounters,
  matchedCount,
  settleBatch,
  toBatches,
  type BatchOutcome,
} from '../../../lambdas/send/counters';

const basis = { kind: 'http-status', httpStatus: 200, attempts: 1 } as const;
const outcome = (o: Partial<BatchOutcome>): BatchOutcome => ({ completed: [], warning: [], failed: [], basis, ...o });

describe('sub-operation counters (PS3.4 C.4.2.3.1.1.4)', () => {
  it('starts with every match remaining', () => {
    expect(initialCounters(5)).toEqual({ remaining: 5, completed: 0, failed: 0, warning: 0 });
    expect(() => initialCounters(-1)).toThrow(RangeError);
  });

  it('settles each sent instance exactly once, the most pessimistic category winning', () => {
    const settled = settleBatch(
      ['1.1', '1.2', '1.3', '1.4'],
      outcome({ completed: ['1.1', '1.2', '9.9'], warning: ['1.2', '1.3'], failed: ['1.3'] }),
    );
    expect(settled.completed).toEqual(['1.1']);
    expect(settled.warning).toEqual(['1.2']);
    // 1.3 listed as warning and failed counts as failed; 1.4 was not mentioned: not known to be stored.
    expect(settled.failed).toEqual(['1.3', '1.4']);
    expect(batchDelta(settled)).toEqual({ remaining: -4, completed: 1, failed: 2, warning: 1 });
  });

  it('refuses a delta that would make a counter negative (a batch counted twice)', () => {
    const c = initialCounters(2);
    const d = batchDelta(settleBatch(['1.1', '1.2'], outcome({ completed: ['1.1', '1.2'] })));
    const once = applyDelta(c, d);
    expect(once).toEqual({ remaining: 0, completed: 2, failed: 0, warning: 0 });
    expect(() => applyDelta(once, d)).toThrow(RangeError);
  });

  it('counts what remains as failed when the workflow fails', () => {
    const c = { remaining: 3, completed: 1, failed: 0, warning: 1 };
    expect(applyDelta(c, failRemainingDelta(c))).toEqual({ remaining: 0, completed: 1, failed: 3, warning: 1 });
  });

  it('keeps Completed + Warning + Failed + Remaining equal to the matches at every step', () => {
    const category = fc.constantFrom('completed', 'warning', 'failed', 'unmentioned');
    fc.assert(
      fc.property(fc.array(fc.array(category, { minLength: 1, maxLength: 8 }), { maxLength: 10 }), fc.boolean(), (batches, crash) => {
        const matched = batches.reduce((n, b) => n + b.length, 0);
        let c = initialCounters(matched);
        let uid = 0;
        const cut = crash ? Math.floor(batches.length / 2) : batches.length;
        for (const batch of batches.slice(0, cut)) {
          const sent = batch.map(() => `2.25.${++uid}`);
          const o = { completed: [] as string[], warning: [] as string[], failed: [] as string[] };
          batch.forEach((cat, i) => {
            if (cat !== 'unmentioned') o[cat].push(sent[i]!);
          });
          c = applyDelta(c, batchDelta(settleBatch(sent, outcome(o))));
          expect(matchedCount(c)).toBe(matched);
        }
        if (crash) c = applyDelta(c, failRemainingDelta(c));
        expect(c.remaining).toBe(0);
        expect(matchedCount(c)).toBe(matched);
      }),
    );
  });

  it('cuts items into batches of at most the batch size, in order', () => {
    expect(toBatches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(toBatches([], 3)).toEqual([]);
    expect(() => toBatches([1], 0)).toThrow(RangeError);
  });
});

describe('byteBoundedGroups', () => {
  const sized = (...sizes: number[]) => sizes.map((size, i) => ({ id: i, size }));
  const ids = (groups: { id: number }[][]) => groups.map((g) => g.map((e) => e.id));
  const bySize = (e: { size: number }) => e.size;

  it('cuts the batch in order into groups of at most maxBytes, an instance larger alone', () => {
    expect(ids(byteBoundedGroups(sized(3, 3, 3), bySize, 6))).toEqual([[0, 1], [2]]);
    expect(ids(byteBoundedGroups(sized(2, 10, 2, 2), bySize, 6))).toEqual([[0], [1], [2, 3]]);
    expect(ids(byteBoundedGroups(sized(7), bySize, 6))).toEqual([[0]]);
    expect(byteBoundedGroups(sized(), bySize, 6)).toEqual([]);
  });
});
