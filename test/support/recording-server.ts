/**
 * A loopback HTTP server that records every TCP connection it accepts and every request it reads, and
 * answers as the test says: a fixed status (e.g. a 302 redirect to another server), or a dropped
 * connection in the middle of the request body (a peer that fails mid-send). Security tests use its
 * connection count as proof that the archive made no outbound connection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type RecorderBehaviour =
  /** Answer every request with this status and headers (e.g. 302 + Location). */
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  /** Read about `afterBytes` of the request body, then destroy the socket without answering. */
  | { kind: 'drop'; afterBytes: number };

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
}

export interface RecordingServer {
  /** Base URL, e.g. http://127.0.0.1:41234/dicom-web. */
  readonly url: string;
  readonly port: number;
  /** TCP connections accepted (counted before any HTTP parsing). */
  readonly connections: number;
  readonly requests: readonly RecordedRequest[];
  behaviour: RecorderBehaviour;
  close(): Promise<void>;
}

export async function startRecordingServer(
  behaviour: RecorderBehaviour = { kind: 'status', status: 200 },
  basePath = '/dicom-web',
): Promise<RecordingServer> {
  const state = { connections: 0, requests: [] as RecordedRequest[], behaviour };
  const sockets = new Set<Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    state.requests.push({ method: req.method ?? '', url: req.url ?? '' });
    const b = state.behaviour;
    if (b.kind === 'drop') {
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen >= b.afterBytes) req.socket.destroy();
      });
      req.on('end', () => req.socket.destroy());
      return;
    }
    req.resume();
    req.on('end', () => res.writeHead(b.status, { 'Content-Type': 'text/plain', ...b.headers }).end('recorded'));
  });
  server.on('connection', (socket: Socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${basePath}`,
    port,
    get connections() {
      return state.connections;
    },
    get requests() {
      return state.requests;
    },
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(b: RecorderBehaviour) {
      state.behaviour = b;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
