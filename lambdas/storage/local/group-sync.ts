/**
 * Group commit of fsyncs (the SQLite WAL's in sqlite.ts, a directory's in file-blobs.ts): a caller
 * arriving while one runs (which may have started before its write) waits for the next, which every
 * such caller shares, instead of one sync each. `idle`: none runs or waits.
 */
export class GroupSync {
  private running?: Promise<void>;
  private next?: Promise<void>;
  constructor(private readonly syncOnce: () => Promise<void>) {}

  get idle(): boolean {
    return this.running === undefined && this.next === undefined;
  }

  sync(): Promise<void> {
    if (!this.running) {
      this.running = this.syncOnce().finally(() => (this.running = undefined));
      return this.running;
    }
    return (this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.sync();
      }));
  }
}
