/**
 * Writes docs/cost/measured.json, the figures `npm run cost` prices (lib/cost/measured.ts), from what
 * a bench run measured (./cost.ts: measureModelCalls, measureHandlerCosts) and what the code deploys.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { functionGroups } from '../../lambdas/http/routes';
import type { MeasuredFigures } from '../../lib/cost/measured';
import { buildSendStateMachineDefinition, sendTaskFunctions } from '../../lib/send-workflow';
import type { MeasuredCalls } from './cost-measured';
import { PROJECT_ROOT } from './servers';

/** Where the bench keeps the figures `npm run cost` prices (lib/cost/measured.ts). */
export const MEASURED_FILE = path.join(PROJECT_ROOT, 'docs', 'cost', 'measured.json');

/**
 * Writes docs/cost/measured.json: the parts measured in this run (S3 and DynamoDB calls; CPU per
 * instance), the other parts as the file had them; the functions' memory and architecture and the
 * Send's state transitions as the code deploys them.
 */
export async function writeMeasuredFigures(
  command: string,
  measured: { calls?: MeasuredCalls; cpuMs?: Record<string, number> },
  file = MEASURED_FILE,
): Promise<void> {
  const prior = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<MeasuredFigures>) : {};
  const now = new Date().toISOString();
  const functions: Record<string, { memoryMb: number; architecture: 'arm64' | 'x86_64' }> = {};
  for (const [name, spec] of Object.entries(functionGroups)) {
    functions[name] = { memoryMb: spec.memorySize, architecture: name === 'render' ? 'x86_64' : 'arm64' };
  }
  for (const [name, spec] of Object.entries(sendTaskFunctions)) functions[name] = { memoryMb: spec.memorySize, architecture: 'arm64' };
  const figures: MeasuredFigures = {
    calls: measured.calls ? { measuredAt: now, command, ...measured.calls } : prior.calls!,
    cpu: measured.cpuMs
      ? {
          measuredAt: now,
          command,
          msPerInstance: Object.fromEntries(Object.entries(measured.cpuMs).map(([k, ms]) => [k, Math.round(ms * 1000) / 1000])),
          smallBytes: 40_000,
          largeBytes: 500_000,
        }
      : prior.cpu!,
    functions,
    stepFunctions: sendStateTransitions(),
  };
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(
    file,
    `${JSON.stringify(figures, null, 2)}
`,
  );
}

/**
 * State transitions of one Send in AWS (distributed mode): the states on its path to success (Resolve,
 * AnyMatches, DeliverBatches, Finalize), and per Deliver batch the states of the child execution.
 */
function sendStateTransitions(): MeasuredFigures['stepFunctions'] {
  const batchSize = 10;
  const definition = buildSendStateMachineDefinition({
    mode: 'distributed',
    batchSize,
    maxConcurrency: 4,
    manifestBucket: 'bucket',
    resolveArn: 'resolve',
    deliverArn: 'deliver',
    finalizeArn: 'finalize',
    failArn: 'fail',
  });
  let transitionsPerSend = 0;
  let transitionsPerBatch = 0;
  for (let name: string | undefined = definition.StartAt; name;) {
    const state: Record<string, unknown> = definition.States[name]!;
    transitionsPerSend++;
    const processor = state.ItemProcessor as { States: Record<string, unknown> } | undefined;
    if (processor) transitionsPerBatch = Object.keys(processor.States).length;
    const choices = state.Choices as { Next: string }[] | undefined;
    name = state.End ? undefined : ((choices?.[0]?.Next ?? state.Next) as string | undefined);
  }
  return { transitionsPerSend, transitionsPerBatch, batchSize };
}
