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

describe('loadDimseConfig: credentials of the Move proxy', () => {
  const ORIGIN = { DIMSE_MOVE_PROXY_ORIGIN: 'https://archive.example.org/dicomweb' };
  const CC = {
    DIMSE_MOVE_PROXY_TOKEN_URL: 'https://idp.example.org/oauth2/token',
    DIMSE_MOVE_PROXY_CLIENT_ID: 'dimse-gateway',
    DIMSE_MOVE_PROXY_CLIENT_SECRET: 'sec',
  };

  it('reads a static token, or client credentials with an optional scope', () => {
    expect(loadDimseConfig({ ...ORIGIN, DIMSE_MOVE_PROXY_TOKEN: 't' }).proxy).toEqual({
      origin: ORIGIN.DIMSE_MOVE_PROXY_ORIGIN,
      token: 't',
      maxWaitSeconds: 3600,
    });
    expect(loadDimseConfig({ ...ORIGIN, ...CC, DIMSE_MOVE_PROXY_SCOPE: 'dicomweb/send' }).proxy).toEqual({
      origin: ORIGIN.DIMSE_MOVE_PROXY_ORIGIN,
      clientCredentials: {
        tokenUrl: CC.DIMSE_MOVE_PROXY_TOKEN_URL,
        clientId: 'dimse-gateway',
        clientSecret: 'sec',
        scope: 'dicomweb/send',
      },
      maxWaitSeconds: 3600,
    });
  });

  it.each([
    [
      { ...ORIGIN, DIMSE_MOVE_PROXY_TOKEN_URL: CC.DIMSE_MOVE_PROXY_TOKEN_URL },
      'DIMSE_MOVE_PROXY_CLIENT_ID, DIMSE_MOVE_PROXY_CLIENT_SECRET must be set too',
    ],
    [{ ...ORIGIN, ...CC, DIMSE_MOVE_PROXY_CLIENT_SECRET: '' }, 'DIMSE_MOVE_PROXY_CLIENT_SECRET must be set too'],
    [{ ...ORIGIN, ...CC, DIMSE_MOVE_PROXY_TOKEN_URL: 'idp.example.org/token' }, 'DIMSE_MOVE_PROXY_TOKEN_URL must be an http(s) URL'],
    [{ ...ORIGIN, ...CC, DIMSE_MOVE_PROXY_TOKEN: 't' }, 'either DIMSE_MOVE_PROXY_TOKEN or the DIMSE_MOVE_PROXY_CLIENT_*'],
    [{ ...ORIGIN, DIMSE_MOVE_PROXY_SCOPE: 'send' }, 'DIMSE_MOVE_PROXY_SCOPE needs'],
    [CC, 'need DIMSE_MOVE_PROXY_ORIGIN'],
    [{ DIMSE_MOVE_PROXY_TOKEN: 't' }, 'need DIMSE_MOVE_PROXY_ORIGIN'],
  ])('refuses %j', (env, message) => {
    expect(() => loadDimseConfig(env)).toThrow(ConfigError);
    expect(() => loadDimseConfig(env)).toThrow(message);
  });
});
