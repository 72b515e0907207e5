import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../../lib/cli/bulk-command';
import { formatRetrieveSummary, main, parseRetrieveArgs } from '../../../../lib/cli/retrieve';

describe('parseRetrieveArgs', () => {
  it('maps every option', () => {
    expect(
      parseRetrieveArgs([
        '--url',
        'http://h:1/',
        '--study',
        '1.2.3',
        '--series',
        '1.2.3.4',
        '--out',
        'dir',
        '--json',
        '--no-progress',
        '--token',
        't',
      ]),
    ).toEqual({
      baseUrl: 'http://h:1',
      studyInstanceUID: '1.2.3',
      seriesInstanceUID: '1.2.3.4',
      outDir: 'dir',
      progress: false,
      json: true,
      auth: { kind: 'bearer', token: 't' },
    });
  });

  it.each([
    [['--out', 'd'], /--study is required/],
    [['--study', '../x', '--out', 'd'], /--study must be a UID/],
    [['--study', '1.2', '--series', '1.2/3', '--out', 'd'], /--series must be a UID/],
    [['--study', '1.2'], /--out is required/],
    [['--study', '1.2', '--out', 'd', 'extra'], /extra/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseRetrieveArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseRetrieveArgs(argv as string[])).toThrow(message);
  });
});

describe('retrieve main', () => {
  it('prints the usage and exits 1 on bad usage', async () => {
    let err = '';
    const code = await main(['--study', '1.2'], { stdout: { write: () => true }, stderr: { write: (t: string) => (err += t) } });
    expect(code).toBe(1);
    expect(err).toMatch(/--out is required\nUsage: npm run retrieve/);
  });

  it('summarises, listing each failed series', () => {
    expect(formatRetrieveSummary({ written: 3, present: 1, bytes: 2 ** 20, failures: ['series 1.2: HTTP 503'] })).toBe(
      'Written 3 (1.0 MiB), already present 1, failed series 1\n  series 1.2: HTTP 503\n',
    );
  });
});
