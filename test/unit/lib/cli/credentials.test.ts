/** The CLIs' credential options: parsing, usage errors, and the fetch they give. */
import { describe, expect, it } from 'vitest';
import { SendUsageError } from '../../../../lambdas/send/send-client';
import { credentialsFetch, parseCredentials, type CredentialFlags } from '../../../../lib/cli/credentials';
import { main as send } from '../../../../lib/cli/send';
import { main as smoke } from '../../../../lib/cli/smoke';

const URL_ = 'https://dicom.example.org/dicomweb';
const usage = (message: string) => new SendUsageError(message);
const parse = (flags: CredentialFlags, env: Record<string, string> = {}) => parseCredentials(flags, env, URL_, usage);
const cc = { 'client-credentials': true, 'token-url': 'https://idp.example.org/oauth2/token' } as const;

describe('parseCredentials', () => {
  it('client credentials from flags, the id and secret also from the environment', () => {
    expect(
      parse({ ...cc, 'client-id': 'c', 'client-secret': 's', scope: 'dicomweb/send', 'token-auth-method': 'client_secret_post' }),
    ).toEqual({
      kind: 'client-credentials',
      credentials: {
        tokenUrl: cc['token-url'],
        clientId: 'c',
        clientSecret: 's',
        scope: 'dicomweb/send',
        tokenEndpointAuthMethod: 'client_secret_post',
      },
    });
    expect(parse(cc, { DICOMWEB_CLIENT_ID: 'env-c', DICOMWEB_CLIENT_SECRET: 'env-s', DICOMWEB_TOKEN: 'ignored' })).toEqual({
      kind: 'client-credentials',
      credentials: { tokenUrl: cc['token-url'], clientId: 'env-c', clientSecret: 'env-s' },
    });
  });

  it('a bearer token from --token or DICOMWEB_TOKEN; nothing without either', () => {
    expect(parse({ token: 't' }, { DICOMWEB_TOKEN: 'e' })).toEqual({ kind: 'bearer', token: 't' });
    expect(parse({}, { DICOMWEB_TOKEN: 'e' })).toEqual({ kind: 'bearer', token: 'e' });
    expect(parse({})).toEqual({ kind: 'none' });
  });

  it.each<[CredentialFlags, Record<string, string>, string]>([
    [{ token: 't', ...cc }, {}, 'choose one of --token, --client-credentials'],
    [{ sigv4: true, ...cc }, {}, 'choose one of --sigv4, --client-credentials'],
    [{ 'client-credentials': true }, {}, '--client-credentials needs --token-url'],
    [{ ...cc, 'token-url': 'idp.example.org/token' }, {}, '--token-url must be an absolute http(s) URL'],
    [cc, { DICOMWEB_CLIENT_SECRET: 's' }, '--client-credentials needs --client-id (or DICOMWEB_CLIENT_ID)'],
    [cc, { DICOMWEB_CLIENT_ID: 'c' }, '--client-credentials needs --client-secret (or DICOMWEB_CLIENT_SECRET)'],
    [{ ...cc, 'client-id': 'c', 'client-secret': 's', 'token-auth-method': 'private_key_jwt' }, {}, '--token-auth-method must be one of'],
    [{ ...cc, 'client-id': 'c', 'client-secret': 's', scope: '' }, {}, '--scope must not be empty'],
    [{ 'token-url': 'https://idp.example.org/t' }, {}, '--token-url is for --client-credentials'],
    [{ scope: 'read' }, {}, '--scope is for --client-credentials'],
    [{ 'client-secret': 's' }, {}, '--client-secret is for --client-credentials'],
  ])('refuses %j', (flags, env, message) => {
    expect(() => parse(flags, env)).toThrow(SendUsageError);
    expect(() => parse(flags, env)).toThrow(message);
  });
});

describe('the CLIs with client credentials', () => {
  it('npm run send: the token request failing is reported, not thrown, without the secret', async () => {
    const err: string[] = [];
    const io = { stdout: { write: () => true }, stderr: { write: (t: string) => err.push(t) } };
    const refusing = (async () => Response.json({ error: 'invalid_client' }, { status: 401 })) as typeof fetch;
    const code = await send(
      [
        '--origin',
        'http://127.0.0.1:1',
        '--destination',
        'http://127.0.0.1:2',
        '--client-credentials',
        '--token-url',
        'http://127.0.0.1:3/token',
      ],
      io,
      { fetch: refusing, env: { DICOMWEB_CLIENT_ID: 'c', DICOMWEB_CLIENT_SECRET: 'top-secret' } },
    );
    expect(code).toBe(1);
    expect(err.join('')).toContain('invalid_client: the client id or secret is not accepted');
    expect(err.join('')).not.toContain('top-secret');
  });

  it('npm run send / smoke: a usage error for client credentials without a secret', async () => {
    const err: string[] = [];
    const io = { stdout: { write: () => true }, stderr: { write: (t: string) => err.push(t) } };
    const args = ['--client-credentials', '--token-url', 'https://idp.example.org/t', '--client-id', 'c'];
    expect(await send(['--origin', 'http://a', '--destination', 'http://b', ...args], io, { env: {} })).toBe(1);
    expect(await smoke(['--url', 'http://a', ...args], io, { env: {} })).toBe(2);
    expect(err.join('').match(/--client-credentials needs --client-secret/g)).toHaveLength(2);
  });

  it('credentialsFetch sets the header of a bearer token and keeps one given by the caller', async () => {
    const seen: (string | null)[] = [];
    const record = (async (_url: string, init: RequestInit) => {
      seen.push(new Headers(init.headers).get('authorization'));
      return new Response(null, { status: 401 });
    }) as unknown as typeof fetch;
    const f = credentialsFetch({ kind: 'bearer', token: 't' }, { fetch: record });
    expect((await f('http://x/')).status).toBe(401);
    await f('http://x/', { headers: { Authorization: 'Basic other' } });
    expect(seen).toEqual(['Bearer t', 'Basic other']);
  });
});
