/**
 * The inline Send state machine run by aws-local-stepfunctions (the embedded runtime), its Tasks
 * backed by local handlers built from the SEND-RS pieces: counters, response module, destination
 * registry and the STOW client talking to a DICOMweb destination on 127.0.0.1. The send-request item
 * is held in memory here; its DynamoDB adapter is tested with its own code.
 */
import '../../../lib/local/polyfills';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  applyDelta,
  batchDelta,
  failRemainingDelta,
  initialCounters,
  settleBatch,
  toBatches,
  type SubOperationCounters,
} from '../../../lambdas/send/counters';
import { parseDestinationRegistry, resolveDestination } from '../../../lambdas/send/destinations';
import {
  encodeSendRequestResponse,
  matchedOf,
  sendRequestResponse,
  SendStatus,
  unableToCalculateMatchesResponse,
  type SendRequestResponse,
} from '../../../lambdas/send/response-module';
import { storeInstances } from '../../../lambdas/send/stow-client';
import type { DeliverInput, FailInput, FinalizeInput, ManifestItem, ResolveInput, ResolveOutput } from '../../../lambdas/send/workflow-io';
import { buildSendStateMachineDefinition, localTaskHandlers } from '../../../lib/send-workflow';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const TRANSACTION_UID = '1.1.99999.20250901';

/** Destination: stores every part, fails the UIDs in `refuse`, warns on those in `coerce`. */
let destination: Server;
let destinationUrl: string;
let stowRequests: number;
const refuse = new Set<string>();
const coerce = new Set<string>();

beforeAll(async () => {
  destination = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      stowRequests++;
      const uids = [
        ...Buffer.concat(chunks)
          .toString('latin1')
          .matchAll(/uid:([0-9.]+);/g),
      ].map((m) => m[1]!);
      const item = (uid: string) => ({ '00081150': { vr: 'UI', Value: [CT] }, '00081155': { vr: 'UI', Value: [uid] } });
      const referenced = uids
        .filter((u) => !refuse.has(u))
        .map((u) => (coerce.has(u) ? { ...item(u), '00081196': { vr: 'US', Value: [0xb000] } } : item(u)));
      const failed = uids.filter((u) => refuse.has(u)).map((u) => ({ ...item(u), '00081197': { vr: 'US', Value: [0xa900] } }));
      const status = failed.length === uids.length ? 409 : failed.length || referenced.length !== uids.length ? 202 : 200;
      res.writeHead(status, { 'Content-Type': 'application/dicom+json' }).end(
        JSON.stringify({
          ...(referenced.length ? { '00081199': { vr: 'SQ', Value: referenced } } : {}),
          ...(failed.length ? { '00081198': { vr: 'SQ', Value: failed } } : {}),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => destination.listen(0, '127.0.0.1', resolve));
  destinationUrl = `http://127.0.0.1:${(destination.address() as AddressInfo).port}/dicomweb`;
});
afterAll(async () => {
  destination.closeAllConnections();
  await new Promise((resolve) => destination.close(resolve));
});

/** The send-request item (SEND#{transactionUID} / #SEND), in memory. */
interface SendRequestItem {
  counters?: SubOperationCounters;
  manifest: ManifestItem[];
  settled: Set<string>;
  failedUIDs: string[];
  final?: SendRequestResponse;
  polls: SendRequestResponse[];
}

const arn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:send-${name}`;
const BATCH_SIZE = 3;

function harness(manifest: ManifestItem[], faults: { resolve?: Error; deliverOnCall?: Map<number, Error> } = {}) {
  const item: SendRequestItem = { manifest, settled: new Set(), failedUIDs: [], polls: [] };
  const registry = parseDestinationRegistry({ destinations: [{ url: destinationUrl, auth: { type: 'bearer', token: 't' } }] });
  const delivered: DeliverInput[] = [];
  const failInputs: FailInput[] = [];
  let deliverCalls = 0;

  const handlers = {
    [arn('resolve')]: async (input: ResolveInput): Promise<ResolveOutput> => {
      if (faults.resolve) throw faults.resolve;
      item.counters = initialCounters(manifest.length);
      return {
        matched: manifest.length,
        manifestKey: `send-requests/${input.transactionUID}/manifest.jsonl`,
        batches: toBatches(manifest, input.batchSize!),
      };
    },
    [arn('deliver')]: async (input: DeliverInput) => {
      const fault = faults.deliverOnCall?.get(++deliverCalls);
      if (fault) throw fault;
      delivered.push(input);
      const dest = resolveDestination(registry, input.BatchInput.destination);
      const outcome = await storeInstances(
        dest,
        input.Items.map((i) => ({
          sopInstanceUID: i.sopInstanceUID,
          sopClassUID: i.sopClassUID,
          bytes: Buffer.from(`uid:${i.sopInstanceUID};`),
        })),
        { sleep: async () => {} },
      );
      const settled = settleBatch(
        input.Items.map((i) => i.sopInstanceUID),
        outcome,
      );
      item.counters = applyDelta(item.counters!, batchDelta(settled));
      input.Items.forEach((i) => item.settled.add(i.sopInstanceUID));
      item.failedUIDs.push(...settled.failed);
      item.polls.push(sendRequestResponse(item.counters));
      return { completed: settled.completed.length, warning: settled.warning.length, failed: settled.failed.length };
    },
    [arn('finalize')]: async (input: FinalizeInput) => {
      expect(input.transactionUID).toBe(TRANSACTION_UID);
      item.final = sendRequestResponse(item.counters!, item.failedUIDs);
      return encodeSendRequestResponse(item.final);
    },
    [arn('fail')]: async (input: FailInput) => {
      failInputs.push(input);
      if (!item.counters) {
        item.final = unableToCalculateMatchesResponse();
      } else {
        item.counters = applyDelta(item.counters, failRemainingDelta(item.counters));
        const unsettled = item.manifest.map((i) => i.sopInstanceUID).filter((u) => !item.settled.has(u));
        item.final = sendRequestResponse(item.counters, [...item.failedUIDs, ...unsettled]);
      }
      return encodeSendRequestResponse(item.final);
    },
  };
  const definition = buildSendStateMachineDefinition({
    mode: 'inline',
    resolveArn: arn('resolve'),
    deliverArn: arn('deliver'),
    finalizeArn: arn('finalize'),
    failArn: arn('fail'),
    batchSize: BATCH_SIZE,
    maxConcurrency: 1,
  });
  const run = () =>
    new StateMachine(definition as never).run(
      { transactionUID: TRANSACTION_UID, destination: `${destinationUrl}/studies` },
      {
        overrides: {
          taskResourceLocalHandlers: localTaskHandlers(definition, handlers) as never,
          retryIntervalOverrides: { Resolve: 0, Deliver: 0, Finalize: 0, MarkFailed: 0 },
        },
      },
    ).result;
  return { item, run, delivered, failInputs, deliverCalls: () => deliverCalls };
}

const manifestOf = (n: number): ManifestItem[] =>
  Array.from({ length: n }, (_, i) => ({
    studyInstanceUID: '1.2.3',
    seriesInstanceUID: `1.2.3.${1 + (i % 2)}`,
    sopInstanceUID: `1.2.3.4.${i + 1}`,
    sopClassUID: CT,
  }));

beforeEach(() => {
  stowRequests = 0;
  refuse.clear();
  coerce.clear();
});

describe('Send workflow on the embedded runtime (inline Map)', () => {
  it('delivers 13 instances in 5 batches and finalizes B000 with the failed SOP listed', async () => {
    refuse.add('1.2.3.4.7');
    coerce.add('1.2.3.4.5');
    const h = harness(manifestOf(13));
    const output = await h.run();

    expect(stowRequests).toBe(5);
    expect(h.delivered.map((d) => d.Items.length)).toEqual([3, 3, 3, 3, 1]);
    for (const d of h.delivered) {
      expect(d.BatchInput).toEqual({ transactionUID: TRANSACTION_UID, destination: `${destinationUrl}/studies` });
    }
    expect(output).toEqual([
      {
        '00000900': { vr: 'US', Value: [SendStatus.Warning] },
        '00001021': { vr: 'US', Value: [11] },
        '00001022': { vr: 'US', Value: [1] },
        '00001023': { vr: 'US', Value: [1] },
        '00080058': { vr: 'UI', Value: ['1.2.3.4.7'] },
      },
    ]);
    // PS3.4 C.4.2.3.1.1.4: every intermediate response accounts for all 13 matches.
    expect(h.item.polls.map(matchedOf)).toEqual([13, 13, 13, 13, 13]);
    expect(h.item.polls.map((p) => p.remaining)).toEqual([10, 7, 4, 1, 0].map((r) => (r > 0 ? r : undefined)));
  });

  it('finalizes Success when every sub-operation completed', async () => {
    const output = await harness(manifestOf(5)).run();
    expect(output).toEqual(encodeSendRequestResponse({ status: 0, completed: 5, failed: 0, warning: 0 }));
  });

  it('finalizes Success with all counters 0 when nothing matched, without a Deliver', async () => {
    const h = harness([]);
    expect(await h.run()).toEqual(encodeSendRequestResponse({ status: 0, completed: 0, failed: 0, warning: 0 }));
    expect(h.deliverCalls()).toBe(0);
  });

  it('retries a Lambda service error of a Deliver and counts the batch once', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Lambda.TooManyRequestsException' });
    const h = harness(manifestOf(13), { deliverOnCall: new Map([[2, throttled]]) });
    const output = await h.run();
    expect(h.deliverCalls()).toBe(6);
    expect(stowRequests).toBe(5);
    expect(output).toEqual(encodeSendRequestResponse({ status: 0, completed: 13, failed: 0, warning: 0 }));
  });

  it('Catch: a failing Deliver marks the request failed, counting the remaining as failed', async () => {
    const h = harness(manifestOf(13), { deliverOnCall: new Map([[3, new Error('disk on fire')]]) });
    await expect(h.run()).rejects.toBeInstanceOf(ExecutionError);
    expect(h.failInputs).toEqual([{ transactionUID: TRANSACTION_UID, error: { Error: 'Error', Cause: 'disk on fire' } }]);
    const final = h.item.final!;
    expect(final).toMatchObject({ status: SendStatus.Warning, completed: 6, failed: 7, warning: 0 });
    expect(final.remaining).toBeUndefined();
    expect(matchedOf(final)).toBe(13);
    expect(final.failedSOPInstanceUIDList).toEqual(
      manifestOf(13)
        .slice(6)
        .map((i) => i.sopInstanceUID),
    );
  });

  it('Catch: a failing Resolve ends with A701 (matches could not be calculated)', async () => {
    const h = harness(manifestOf(4), { resolve: new Error('index unavailable') });
    await expect(h.run()).rejects.toBeInstanceOf(ExecutionError);
    expect(h.item.final).toEqual({ status: SendStatus.UnableToCalculateMatches, completed: 0, failed: 0, warning: 0 });
    expect(h.deliverCalls()).toBe(0);
  });
});
