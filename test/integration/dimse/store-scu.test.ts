/**
 * The C-STORE SCU with streamed instances (lambdas/dimse/streamed-data-set.ts) against dcmtk's
 * storescp: a stream that fails midway aborts the association and fails its instance, the ones
 * stored before it completed; a streamed instance is never transcoded, a small one still is.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { readPart10 } from '../../../lambdas/dicom/part10';
import { dataSetOf } from '../../../lambdas/dimse/part10-file';
import { storeByCStore } from '../../../lambdas/dimse/store-scu';
import type { InstanceToStore } from '../../../lambdas/send/stow-client';
import { dcmtkSuite, startStoreScp, type StoreScp } from '../../support/dcmtk';
import { makeInstance } from '../../support/dicom-factory';

let scp: StoreScp | undefined;
afterEach(async () => {
  await scp?.close();
  scp = undefined;
});

/** An instance as the SCU takes it: held whole, or streamed from `bytes` (failing after `failAfter` bytes). */
function instance(bytes: Uint8Array, how: { streamed: boolean; failAfter?: number }): InstanceToStore {
  const { sopInstanceUID, sopClassUID, transferSyntaxUID } = readPart10(bytes, { bulkDataAbove: 0 });
  if (!how.streamed) return { sopInstanceUID, sopClassUID, bytes };
  return {
    sopInstanceUID,
    sopClassUID,
    file: {
      size: bytes.length,
      transferSyntaxUID,
      open: async () =>
        (async function* () {
          for (let at = 0; at < bytes.length; at += 100_000) {
            if (how.failAfter !== undefined && at >= how.failAfter) throw new Error('storage read failed');
            yield bytes.subarray(at, at + 100_000);
          }
        })(),
    },
  };
}

dcmtkSuite('C-STORE SCU, streamed data sets (PS3.8 9.3.5)', () => {
  it('cuts the data set into PDVs within the Maximum Length the peer announced (4,096): received byte-identical', async () => {
    scp = await startStoreScp('DEST', ['+B', '--max-pdu', '4096']);
    const bytes = makeInstance({ approximateBytes: 1_000_000 });
    const large = instance(bytes, { streamed: true });
    const outcome = await storeByCStore({ aeTitle: 'DEST', host: '127.0.0.1', port: scp.port }, [large], {
      callingAeTitle: 'ARCHIVE',
      timeoutMs: 10_000,
    });
    expect(outcome.completed).toEqual([large.sopInstanceUID]);
    const [name] = await readdir(scp.dir);
    expect(Buffer.from(dataSetOf(await readFile(path.join(scp.dir, name!)))).equals(Buffer.from(dataSetOf(bytes)))).toBe(true);
  });

  it('a stream failing midway aborts the association: its instance fails, the one before it is stored', async () => {
    scp = await startStoreScp('DEST', ['+B']);
    const ok = instance(makeInstance({ approximateBytes: 2_000_000 }), { streamed: true });
    const broken = instance(makeInstance({ approximateBytes: 2_000_000 }), { streamed: true, failAfter: 1_000_000 });
    const never = instance(makeInstance({ approximateBytes: 20_000 }), { streamed: false });
    const outcome = await storeByCStore({ aeTitle: 'DEST', host: '127.0.0.1', port: scp.port }, [ok, broken, never], {
      callingAeTitle: 'ARCHIVE',
      timeoutMs: 10_000,
    });
    expect(outcome.completed).toEqual([ok.sopInstanceUID]);
    expect(outcome.failed).toEqual([broken.sopInstanceUID, never.sopInstanceUID]);
    expect(outcome.basis).toMatchObject({ kind: 'c-store', association: 'failed' });
    expect(await scp.received()).toEqual([ok.sopInstanceUID]);
  });

  it('sends a streamed instance only in its stored syntax; a small one is transcoded as before', async () => {
    scp = await startStoreScp('DEST', ['+xi']); // Implicit VR Little Endian only
    const small = instance(makeInstance({ approximateBytes: 20_000 }), { streamed: false });
    const large = instance(makeInstance({ approximateBytes: 2_000_000 }), { streamed: true }); // Explicit VR
    const outcome = await storeByCStore({ aeTitle: 'DEST', host: '127.0.0.1', port: scp.port }, [small, large], {
      callingAeTitle: 'ARCHIVE',
      timeoutMs: 10_000,
    });
    expect(outcome.completed).toEqual([small.sopInstanceUID]);
    expect(outcome.failed).toEqual([large.sopInstanceUID]);
    expect(outcome.basis).toMatchObject({ kind: 'c-store', association: 'released' });
  });
});
