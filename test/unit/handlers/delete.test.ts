/**
 * Unit: the delete function's answers (conformance statement, Delete) through the one middleware chain
 * with a Lambda context, over in-memory ports; and the continuation it sends itself in AWS.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lambdas/config';
import { DeleteService, type DeleteTarget } from '../../../lambdas/dicomweb/delete';
import { operations } from '../../../lambdas/handlers/delete';
import { dicomwebHandler } from '../../../lambdas/http/middleware';
import type { ProxyResult } from '../../../lambdas/http/proxy';
import { invokeSelf, isDeleteContinuationEvent } from '../../../lambdas/storage/delete-continuation';
import { newUid } from '../../../lambdas/dicom/uid';
import { makeStudy } from '../../support/dicom-factory';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryMetadataIndex } from '../../support/memory-index';
import { storeInstances } from '../../support/seed';
import { proxyEvent } from '../../support/proxy-event';

const config = loadConfig({ BUCKET_NAME: 'bucket', TABLE_NAME: 'table' });
let index: MemoryMetadataIndex;
let blobs: MemoryBlobStore;
let handedOn: DeleteTarget[];
let study: ReturnType<typeof makeStudy>;
let handler: (event: APIGatewayProxyEvent, context: Context) => Promise<ProxyResult>;

beforeEach(async () => {
  index = new MemoryMetadataIndex();
  blobs = new MemoryBlobStore();
  handedOn = [];
  study = makeStudy({ series: 1, instancesPerSeries: 5 });
  await storeInstances(
    index,
    blobs,
    study.instances.map((i) => i.bytes),
    { baseUrl: 'http://archive' },
  );
  const remove = new DeleteService(index, blobs, { batchSize: 2, reserveMillis: 10_000, continueJob: async (t) => void handedOn.push(t) });
  handler = dicomwebHandler('delete', operations, () => ({ delete: remove, config })) as unknown as typeof handler;
});

function event(resource: string, pathParameters: Record<string, string>): APIGatewayProxyEvent {
  const path = resource.replace(/\{(\w+)\}/g, (_, name: string) => pathParameters[name]!);
  return proxyEvent({
    method: 'DELETE',
    resource,
    path,
    headers: { Host: 'archive.example' },
    pathParameters,
    requestContext: { path, stage: 'prod' },
  });
}

/** A Lambda context whose function has `remaining` milliseconds left. */
function context(remaining: number): Context {
  return { getRemainingTimeInMillis: () => remaining } as Context;
}

const deleteStudy = (uid: string, remaining = 25_000) => handler(event('/studies/{study}', { study: uid }), context(remaining));
const reportOf = (r: ProxyResult) => JSON.parse(r.body as string) as { status: number; detail: string };

describe('DELETE of a study, series or instance', () => {
  it('[studies.delete.204] answers 204 when everything is removed within the request', async () => {
    const r = await deleteStudy(study.studyInstanceUID);
    expect(r.statusCode).toBe(204);
    expect(index.all()).toEqual([]);
    expect(handedOn).toEqual([]);
  });

  it('[studies.delete.202] answers 202 with a Status Report when the function is running out of time, the rest continuing', async () => {
    const r = await deleteStudy(study.studyInstanceUID, 5_000);
    expect(r.statusCode).toBe(202);
    expect(reportOf(r)).toMatchObject({ status: 202, detail: expect.stringContaining('continues in the background') });
    expect(handedOn).toEqual([{ level: 'STUDY', studyInstanceUID: study.studyInstanceUID }]);
    expect(index.all().filter((e) => e.level === 'INSTANCE')).toHaveLength(3);
    // A DELETE again resumes the work: 204 once it is done within that request.
    expect((await deleteStudy(study.studyInstanceUID)).statusCode).toBe(204);
    expect(index.all()).toEqual([]);
  });

  it('[studies.delete.410] answers 410 for a resource already deleted', async () => {
    await deleteStudy(study.studyInstanceUID);
    const r = await deleteStudy(study.studyInstanceUID);
    expect(r.statusCode).toBe(410);
    expect(reportOf(r).status).toBe(410);
  });

  it('[studies.delete.404] answers 404 for a resource never stored', async () => {
    expect((await deleteStudy(newUid())).statusCode).toBe(404);
    const series = handler(event('/studies/{study}/series/{series}', { study: study.studyInstanceUID, series: newUid() }), context(25_000));
    expect((await series).statusCode).toBe(404);
  });

  it('[studies.delete.400] answers 400 for a malformed UID, removing nothing', async () => {
    const r = await handler(
      event('/studies/{study}/series/{series}/instances/{instance}', { study: study.studyInstanceUID, series: 'abc', instance: '1.2' }),
      context(25_000),
    );
    expect(r.statusCode).toBe(400);
    expect(index.all().filter((e) => e.level === 'INSTANCE')).toHaveLength(5);
  });
});

describe('the continuation in AWS', () => {
  it('invokes the function itself asynchronously with the job, which the handler recognises', async () => {
    const sent: InvokeCommand[] = [];
    const client = { send: async (command: InvokeCommand) => void sent.push(command) } as unknown as LambdaClient;
    const job = { level: 'SERIES' as const, studyInstanceUID: '1.2.3', seriesInstanceUID: '1.2.3.4' };
    await invokeSelf(client, 'archive-Delete')(job);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(InvokeCommand);
    const { FunctionName, InvocationType, Payload } = sent[0]!.input;
    expect([FunctionName, InvocationType]).toEqual(['archive-Delete', 'Event']);
    const payload: unknown = JSON.parse(Buffer.from(Payload as Uint8Array).toString('utf8'));
    expect(payload).toEqual({ deleteContinuation: job });
    expect(isDeleteContinuationEvent(payload)).toBe(true);
    expect(isDeleteContinuationEvent(event('/studies/{study}', { study: '1.2' }))).toBe(false);
  });
});
