/**
 * The outcome of `npm run store` for people and for scripts: what was stored, skipped and not sent,
 * each failure with its reason (the Failure Reason (0008,1197) of the Store Instances Response
 * Module, PS3.18 10.5.3, named after PS3.2 J.4.2), the warnings, and the exit code.
 */
import { FailureReason, WarningReason } from '../../lambdas/dicomweb/status-codes';
import { DuplicateSOPInstance } from '../../lambdas/dicomweb/store';
import { formatBytes } from './bulk-progress';

export interface StoreFailure {
  readonly path: string;
  readonly sopInstanceUID: string;
  readonly reason: string;
  /** Failure Reason (0008,1197) when the archive answered one. */
  readonly failureReason?: number;
  /** The archive refused the instance's size (above its upload limit). */
  readonly tooLarge?: boolean;
}

export interface StoreWarning {
  readonly path: string;
  readonly sopInstanceUID: string;
  readonly warning: string;
}

export interface StoreSummary {
  readonly stored: number;
  /** Already held by the archive (--skip-existing): not sent. */
  readonly skipped: number;
  readonly failed: readonly StoreFailure[];
  readonly warnings: readonly StoreWarning[];
  /** Files not sent: not DICOM, a DICOMDIR, a raw data set, missing. */
  readonly notes: readonly { readonly path: string; readonly note: string }[];
  readonly requests: number;
  readonly bytesSent: number;
  readonly seconds: number;
}

/** Exit code of `npm run store`: 0 only when nothing failed. */
export function storeExitCode(summary: StoreSummary): number {
  return summary.failed.length === 0 ? 0 : 1;
}

const hex = (code: number) => `0x${code.toString(16).toUpperCase().padStart(4, '0')}`;

function codeName(table: Readonly<Record<string, number>>, code: number): string {
  const name = Object.entries(table).find(([, value]) => value === code)?.[0];
  return name ? `${hex(code)} ${name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/([A-Z])([A-Z][a-z])/g, '$1 $2')}` : hex(code);
}

/** "0xA900 Data Set Does Not Match SOP Class": a Failure Reason with its name where PS3.2 J.4.2 gives one. */
export function failureReasonName(code: number): string {
  // PS3.2 J.4.2 names the whole A7xx range Refused: Out of Resources (the archive's constant says memory).
  if (code === FailureReason.OutOfMemory) return `${hex(code)} Refused: Out of Resources`;
  return codeName({ ...FailureReason, DuplicateSOPInstance }, code);
}

/** A Warning Reason (0008,1196) with its name. */
export function warningReasonName(code: number): string {
  return codeName(WarningReason, code);
}

/** The summary for people. */
export function formatStoreSummary(summary: StoreSummary): string {
  const lines = [
    `Stored ${summary.stored}, skipped ${summary.skipped} (already in the archive), failed ${summary.failed.length}, ` +
      `not sent ${summary.notes.length}; ${summary.requests} request(s), ${formatBytes(summary.bytesSent)} in ${summary.seconds.toFixed(1)} s`,
  ];
  if (summary.notes.length) lines.push('Not sent:', ...summary.notes.map((n) => `  ${n.path}: ${n.note}`));
  if (summary.warnings.length) lines.push('Warnings:', ...summary.warnings.map((w) => `  ${w.path} (${w.sopInstanceUID}): ${w.warning}`));
  if (summary.failed.length) {
    lines.push('Failed:', ...summary.failed.map((f) => `  ${f.path}${f.sopInstanceUID ? ` (${f.sopInstanceUID})` : ''}: ${f.reason}`));
  }
  const tooLarge = summary.failed.filter((f) => f.tooLarge).length;
  if (tooLarge) {
    lines.push(`${tooLarge} instance(s) exceed what the archive accepts, even through its upload path (docs/large-instances.md).`);
  }
  return `${lines.join('\n')}\n`;
}
