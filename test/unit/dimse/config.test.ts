import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lambdas/config';
import { loadDimseConfig } from '../../../lambdas/dimse/config';

describe('loadDimseConfig', () => {
  it('has the documented defaults', () => {
    expect(loadDimseConfig({})).toEqual({
      aeTitle: 'ARCHIVE',
      port: 11112,
      host: '127.0.0.1',
      cStoreTimeoutMs: 30_000,
      maxAssociations: 32,
      maxObjectBytes: 256 * 1024 * 1024,
      maxBufferedBytes: 256 * 1024 * 1024,
    });
  });

  it('reads DIMSE_MAX_ASSOCIATIONS and DIMSE_MAX_OBJECT_BYTES, each at least 1', () => {
    expect(loadDimseConfig({ DIMSE_MAX_ASSOCIATIONS: '4', DIMSE_MAX_OBJECT_BYTES: '1000000' })).toMatchObject({
      maxAssociations: 4,
      maxObjectBytes: 1_000_000,
    });
    for (const name of ['DIMSE_MAX_ASSOCIATIONS', 'DIMSE_MAX_OBJECT_BYTES', 'DIMSE_MAX_BUFFERED_BYTES']) {
      for (const bad of ['0', '-1', '2.5', 'many']) expect(() => loadDimseConfig({ [name]: bad }), `${name}=${bad}`).toThrow(ConfigError);
    }
  });

  it('reads DIMSE_MAX_BUFFERED_BYTES, which must hold one data set of DIMSE_MAX_OBJECT_BYTES and defaults to at least that', () => {
    expect(loadDimseConfig({ DIMSE_MAX_BUFFERED_BYTES: '1000000000' })).toMatchObject({ maxBufferedBytes: 1_000_000_000 });
    expect(loadDimseConfig({ DIMSE_MAX_OBJECT_BYTES: '1000000000' })).toMatchObject({ maxBufferedBytes: 1_000_000_000 });
    expect(loadDimseConfig({ DIMSE_MAX_OBJECT_BYTES: '1000', DIMSE_MAX_BUFFERED_BYTES: '1000' })).toMatchObject({ maxBufferedBytes: 1000 });
    expect(() => loadDimseConfig({ DIMSE_MAX_OBJECT_BYTES: '1001', DIMSE_MAX_BUFFERED_BYTES: '1000' })).toThrow(ConfigError);
  });

  it('refuses an AE Title PS3.5 does not allow, and a port above 65535', () => {
    expect(() => loadDimseConfig({ DIMSE_AET: 'A\\B' })).toThrow(ConfigError);
    expect(() => loadDimseConfig({ DIMSE_AET: 'X'.repeat(17) })).toThrow(ConfigError);
    expect(() => loadDimseConfig({ DIMSE_PORT: '70000' })).toThrow(ConfigError);
  });
});
