/**
 * Unit: the usage line of every request (lambdas/http/usage-log.ts), written by the real handlers:
 * function, transaction, client, bytes in and out, instances, status, duration; never the token, a
 * UID or a patient attribute.
 */
import { describe, expect, it } from 'vitest';
import { newUid } from '../../../lambdas/dicom/uid';
import { makeInstance } from '../../support/dicom-factory';
import { CLIENT_TOKEN, usageArchive } from '../../support/usage-lines';

const study = { studyInstanceUID: newUid(), seriesInstanceUID: newUid(), patientID: 'PAT-USAGE-7', patientName: 'Usage^Patient' };
const files = [makeInstance({ ...study, approximateBytes: 20_000 }), makeInstance({ ...study, approximateBytes: 30_000 })];

describe('usage lines', () => {
  it('one line per Store: the instances stored, the bytes received and answered, the client', async () => {
    const archive = usageArchive();
    const answer = await archive.storeInstances('site-a', files);
    expect(answer.statusCode).toBe(200);
    expect(archive.lines).toHaveLength(1);
    const [line] = archive.lines;
    const sent = files.reduce((n, f) => n + f.length, 0);
    expect(line).toMatchObject({
      event: 'dicomweb-usage',
      function: 'store',
      transaction: 'StoreInstances',
      resource: '/studies',
      method: 'POST',
      client: 'oidc:site-a',
      status: 200,
      instances: 2,
      bytesOut: answer.bytes.length,
      requestId: 'r-store',
    });
    // The multipart body: the files and their part headers.
    expect(line!.bytesIn).toBeGreaterThan(sent);
    expect(line!.bytesIn).toBeLessThan(sent + 400);
    expect(line!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('a streamed Retrieve is logged once its last byte is read, with its parts counted', async () => {
    const archive = usageArchive();
    await archive.storeInstances('site-a', files);
    const answer = await archive.retrieveSeries('site-b', study.studyInstanceUID, study.seriesInstanceUID);
    expect(answer.statusCode).toBe(200);
    const line = archive.lines.find((l) => l.function === 'retrieve');
    expect(line).toMatchObject({ transaction: 'RetrieveSeries', client: 'oidc:site-b', status: 200, instances: 2, bytesIn: 0 });
    expect(line!.bytesOut).toBe(answer.bytes.length);
    expect(line!.bytesOut).toBeGreaterThan(files[0]!.length + files[1]!.length);
  });

  it('an error answer is logged with its status', async () => {
    const archive = usageArchive();
    const answer = await archive.retrieveSeries('site-b', newUid(), newUid());
    expect(answer.statusCode).toBe(404);
    expect(archive.lines).toEqual([
      expect.objectContaining({ function: 'retrieve', status: 404, instances: 0, bytesOut: answer.bytes.length }),
    ]);
  });

  it('carries no credential, UID or patient attribute', async () => {
    const archive = usageArchive();
    await archive.storeInstances('site-a', files);
    await archive.retrieveSeries('site-a', study.studyInstanceUID, study.seriesInstanceUID);
    const text = JSON.stringify(archive.lines);
    for (const secret of [CLIENT_TOKEN, study.studyInstanceUID, study.seriesInstanceUID, study.patientID, 'Usage']) {
      expect(text).not.toContain(secret);
    }
  });

  it('USAGE_LOG=false writes nothing', async () => {
    const archive = usageArchive({ USAGE_LOG: 'false' });
    await archive.storeInstances('site-a', files);
    expect(archive.lines).toEqual([]);
  });
});
