/** sweepSendRequestObjects: the local engine expires send request objects as the SendRequests rule does in S3. */
import { existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sendRequestObjectExpiryDays } from '../../../lambdas/storage/keys';
import { FileBlobStore } from '../../../lambdas/storage/local/file-blobs';
import { sweepSendRequestObjects } from '../../../lambdas/storage/local/send-object-sweep';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('sweepSendRequestObjects', () => {
  it('removes the objects written before the cut-off and their emptied directories, nothing else', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'send-sweep-'));
    dirs.push(root);
    const blobs = await FileBlobStore.open(root);
    const keys = [
      'send-requests/1.2.3/manifest.jsonl',
      'send-requests/1.2.3/outcomes/b1.json',
      'send-requests/4.5.6/manifest.jsonl',
      'send-requests/4.5.6/outcomes/b1.json',
      'studies/1.2/series/3.4/instances/5.6.dcm',
    ];
    for (const key of keys) await blobs.put(key, Uint8Array.of(1), 'application/octet-stream');
    const days = sendRequestObjectExpiryDays(7 * 24 * 3600);
    expect(days).toBe(8);
    const old = (Date.now() - (days + 1) * 86_400_000) / 1000;
    for (const key of [keys[0]!, keys[1]!, keys[2]!, keys[4]!]) utimesSync(path.join(root, key), old, old);

    expect(await sweepSendRequestObjects(blobs, Date.now() - days * 86_400_000)).toBe(3);
    expect(existsSync(path.join(root, 'send-requests/1.2.3'))).toBe(false); // all of it old: gone
    expect(existsSync(path.join(root, keys[2]!))).toBe(false);
    expect([...(await blobs.get(keys[3]!))!]).toEqual([1]); // written just now: kept, with its request's directory
    expect([...(await blobs.get(keys[4]!))!]).toEqual([1]); // an instance, however old: not a send object
    expect(existsSync(path.join(root, 'send-requests'))).toBe(true);
    await blobs.close();
  });

  it('finds nothing to do without any send request', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'send-sweep-'));
    dirs.push(root);
    const blobs = await FileBlobStore.open(root);
    expect(await sweepSendRequestObjects(blobs, Date.now())).toBe(0);
    await blobs.close();
  });
});
