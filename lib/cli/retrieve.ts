/**
 * `npm run retrieve -- [--url BASE] --study UID [--series UID] --out DIR`: retrieves a study (or one
 * series) from an archive with WADO-RS (PS3.18 10.4) into DIR/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm,
 * the files as stored, series by series, skipping instances already in DIR. The work is in
 * ./retrieve-client.
 */
import { pathToFileURL } from 'node:url';
import { isValidUid } from '../../lambdas/dicom/uid';
import { parseOptions } from './args';
import { formatBytes } from './bulk-progress';
import {
  BULK_OPTIONS,
  BULK_USAGE,
  bulkSettings,
  runBulkCommand,
  UsageError,
  type BulkDeps,
  type BulkSettings,
  type Terminal,
} from './bulk-command';
import { retrieveStudy, type RetrieveSummary } from './retrieve-client';

export const RETRIEVE_USAGE = `Usage: npm run retrieve -- [--url BASE] --study UID [--series UID] --out DIR
${BULK_USAGE}
Instances already in DIR are not retrieved again (files are written whole or not at all). A series
above the archive's response limit is retrieved instance by instance, an instance above it by the
redirect to its object (docs/large-instances.md).
Exit code: 0 when every series was retrieved, 1 otherwise (or on bad usage).`;

export interface RetrieveCommand extends BulkSettings {
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID?: string;
  readonly outDir: string;
}

export function parseRetrieveArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): RetrieveCommand {
  const values = parseOptions(
    argv,
    { ...BULK_OPTIONS, study: { type: 'string' }, series: { type: 'string' }, out: { type: 'string' } },
    (message) => new UsageError(message),
  );
  if (!values.study) throw new UsageError('--study is required');
  if (!isValidUid(values.study)) throw new UsageError('--study must be a UID');
  if (values.series !== undefined && !isValidUid(values.series)) throw new UsageError('--series must be a UID');
  if (!values.out) throw new UsageError('--out is required');
  return {
    ...bulkSettings(values, env),
    studyInstanceUID: values.study,
    ...(values.series !== undefined ? { seriesInstanceUID: values.series } : {}),
    outDir: values.out,
  };
}

export function formatRetrieveSummary(summary: RetrieveSummary): string {
  const lines = [
    `Written ${summary.written} (${formatBytes(summary.bytes)}), already present ${summary.present}, failed series ${summary.failures.length}`,
  ];
  for (const f of summary.failures) lines.push(`  ${f}`);
  return `${lines.join('\n')}\n`;
}

/** Runs the command; resolves to the exit code. */
export function main(argv: readonly string[], io: Terminal, deps: BulkDeps = {}): Promise<number> {
  return runBulkCommand(argv, io, deps, 'retrieve', RETRIEVE_USAGE, parseRetrieveArgs, async (command, fetch, progress, plainFetch) => {
    const summary = await retrieveStudy({ ...command, fetch, progress, plainFetch });
    io.stdout.write(command.json ? `${JSON.stringify(summary, null, 2)}\n` : formatRetrieveSummary(summary));
    return summary.failures.length === 0 ? 0 : 1;
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
}
