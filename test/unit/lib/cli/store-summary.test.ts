import { describe, expect, it } from 'vitest';
import {
  failureReasonName,
  formatStoreSummary,
  storeExitCode,
  warningReasonName,
  type StoreSummary,
} from '../../../../lib/cli/store-summary';

const empty: StoreSummary = { stored: 0, skipped: 0, failed: [], warnings: [], notes: [], requests: 0, bytesSent: 0, seconds: 0 };

describe('store summary', () => {
  it('names the Failure and Warning Reasons of PS3.2 J.4.2, and gives the code of others', () => {
    expect(failureReasonName(0xa900)).toBe('0xA900 Data Set Does Not Match SOP Class');
    expect(failureReasonName(0xc000)).toBe('0xC000 Cannot Understand');
    expect(failureReasonName(0x0111)).toBe('0x0111 Duplicate SOP Instance');
    expect(failureReasonName(0xa700)).toBe('0xA700 Refused: Out of Resources');
    expect(failureReasonName(0xfe00)).toBe('0xFE00');
    expect(warningReasonName(0xb000)).toBe('0xB000 Coercion Of Data Elements');
  });

  it('exits 0 only without failures, warnings and notes notwithstanding', () => {
    expect(
      storeExitCode({
        ...empty,
        stored: 3,
        warnings: [{ path: 'a', sopInstanceUID: '1', warning: 'w' }],
        notes: [{ path: 'x', note: 'n' }],
      }),
    ).toBe(0);
    expect(storeExitCode({ ...empty, failed: [{ path: 'a', sopInstanceUID: '1', reason: 'r' }] })).toBe(1);
  });

  it('lists every failure with its reason, and says which instances the archive refuses even through its upload path', () => {
    const text = formatStoreSummary({
      ...empty,
      stored: 10,
      skipped: 2,
      requests: 1,
      bytesSent: 3 * 2 ** 20,
      seconds: 1.5,
      notes: [{ path: 'x.txt', note: 'not DICOM: skipped' }],
      failed: [
        { path: 'a.dcm', sopInstanceUID: '1.2', reason: failureReasonName(0xa900), failureReason: 0xa900 },
        { path: 'big.dcm', sopInstanceUID: '1.3', reason: 'above the limit', tooLarge: true },
      ],
    });
    expect(text).toBe(
      [
        'Stored 10, skipped 2 (already in the archive), failed 2, not sent 1; 1 request(s), 3.0 MiB in 1.5 s',
        'Not sent:',
        '  x.txt: not DICOM: skipped',
        'Failed:',
        '  a.dcm (1.2): 0xA900 Data Set Does Not Match SOP Class',
        '  big.dcm (1.3): above the limit',
        '1 instance(s) exceed what the archive accepts, even through its upload path (docs/large-instances.md).',
        '',
      ].join('\n'),
    );
  });
});
