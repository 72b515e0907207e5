/**
 * The C-STORE data sets of one association and the bytes they hold of the gateway's budget
 * (./byte-budget.ts): each data set takes its bytes as its P-DATA fragments (PS3.8 9.3.5) arrive and
 * gives them back once it is stored, refused, or its association ends. A data set over the size
 * limit, or that does not fit in the budget, is read to its end without being kept, so the
 * association goes on and the C-STORE is refused (A700), not the gateway's memory exhausted.
 */
import { Writable } from 'node:stream';
import type { ByteBudget } from './byte-budget';
import { Dataset } from './lib';
import { MAX_PDU_LENGTH } from './pdu-guard';

/** Why a C-STORE data set was read to its end without being kept. */
export type Refusal = { readonly reason: 'too-large' | 'over-budget'; readonly received: number };

/**
 * A C-STORE data set as received: the bytes in the accepted transfer syntax, parsed by no one; or,
 * for one that was not kept, why and how many bytes it had. `release` gives its bytes back to the
 * gateway's budget once it is stored.
 */
export class ReceivedDataset extends Dataset {
  constructor(
    private fragments: Buffer[],
    transferSyntaxUID: string,
    readonly refusal: Refusal | undefined,
    readonly release: () => void,
  ) {
    super({}, transferSyntaxUID);
  }

  /**
   * The data set's bytes as they arrived (P-DATA fragments), handed over once: the Part 10 file is
   * built from them in one copy and they are let go, so a data set is held twice only while it is.
   */
  takeFragments(): Buffer[] {
    const { fragments } = this;
    this.fragments = [];
    return fragments;
  }
}

/**
 * The data sets of one association whose bytes the budget counts, arriving or being stored: the
 * library collects each through `collector()` and hands it over as `received()`; `releaseAll()`
 * gives back what is left when the association ends.
 */
export class ReceivedDatasets {
  private readonly collecting = new Set<DatasetCollector>();

  constructor(
    /** Largest data set kept; a larger one is refused as 'too-large'. */
    readonly maxObjectBytes: number,
    readonly budget: ByteBudget,
  ) {}

  /** A stream collecting one data set within the size limit and the budget. */
  collector(): Writable {
    const collector = new DatasetCollector(this.maxObjectBytes, this.budget);
    this.collecting.add(collector);
    return collector;
  }

  /** The data set a collector received, its bytes in `transferSyntaxUID`, kept as they are. */
  received(writable: Writable, transferSyntaxUID: string): ReceivedDataset {
    const collected = writable as DatasetCollector;
    const { refusal } = collected;
    const fragments = refusal ? [] : collected.takeChunks();
    // Given back once stored; or when the association ends, should the library never ask for it to be.
    const release = () => {
      collected.release();
      this.collecting.delete(collected);
    };
    return new ReceivedDataset(fragments, transferSyntaxUID, refusal, release);
  }

  /** The association ended: gives back the bytes of its data sets, also of one still being stored (counted no longer). */
  releaseAll(): void {
    for (const collector of this.collecting) collector.release();
    this.collecting.clear();
  }
}

/**
 * Collects the P-DATA fragments of one C-STORE data set, taking their bytes from the gateway's budget:
 * beyond `maxBytes`, or when the budget has no more, it gives back what it took, counts what still
 * comes and keeps none of it.
 */
class DatasetCollector extends Writable {
  private chunks: Buffer[] = [];
  /** Bytes taken from the budget and not given back. */
  private held = 0;
  private received = 0;
  private refused?: Refusal['reason'];

  constructor(
    private readonly maxBytes: number,
    private readonly budget: ByteBudget,
  ) {
    super({ highWaterMark: MAX_PDU_LENGTH });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.received += chunk.length;
    if (!this.refused) {
      if (this.received > this.maxBytes) this.refuse('too-large');
      else if (!this.budget.take(chunk.length)) this.refuse('over-budget');
      else {
        this.held += chunk.length;
        this.chunks.push(chunk);
      }
    }
    callback();
  }

  get refusal(): Refusal | undefined {
    return this.refused && { reason: this.refused, received: this.received };
  }

  /** The data set's fragments, handed over (the budget counts their bytes until release()). */
  takeChunks(): Buffer[] {
    const { chunks } = this;
    this.chunks = [];
    return chunks;
  }

  /** Gives the budget back what this data set took (a second call gives back nothing). */
  release(): void {
    this.budget.give(this.held);
    this.held = 0;
  }

  private refuse(reason: Refusal['reason']): void {
    this.refused = reason;
    this.chunks = [];
    this.release();
  }
}
