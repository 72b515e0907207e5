/**
 * The IAM harness (docs/testing.md): an embedded archive on the AWS adapters records every AWS call
 * its functions make while a workload exercises every function group and route group (STOW, QIDO,
 * WADO, rendered and thumbnail resources, an upload created and a part sent, delete, Send of studies and of Non-Patient Instances with Check Send Result, NPI Store /
 * Search / Retrieve, Retrieve Capabilities, DIMSE C-STORE / C-FIND / C-MOVE, API key clients added,
 * listed and revoked, a Store authenticated by an API key, a share link made, used, listed and
 * revoked); each call is then
 * evaluated against its function's role in the synthesized stack by an IAM policy engine. Any call
 * the role would deny fails, naming function, action and resource.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUid } from '../../../lambdas/dicom/uid';
import { SendResponseTag } from '../../../lambdas/send/response-module';
import { installAwsCallRecorder, type RecordedAwsCall } from '../../../lambdas/storage/call-recorder';
import { LOCAL_BUCKET, LOCAL_CLIENTS_TABLE, LOCAL_TABLE } from '../../../lib/local/archive';
import { Caller } from '../../../lib/local/call-attribution';
import { dcmtk, hasDcmtk, startStoreScp, type StoreScp } from '../../support/dcmtk';
import { makeStudy } from '../../support/dicom-factory';
import { startFakeDestination, type FakeDestination } from '../../support/fake-destination';
import { DICOM_JSON, multipartParts, stow, stowBody, tempArchive } from '../../support/http';
import { archiveAccount, type ArchiveAccount } from '../../support/iam/archive-account';
import { denials, describeDenials, iamRequests, type CheckedRequest } from '../../support/iam/evaluate';
import { ACCOUNT } from '../../support/iam/iam-actions';
import { makeNpiInstance, npiSamples } from '../../support/npi-factory';

type Archive = Awaited<ReturnType<typeof tempArchive>>;
type Module = Record<string, { Value?: unknown[] }>;

const { Status: STATUS, NumberOfFailedSuboperations: FAILED, NumberOfCompletedSuboperations: COMPLETED } = SendResponseTag;

const calls: RecordedAwsCall[] = [];
let stopRecording: (() => void) | undefined;
let deployed: ArchiveAccount; // context dimse=true: every caller has its role
let plain: ArchiveAccount; // default context
let a: Archive; // the archive under test, with its DIMSE gateway
let b: Archive; // a second deployment, destination of the Sends
let c: Archive; // a deployment that takes API keys (AUTH=token,api-keys)
let scp: StoreScp | undefined;
let slow: FakeDestination; // answers after the Send request's wait
let refusing: FakeDestination; // fails one instance, stores the rest
let warning: FakeDestination; // stores with Warning Reason
let work: string;

async function ok(r: Response | Promise<Response>, ...statuses: number[]): Promise<Response> {
  const response = await r;
  if (!(statuses.length ? statuses : [200]).includes(response.status)) {
    expect.fail(`${response.url}: ${response.status} ${await response.text()}`);
  }
  return response;
}

/** Send, then Check Send Result until final; the final module. */
async function sendAndWait(resource: string, query: Record<string, string>, destination = b.url): Promise<Module> {
  const uid = newUid();
  const search = new URLSearchParams({ destination, ...query });
  let r = await ok(
    fetch(`${a.url}${resource}/send-requests/${uid}?${search}`, { method: 'POST', headers: { Accept: DICOM_JSON } }),
    200,
    202,
  );
  for (let i = 0; r.status === 202 && i < 200; i++) {
    await r.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 100));
    r = await ok(fetch(`${a.url}${resource}/send-requests/${uid}`, { headers: { Accept: DICOM_JSON } }), 200, 202);
  }
  expect(r.status).toBe(200);
  return ((await r.json()) as Module[])[0]!;
}

/** Archive a's destinations; without the slow one when `withSlow` is false. */
async function writeRegistry(withSlow: boolean): Promise<void> {
  const destinations = [
    { url: b.url, auth: { type: 'none' } },
    ...(withSlow ? [{ url: slow.url, auth: { type: 'none' } }] : []),
    { url: refusing.url, auth: { type: 'none' } },
    { url: warning.url, auth: { type: 'none' } },
    ...(scp ? [{ url: 'http://dest.invalid/dicomweb', aeTitle: 'DEST', host: '127.0.0.1', port: scp.port }] : []),
  ];
  await writeFile(path.join(a.dataDir, 'destinations.json'), JSON.stringify({ destinations }));
}

/**
 * A Send whose run fails (MarkFailed): its first batch is held by the slow destination, which is then
 * removed from the registry, so the next batch's Deliver refuses the destination and the Map fails.
 */
async function markedFailed(study: string): Promise<void> {
  const uid = newUid();
  // Long enough for the registry to change while the first batch is held, even on a loaded machine.
  slow.behaviour = { kind: 'slow', delayMs: 5000 };
  const search = new URLSearchParams({ destination: slow.url, StudyInstanceUID: study });
  const started = await ok(
    fetch(`${a.url}/studies/send-requests/${uid}?${search}`, { method: 'POST', headers: { Accept: DICOM_JSON } }),
    202,
  );
  await started.arrayBuffer();
  await writeRegistry(false);
  try {
    let r: Response;
    for (let i = 0; ; i++) {
      r = await ok(fetch(`${a.url}/studies/send-requests/${uid}`, { headers: { Accept: DICOM_JSON } }), 200, 202);
      if (r.status === 200 || i > 100) break;
      await r.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const [module] = (await r.json()) as Module[];
    expect(module![FAILED]?.Value?.[0], 'the batches after the failure count as failed').toBeGreaterThan(0);
  } finally {
    await writeRegistry(true);
  }
}

async function workload(): Promise<void> {
  const study = makeStudy({ series: 2, instancesPerSeries: 2, numberOfFrames: 3, rows: 32, columns: 32, bitsAllocated: 16 });
  const [first, second] = study.instances;
  const s = study.studyInstanceUID;
  const instanceUrl = (i: typeof first) => `${a.url}/studies/${s}/series/${i!.seriesInstanceUID}/instances/${i!.sopInstanceUID}`;

  // STOW-RS, both routes.
  await ok(
    stow(
      a.url,
      study.instances.slice(0, 2).map((i) => i.bytes),
    ),
  );
  await ok(
    stow(
      a.url,
      study.instances.slice(2).map((i) => i.bytes),
      s,
    ),
  );
  // QIDO-RS at every level, with a name search (its own index items).
  const searches = ['/studies?PatientName=*', '/series', '/instances', `/studies/${s}/series`, `/studies/${s}/instances`];
  for (const q of [...searches, `/studies/${s}/series/${first!.seriesInstanceUID}/instances`]) {
    await ok(fetch(`${a.url}${q}`, { headers: { Accept: DICOM_JSON } }));
  }
  // WADO-RS: study, series, instance, metadata, frames, bulkdata.
  const dicom = { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' };
  await ok(fetch(`${a.url}/studies/${s}`, { headers: dicom }));
  await ok(fetch(`${a.url}/studies/${s}/series/${first!.seriesInstanceUID}`, { headers: dicom }));
  await ok(fetch(instanceUrl(first), { headers: dicom }));
  await ok(fetch(`${a.url}/studies/${s}/metadata`, { headers: { Accept: DICOM_JSON } }));
  const metadata = await ok(fetch(`${instanceUrl(first)}/metadata`, { headers: { Accept: DICOM_JSON } }));
  const meta = (await metadata.json()) as Record<string, { BulkDataURI?: string }>[];
  const octets = { Accept: 'multipart/related; type="application/octet-stream"' };
  await multipartParts(await ok(fetch(`${instanceUrl(first)}/frames/1,3`, { headers: octets })));
  const bulk = Object.values(meta[0]!).find((v) => v.BulkDataURI)?.BulkDataURI;
  expect(bulk, 'an instance with bulk data').toBeDefined();
  await ok(fetch(bulk!, { headers: octets }));
  // Rendered and thumbnail resources: the instance and a frame rendered, the instance's and the
  // study's thumbnails (each cached beside its instance on its first request, removed by the deletes below).
  const jpeg = { Accept: 'image/jpeg' };
  await (await ok(fetch(`${instanceUrl(first)}/rendered`, { headers: jpeg }))).arrayBuffer();
  await (await ok(fetch(`${instanceUrl(first)}/frames/2/rendered`, { headers: jpeg }))).arrayBuffer();
  await (await ok(fetch(`${instanceUrl(first)}/thumbnail`, { headers: jpeg }))).arrayBuffer();
  await (await ok(fetch(`${a.url}/studies/${s}/thumbnail`, { headers: jpeg }))).arrayBuffer();
  // Retrieve Capabilities.
  await ok(fetch(`${a.url}/studies`, { method: 'OPTIONS', headers: { Accept: 'application/vnd.sun.wadl+xml' } }));
  // The upload path as far as s3rver goes (it lacks ListParts: test/integration/iam/upload-role.test.ts
  // evaluates the rest): an upload created, a part PUT to its presigned URL.
  const created = await ok(
    fetch(`${a.url}/uploads`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ size: 1000 }) }),
    201,
  );
  const part = ((await created.json()) as { parts: { url: string }[] }).parts[0]!;
  await ok(fetch(part.url, { method: 'PUT', body: new Uint8Array(1000) }));

  // NPI Store, Search, Retrieve, then Send of each category's instance.
  for (const sample of npiSamples('719')) {
    const npi = makeNpiInstance(sample);
    const { body, contentType } = stowBody([npi.bytes]);
    await ok(fetch(`${a.url}/${sample.npiName}`, { method: 'POST', headers: { 'Content-Type': contentType, Accept: DICOM_JSON }, body }));
    await ok(fetch(`${a.url}/${sample.npiName}?${new URLSearchParams(sample.search)}`, { headers: { Accept: DICOM_JSON } }));
    await ok(fetch(`${a.url}/${sample.npiName}/${npi.sopInstanceUID}`, { headers: dicom }));
    const sent = await sendAndWait(`/${sample.npiName}`, sample.search);
    expect(sent[FAILED]?.Value?.[0], `Send of ${sample.npiName}`).toBe(0);
    expect(sent[COMPLETED]?.Value?.[0], `Send of ${sample.npiName}`).toBe(1);
  }
  // Send of a study to the second deployment.
  const sent = await sendAndWait(`/studies`, { StudyInstanceUID: s });
  expect(sent[STATUS]?.Value?.[0]).toBe(0);
  expect(sent[COMPLETED]?.Value?.[0]).toBe(study.instances.length);
  // A Send still running after the request's wait: Check Send Result asks the workflow its state.
  const slowSend = await sendAndWait('/series', { SeriesInstanceUID: first!.seriesInstanceUID }, slow.url);
  expect(slowSend[COMPLETED]?.Value?.[0]).toBe(2);
  // Sub-operations that fail or warn (PS3.4 C.4.2.3.1.1.4): their SOP Instance UIDs are kept.
  refusing.behaviour = { kind: 'fail', sopInstanceUIDs: new Set([first!.sopInstanceUID]) };
  const refused = await sendAndWait('/series', { SeriesInstanceUID: first!.seriesInstanceUID }, refusing.url);
  expect(refused[FAILED]?.Value?.[0]).toBe(1);
  const warned = await sendAndWait('/series', { SeriesInstanceUID: first!.seriesInstanceUID }, warning.url);
  expect(warned[SendResponseTag.NumberOfWarningSuboperations]?.Value?.[0]).toBe(2);
  await markedFailed(s);

  // DIMSE: C-STORE, C-FIND, C-MOVE to a C-STORE SCP (through the gateway's destinations).
  if (scp) {
    const dimseStudy = makeStudy({ series: 1, instancesPerSeries: 2 });
    const files = await Promise.all(
      dimseStudy.instances.map(async (i) => {
        const file = path.join(work, `${i.sopInstanceUID}.dcm`);
        await writeFile(file, i.bytes);
        return file;
      }),
    );
    const at = ['-aec', 'ARCHIVE', '127.0.0.1', String(a.dimse!.port)];
    const stored = await dcmtk('storescu', [...at, ...files]);
    expect(stored.code, stored.out).toBe(0);
    const keys = ['-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${dimseStudy.studyInstanceUID}`];
    const found = await dcmtk('findscu', ['-S', ...at, ...keys]);
    expect(found.code, found.out).toBe(0);
    const moved = await dcmtk('movescu', ['-S', ...at, '-aem', 'DEST', ...keys]);
    expect(moved.code, moved.out).toBe(0);
    expect((await scp.received()).sort()).toEqual(dimseStudy.instances.map((i) => i.sopInstanceUID).sort());
  }

  // Delete: an instance, a series, the study.
  await ok(fetch(instanceUrl(second), { method: 'DELETE' }), 200, 204);
  await ok(fetch(`${a.url}/studies/${s}/series/${study.instances[2]!.seriesInstanceUID}`, { method: 'DELETE' }), 200, 204);
  await ok(fetch(`${a.url}/studies/${s}`, { method: 'DELETE' }), 200, 204);
}

const ADMIN_TOKEN = 'iam-harness-admin';

/**
 * API key clients: the admin function adds, lists and revokes them (the clients table only); a Store
 * authenticated by a key reads its client in the store function, as every function does for a request
 * without our authorizer's context (lambdas/http/middleware.ts).
 */
async function clientsWorkload(): Promise<void> {
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, Accept: 'application/json' };
  const added = await ok(
    fetch(`${c.url}/admin/clients`, {
      method: 'POST',
      headers: { ...admin, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'iam-pacs', scopes: ['write'] }),
    }),
    201,
  );
  const { id, key } = (await added.json()) as { id: string; key: string };
  await ok(fetch(`${c.url}/admin/clients`, { headers: admin }));
  const { body, contentType } = stowBody([makeStudy({ series: 1, instancesPerSeries: 1 }).instances[0]!.bytes]);
  await ok(
    fetch(`${c.url}/studies`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': contentType, Accept: DICOM_JSON },
      body,
    }),
  );
  await ok(fetch(`${c.url}/admin/clients/${id}`, { method: 'DELETE', headers: admin }), 204);
  // The revoked key, in a header not seen before (so not answered from a cache): read again, refused.
  const basic = `Basic ${Buffer.from(`iam-pacs:${key}`).toString('base64')}`;
  await ok(fetch(`${c.url}/studies`, { headers: { Authorization: basic, Accept: DICOM_JSON } }), 401);
}

/**
 * Share links: the admin function finds the study (the archive's index) and keeps the link (the
 * clients table); a search and a retrieve with its token read the link and count its use in the
 * functions they reach; list and revoke are the admin function's again.
 */
async function sharesWorkload(): Promise<void> {
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, Accept: 'application/json' };
  const study = makeStudy({ series: 1, instancesPerSeries: 1 });
  const { body, contentType } = stowBody(study.instances.map((i) => i.bytes));
  await ok(fetch(`${c.url}/studies`, { method: 'POST', headers: { ...admin, 'Content-Type': contentType, Accept: DICOM_JSON }, body }));
  const created = await ok(
    fetch(`${c.url}/admin/shares`, {
      method: 'POST',
      headers: { ...admin, 'Content-Type': 'application/json' },
      body: JSON.stringify({ study: study.studyInstanceUID, expires: '1d' }),
    }),
    201,
  );
  const { id, token } = (await created.json()) as { id: string; token: string };
  const reader = { Authorization: `Bearer ${token}`, Accept: DICOM_JSON };
  await ok(fetch(`${c.url}/studies`, { headers: reader }));
  await ok(fetch(`${c.url}/studies/${study.studyInstanceUID}/metadata`, { headers: reader }));
  await ok(fetch(`${c.url}/admin/shares`, { headers: admin }));
  await ok(fetch(`${c.url}/admin/shares/${id}`, { method: 'DELETE', headers: admin }), 204);
}

beforeAll(async () => {
  deployed = archiveAccount({ dimse: 'true' });
  plain = archiveAccount();
  work = await mkdtemp(path.join(os.tmpdir(), 'iam-harness-'));
  // Installed before the archives build their SDK clients, so each client records.
  stopRecording = installAwsCallRecorder((call) => calls.push(call));
  b = await tempArchive({ storage: 'aws-emulators', env: deployed.env });
  a = await tempArchive({
    storage: 'aws-emulators',
    dimsePort: 0,
    env: { ...deployed.env, SEND_WAIT_MS: '300', SEND_BATCH_SIZE: '2', SEND_MAX_CONCURRENCY: '1' },
  });
  if (hasDcmtk) scp = await startStoreScp('DEST');
  else console.warn('IAM harness: dcmtk is not installed, the DIMSE gateway is not exercised (apt-get install dcmtk)');
  slow = await startFakeDestination({ kind: 'slow', delayMs: 2000 });
  refusing = await startFakeDestination();
  warning = await startFakeDestination({ kind: 'warn' });
  await writeRegistry(true);
  c = await tempArchive({ storage: 'aws-emulators', env: { ...deployed.env, AUTH: 'token,api-keys', AUTH_TOKEN: ADMIN_TOKEN } });
  await workload();
  await clientsWorkload();
  await sharesWorkload();
}, 180_000);

afterAll(async () => {
  stopRecording?.();
  await a?.close();
  await b?.close();
  await c?.close();
  await scp?.close();
  await slow?.close();
  await refusing?.close();
  await warning?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('IAM harness', () => {
  it('recorded the calls of every function the workload runs', () => {
    const pairs = new Set(iamRequests(calls, deployed.account).map((r) => `${r.caller} ${r.action}`));
    // A floor, not an allow list: what each function must at least have called for the workload.
    const expected = [
      'store s3:PutObject',
      'store dynamodb:PutItem',
      'store kms:GenerateDataKey',
      'search dynamodb:Query',
      'search kms:Decrypt',
      'retrieve s3:GetObject',
      'retrieve dynamodb:Query',
      'render s3:GetObject',
      'render s3:PutObject',
      'render dynamodb:Query',
      'delete s3:DeleteObject',
      'delete dynamodb:DeleteItem',
      'send states:StartExecution',
      'send states:DescribeExecution',
      'send secretsmanager:GetSecretValue',
      'npi s3:PutObject',
      'npi s3:GetObject',
      'npi dynamodb:Query',
      `${Caller.task('resolve')} s3:PutObject`,
      `${Caller.task('resolve')} dynamodb:Query`,
      `${Caller.task('deliver')} s3:GetObject`,
      `${Caller.task('deliver')} secretsmanager:GetSecretValue`,
      `${Caller.task('finalize')} dynamodb:UpdateItem`,
      `${Caller.task('fail')} dynamodb:UpdateItem`,
      `${Caller.stateMachine} lambda:InvokeFunction`,
      `${Caller.stateMachine} s3:GetObject`,
      `${Caller.stateMachine} states:StartExecution`,
      'upload s3:PutObject',
      'upload dynamodb:PutItem',
      'admin dynamodb:PutItem',
      'admin dynamodb:Scan',
      'admin dynamodb:UpdateItem',
      ...(hasDcmtk ? [`${Caller.dimse} s3:PutObject`, `${Caller.dimse} dynamodb:Query`, `${Caller.dimse} s3:GetObject`] : []),
    ];
    expect(
      expected.filter((p) => !pairs.has(p)),
      [...pairs].sort().join('\n'),
    ).toEqual([]);
    expect(calls.filter((c) => c.caller === undefined).map((c) => `${c.service}.${c.operation}`)).toEqual([]);
  });

  it('recorded the API key clients and share links: the admin function on the clients table (and the index to read), a credential read by the function it calls', () => {
    const clientsTable = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${LOCAL_CLIENTS_TABLE}`;
    const requests = iamRequests(calls, deployed.account).filter((r) => !r.impliedBy);
    const onClients = new Set(requests.filter((r) => r.resource === clientsTable).map((r) => `${r.caller} ${r.action}`));
    // The admin routes were called with the static token: no key to read there. The embedded runtime's
    // functions share one verification cache: the share token was read once, by the first (search).
    expect([...onClients].sort()).toEqual([
      'admin dynamodb:PutItem',
      'admin dynamodb:Scan',
      'admin dynamodb:UpdateItem',
      'search dynamodb:GetItem',
      'search dynamodb:UpdateItem',
      'store dynamodb:GetItem',
    ]);
    // A share link's use is counted on its own item, never a client's.
    const uses = requests.filter((r) => r.resource === clientsTable && r.caller !== 'admin' && r.action === 'dynamodb:UpdateItem');
    expect(uses.map((r) => r.context)).toEqual([{ 'dynamodb:LeadingKeys': [expect.stringMatching(/^share#[a-z0-9]{12}$/)] }]);
    const archiveTable = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${LOCAL_TABLE}`;
    expect(
      new Set(requests.filter((r) => r.caller === 'admin' && r.resource !== clientsTable).map((r) => `${r.action} ${r.resource}`)),
    ).toEqual(new Set([`dynamodb:GetItem ${archiveTable}`]));
  });

  it("denies the admin function the archive's objects and writes, and the other functions any change to a client", async () => {
    const clientsTable = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${LOCAL_CLIENTS_TABLE}`;
    const attempts: CheckedRequest[] = [
      { caller: 'admin', action: 's3:GetObject', resource: `arn:aws:s3:::${LOCAL_BUCKET}/studies/1.2.3/series/4/instances/5.dcm` },
      { caller: 'admin', action: 'dynamodb:PutItem', resource: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${LOCAL_TABLE}` },
      { caller: 'admin', action: 'dynamodb:DeleteItem', resource: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${LOCAL_TABLE}` },
      ...['store', 'search', 'retrieve', 'render', 'delete', 'send', 'npi', 'capabilities'].flatMap((caller) => [
        ...['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Scan'].map((action) => ({ caller, action, resource: clientsTable })),
        // A share link's item only (dynamodb:LeadingKeys share#...): a client's is refused.
        { caller, action: 'dynamodb:UpdateItem', resource: clientsTable, context: { 'dynamodb:LeadingKeys': ['abcdefghijkl'] } },
      ]),
    ];
    expect((await denials(attempts, deployed.account)).length).toBe(attempts.length);
  });

  it('every recorded call is allowed by its function role in the stack with the DIMSE gateway (context dimse=true)', async () => {
    const denied = await denials(iamRequests(calls, deployed.account, { unchecked: [Caller.operator] }), deployed.account);
    expect(describeDenials(denied)).toBe('');
  });

  it('every recorded call of the functions is allowed by the default stack too', async () => {
    const denied = await denials(iamRequests(calls, plain.account, { unchecked: [Caller.operator, Caller.dimse] }), plain.account);
    expect(describeDenials(denied)).toBe('');
  });
});
