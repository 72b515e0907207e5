/**
 * Unit: the management of API key clients (lambdas/auth/clients-service.ts) over the memory store:
 * validation with Status Reports, the key answered once and only its hash stored, lists without
 * hashes, revocation keeping the first time.
 */
import { describe, expect, it } from 'vitest';
import { parseApiKey, secretMatches } from '../../../lambdas/auth/api-keys';
import { ClientsService, MAX_ADD_REQUEST_BYTES } from '../../../lambdas/auth/clients-service';
import { DicomwebError } from '../../../lambdas/dicomweb/errors';
import { bodyOf, type DicomwebResponse } from '../../../lambdas/dicomweb/messages';
import { MemoryClientStore } from '../../support/memory-clients';

const JSON_TYPE = 'application/json';

function setup(times: string[] = ['2026-01-01T00:00:00.000Z']) {
  const store = new MemoryClientStore();
  let i = 0;
  const service = new ClientsService(store, { now: () => new Date(times[Math.min(i++, times.length - 1)]!) });
  return { store, service };
}

function addRequest(body: unknown, contentType: string | undefined = JSON_TYPE, accept?: string) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { contentType, accept, body: bodyOf(new TextEncoder().encode(text)) };
}

const payload = (r: DicomwebResponse) => JSON.parse(String(r.body));

async function failure(p: Promise<unknown>): Promise<DicomwebError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DicomwebError);
  return error as DicomwebError;
}

describe('ClientsService.add', () => {
  it('answers 201 with the client and its key, and stores only the hash of its secret', async () => {
    const { store, service } = setup();
    const r = await service.add(addRequest({ name: 'radiology-pacs', scopes: ['write', 'read'] }));
    expect(r.status).toBe(201);
    expect(r.headers).toMatchObject({ 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-store' });
    const added = payload(r);
    expect(Object.keys(added).sort()).toEqual(['createdAt', 'id', 'key', 'name', 'scopes']);
    expect(added).toMatchObject({ name: 'radiology-pacs', scopes: ['write', 'read'], createdAt: '2026-01-01T00:00:00.000Z' });
    const key = parseApiKey(added.key);
    expect(key?.id).toBe(added.id);
    const stored = await store.get(added.id);
    expect(stored?.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(secretMatches(key!.secret, stored!.secretHash)).toBe(true);
    // Nothing stored holds the key or its secret.
    expect(JSON.stringify(await store.list())).not.toContain(key!.secret);
  });

  it('takes scopes as a comma-separated string too, once each', async () => {
    const { service } = setup();
    expect(payload(await service.add(addRequest({ name: 'modality.1', scopes: 'write, write,send' }))).scopes).toEqual(['write', 'send']);
  });

  it('gives each client its own key', async () => {
    const { service } = setup();
    const a = payload(await service.add(addRequest({ name: 'a', scopes: ['read'] })));
    const b = payload(await service.add(addRequest({ name: 'a', scopes: ['read'] })));
    expect(a.id).not.toBe(b.id);
    expect(a.key).not.toBe(b.key);
  });

  it('draws another id when the first is taken', async () => {
    const store = new MemoryClientStore();
    const keys = [
      { id: 'aaaaaaaaaaaa', secret: '1'.repeat(64), key: `dwk_aaaaaaaaaaaa_${'1'.repeat(64)}` },
      { id: 'aaaaaaaaaaaa', secret: '2'.repeat(64), key: `dwk_aaaaaaaaaaaa_${'2'.repeat(64)}` },
      { id: 'bbbbbbbbbbbb', secret: '3'.repeat(64), key: `dwk_bbbbbbbbbbbb_${'3'.repeat(64)}` },
    ];
    const service = new ClientsService(store, { newKey: () => keys.shift()! });
    expect(payload(await service.add(addRequest({ name: 'a', scopes: ['read'] }))).id).toBe('aaaaaaaaaaaa');
    expect(payload(await service.add(addRequest({ name: 'b', scopes: ['read'] }))).id).toBe('bbbbbbbbbbbb');
  });

  it.each([
    ['a name with a space', { name: 'radiology pacs', scopes: ['read'] }, 'name'],
    ['a name with a colon (the Basic separator)', { name: 'a:b', scopes: ['read'] }, 'name'],
    ['an empty name', { name: '', scopes: ['read'] }, 'name'],
    ['a name of 65 characters', { name: 'a'.repeat(65), scopes: ['read'] }, 'name'],
    ['no name', { scopes: ['read'] }, 'name'],
    ['a number as name', { name: 7, scopes: ['read'] }, 'name'],
    ['an unknown scope', { name: 'pacs', scopes: ['read', 'rwite'] }, 'scopes'],
    ['no scopes', { name: 'pacs', scopes: [] }, 'scopes'],
    ['scopes missing', { name: 'pacs' }, 'scopes'],
    ['scopes not strings', { name: 'pacs', scopes: [1] }, 'scopes'],
    ['an unknown field', { name: 'pacs', scopes: ['read'], secret: 'x' }, 'secret'],
  ])('refuses %s with 400 naming the field', async (_what, body, target) => {
    const { store, service } = setup();
    const e = await failure(service.add(addRequest(body)));
    expect(e.status).toBe(400);
    expect(e.details.map((d) => d.target)).toContain(target);
    expect(await store.list()).toEqual([]);
  });

  it.each([
    ['not JSON', '{"name": '],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['not UTF-8', '\uFFFD'],
  ])('refuses a body that is %s with 400', async (_what, text) => {
    const { service } = setup();
    const req =
      _what === 'not UTF-8'
        ? { contentType: JSON_TYPE, accept: undefined, body: bodyOf(new Uint8Array([0x7b, 0xff, 0x7d])) }
        : addRequest(text);
    expect((await failure(service.add(req))).status).toBe(400);
  });

  it('refuses another media type with 415, and no Content-Type too', async () => {
    const { service } = setup();
    expect((await failure(service.add(addRequest({ name: 'a', scopes: ['read'] }, 'text/plain')))).status).toBe(415);
    const untyped = { ...addRequest({ name: 'a', scopes: ['read'] }), contentType: undefined };
    expect((await failure(service.add(untyped))).status).toBe(415);
    const ok = await service.add(addRequest({ name: 'a', scopes: ['read'] }, 'application/json; charset=utf-8'));
    expect(ok.status).toBe(201);
  });

  it('answers 406 when JSON is not acceptable, and accepts */*', async () => {
    const { service } = setup();
    expect((await failure(service.add(addRequest({ name: 'a', scopes: ['read'] }, JSON_TYPE, 'application/dicom+xml')))).status).toBe(406);
    expect((await service.add(addRequest({ name: 'a', scopes: ['read'] }, JSON_TYPE, '*/*'))).status).toBe(201);
  });

  it('refuses a body over the limit with 413', async () => {
    const { service } = setup();
    const big = JSON.stringify({ name: 'a', scopes: ['read'], pad: 'x'.repeat(MAX_ADD_REQUEST_BYTES) });
    expect((await failure(service.add(addRequest(big)))).status).toBe(413);
  });
});

describe('ClientsService.add with arbitrary bodies', () => {
  /** A small deterministic generator (mulberry32), so a failure replays. */
  function random(seed: number): () => number {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const pieces = [
    '{',
    '}',
    '[',
    ']',
    '"name"',
    '"scopes"',
    ':',
    ',',
    '"pacs"',
    '"read"',
    'null',
    '1e999',
    '"\\u0000"',
    '\xff',
    ' ',
    'true',
  ];

  it('answers every malformed body with a 4xx Status Report, never another error', async () => {
    const { service } = setup();
    const next = random(21);
    for (let i = 0; i < 500; i++) {
      const text = Array.from({ length: Math.floor(next() * 12) }, () => pieces[Math.floor(next() * pieces.length)]).join('');
      const outcome = await service.add(addRequest(text)).then(
        (r) => r.status,
        (e: unknown) => (e instanceof DicomwebError ? e.status : e),
      );
      expect([201, 400], text).toContain(outcome);
    }
  });
});

describe('ClientsService.list and revoke', () => {
  it('lists the clients oldest first without their hashes', async () => {
    const { service } = setup(['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z']);
    const first = payload(await service.add(addRequest({ name: 'first', scopes: ['read'] })));
    await service.add(addRequest({ name: 'second', scopes: ['write'] }));
    const r = await service.list({ accept: JSON_TYPE });
    expect(r.status).toBe(200);
    const { clients } = payload(r);
    expect(clients.map((c: { name: string }) => c.name)).toEqual(['first', 'second']);
    expect(clients[0]).toEqual({ id: first.id, name: 'first', scopes: ['read'], createdAt: '2026-01-01T00:00:00.000Z' });
    expect(String(r.body)).not.toMatch(/secretHash|key/);
  });

  it('lists with 406 when JSON is not acceptable', async () => {
    const { service } = setup();
    expect((await failure(service.list({ accept: 'text/html' }))).status).toBe(406);
  });

  it('revokes with 204, again with 204 keeping the first time, and shows the time in the list', async () => {
    const { store, service } = setup(['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']);
    const { id } = payload(await service.add(addRequest({ name: 'pacs', scopes: ['read'] })));
    expect((await service.revoke(id)).status).toBe(204);
    expect((await service.revoke(id)).status).toBe(204);
    expect((await store.get(id))?.revokedAt).toBe('2026-02-01T00:00:00.000Z');
    expect(payload(await service.list({ accept: undefined })).clients[0].revokedAt).toBe('2026-02-01T00:00:00.000Z');
  });

  it.each(['zzzzzzzzzzzz', 'not-an-id', '', 'A'.repeat(500)])('answers 404 to revoking unknown id %j', async (id) => {
    const { service } = setup();
    const e = await failure(service.revoke(id));
    expect(e.status).toBe(404);
    expect(e.details[0]!.message.length).toBeLessThanOrEqual(64);
  });
});
