/** Unit: the byte ranges the local engine's signed object URLs answer (RFC 9110 14.1.2, one range). */
import { describe, expect, it } from 'vitest';
import { byteRange } from '../../../../lib/local/transfer-site';

describe('byteRange', () => {
  it('reads first-last, first- and suffix ranges as [start, end), clamped to the object', () => {
    expect(byteRange('bytes=0-9', 100)).toEqual([0, 10]);
    expect(byteRange('bytes=90-', 100)).toEqual([90, 100]);
    expect(byteRange('bytes=90-500', 100)).toEqual([90, 100]);
    expect(byteRange('bytes=-10', 100)).toEqual([90, 100]);
    expect(byteRange('bytes=-500', 100)).toEqual([0, 100]);
  });

  it('answers the whole object without a range or for one it does not serve (several ranges, another unit)', () => {
    expect(byteRange(undefined, 100)).toBeUndefined();
    expect(byteRange('bytes=0-1,5-6', 100)).toBeUndefined();
    expect(byteRange('items=0-1', 100)).toBeUndefined();
    expect(byteRange('bytes=-', 100)).toBeUndefined();
  });

  it('finds a range outside the object unsatisfiable (416)', () => {
    expect(byteRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(byteRange('bytes=5-2', 100)).toBe('unsatisfiable');
    expect(byteRange('bytes=-0', 100)).toBe('unsatisfiable');
  });
});
