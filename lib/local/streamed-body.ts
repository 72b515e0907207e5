/**
 * A request's body read from the connection as the handler consumes it: the embedded gateway's body on
 * the local engine (./gateway.ts), handed to the handler through lambdas/http/proxy.ts withStreamedBody.
 * The request stream is paused except while a read waits for a chunk, so a Store request takes the
 * body no faster than it stores its parts: TCP backpressure holds the client back, and the body is
 * never whole in memory. The limit is counted as the bytes arrive.
 */
import type http from 'node:http';
import { BadRequestError } from '../../lambdas/dicomweb/errors';
import type { RequestBody } from '../../lambdas/dicomweb/messages';
import { requestTooLarge } from '../../lambdas/dicomweb/store-request';

/** A body declared larger than the limit (Content-Length): answered 413 before the handler runs. */
export class DeclaredBodyTooLarge extends Error {}

/** How the connection goes on once the answer is written. */
export type AfterAnswer = 'keep-alive' | 'close';

export class StreamedRequestBody implements RequestBody {
  byteLength: number | undefined;
  /** Arrived and not yet read: one chunk at most, as the stream pauses on each. */
  private readonly queue: Buffer[] = [];
  private received = 0;
  /** 'end' once the body is complete; the error reads fail with once it cannot be. */
  private outcome: 'end' | Error | undefined;
  private wake: (() => void) | undefined;
  private taken = false;
  /** The handler has answered: what still arrives is dropped (counted against the limit). */
  private dropping = false;

  private constructor(
    private readonly req: http.IncomingMessage,
    private readonly limit: number,
    declared: number | undefined,
  ) {
    this.byteLength = declared;
    if (declared === 0) {
      this.outcome = 'end';
      req.resume();
      return;
    }
    req.on('data', this.onData);
    req.pause();
    req.once('end', () => this.settle('end'));
    // Listening to 'error' also keeps a client's abort (ECONNRESET) from being an unhandled error.
    req.on('error', () => this.settle(incomplete()));
    req.once('close', () => {
      if (!req.complete) this.settle(incomplete());
    });
  }

  /**
   * The body of `req`, whose declared size is checked first (DeclaredBodyTooLarge). A body of unknown
   * size (chunked transfer coding) is read up to its first chunk, so that an empty one has byteLength 0.
   */
  static async of(req: http.IncomingMessage, limit: number): Promise<StreamedRequestBody> {
    const length = req.headers['content-length'];
    // RFC 9112 6.3: a request with neither Content-Length nor Transfer-Encoding has no body.
    const declared = length !== undefined ? Number(length) : req.headers['transfer-encoding'] === undefined ? 0 : undefined;
    if (declared !== undefined && declared > limit) throw new DeclaredBodyTooLarge();
    const body = new StreamedRequestBody(req, limit, declared);
    if (declared === undefined) {
      await body.arrival();
      if (body.outcome === 'end' && body.queue.length === 0) body.byteLength = 0;
    }
    return body;
  }

  async *chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    if (this.taken) throw new Error('a streamed request body is read once');
    this.taken = true;
    for (;;) {
      const chunk = this.queue.shift();
      if (chunk) yield chunk;
      else if (this.outcome === 'end') return;
      else if (this.outcome) throw this.outcome;
      else await this.arrival();
    }
  }

  /**
   * The handler has answered (`answered`) or was given up on (a timeout): whether the connection can
   * serve another request. A body passing the limit, an aborted one, or one a handler still reads
   * closes it; the rest of a body the handler left unread is read and dropped, up to the limit.
   */
  release(answered: boolean): AfterAnswer {
    if (!answered || (this.outcome !== undefined && this.outcome !== 'end')) return 'close';
    if (this.outcome === undefined) {
      this.dropping = true;
      this.queue.length = 0;
      this.req.resume();
    }
    return 'keep-alive';
  }

  private readonly onData = (chunk: Buffer): void => {
    this.received += chunk.length;
    if (this.received > this.limit) {
      // Nothing more is read: the answer closes the connection.
      this.settle(requestTooLarge(this.limit));
      if (this.dropping) this.req.destroy();
      return;
    }
    if (this.dropping) return;
    this.queue.push(chunk);
    this.req.pause();
    this.wakeReader();
  };

  /** Resolves once a chunk has arrived or the body is settled. */
  private arrival(): Promise<void> {
    if (this.queue.length > 0 || this.outcome !== undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.req.resume();
    });
  }

  private settle(outcome: 'end' | Error): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    if (outcome !== 'end') this.req.pause();
    this.wakeReader();
  }

  private wakeReader(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function incomplete(): BadRequestError {
  return new BadRequestError('the client ended the request before its body was complete');
}
