import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../../lambdas/dimse/byte-budget';

describe('ByteBudget', () => {
  it('takes bytes while they fit under the limit, and nothing when they do not', () => {
    const budget = new ByteBudget(100);
    expect(budget.take(60)).toBe(true);
    expect(budget.take(41)).toBe(false);
    expect(budget.inUse).toBe(60);
    expect(budget.take(40)).toBe(true);
    expect(budget.inUse).toBe(100);
    expect(budget.take(1)).toBe(false);
  });

  it('takes again what was given back', () => {
    const budget = new ByteBudget(100);
    budget.take(100);
    budget.give(30);
    expect(budget.take(30)).toBe(true);
    expect(budget.take(1)).toBe(false);
    budget.give(0);
    expect(budget.inUse).toBe(100);
  });

  it('refuses to give back more than was taken, and a limit that is not a positive integer', () => {
    const budget = new ByteBudget(10);
    budget.take(5);
    expect(() => budget.give(6)).toThrow(RangeError);
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new ByteBudget(bad), String(bad)).toThrow(RangeError);
  });
});
