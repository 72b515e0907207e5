/**
 * `npm run smoke -- --url <ApiUrl> [auth options]`: the deploy smoke test. Stores a synthetic study,
 * searches it, retrieves it byte-identical, sends it to a destination, checks the result and deletes
 * it, printing each step green or red with its timing and, when red, what to check (docs/deploy.md).
 * Exit code 0 only when every step that ran is green.
 */
import { pathToFileURL } from 'node:url';
import { parseOptions } from './args';
import { CREDENTIAL_OPTIONS, CREDENTIAL_USAGE, parseCredentials, resolveCredentials, type CliCredentials } from './credentials';
import { authorizedFetch, StepFailure } from './smoke-http';
import { makeSmokeStudy, SMOKE_PATIENT_NAME } from './smoke-study';
import { SMOKE_STEPS, type SmokeContext, type SmokeStep } from './smoke-steps';
import type { AwsCredentials } from './sigv4';

export const USAGE = `Usage: npm run smoke -- --url API_URL
    [--token BEARER | --client-credentials --token-url URL [--client-id ID] [--client-secret SECRET] [--scope S]
     | --basic USER:PASS | --sigv4 [--region REGION]]
    [--destination URL [--verify-destination]] [--keep] [--timeout SECONDS] [--max-wait SECONDS]
  --url          the service root (the stack's ApiUrl output, stage included)
${CREDENTIAL_USAGE}
  --sigv4        sign requests with SigV4 (API with IAM authorization), credentials from the AWS
                 default provider chain; region from --region or the execute-api host name
  --destination  a registered Send destination; without it the Send step is skipped
  --verify-destination  search the destination for the study sent (same authentication)
  --keep         leave the synthetic study in the archive
  --timeout      bound on each request (default 30 s); --max-wait on Send, search and delete (default 300 s)
Exit code: 0 every step that ran passed, 1 a step failed, 2 bad usage.`;

export class SmokeUsageError extends Error {}

/** What the command line asks for; auth is resolved later (SigV4 needs the credential chain). */
export interface SmokeCommand {
  readonly url: string;
  readonly auth: CliCredentials;
  readonly destination?: string;
  readonly verifyDestination: boolean;
  readonly keep: boolean;
  readonly timeoutSeconds: number;
  readonly maxWaitSeconds: number;
}

function httpUrl(value: string, option: string): string {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new SmokeUsageError(`${option} must be an absolute http(s) URL`);
  return value.replace(/\/+$/, '');
}

function seconds(value: string | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new SmokeUsageError(`${option} must be a positive number of seconds`);
  return n;
}

export function parseSmokeArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): SmokeCommand {
  const values = parseOptions(
    argv,
    {
      url: { type: 'string' },
      ...CREDENTIAL_OPTIONS,
      basic: { type: 'string' },
      sigv4: { type: 'boolean' },
      region: { type: 'string' },
      destination: { type: 'string' },
      'verify-destination': { type: 'boolean' },
      keep: { type: 'boolean' },
      timeout: { type: 'string' },
      'max-wait': { type: 'string' },
      help: { type: 'boolean', short: 'h' }, // handled by main
    },
    (message) => new SmokeUsageError(message),
  );
  if (!values.url) throw new SmokeUsageError('--url is required');
  const url = httpUrl(values.url, '--url');
  if (values['verify-destination'] && !values.destination) throw new SmokeUsageError('--verify-destination needs --destination');
  const auth = parseCredentials(values, env, url, (message) => new SmokeUsageError(message));
  return {
    url,
    auth,
    ...(values.destination !== undefined ? { destination: httpUrl(values.destination, '--destination') } : {}),
    verifyDestination: values['verify-destination'] === true,
    keep: values.keep === true,
    timeoutSeconds: seconds(values.timeout, '--timeout', 30),
    maxWaitSeconds: seconds(values['max-wait'], '--max-wait', 300),
  };
}

export interface Terminal {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
}

export interface StepReport {
  readonly title: string;
  readonly outcome: 'pass' | 'fail' | 'skip';
  readonly ms: number;
  readonly summary: string;
}

const COLORS = { pass: '\x1b[32m', fail: '\x1b[31m', skip: '\x1b[33m' } as const;
const LABELS = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' } as const;

/** `  PASS  2. Store Instances (STOW-RS)  (312 ms)  4 instances stored`, green / red / yellow on a terminal. */
export function formatStep(n: number, report: StepReport, color: boolean): string {
  const label = color ? `${COLORS[report.outcome]}${LABELS[report.outcome]}\x1b[0m` : LABELS[report.outcome];
  const timing = report.outcome === 'skip' ? '' : `  (${Math.round(report.ms)} ms)`;
  const [head = '', ...more] = report.summary.split('\n');
  return [`  ${label}  ${n}. ${report.title}${timing}  ${head}`, ...more.map((line) => `        ${line}`)].join('\n');
}

/** The lines of a failure: the message, the Status Report (PS3.18 8.6.3), what to check. */
export function failureText(err: unknown): string {
  if (!(err instanceof StepFailure)) return `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
  const report = err.details.statusReport;
  const lines = [err.message];
  if (report?.title || report?.detail) lines.push(`Status Report: ${[report.title, report.detail].filter(Boolean).join(': ')}`);
  for (const e of report?.errors ?? []) lines.push(`  - ${e.target ? `${e.target}: ` : ''}${e.message}`);
  if (err.details.check) lines.push(`check: ${err.details.check}`);
  return lines.join('\n');
}

/** Runs the steps in order; after a failed required step (no answering API, nothing stored) the rest is skipped. */
export async function runSteps(
  ctx: SmokeContext,
  steps: readonly SmokeStep[],
  onStep: (n: number, report: StepReport) => void,
): Promise<StepReport[]> {
  const reports: StepReport[] = [];
  let blocked: string | undefined;
  for (const [i, step] of steps.entries()) {
    const skip = blocked ?? step.skip?.(ctx);
    let report: StepReport;
    if (skip !== undefined) {
      report = { title: step.title, outcome: 'skip', ms: 0, summary: skip };
    } else {
      const started = performance.now();
      try {
        report = { title: step.title, outcome: 'pass', ms: 0, summary: await step.run(ctx) };
      } catch (err) {
        report = { title: step.title, outcome: 'fail', ms: 0, summary: failureText(err) };
        if (step.required) blocked = `not run: step ${i + 1} failed`;
      }
      report = { ...report, ms: performance.now() - started };
    }
    reports.push(report);
    onStep(i + 1, report);
  }
  return reports;
}

export async function main(
  argv: readonly string[],
  io: Terminal,
  deps: {
    readonly env?: Readonly<Record<string, string | undefined>>;
    readonly fetch?: typeof fetch;
    readonly credentials?: () => Promise<AwsCredentials>;
  } = {},
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let command: SmokeCommand;
  try {
    command = parseSmokeArgs(argv, deps.env ?? process.env);
  } catch (err) {
    if (!(err instanceof SmokeUsageError)) throw err;
    io.stderr.write(`${err.message}\n${USAGE}\n`);
    return 2;
  }
  const timeoutMs = command.timeoutSeconds * 1000;
  const study = makeSmokeStudy();
  const ctx: SmokeContext = {
    origin: command.url,
    fetch: authorizedFetch(resolveCredentials(command.auth, deps.credentials), timeoutMs, deps.fetch),
    timeoutMs,
    study,
    ...(command.destination ? { destination: command.destination } : {}),
    verifyDestination: command.verifyDestination,
    keep: command.keep,
    maxWaitSeconds: command.maxWaitSeconds,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: Date.now,
  };
  const color = io.stdout.isTTY === true && !(deps.env ?? process.env).NO_COLOR;
  io.stdout.write(`Smoke test of ${command.url} (auth: ${command.auth.kind})\n`);
  io.stdout.write(
    `  synthetic study ${study.studyInstanceUID}, patient ${SMOKE_PATIENT_NAME} ${study.patientID}, ${study.instances.length} instances\n`,
  );
  const reports = await runSteps(ctx, SMOKE_STEPS, (n, report) => io.stdout.write(`${formatStep(n, report, color)}\n`));
  const failed = reports.filter((r) => r.outcome === 'fail').length;
  const passed = reports.filter((r) => r.outcome === 'pass').length;
  io.stdout.write(failed ? `${failed} step(s) failed, ${passed} passed\n` : `all ${passed} steps that ran passed\n`);
  return failed ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
}
