/**
 * The bytes of C-STORE data sets the whole gateway holds at once (DIMSE_MAX_BUFFERED_BYTES), shared by
 * every association: each data set takes its bytes as its fragments arrive and gives them back once it
 * is stored, refused, or its association ends. A data set that does not fit is refused with A700
 * (Refused: Out of Resources, PS3.4 Table B.2-1) instead of the gateway running out of memory, which
 * would drop every association at once. A pure module: counting only.
 */
export class ByteBudget {
  private used = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('a byte budget needs a positive integer limit');
  }

  /** Bytes taken and not given back. */
  get inUse(): number {
    return this.used;
  }

  /** Takes `bytes` when they fit under the limit, and says whether it did (nothing is taken otherwise). */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    if (bytes > this.used) throw new RangeError(`giving back ${bytes} bytes of ${this.used} taken`);
    this.used -= bytes;
  }
}
