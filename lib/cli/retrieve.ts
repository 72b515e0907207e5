/**
 * `npm run retrieve -- [--url BASE] --study UID [--series UID] --out DIR`: retrieves a study (or one
 * series) from an archive with WADO-RS (PS3.18 10.4) into DIR/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm,
 * the files as stored, series by series, skipping instances already in DIR. The work is in
 * ./retrieve-client.
 */
import { pathToFileURL } from 'node:url';
import { isValidUid } from '../../lambdas/dicom/uid';
import { parseOptions } from './args';
import { bulkProgress, NO_PROGRESS } from './bulk-progress';
import {
  CREDENTIAL_OPTIONS,
  CREDENTIAL_USAGE,
  credentialsFetch,
  parseCredentials,
  resolveCredentials,
  type CliCredentials,
} from './credentials';
import { retrieveStudy, type RetrieveSummary } from './retrieve-client';
import { baseUrlOf, DEFAULT_BASE_URL, UsageError, type Terminal } from './store';

export const RETRIEVE_USAGE = `Usage: npm run retrieve -- [--url BASE] --study UID [--series UID] --out DIR
  --url          the archive's service root (default ${DEFAULT_BASE_URL})
  --no-progress  no progress on stderr
  --json         the summary as JSON on stdout
${CREDENTIAL_USAGE}
Instances already in DIR are not retrieved again (files are written whole or not at all).
Exit code: 0 when every series was retrieved, 1 otherwise (or on bad usage).`;

export interface RetrieveCommand {
  readonly baseUrl: string;
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID?: string;
  readonly outDir: string;
  readonly progress: boolean;
  readonly json: boolean;
  readonly auth: CliCredentials;
}

export function parseRetrieveArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): RetrieveCommand {
  const values = parseOptions(
    argv,
    {
      url: { type: 'string' },
      study: { type: 'string' },
      series: { type: 'string' },
      out: { type: 'string' },
      'no-progress': { type: 'boolean' },
      json: { type: 'boolean' },
      ...CREDENTIAL_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
    (message) => new UsageError(message),
  );
  if (!values.study) throw new UsageError('--study is required');
  if (!isValidUid(values.study)) throw new UsageError('--study must be a UID');
  if (values.series !== undefined && !isValidUid(values.series)) throw new UsageError('--series must be a UID');
  if (!values.out) throw new UsageError('--out is required');
  const baseUrl = baseUrlOf(values.url);
  return {
    baseUrl,
    studyInstanceUID: values.study,
    ...(values.series !== undefined ? { seriesInstanceUID: values.series } : {}),
    outDir: values.out,
    progress: values['no-progress'] !== true,
    json: values.json === true,
    auth: parseCredentials(values, env, baseUrl, (message) => new UsageError(message)),
  };
}

export function formatRetrieveSummary(summary: RetrieveSummary): string {
  const lines = [
    `Written ${summary.written} (${(summary.bytes / 2 ** 20).toFixed(1)} MiB), already present ${summary.present}, failed series ${summary.failures.length}`,
  ];
  for (const f of summary.failures) lines.push(`  ${f}`);
  return `${lines.join('\n')}\n`;
}

/** Runs the command; resolves to the exit code. */
export async function main(
  argv: readonly string[],
  io: Terminal,
  deps: { readonly fetch?: typeof fetch; readonly env?: Readonly<Record<string, string | undefined>> } = {},
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${RETRIEVE_USAGE}\n`);
    return 0;
  }
  let command: RetrieveCommand;
  try {
    command = parseRetrieveArgs(argv, deps.env ?? process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`${err.message}\n${RETRIEVE_USAGE}\n`);
    return 1;
  }
  const progress = command.progress ? bulkProgress((t) => io.stderr.write(t), { tty: io.stderr.isTTY === true }) : NO_PROGRESS;
  try {
    const summary = await retrieveStudy({
      baseUrl: command.baseUrl,
      fetch: credentialsFetch(resolveCredentials(command.auth), deps.fetch ? { fetch: deps.fetch } : {}),
      studyInstanceUID: command.studyInstanceUID,
      ...(command.seriesInstanceUID ? { seriesInstanceUID: command.seriesInstanceUID } : {}),
      outDir: command.outDir,
      progress,
    });
    io.stdout.write(command.json ? `${JSON.stringify(summary, null, 2)}\n` : formatRetrieveSummary(summary));
    return summary.failures.length === 0 ? 0 : 1;
  } catch (err) {
    progress.end();
    if (!(err instanceof Error)) throw err;
    io.stderr.write(`retrieve failed: ${err.message}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
}
