/** The C-MOVE Proxy Option with client credentials: its Send requests carry a token, refreshed on 401. */
import { describe, expect, it } from 'vitest';
import { proxyMove } from '../../../lambdas/dimse/move-proxy';
import type { MoveQuery } from '../../../lambdas/dimse/identifier';
import { Status } from '../../../lambdas/dimse/status';
import { OAuth2TokenCache } from '../../../lambdas/auth/oauth2-client';
import { encodeSendRequestResponse, sendRequestResponse } from '../../../lambdas/send/response-module';

const STUDY = '1.2.826.0.1.3680043.8.498.10';
const query = {
  queryLevel: 'STUDY',
  level: 'study',
  parameters: { matchKeys: [{ tag: '0020000D', value: STUDY }] },
} as unknown as MoveQuery;
const destination = { url: 'https://pacs.example.org/dicomweb', auth: { type: 'none' } } as const;

/** Token endpoint + SEND-RS origin server: the first token is refused (revoked), the second accepted. */
function fakeNetwork() {
  const seen: string[] = [];
  let issued = 0;
  const fetch = (async (input: string | URL, init: RequestInit = {}) => {
    const url = new URL(input);
    const auth = new Headers(init.headers).get('authorization') ?? '';
    seen.push(`${init.method ?? 'GET'} ${url.pathname} ${auth}`);
    if (url.pathname === '/token') return Response.json({ access_token: `tok-${++issued}`, token_type: 'Bearer', expires_in: 300 });
    if (auth !== 'Bearer tok-2') return new Response(null, { status: 401 });
    return Response.json(encodeSendRequestResponse(sendRequestResponse({ remaining: 0, completed: 3, failed: 0, warning: 0 })));
  }) as typeof globalThis.fetch;
  return { fetch, seen };
}

describe('proxyMove with client credentials', () => {
  it('gets a token for the Send, and a new one once when the origin server answers 401', async () => {
    const { fetch, seen } = fakeNetwork();
    const clientCredentials = { tokenUrl: 'https://idp.example.org/token', clientId: 'gw', clientSecret: 'sec', scope: 'send' };
    const config = { origin: 'https://archive.example.org', clientCredentials, tokens: new OAuth2TokenCache(), maxWaitSeconds: 5, fetch };
    const response = await proxyMove(config, query, destination, new AbortController().signal, () => undefined);
    expect(response).toMatchObject({ status: Status.Success, counters: { completed: 3, failed: 0 } });
    const basic = `Basic ${Buffer.from('gw:sec').toString('base64')}`;
    expect(seen.map((s) => s.replace(/send-requests\/[\d.]+/, 'send-requests/UID'))).toEqual([
      `POST /token ${basic}`,
      'POST /studies/send-requests/UID Bearer tok-1',
      `POST /token ${basic}`,
      'POST /studies/send-requests/UID Bearer tok-2',
    ]);
  });
});
