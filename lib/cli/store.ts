/**
 * `npm run store -- [--url BASE] <files and folders...>`: stores DICOM files in an archive over
 * STOW-RS (PS3.18 10.5), packed into requests within its request limit, N at a time, skipping what it
 * already holds. Parses argv, wires the terminal, sets the exit code; the work is in ./store-files
 * and ./store-client.
 */
import { pathToFileURL } from 'node:url';
import { LAMBDA_MAX_REQUEST_BYTES } from '../../lambdas/config';
import { parseOptionsAndPositionals } from './args';
import {
  BULK_OPTIONS,
  BULK_USAGE,
  bulkSettings,
  positiveInteger,
  runBulkCommand,
  UsageError,
  type BulkDeps,
  type BulkSettings,
  type Terminal,
} from './bulk-command';
import { findFiles } from './store-files';
import { storeInstances } from './store-client';
import { openUploadJournal } from './upload-journal';

/** Where uploads cut off are kept for the next run, relative to the working directory. */
export const DEFAULT_UPLOAD_JOURNAL = '.store-uploads.json';
import { formatStoreSummary, storeExitCode } from './store-summary';

export const STORE_USAGE = `Usage: npm run store -- [--url BASE] [options] <files and folders...>
  --max-request-bytes N   largest Store request body (default ${LAMBDA_MAX_REQUEST_BYTES}, the archive's
                 default MAX_REQUEST_BYTES)
  --concurrency N         Store requests in flight (default 4)
  --no-skip-existing      send every instance, even those the archive already holds
  --part-concurrency N    parts of an upload in flight, for instances above the limit (default 4)
  --upload-journal FILE   where uploads cut off are kept for the next run to resume
                 (default ${DEFAULT_UPLOAD_JOURNAL} in the working directory)
${BULK_USAGE}
Folders are walked recursively; a folder with a DICOMDIR sends the files it references. Instances
above the request limit go through the archive's upload path (docs/large-instances.md).
Exit code: 0 when nothing failed, 1 otherwise (or on bad usage).`;

export interface StoreCommand extends BulkSettings {
  readonly inputs: readonly string[];
  readonly maxRequestBytes: number;
  readonly concurrency: number;
  readonly skipExisting: boolean;
  readonly partConcurrency: number;
  readonly uploadJournal: string;
}

export function parseStoreArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): StoreCommand {
  const { values, positionals: inputs } = parseOptionsAndPositionals(
    argv,
    {
      ...BULK_OPTIONS,
      'max-request-bytes': { type: 'string' },
      concurrency: { type: 'string' },
      'no-skip-existing': { type: 'boolean' },
      'part-concurrency': { type: 'string' },
      'upload-journal': { type: 'string' },
    },
    (message) => new UsageError(message),
  );
  if (inputs.length === 0) throw new UsageError('give the files and folders to store');
  return {
    ...bulkSettings(values, env),
    inputs,
    maxRequestBytes: positiveInteger(values['max-request-bytes'], 'max-request-bytes', LAMBDA_MAX_REQUEST_BYTES),
    concurrency: positiveInteger(values.concurrency, 'concurrency', 4),
    skipExisting: values['no-skip-existing'] !== true,
    partConcurrency: positiveInteger(values['part-concurrency'], 'part-concurrency', 4),
    uploadJournal: values['upload-journal'] ?? DEFAULT_UPLOAD_JOURNAL,
  };
}

/** Runs the command; resolves to the exit code. */
export function main(argv: readonly string[], io: Terminal, deps: BulkDeps = {}): Promise<number> {
  return runBulkCommand(argv, io, deps, 'store', STORE_USAGE, parseStoreArgs, async (command, fetch, progress, partFetch) => {
    const found = await findFiles(command.inputs, (n) => progress.notice(`${n.path}: ${n.note}`));
    const journal = await openUploadJournal(command.uploadJournal);
    const summary = await storeInstances(found.instances, found.notes, { ...command, fetch, progress, partFetch, journal });
    io.stdout.write(command.json ? `${JSON.stringify(summary, null, 2)}\n` : formatStoreSummary(summary));
    return storeExitCode(summary);
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
}
