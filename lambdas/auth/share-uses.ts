/**
 * Counts the uses of share links and writes them to the ShareLinkStore cheaply (docs/security.md,
 * "Share links"): a process adds up the uses of each link and records them at most once a
 * minute per link (the first use at once), so a viewer's hundreds of requests cost one write a minute.
 * Uses counted since the last write are lost when the process ends; the log has every request.
 */
import type { ShareLinkStore } from '../storage/ports';

/** The least time between two writes of one link's uses. */
export const SHARE_USE_WRITE_INTERVAL_MS = 60_000;

export class ShareUseRecorder {
  private readonly pending = new Map<string, number>();
  private readonly writtenAt = new Map<string, number>();

  constructor(
    private readonly store: ShareLinkStore,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = SHARE_USE_WRITE_INTERVAL_MS,
  ) {}

  /** Counts one use of the link; writes the uses counted when the link's last write is old enough. */
  async note(id: string): Promise<void> {
    const count = (this.pending.get(id) ?? 0) + 1;
    const t = this.now();
    const last = this.writtenAt.get(id);
    if (last !== undefined && t - last < this.intervalMs) {
      this.pending.set(id, count);
      return;
    }
    this.pending.delete(id);
    this.writtenAt.set(id, t);
    try {
      await this.store.recordUses(id, count, new Date(t).toISOString());
    } catch (error) {
      // A use is served even when it cannot be counted: the request's log line stands for it.
      this.pending.set(id, (this.pending.get(id) ?? 0) + count);
      const reason = error instanceof Error ? error.message : String(error);
      console.error(JSON.stringify({ level: 'error', event: 'share-link-uses-not-recorded', share: id, count, reason }));
    }
  }
}
