import { describe, expect, it } from 'vitest';
import { bulkProgress, renderProgress } from '../../../../lib/cli/bulk-progress';

describe('renderProgress', () => {
  it('shows files, bytes, the rate and the time left at the pace so far', () => {
    const line = renderProgress({ files: 40, totalFiles: 100, bytes: 8 * 2 ** 20, totalBytes: 32 * 2 ** 20, elapsedMs: 2000 }, 8);
    expect(line).toBe('[##......] 40/100 files  8.0 MiB/32.0 MiB  4.0 MiB/s  ETA 00:06');
  });

  it('follows the files when no byte total is known', () => {
    const line = renderProgress({ files: 5, totalFiles: 10, bytes: 1024, totalBytes: 0, elapsedMs: 10_000 }, 4);
    expect(line).toBe('[##..] 5/10 files  1.0 KiB  102 B/s  ETA 00:10');
  });
});

describe('bulkProgress', () => {
  it('writes a line per interval when not a terminal, and the final state at the end', () => {
    let t = 0;
    const out: string[] = [];
    const p = bulkProgress((s) => out.push(s), { tty: false, intervalMs: 5000, now: () => t, width: 2 });
    p.addTotal(4, 400); // first line at t=0
    t = 1000;
    p.advance(1, 100); // too soon
    t = 6000;
    p.advance(1, 100);
    p.end();
    expect(out).toHaveLength(3);
    expect(out.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
    expect(out[2]).toMatch(/^\[#\.\] 2\/4 files/);
  });

  it('redraws in place on a terminal and keeps notices on their own lines', () => {
    const out: string[] = [];
    const p = bulkProgress((s) => out.push(s), { tty: true, intervalMs: 0, now: () => 0, width: 2 });
    p.addTotal(1, 10);
    p.notice('x: not DICOM');
    p.advance(1, 10);
    p.end();
    const text = out.join('');
    expect(text).toContain('\r\x1b[Kx: not DICOM\n');
    expect(text.endsWith('\n')).toBe(true);
    expect(text).toContain('\r[##] 1/1 files');
  });
});
