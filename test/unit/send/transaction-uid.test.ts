import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../../lambdas/dicomweb/errors';
import { parseTransactionUID } from '../../../lambdas/send/transaction-uid';

describe('Transaction UID of a send request (PS3.5 9.1)', () => {
  it('accepts the UID of example B.X1', () => {
    expect(parseTransactionUID('1.1.99999.20250901')).toBe('1.1.99999.20250901');
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['a leading zero in a component', '1.01.2'],
    ['an empty component', '1..2'],
    ['letters', '1.2.abc'],
    ['65 characters', `1.${'2'.repeat(63)}`],
  ])('refuses %s with 400', (_, raw) => {
    expect(() => parseTransactionUID(raw)).toThrow(BadRequestError);
  });

  it('does not echo an invalid value back', () => {
    try {
      parseTransactionUID('<script>');
      expect.unreachable();
    } catch (e) {
      expect((e as BadRequestError).message).not.toContain('<script>');
      expect(JSON.stringify((e as BadRequestError).details)).not.toContain('<script>');
    }
  });
});
