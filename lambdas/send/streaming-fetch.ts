/**
 * fetch's shape over node:http and node:https, for the Send's Store requests. A stream body (a large
 * instance): Node's fetch (undici) keeps every chunk of a request body stream until the request ends
 * (nodejs/undici#4058), so a 1 GB instance would end up held whole; here each chunk is written as the
 * socket drains and kept by nobody. A buffered body (a batch of instances) is written as it is:
 * undici copies such a body before sending it (a 5 MB batch of ten ~0.5 MB instances, 1.1 ms of CPU
 * per instance in the SEND-RS bench). The answer is a fetch Response; redirects are never followed
 * (the 3xx itself is answered). An answer that comes before the body is sent (an early 413) ends
 * the sending.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

/** Statuses whose Response has no body (Fetch: null body status). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

export async function streamingFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
  const url = new URL(input);
  const body = init.body;
  if (!(body instanceof ReadableStream) && !(body instanceof Uint8Array)) throw new TypeError('streamingFetch sends a stream or bytes');
  const signal = init.signal ?? undefined;
  signal?.throwIfAborted();
  const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
    method: init.method ?? 'POST',
    headers: Object.fromEntries(new Headers(init.headers).entries()),
  });
  const reader = body instanceof ReadableStream ? body.getReader() : undefined;
  const onAbort = () => request.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });

  return new Promise<Response>((resolve, reject) => {
    let answered = false;
    request.on('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      void reader?.cancel().catch(() => undefined);
      if (!answered) reject(error);
    });
    request.on('response', (res: IncomingMessage) => {
      answered = true;
      void reader?.cancel().catch(() => undefined);
      res.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        // Answered before its body was sent: the connection cannot carry another request.
        if (!request.writableEnded) request.destroy();
      });
      const status = res.statusCode ?? 502;
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, v);
      }
      if (NULL_BODY_STATUSES.has(status)) {
        res.resume();
        resolve(new Response(null, { status, headers }));
      } else {
        resolve(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status, headers }));
      }
    });
    if (!reader) {
      request.end(body);
      return;
    }
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done || answered) break;
          if (!request.write(value)) await drained(request);
        }
        if (!answered) request.end();
      } catch (error) {
        request.destroy(error instanceof Error ? error : new Error('the request body failed'));
      }
    })();
  });
}

function drained(request: ReturnType<typeof httpRequest>): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      request.off('drain', onDrain);
      request.off('response', onDrain);
      request.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('the connection closed'));
    request.on('drain', onDrain);
    request.on('response', onDrain); // an answer ends the sending
    request.on('close', onClose);
  });
}
