/**
 * Progress of the bulk CLIs (`npm run store`, `npm run retrieve`) on stderr: files and bytes done out
 * of the total, the rate and the time left; a bar redrawn in place on a terminal, else one line every
 * `intervalMs` (logs, pipes).
 */

export interface BulkProgress {
  /** Files and bytes known so far (the total may grow while a retrieve learns its series). */
  addTotal(files: number, bytes: number): void;
  /** Files and bytes done (stored, skipped, failed, written). */
  advance(files: number, bytes: number): void;
  /** A line of its own, the bar redrawn after it. */
  notice(message: string): void;
  /** The final state drawn, the bar ended with a newline. */
  end(): void;
}

export interface BulkProgressOptions {
  readonly tty: boolean;
  /** Least time between two lines when not a terminal, and between two redraws on one. */
  readonly intervalMs?: number;
  readonly width?: number;
  readonly now?: () => number;
}

/** A byte count for people: B, KiB, MiB or GiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  if (bytes < 2 ** 20) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 2 ** 30) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

export interface ProgressState {
  readonly files: number;
  readonly totalFiles: number;
  readonly bytes: number;
  readonly totalBytes: number;
  readonly elapsedMs: number;
}

/**
 * `[#####.....] 40/100 files  12.0 MiB/30.0 MiB  4.0 MiB/s  ETA 00:05`: the bar and the time left
 * follow the bytes (files are of any size), the files when no byte total is known (a retrieve); the
 * rate is the mean since the start.
 */
export function renderProgress(state: ProgressState, width: number): string {
  const fraction =
    state.totalBytes > 0 ? Math.min(1, state.bytes / state.totalBytes) : state.totalFiles > 0 ? state.files / state.totalFiles : 1;
  const filled = Math.floor(fraction * width);
  const seconds = state.elapsedMs / 1000;
  const rate = seconds > 0 ? state.bytes / seconds : 0;
  // The time left at the mean pace so far, of the bytes when their total is known, else of the files.
  const eta = fraction > 0 ? (seconds * (1 - fraction)) / fraction : Number.POSITIVE_INFINITY;
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${state.files}/${state.totalFiles} files  ` +
    `${formatBytes(state.bytes)}${state.totalBytes > 0 ? `/${formatBytes(state.totalBytes)}` : ''}  ${formatBytes(rate)}/s  ETA ${duration(eta)}`
  );
}

export function bulkProgress(write: (text: string) => void, opts: BulkProgressOptions): BulkProgress {
  const now = opts.now ?? Date.now;
  const start = now();
  const interval = opts.intervalMs ?? (opts.tty ? 100 : 5000);
  let files = 0;
  let totalFiles = 0;
  let bytes = 0;
  let totalBytes = 0;
  let last = Number.NEGATIVE_INFINITY;
  let drawn = false;
  const line = () => renderProgress({ files, totalFiles, bytes, totalBytes, elapsedMs: now() - start }, opts.width ?? 30);
  const draw = (force: boolean) => {
    const t = now();
    if (!force && t - last < interval) return;
    last = t;
    if (opts.tty) {
      // \x1b[K clears what a longer previous line left behind.
      write(`\r${line()}\x1b[K`);
      drawn = true;
    } else write(`${line()}\n`);
  };
  return {
    addTotal(f, b) {
      totalFiles += f;
      totalBytes += b;
      draw(false);
    },
    advance(f, b) {
      files += f;
      bytes += b;
      draw(false);
    },
    notice(message) {
      if (drawn) write('\r\x1b[K');
      write(`${message}\n`);
      if (drawn) draw(true);
    },
    end() {
      if (totalFiles === 0 && !drawn) return; // nothing was under way
      draw(true);
      if (opts.tty) write('\n');
      drawn = false;
    },
  };
}

/** A BulkProgress that shows nothing (--no-progress, --json). */
export const NO_PROGRESS: BulkProgress = { addTotal() {}, advance() {}, notice() {}, end() {} };
