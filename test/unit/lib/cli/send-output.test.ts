/** Unit: how the Send CLI shows a SEND-RS run (lib/cli/send-output.ts): progress, final report, exit code. */
import { describe, expect, it } from 'vitest';
import type { SubOperationCounters } from '../../../../lambdas/send/counters';
import { describeStatus, type SendOutcome } from '../../../../lambdas/send/send-client';
import { exitCodeOf, formatOutcome, progressReporter, renderProgressBar } from '../../../../lib/cli/send-output';

const TX = '2.25.1234';
const counters = (remaining: number, completed: number, failed = 0, warning = 0): SubOperationCounters => ({
  remaining,
  completed,
  failed,
  warning,
});

describe('presentation', () => {
  it('renders the progress bar from the counters', () => {
    expect(renderProgressBar(counters(57, 40, 1, 2), 10)).toBe('[####......] completed 40  warning 2  failed 1  remaining 57  (43/100)');
    expect(renderProgressBar(counters(1, 99), 10)).toBe('[#########.] completed 99  warning 0  failed 0  remaining 1  (99/100)');
    expect(renderProgressBar(counters(0, 7, 3), 4)).toBe('[####] completed 7  warning 0  failed 3  remaining 0  (10/10)');
    expect(renderProgressBar(counters(0, 0), 3)).toBe('[###] completed 0  warning 0  failed 0  remaining 0  (0/0)');
  });

  it('redraws one line on a TTY and writes a line per poll otherwise', () => {
    const tty: string[] = [];
    const bar = progressReporter((t) => tty.push(t), { tty: true, width: 4 });
    bar.update(counters(2, 2), 4);
    bar.notice('retrying');
    bar.update(counters(0, 4), 4);
    bar.end();
    expect(tty.join('')).toBe(
      '\r[##..] completed 2  warning 0  failed 0  remaining 2  (2/4)\x1b[K\nretrying\n' +
        '\r[####] completed 4  warning 0  failed 0  remaining 0  (4/4)\x1b[K\n',
    );
    const plain: string[] = [];
    const lines = progressReporter((t) => plain.push(t), { tty: false });
    lines.update(counters(2, 2), 4);
    lines.end();
    expect(plain).toEqual(['completed 2  warning 0  failed 0  remaining 2  (2/4)\n']);
  });

  it('gives each final Status its meaning and exit code', () => {
    const done = (status: number): SendOutcome => ({
      kind: 'completed',
      transactionUID: TX,
      response: { status, completed: 0, failed: 0, warning: 0 },
    });
    expect([0x0000, 0xb000, 0xa701, 0xa702, 0xc000].map((s) => exitCodeOf(done(s)))).toEqual([0, 2, 3, 3, 3]);
    expect(describeStatus(0x0000)).toBe('0000 Success: all sub-operations completed');
    expect(describeStatus(0xb000)).toBe('B000 Warning: some sub-operations failed or warned');
    expect(describeStatus(0xa702)).toMatch(/^A702 Failure/);
    expect(describeStatus(0xc123)).toBe('C123 Failure: unable to process');
  });

  it('prints the status, the four counters and the Failed SOP Instance UID List', () => {
    const text = formatOutcome({
      kind: 'completed',
      transactionUID: TX,
      response: { status: 0xb000, completed: 40, failed: 2, warning: 1, failedSOPInstanceUIDList: ['1.2.3.4', '1.2.3.5'] },
    });
    expect(text).toBe(
      `Send ${TX}: B000 Warning: some sub-operations failed or warned\n` +
        '  completed 40  warning 1  failed 2  remaining 0\n' +
        '  Failed SOP Instance UID List (0008,0058):\n    1.2.3.4\n    1.2.3.5\n',
    );
  });
});
