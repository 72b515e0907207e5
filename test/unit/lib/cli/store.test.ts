import { describe, expect, it } from 'vitest';
import { LAMBDA_MAX_REQUEST_BYTES } from '../../../../lambdas/config';
import { UsageError } from '../../../../lib/cli/bulk-command';
import { main, parseStoreArgs } from '../../../../lib/cli/store';

describe('parseStoreArgs', () => {
  it('takes files and folders with the defaults', () => {
    expect(parseStoreArgs(['a.dcm', 'folder'])).toEqual({
      baseUrl: 'http://127.0.0.1:8080',
      inputs: ['a.dcm', 'folder'],
      maxRequestBytes: LAMBDA_MAX_REQUEST_BYTES,
      concurrency: 4,
      skipExisting: true,
      partConcurrency: 4,
      uploadJournal: '.store-uploads.json',
      progress: true,
      json: false,
      auth: { kind: 'none' },
    });
  });

  it('maps every option, before and after the operands', () => {
    const cmd = parseStoreArgs([
      '--url',
      'https://pacs.example/dicomweb/',
      'x',
      '--max-request-bytes',
      '1000',
      '--concurrency',
      '2',
      '--no-skip-existing',
      '--part-concurrency',
      '8',
      '--upload-journal',
      '/tmp/j.json',
      '--no-progress',
      '--json',
      '--token',
      't',
      'y',
    ]);
    expect(cmd).toMatchObject({
      baseUrl: 'https://pacs.example/dicomweb',
      inputs: ['x', 'y'],
      maxRequestBytes: 1000,
      concurrency: 2,
      skipExisting: false,
      partConcurrency: 8,
      uploadJournal: '/tmp/j.json',
      progress: false,
      json: true,
      auth: { kind: 'bearer', token: 't' },
    });
  });

  it('takes the token from DICOMWEB_TOKEN', () => {
    expect(parseStoreArgs(['x'], { DICOMWEB_TOKEN: 'env' }).auth).toEqual({ kind: 'bearer', token: 'env' });
  });

  it.each([
    [[], /files and folders/],
    [['--bogus', 'x'], /bogus/],
    [['--concurrency', '0', 'x'], /--concurrency must be a positive integer/],
    [['--max-request-bytes', '1e6', 'x'], /--max-request-bytes must be a positive integer/],
    [['--url', 'ftp://h', 'x'], /--url must be an absolute http/],
    [['--token', 't', '--client-credentials', 'x'], /choose one of/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseStoreArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseStoreArgs(argv as string[])).toThrow(message);
  });
});

describe('main', () => {
  it('prints the usage and exits 1 on bad usage', async () => {
    let err = '';
    const code = await main([], { stdout: { write: () => true }, stderr: { write: (t: string) => (err += t) } });
    expect(code).toBe(1);
    expect(err).toMatch(/Usage: npm run store/);
  });
});
