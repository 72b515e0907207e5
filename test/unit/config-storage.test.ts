/** STORAGE and DATA_DIR (lambdas/config.ts): which adapters the factory builds, and where the local engine lives. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lambdas/config';

const base = { BUCKET_NAME: 'b', TABLE_NAME: 't' };

describe('STORAGE and DATA_DIR', () => {
  it('defaults to the AWS adapters, without a data directory', () => {
    const c = loadConfig(base);
    expect(c.storage).toBe('aws');
    expect(c.dataDir).toBeUndefined();
  });

  it('local takes an absolute DATA_DIR', () => {
    const c = loadConfig({ ...base, STORAGE: 'local', DATA_DIR: '/var/lib/archive' });
    expect(c.storage).toBe('local');
    expect(c.dataDir).toBe('/var/lib/archive');
  });

  it.each([
    [{ STORAGE: 'local' }, /STORAGE=local needs DATA_DIR/],
    [{ STORAGE: 'local', DATA_DIR: 'relative/dir' }, /DATA_DIR must be an absolute path, got "relative\/dir"/],
    [{ STORAGE: 'aws', DATA_DIR: './x' }, /DATA_DIR must be an absolute path/],
    [{ STORAGE: 'sqlite' }, /STORAGE: unknown storage "sqlite"; one of aws, local/],
    [{ STORAGE: 'aws-emulators' }, /STORAGE: unknown storage "aws-emulators"/],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ...env })).toThrow(message);
  });
});

describe.each([
  ['STORE_WORKERS', 'storeWorkers'],
  ['RENDER_WORKERS', 'renderWorkers'],
] as const)('%s', (name, key) => {
  it('is unset by default (the embedded runtime picks one per core but one), and may be 0', () => {
    expect(loadConfig(base)[key]).toBeUndefined();
    expect(loadConfig({ ...base, [name]: '0' })[key]).toBe(0);
    expect(loadConfig({ ...base, [name]: '3' })[key]).toBe(3);
  });

  it.each(['-1', '1.5', 'two', '65'])('refuses %s', (value) => {
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(new RegExp(`${name} must be an integer from 0 to 64`));
  });
});
