/**
 * A scriptable DICOMweb Store destination on 127.0.0.1 for SEND-RS tests: it parses each STOW
 * request's parts (real Part 10) and answers as the test's behaviour says, like a peer that warns,
 * fails some instances, refuses the request, or is briefly unavailable.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseMediaType, parseMultipartRelated } from '../../lambdas/dicom/multipart';
import { readPart10 } from '../../lambdas/dicom/part10';

export type Behaviour =
  /** Every instance stored: 200 with Referenced SOP Sequence. */
  | { kind: 'ok' }
  /** Every instance stored with Warning Reason B000: 202. */
  | { kind: 'warn' }
  /** The listed SOP Instance UIDs fail (A900), the rest are stored: 202 (409 when all fail). */
  | { kind: 'fail'; sopInstanceUIDs: ReadonlySet<string> }
  /** The request is refused with this HTTP status and no response module. */
  | { kind: 'status'; status: number }
  /** The first `times` requests get 503 with Retry-After: 0, then 'ok'. */
  | { kind: 'unavailable'; times: number }
  /** Like 'ok', each answer sent `delayMs` after the request ended (a slow peer). */
  | { kind: 'slow'; delayMs: number }
  /** The first `times` requests lose their connection halfway through the body, then 'ok'. */
  | { kind: 'drop'; times: number }
  /** Like 'ok' up to `maxBytes` of request body, 413 above (a destination behind API Gateway and Lambda). */
  | { kind: 'limit'; maxBytes: number };

export interface FakeDestination {
  readonly url: string;
  /** SOP Instance UIDs the destination stored, in arrival order. */
  readonly stored: string[];
  /** sha256 (hex) of each stored instance's Part 10 bytes, by SOP Instance UID. */
  readonly digests: ReadonlyMap<string, string>;
  requests: number;
  behaviour: Behaviour;
  close(): Promise<void>;
}

const item = (sopClassUID: string, sopInstanceUID: string) => ({
  '00081150': { vr: 'UI', Value: [sopClassUID] },
  '00081155': { vr: 'UI', Value: [sopInstanceUID] },
});

export async function startFakeDestination(behaviour: Behaviour = { kind: 'ok' }): Promise<FakeDestination> {
  const state = { stored: [] as string[], digests: new Map<string, string>(), requests: 0, behaviour, unavailableLeft: -1, dropped: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const declared = Number(req.headers['content-length'] ?? 0);
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      received += c.length;
      const b = state.behaviour;
      if (b.kind === 'drop' && !req.socket.destroyed && received >= declared / 2 && state.dropped < b.times) {
        state.dropped++;
        state.requests++;
        req.socket.destroy();
      }
    });
    req.on('end', () => {
      if (req.socket.destroyed) return; // dropped ('drop') after the whole body had arrived
      const b = state.behaviour;
      if (b.kind === 'slow') setTimeout(answer, b.delayMs);
      else answer();
    });
    const answer = () => {
      state.requests++;
      const b = state.behaviour;
      if (b.kind === 'status') return void res.writeHead(b.status, { 'Content-Type': 'text/plain' }).end('refused');
      if (b.kind === 'limit' && received > b.maxBytes) {
        return void res.writeHead(413, { 'Content-Type': 'application/json' }).end('{"message":"Request Too Long"}');
      }
      if (b.kind === 'unavailable') {
        if (state.unavailableLeft < 0) state.unavailableLeft = b.times;
        if (state.unavailableLeft-- > 0) return void res.writeHead(503, { 'Retry-After': '0' }).end();
      }
      const boundary = parseMediaType(req.headers['content-type'] ?? '').params.boundary ?? '';
      const bodies = parseMultipartRelated(Buffer.concat(chunks), boundary).map((p) => p.body);
      const referenced: object[] = [];
      const failed: object[] = [];
      for (const body of bodies) {
        const i = readPart10(body, { bulkDataAbove: 0 });
        state.digests.set(i.sopInstanceUID, createHash('sha256').update(body).digest('hex'));
        if (b.kind === 'fail' && b.sopInstanceUIDs.has(i.sopInstanceUID)) {
          failed.push({ ...item(i.sopClassUID, i.sopInstanceUID), '00081197': { vr: 'US', Value: [0xa900] } });
          continue;
        }
        state.stored.push(i.sopInstanceUID);
        referenced.push(
          b.kind === 'warn'
            ? { ...item(i.sopClassUID, i.sopInstanceUID), '00081196': { vr: 'US', Value: [0xb000] } }
            : item(i.sopClassUID, i.sopInstanceUID),
        );
      }
      const status = referenced.length === 0 ? 409 : failed.length > 0 || b.kind === 'warn' ? 202 : 200;
      res.writeHead(status, { 'Content-Type': 'application/dicom+json' }).end(
        JSON.stringify({
          ...(failed.length ? { '00081198': { vr: 'SQ', Value: failed } } : {}),
          ...(referenced.length ? { '00081199': { vr: 'SQ', Value: referenced } } : {}),
        }),
      );
    };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/dicom-web`,
    get stored() {
      return state.stored;
    },
    get digests() {
      return state.digests;
    },
    get requests() {
      return state.requests;
    },
    set requests(n: number) {
      state.requests = n;
    },
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(b: Behaviour) {
      state.behaviour = b;
      state.unavailableLeft = -1;
      state.dropped = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
