/**
 * How the Send CLI shows a SEND-RS run to people: a progress bar of the sub-operation counters
 * (Supplement 248 Table 10.Y.3-2), the final report and the exit code.
 */
import type { SubOperationCounters } from '../../lambdas/send/counters';
import { countersOf } from '../../lambdas/send/response-module';
import { describeStatus, statusCategory, type SendOutcome } from '../../lambdas/send/send-client';

/** Exit code of the CLI: 0 Success, 2 Warning, 3 Failure status, 1 when no final result was obtained. */
export function exitCodeOf(outcome: SendOutcome): number {
  if (outcome.kind !== 'completed') return 1;
  return { success: 0, warning: 2, failure: 3 }[statusCategory(outcome.response.status)];
}

function counterText(c: SubOperationCounters): string {
  return `completed ${c.completed}  warning ${c.warning}  failed ${c.failed}  remaining ${c.remaining}`;
}

/**
 * `[#####.....] completed 40  warning 2  failed 1  remaining 57  (43/100)`: the bar fills with the
 * sub-operations done (completed + warning + failed) out of the matches, rounded down so that it is
 * full only when nothing remains.
 */
export function renderProgressBar(counters: SubOperationCounters, width: number): string {
  const matched = counters.remaining + counters.completed + counters.warning + counters.failed;
  const done = matched - counters.remaining;
  const filled = matched === 0 ? width : Math.floor((done / matched) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${counterText(counters)}  (${done}/${matched})`;
}

export interface ProgressReporter {
  update(counters: SubOperationCounters, matched: number): void;
  notice(message: string): void;
  /** Ends a bar being redrawn, so that what follows starts on a new line. */
  end(): void;
}

/**
 * Progress on a terminal: a bar redrawn in place with \r when `tty`, one plain line per poll
 * otherwise (logs, pipes).
 */
export function progressReporter(
  write: (text: string) => void,
  opts: { readonly tty: boolean; readonly width?: number },
): ProgressReporter {
  let drawn = false;
  const end = () => {
    if (drawn) write('\n');
    drawn = false;
  };
  return {
    update(counters, matched) {
      if (opts.tty) {
        // \x1b[K clears what a longer previous line left behind.
        write(`\r${renderProgressBar(counters, opts.width ?? 30)}\x1b[K`);
        drawn = true;
      } else {
        write(`${counterText(counters)}  (${matched - counters.remaining}/${matched})\n`);
      }
    },
    notice(message) {
      end();
      write(`${message}\n`);
    },
    end,
  };
}

/** The final report for people: status and meaning, the four counters, the Failed SOP Instance UID List. */
export function formatOutcome(outcome: SendOutcome): string {
  switch (outcome.kind) {
    case 'completed': {
      const r = outcome.response;
      const lines = [`Send ${outcome.transactionUID}: ${describeStatus(r.status)}`, `  ${counterText(countersOf(r))}`];
      if (r.failedSOPInstanceUIDList?.length) {
        lines.push('  Failed SOP Instance UID List (0008,0058):', ...r.failedSOPInstanceUIDList.map((uid) => `    ${uid}`));
      }
      return `${lines.join('\n')}\n`;
    }
    case 'failed': {
      const lines = [`Send ${outcome.transactionUID} failed (${outcome.transaction}): ${outcome.reason}`];
      const report = outcome.statusReport;
      if (report?.detail) lines.push(`  ${report.detail}`);
      for (const e of report?.errors ?? []) lines.push(`  - ${e.target ? `${e.target}: ` : ''}${e.message}`);
      if (outcome.httpStatus === 401) lines.push('  check: --token (or DICOMWEB_TOKEN), or --client-credentials with --token-url');
      return `${lines.join('\n')}\n`;
    }
    case 'timed-out': {
      const lines = [`Send ${outcome.transactionUID}: no final result within --max-wait; the origin server may still be sending.`];
      if (outcome.last) lines.push(`  last known: ${counterText(countersOf(outcome.last))}`);
      lines.push(`  Check Send Result later: GET ${outcome.checkUrl}`);
      return `${lines.join('\n')}\n`;
    }
  }
}
