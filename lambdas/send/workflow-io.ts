/**
 * Inputs and outputs of the Send state machine's tasks (lib/send-workflow.ts builds the machine;
 * the task handlers implement these shapes). Deliver sees `{ Items, BatchInput }` in both modes: the
 * Distributed Map's ItemBatcher produces it in AWS, the inline Map's ItemSelector in the embedded
 * runtime.
 */

/** Execution input, written by the Send service when it starts the execution. */
export interface SendExecutionInput {
  readonly transactionUID: string;
  /** The destination URL as requested (already checked against the registry). */
  readonly destination: string;
}

/** One instance selected by a Send request: one line of the manifest (JSON Lines). */
export interface ManifestItem {
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID: string;
  readonly sopInstanceUID: string;
  readonly sopClassUID: string;
  /** The {npi-name} of a Non-Patient Instance (PS3.18 12); its study and series UIDs are then ''. */
  readonly npi?: string;
}

export interface ResolveInput {
  readonly transactionUID: string;
  /** Inline mode only: Resolve cuts the manifest into batches of this size itself. */
  readonly batchSize?: number;
}

export interface ResolveOutput {
  /** Number of instances matched: the sum every response's counters keep (PS3.4 C.4.2.3.1.1.4). */
  readonly matched: number;
  /** S3 key of the manifest (the Distributed Map's ItemReader reads it). */
  readonly manifestKey: string;
  /** Inline mode only: the manifest cut into batches (see toBatches in ./counters). */
  readonly batches?: readonly (readonly ManifestItem[])[];
}

export interface DeliverInput {
  readonly Items: readonly ManifestItem[];
  readonly BatchInput: SendExecutionInput;
}

export interface FinalizeInput {
  readonly transactionUID: string;
}

/** What a Catch hands to the Fail task: the States error of the failed state. */
export interface FailInput {
  readonly transactionUID: string;
  readonly error: { readonly Error: string; readonly Cause?: string };
}

/** The manifest as JSON Lines: one ManifestItem per line. */
export function toManifestJsonLines(items: readonly ManifestItem[]): string {
  return items.map((i) => `${JSON.stringify(pickManifestItem(i))}\n`).join('');
}

/** Reads a manifest written by toManifestJsonLines; blank lines are skipped. */
export function parseManifestJsonLines(text: string): ManifestItem[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      const v = JSON.parse(line) as Partial<ManifestItem>;
      const fields = ['studyInstanceUID', 'seriesInstanceUID', 'sopInstanceUID', 'sopClassUID'] as const;
      if (fields.some((f) => typeof v[f] !== 'string') || (v.npi !== undefined && typeof v.npi !== 'string'))
        throw new Error(`manifest line ${i + 1} is not a manifest item`);
      return pickManifestItem(v as ManifestItem);
    });
}

function pickManifestItem(i: ManifestItem): ManifestItem {
  return {
    studyInstanceUID: i.studyInstanceUID,
    seriesInstanceUID: i.seriesInstanceUID,
    sopInstanceUID: i.sopInstanceUID,
    sopClassUID: i.sopClassUID,
    ...(i.npi !== undefined && { npi: i.npi }),
  };
}
