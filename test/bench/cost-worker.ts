/**
 * The cloud cost drivers of one function, measured in a process of its own that holds only what a
 * Lambda function holds: the handlers (lambdas/handlers/*), their services wired from the
 * environment like in AWS (lambdas/handlers/services.ts), and proxy events built the way the
 * embedded gateway builds them. S3 and DynamoDB are the emulators of ./emulators-process.ts, in
 * another process. Prints one JSON line.
 *   node --expose-gc --import tsx test/bench/cost-worker.ts cpu      (env BENCH_DESTINATION: a STOW-RS root)
 *   node --expose-gc --import tsx test/bench/cost-worker.ts store-rss|store-live <content type> <one-instance body> <large body> ...
 *   node --expose-gc --import tsx test/bench/cost-worker.ts retrieve-rss|retrieve-live <study> <series> <one SOP Instance UID>
 *   node --expose-gc --import tsx test/bench/cost-worker.ts calls <instances>
 *   node --expose-gc --import tsx test/bench/cost-worker.ts measured <instances>   (./cost-measured.ts)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type http from 'node:http';
import type { Context } from 'aws-lambda';
import { newUid } from '../../lambdas/dicom/uid';
import { isEmpty } from '../../lambdas/dicomweb/resources';
import { dicomwebHandler } from '../../lambdas/http/middleware';
import { operations as deleteOperations } from '../../lambdas/handlers/delete';
import { operations as retrieveOperations } from '../../lambdas/handlers/retrieve';
import { operations as searchOperations } from '../../lambdas/handlers/search';
import { operations as sendOperations } from '../../lambdas/handlers/send';
import { createServices, services as lambdaServices, type Services } from '../../lambdas/handlers/services';
import { operations as storeOperations } from '../../lambdas/handlers/store';
import { installAwsCallRecorder, runAsFunction, type RecordedAwsCall } from '../../lambdas/storage/call-recorder';
import type { IndexEntry } from '../../lambdas/storage/ports';
import { instanceMetadataKey, instanceObjectKey, objectVersion } from '../../lambdas/storage/keys';
import { proxyEvent } from '../../lib/local/gateway';
import { LocalSendWorkflow } from '../../lib/local/local-send-workflow';
import { routesForPath } from '../../lambdas/http/routes';
import { makeInstance } from '../support/dicom-factory';
import { startFakeDestination } from '../support/fake-destination';
import { stowBody } from '../support/http';
import { LIVE_SAMPLE_MS, procStatusBytes, resetPeakRss } from './common';
import { measureCalls } from './cost-measured';

// Calls are recorded by the clients built after this (lambdas/storage/call-recorder.ts), so only in
// the mode that counts them: the recording middleware costs CPU of its own.
const recorded: RecordedAwsCall[] = [];
if (process.argv[2] === 'calls' || process.argv[2] === 'measured') installAwsCallRecorder((call) => recorded.push(call));

// The services a Lambda function builds from its environment; Send gets the embedded runtime's
// workflow (the same task code in this process) in place of Step Functions.
const lambda = lambdaServices();
const workflow = new LocalSendWorkflow(() => services.sendTasks, {
  batchSize: lambda.config.sendBatchSize,
  maxConcurrency: lambda.config.sendMaxConcurrency,
});
const services: Services = createServices(lambda.config, { ...lambda, workflow });
const handlers = {
  store: dicomwebHandler('store', storeOperations, () => services),
  retrieve: dicomwebHandler('retrieve', retrieveOperations, () => services),
  send: dicomwebHandler('send', sendOperations, () => services),
  search: dicomwebHandler('search', searchOperations, () => services),
  delete: dicomwebHandler('delete', deleteOperations, () => services),
} as const;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly bytes: number;
  readonly text: string;
}

/** Invokes the function of the route that serves `method target`, as API Gateway would; a streamed body is drained. */
async function invoke(
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body: Buffer = Buffer.alloc(0),
): Promise<Answer> {
  const url = new URL(target, 'http://127.0.0.1');
  const match = routesForPath(url.pathname).find((c) => c.route.method === method);
  if (!match) throw new Error(`no route for ${method} ${url.pathname}`);
  const rawHeaders = Object.entries({ Host: '127.0.0.1', ...headers }).flat();
  const request = { rawHeaders, httpVersion: '1.1', socket: { remoteAddress: '127.0.0.1' } } as unknown as http.IncomingMessage;
  const event = proxyEvent(request, url, match.route, match.pathParameters, body);
  const handler = handlers[match.route.group as keyof typeof handlers];
  const result = await handler(event, { awsRequestId: newUid(), getRemainingTimeInMillis: () => 60_000 } as unknown as Context);
  let bytes = 0;
  let text = '';
  if (result.body instanceof Readable) {
    for await (const chunk of result.body as AsyncIterable<Buffer>) bytes += chunk.length;
  } else {
    const decoded = Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
    bytes = decoded.length;
    text = decoded.subarray(0, 4096).toString();
  }
  return { status: result.statusCode, headers: result.headers, bytes, text };
}

const AS_STORED = 'multipart/related; type="application/dicom"; transfer-syntax=*';
const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

/**
 * CPU-ms per stored, retrieved and sent instance of a warm function: handlers called one at a time,
 * after a first round of the same workload on other instances that is not counted. A warm Lambda
 * environment serves most invocations; what a cold one costs on top is the cold-initialisation rows,
 * and the first calls' JIT compilation (on background threads, which process.cpuUsage() counts). With
 * a single warm-up call, 40 instances measured 1.4 to 2.7 times the figures of 400 (2026-12-02).
 */
async function cpu(destination: string, count: number): Promise<Record<string, number>> {
  await cpuRound(destination, count);
  return cpuRound(destination, count);
}

/** One round: `count` new instances of each size stored, retrieved one by one, and the small ones sent. */
async function cpuRound(destination: string, count: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [label, approximateBytes] of [
    ['small', 40_000],
    ['large', 500_000],
  ] as const) {
    const study = { studyInstanceUID: newUid(), seriesInstanceUID: newUid(), patientID: `COST-${label}-${newUid().slice(-8)}` };
    const sops = Array.from({ length: count }, () => newUid());
    const files = sops.map((sopInstanceUID) => makeInstance({ ...study, sopInstanceUID, patientName: 'Cost^Bench', approximateBytes }));
    const perRequest = label === 'small' ? 10 : 5;
    const store = async (batch: readonly Uint8Array[]) => {
      const { body, contentType } = stowBody(batch);
      const answer = await invoke('POST', '/studies', { 'Content-Type': contentType }, body);
      if (answer.status !== 200) throw new Error(`store answered ${answer.status}`);
    };
    let t = process.cpuUsage();
    for (let i = 0; i < files.length; i += perRequest) await store(files.slice(i, i + perRequest));
    out[`store.${label}`] = cpuMs(t) / files.length;

    const base = `/studies/${study.studyInstanceUID}/series/${study.seriesInstanceUID}/instances`;
    t = process.cpuUsage();
    for (const sop of sops) {
      const answer = await invoke('GET', `${base}/${sop}`, { Accept: AS_STORED });
      if (answer.status !== 200) throw new Error(`retrieve answered ${answer.status}`);
    }
    out[`retrieve.${label}`] = cpuMs(t) / sops.length;

    // The same instances' S3 and DynamoDB calls alone (note [a]).
    // One at a time: a hundred at once made the in-process dynalite drop one now and then, and the run failed.
    const entries = [];
    for (const sop of sops) entries.push(await services.index.getInstance(study.studyInstanceUID, study.seriesInstanceUID, sop));
    Object.assign(
      out,
      await awsCallsAlone(
        label,
        entries.map((e) => e!),
        files,
      ),
    );

    if (label === 'small') {
      writeFileSync(lambda.config.destinationsFile!, JSON.stringify({ destinations: [{ url: destination, auth: { type: 'none' } }] }));
      const send = `/studies/send-requests/${newUid()}?destination=${encodeURIComponent(destination)}&PatientID=${study.patientID}`;
      t = process.cpuUsage();
      let answer = await invoke('POST', send, { Accept: 'application/dicom+json' });
      while (answer.status === 202) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        answer = await invoke('GET', send.split('?')[0]!, { Accept: 'application/dicom+json' });
      }
      // PS3.4 C.4.2.3.1: Status 0000 only when every sub-operation completed; a failed delivery costs less.
      const module = answer.status === 200 ? [JSON.parse(answer.text) as unknown].flat()[0] : undefined;
      const status = (module as Record<string, { Value?: number[] }> | undefined)?.['00000900']?.Value?.[0];
      if (status !== 0) throw new Error(`send answered ${answer.status} with Status ${status}`);
      // Each instance of the study was sent.
      out[`send.${label}`] = cpuMs(t) / files.length;
    }
  }
  return out;
}

/**
 * CPU-ms of the S3 and DynamoDB calls the handlers make per instance, made alone through the same
 * adapters (note [a] of the bench): of a retrieved instance, its entry (GetItem) and its object
 * (GetObject); of a new stored instance, the SOP Instance UID lookup (Query), its Part 10 object and
 * DICOM JSON (two PutObjects, at once) and its entry (the name terms' BatchWriteItem and the
 * conditional PutItem). Nothing else runs: no event, no parsing, no response; so this is the floor the
 * AWS SDK sets under each handler's CPU per instance. The stores copy the given entries under new SOP
 * Instance UIDs of the same series, with their objects.
 */
async function awsCallsAlone(label: string, entries: readonly IndexEntry[], files: readonly Uint8Array[]): Promise<Record<string, number>> {
  const { index, blobs } = services;
  let t = process.cpuUsage();
  for (const entry of entries) {
    const found = await index.getInstance(entry.studyInstanceUID, entry.seriesInstanceUID!, entry.sopInstanceUID!);
    const body = found && (await blobs.getStream(found.instance!.objectKey));
    if (!body) throw new Error('the retrieve calls found nothing');
    for await (const _ of body);
  }
  const retrieved = cpuMs(t) / entries.length;

  const metadata = await Promise.all(entries.map((e) => blobs.get(e.instance!.metadataKey)));
  const copies = entries.map((entry, i) => {
    const sopInstanceUID = newUid();
    const { studyInstanceUID, seriesInstanceUID } = entry as Required<IndexEntry>;
    const version = objectVersion(entry.instance!.digest);
    const instance = {
      ...entry.instance!,
      objectKey: instanceObjectKey(studyInstanceUID, seriesInstanceUID, sopInstanceUID, version),
      metadataKey: instanceMetadataKey(studyInstanceUID, seriesInstanceUID, sopInstanceUID, version),
    };
    return { entry: { ...entry, sopInstanceUID, instance }, part10: files[i]!, metadata: metadata[i]! };
  });
  t = process.cpuUsage();
  for (const { entry, part10, metadata } of copies) {
    if (!(await isEmpty(index.query({ by: 'uid', level: 'INSTANCE', uids: [entry.sopInstanceUID] }))))
      throw new Error('SOP Instance UID taken');
    await Promise.all([
      blobs.put(entry.instance.objectKey, part10, 'application/dicom'),
      blobs.put(entry.instance.metadataKey, metadata, 'application/dicom+json'),
    ]);
    if ((await index.putInstance(entry)).outcome !== 'created') throw new Error('entry not created');
  }
  return { [`retrieve.${label}.aws`]: retrieved, [`store.${label}.aws`]: cpuMs(t) / copies.length };
}

/**
 * S3 and DynamoDB calls per instance (calls, not time: what AWS bills per request), counted by the
 * call recorder: `count` ~40 KB instances stored one per request (the first starts a new study, the
 * others join its series, one more starts a new series of the study), `count` more ten per request into a new series; each retrieved as stored
 * and as metadata; all of them found by one search by Patient ID; and the first study sent to a STOW-RS destination of this process. The Send
 * function's reads of its request's progress (while it waits, and Check Send Result) follow the
 * clock, not the instances, and are not counted.
 */
async function awsCallsPerInstance(count: number): Promise<Record<string, number>> {
  const counted = async (fn: () => Promise<unknown>, keep: (call: RecordedAwsCall) => boolean = () => true) => {
    recorded.length = 0;
    await fn();
    return recorded.filter((c) => (c.service === 'S3' || c.service === 'DynamoDB') && keep(c)).length;
  };
  const expect = (answer: Answer, status: number) => {
    if (answer.status !== status) throw new Error(`answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    return answer;
  };
  const store = async (files: readonly Uint8Array[]) => {
    const { body, contentType } = stowBody(files);
    expect(await invoke('POST', '/studies', { 'Content-Type': contentType }, body), 200);
  };
  const make = (series: { studyInstanceUID: string; seriesInstanceUID: string }) =>
    Array.from({ length: count }, () => ({ ...series, sopInstanceUID: newUid() }));
  const one = make({ studyInstanceUID: newUid(), seriesInstanceUID: newUid() });
  const ten = make({ studyInstanceUID: newUid(), seriesInstanceUID: newUid() });
  const file = (uids: (typeof one)[number]) => makeInstance({ ...uids, patientID: 'COST-CALLS', approximateBytes: 40_000 });
  const out: Record<string, number> = {};

  out['store.new-study'] = await counted(() => store([file(one[0]!)]));
  const rest = one.slice(1).map(file);
  out['store.one-per-request'] =
    (await counted(async () => {
      for (const f of rest) await store([f]);
    })) / rest.length;
  out['store.identical'] = await counted(() => store([file(one[0]!)]));
  const newSeries = { studyInstanceUID: one[0]!.studyInstanceUID, seriesInstanceUID: newUid(), sopInstanceUID: newUid() };
  out['store.new-series'] = await counted(() => store([file(newSeries)]));
  const tens = ten.map(file);
  out['store.ten-per-request'] =
    (await counted(async () => {
      for (let i = 0; i < tens.length; i += 10) await store(tens.slice(i, i + 10));
    })) / tens.length;

  const path = (u: (typeof one)[number]) => `/studies/${u.studyInstanceUID}/series/${u.seriesInstanceUID}/instances/${u.sopInstanceUID}`;
  out.retrieve =
    (await counted(async () => {
      for (const u of one) expect(await invoke('GET', path(u), { Accept: AS_STORED }), 200);
    })) / one.length;
  out.metadata =
    (await counted(async () => {
      for (const u of one) expect(await invoke('GET', `${path(u)}/metadata`, { Accept: 'application/dicom+json' }), 200);
    })) / one.length;

  // A search by Patient ID of every instance stored above (the answer's text is cut short: counted
  // from what was stored): per instance found.
  const found = one.length + 1 + ten.length;
  const searchCalls = await counted(async () =>
    expect(await invoke('GET', `/instances?PatientID=COST-CALLS&limit=${found}`, { Accept: 'application/dicom+json' }), 200),
  );
  out['search.patient-instances'] = searchCalls / found;

  const destination = await startFakeDestination();
  try {
    writeFileSync(lambda.config.destinationsFile!, JSON.stringify({ destinations: [{ url: destination.url, auth: { type: 'none' } }] }));
    const send = `/studies/send-requests/${newUid()}`;
    const search = `destination=${encodeURIComponent(destination.url)}&StudyInstanceUID=${one[0]!.studyInstanceUID}`;
    const sendCalls = await counted(
      () =>
        runAsFunction('send', async () => {
          let answer = await invoke('POST', `${send}?${search}`, { Accept: 'application/dicom+json' });
          while (answer.status === 202) {
            await new Promise((resolve) => setTimeout(resolve, 100));
            answer = await invoke('GET', send, { Accept: 'application/dicom+json' });
          }
          expect(answer, 200);
        }),
      (c) => c.caller !== 'send' || c.operation !== 'GetItem',
    );
    // The study: the instances stored one per request and the one of its new series.
    const sent = one.length + 1;
    if (destination.stored.length !== sent) throw new Error(`the destination stored ${destination.stored.length} of ${sent}`);
    out.send = sendCalls / sent;
  } finally {
    await destination.close();
  }
  return out;
}

/** Live memory: the V8 heap in use and the buffers outside it, right after a full collection. */
function liveBytes(): number {
  (globalThis as { gc?: () => void }).gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

type Meter = 'rss' | 'live';

/**
 * Memory before a call and its peak during it. `rss`: the resident set (Linux VmHWM, reset right
 * before), what the function's memory size must hold, garbage not yet collected included. `live`:
 * the live memory (liveBytes) sampled every LIVE_SAMPLE_MS while the call runs and once after it,
 * what the call holds at once; the difference between the two is what V8 had not collected yet.
 */
async function metered<T>(meter: Meter, call: () => Promise<T>): Promise<{ result: T; before: number; peak: number }> {
  if (meter === 'rss') {
    (globalThis as { gc?: () => void }).gc?.();
    resetPeakRss('self');
    const before = process.memoryUsage().rss;
    const result = await call();
    return { result, before, peak: procStatusBytes('self', 'VmHWM') };
  }
  const before = liveBytes();
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, liveBytes())), LIVE_SAMPLE_MS);
  try {
    const result = await call();
    return { result, before, peak: Math.max(peak, liveBytes()) };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Stores each request body file once, in order, measuring the memory of the first two: a
 * one-instance request (the reference: what any store costs) and the large request.
 */
async function storeMemory(meter: Meter, contentType: string, files: readonly string[]): Promise<Record<string, number>> {
  const peaks: { bytes: number; before: number; peak: number }[] = [];
  for (const file of files) {
    let body: Buffer | undefined = readFileSync(file);
    const bytes = body.length;
    const { route, pathParameters } = routesForPath('/studies').find((c) => c.route.method === 'POST')!;
    const request = {
      rawHeaders: ['Host', '127.0.0.1', 'Content-Type', contentType],
      httpVersion: '1.1',
      socket: {},
    } as unknown as http.IncomingMessage;
    // The event holds the body base64-encoded, as API Gateway hands it over: it is in memory before the handler runs.
    const event = proxyEvent(request, new URL('http://127.0.0.1/studies'), route, pathParameters, body);
    body = undefined;
    const { result, before, peak } = await metered(meter, () => handlers.store(event, { awsRequestId: newUid() } as unknown as Context));
    if (result.statusCode !== 200) throw new Error(`store of ${bytes} bytes answered ${result.statusCode}`);
    peaks.push({ bytes, before, peak });
  }
  const [reference, large] = peaks;
  return { referenceGrowth: reference!.peak - reference!.before, bytes: large!.bytes, before: large!.before, peak: large!.peak };
}

/** Memory while retrieving one instance of the series (the reference), then the whole series. */
async function retrieveMemory(
  meter: Meter,
  studyInstanceUID: string,
  seriesInstanceUID: string,
  sopInstanceUID: string,
): Promise<Record<string, number>> {
  const series = `/studies/${studyInstanceUID}/series/${seriesInstanceUID}`;
  const measure = async (target: string) => {
    const { result: answer, before, peak } = await metered(meter, () => invoke('GET', target, { Accept: AS_STORED }));
    if (answer.status !== 200) throw new Error(`retrieve answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    return { bytes: answer.bytes, before, peak };
  };
  await measure(`${series}/instances/${sopInstanceUID}`); // warm-up
  const reference = await measure(`${series}/instances/${sopInstanceUID}`);
  const whole = await measure(series);
  return { referenceGrowth: reference.peak - reference.before, bytes: whole.bytes, before: whole.before, peak: whole.peak };
}

const [mode, ...args] = process.argv.slice(2);
const writeDestinations = (url: string) =>
  writeFileSync(lambda.config.destinationsFile!, JSON.stringify({ destinations: [{ url, auth: { type: 'none' } }] }));
const result =
  mode === 'measured'
    ? await measureCalls({ recorded, invoke, writeDestinations, runAsSend: (fn) => runAsFunction('send', fn) }, Number(args[0] ?? 20))
    : mode === 'cpu'
      ? await cpu(process.env.BENCH_DESTINATION!, Number(args[0] ?? 50))
      : mode === 'calls'
        ? await awsCallsPerInstance(Number(args[0] ?? 20))
        : mode === 'store-rss' || mode === 'store-live'
          ? await storeMemory(mode === 'store-rss' ? 'rss' : 'live', args[0]!, args.slice(1))
          : mode === 'retrieve-rss' || mode === 'retrieve-live'
            ? await retrieveMemory(mode === 'retrieve-rss' ? 'rss' : 'live', args[0]!, args[1]!, args[2]!)
            : undefined;
if (!result) throw new Error(`cost-worker: unknown mode ${mode}`);
console.log(JSON.stringify(result));
await workflow.close();
process.exit(0);
