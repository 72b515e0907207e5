/**
 * Unit: the embedded archive refuses to listen beyond loopback when nothing checks credentials
 * (AUTH none, the default without AUTH_TOKEN, or iam, which only API Gateway checks). The refusal
 * comes before anything starts.
 */
import { describe, expect, it } from 'vitest';
import { isLoopbackHost, startArchive } from '../../../../lib/local/archive';

describe('isLoopbackHost', () => {
  it('knows the loopback addresses and names', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1'])
      expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'archive.example.org', '128.0.0.1', '127.0.0.1.example.org']) {
      expect(isLoopbackHost(h)).toBe(false);
    }
  });
});

describe('startArchive on a host beyond loopback', () => {
  it.each<Record<string, string>>([{}, { AUTH: 'none' }, { AUTH: 'iam' }])('refuses %o with a message saying what to set', async (env) => {
    await expect(startArchive({ dataDir: '/nonexistent/never-created', host: '0.0.0.0', env })).rejects.toThrow(
      /HOST=0\.0\.0\.0 exposes the archive beyond this machine, and AUTH=(none|iam) checks no credential: set AUTH/,
    );
  });
});
