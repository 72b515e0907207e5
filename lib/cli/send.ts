/**
 * `npm run send -- --origin URL --destination URL [...]`: the SEND-RS user agent on the command line
 * (Supplement 248 10.X / 10.Y). Parses argv, wires the terminal, sets the exit code; the logic is in
 * ./send-client.
 */

import { pathToFileURL } from 'node:url';
import { encodeSendRequestResponse } from '../../lambdas/send/response-module';
import { parseOptions } from './args';
import {
  CREDENTIAL_OPTIONS,
  CREDENTIAL_USAGE,
  credentialsFetch,
  parseCredentials,
  resolveCredentials,
  type CliCredentials,
} from './credentials';
import {
  parseSearchPair,
  SEND_LEVELS,
  sendAndWait,
  sendResourcePath,
  SendUsageError,
  type SendLevel,
  type SendOptions,
} from '../../lambdas/send/send-client';
import { exitCodeOf, formatOutcome, progressReporter } from './send-output';

export const USAGE = `Usage: npm run send -- --origin URL --destination URL
    [--study UID [--series UID]] [--level studies|series|instances]
    [--query Keyword=value ...] [--transaction-uid UID]
    [--token BEARER | --client-credentials --token-url URL [--client-id ID] [--client-secret SECRET] [--scope S]]
    [--no-progress] [--max-wait SECONDS] [--json]
${CREDENTIAL_USAGE}
Exit code: 0 Success, 2 Warning (some sub-operations failed or warned), 3 Failure status,
           1 no final result (request refused, unreachable, --max-wait elapsed, bad usage).`;

/** What the command line asks for, as SendOptions plus the output choices. */
export interface SendCommand {
  readonly options: Pick<SendOptions, 'origin' | 'resourcePath' | 'destination' | 'search' | 'transactionUID' | 'maxWaitSeconds'>;
  /** How to authenticate to the origin server (./credentials). */
  readonly auth: CliCredentials;
  readonly progress: boolean;
  readonly json: boolean;
}

export function parseSendArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): SendCommand {
  const values = parseOptions(
    argv,
    {
      origin: { type: 'string' },
      destination: { type: 'string' },
      study: { type: 'string' },
      series: { type: 'string' },
      level: { type: 'string' },
      query: { type: 'string', multiple: true },
      'transaction-uid': { type: 'string' },
      ...CREDENTIAL_OPTIONS,
      'no-progress': { type: 'boolean' },
      'max-wait': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }, // handled by main
    },
    (message) => new SendUsageError(message),
  );
  if (!values.origin) throw new SendUsageError('--origin is required');
  if (!values.destination) throw new SendUsageError('--destination is required');
  if (values.level !== undefined && !SEND_LEVELS.includes(values.level as SendLevel)) {
    throw new SendUsageError(`--level must be one of ${SEND_LEVELS.join(', ')}`);
  }
  const maxWaitSeconds = values['max-wait'] === undefined ? 3600 : Number(values['max-wait']);
  if (!Number.isFinite(maxWaitSeconds) || maxWaitSeconds <= 0) throw new SendUsageError('--max-wait must be a positive number of seconds');
  const auth = parseCredentials(values, env, values.origin, (message) => new SendUsageError(message));
  return {
    options: {
      origin: values.origin,
      destination: values.destination,
      resourcePath: sendResourcePath({
        ...(values.study !== undefined ? { studyInstanceUID: values.study } : {}),
        ...(values.series !== undefined ? { seriesInstanceUID: values.series } : {}),
        ...(values.level !== undefined ? { level: values.level as SendLevel } : {}),
      }),
      search: (values.query ?? []).map(parseSearchPair),
      ...(values['transaction-uid'] !== undefined ? { transactionUID: values['transaction-uid'] } : {}),
      maxWaitSeconds,
    },
    auth,
    progress: !values['no-progress'],
    json: values.json === true,
  };
}

export interface Terminal {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
}

/** Runs the command; resolves to the exit code. */
export async function main(
  argv: readonly string[],
  io: Terminal,
  deps: Pick<SendOptions, 'fetch' | 'sleep' | 'now'> & { readonly env?: Readonly<Record<string, string | undefined>> } = {},
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    const command = parseSendArgs(argv, deps.env ?? process.env);
    const reporter = progressReporter((t) => io.stderr.write(t), { tty: io.stderr.isTTY === true });
    const outcome = await sendAndWait({
      ...command.options,
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      ...(deps.now ? { now: deps.now } : {}),
      fetch: credentialsFetch(resolveCredentials(command.auth), deps.fetch ? { fetch: deps.fetch } : {}),
      ...(command.progress ? { onProgress: (c, matched) => reporter.update(c, matched) } : {}),
      onNotice: (message) => reporter.notice(message),
    });
    reporter.end();
    if (outcome.kind === 'completed') {
      const payload = encodeSendRequestResponse(outcome.response);
      io.stdout.write(command.json ? `${JSON.stringify(payload, null, 2)}\n` : formatOutcome(outcome));
    } else {
      io.stderr.write(formatOutcome(outcome));
    }
    return exitCodeOf(outcome);
  } catch (err) {
    if (!(err instanceof SendUsageError)) throw err;
    io.stderr.write(`${err.message}\n${USAGE}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
}
