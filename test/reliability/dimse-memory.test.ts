/**
 * Reliability under load on the DIMSE port: the C-STORE data sets of all associations share one
 * memory budget (DIMSE_MAX_BUFFERED_BYTES). A data set that does not fit is read to its end, kept
 * nowhere and refused with A700 (Refused: Out of Resources), its association going on; the bytes come
 * back when a data set is stored or its association ends, and later data sets are stored again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataSetOf } from '../../lambdas/dimse/part10-file';
import { PduType } from '../../lambdas/dimse/pdu-guard';
import { SopClass, newUid } from '../../lambdas/dicom/uid';
import { makeInstance } from '../support/dicom-factory';
import { EXPLICIT_LE, associate, associateRq, cStoreRq, pDataTf, responsesIn, type RawAssociation } from '../support/dimse-pdus';
import { tempArchive } from '../support/http';

const MAX_OBJECT_BYTES = 200_000;
const MAX_BUFFERED_BYTES = 300_000;
/** Fragments of this size fit the Maximum Length (16,384) each association announces. */
const FRAGMENT = 16_000;

let archive: Awaited<ReturnType<typeof tempArchive>>;
let messageId = 0;

beforeAll(async () => {
  archive = await tempArchive({
    dimsePort: 0,
    host: '127.0.0.1',
    env: { DIMSE_MAX_OBJECT_BYTES: String(MAX_OBJECT_BYTES), DIMSE_MAX_BUFFERED_BYTES: String(MAX_BUFFERED_BYTES) },
  });
});
afterAll(async () => archive?.close());

/** A CT instance of about `bytes` as a C-STORE sends it: its data set is the Part 10 file without preamble and meta. */
function instanceOf(bytes: number): { sopInstanceUID: string; dataSet: Buffer } {
  const sopInstanceUID = newUid();
  return { sopInstanceUID, dataSet: Buffer.from(dataSetOf(makeInstance({ sopInstanceUID, approximateBytes: bytes }))) };
}

/** An association proposing CT Image Storage in Explicit VR Little Endian (presentation context 1). */
async function storageAssociation(): Promise<RawAssociation> {
  const association = await associate(
    archive.dimse!.port,
    associateRq(16_384, { contexts: [{ abstractSyntax: SopClass.CTImageStorage, transferSyntaxes: [EXPLICIT_LE] }] }),
  );
  expect(association.answer[0]).toBe(PduType.AssociateAC);
  return association;
}

/** The C-STORE-RQ and the data set's fragments; with `holdLast`, all but the last. */
function sendCStore(association: RawAssociation, instance: ReturnType<typeof instanceOf>, opts: { holdLast?: boolean } = {}): () => void {
  association.send(pDataTf(1, 'command', true, cStoreRq(++messageId, SopClass.CTImageStorage, instance.sopInstanceUID)));
  const fragments: Buffer[] = [];
  for (let at = 0; at < instance.dataSet.length; at += FRAGMENT) fragments.push(instance.dataSet.subarray(at, at + FRAGMENT));
  fragments.forEach((fragment, i) => {
    if (i < fragments.length - 1) association.send(pDataTf(1, 'data', false, fragment));
  });
  const last = () => association.send(pDataTf(1, 'data', true, fragments.at(-1)!));
  if (!opts.holdLast) last();
  return last;
}

/** The C-STORE-RSP of the association's message sent last. */
async function response(association: RawAssociation): Promise<{ status: number; errorComment?: string }> {
  const [rsp] = responsesIn(await association.receive((b) => responsesIn(b).length > 0));
  if (!rsp) throw new Error('no C-STORE-RSP');
  return rsp;
}

/** Stores a fresh ~150 KB instance on its own association, until its status is `wanted` (the gateway reads asynchronously). */
async function storeUntil(wanted: number): Promise<{ status: number; errorComment?: string }> {
  let last = { status: -1 } as { status: number; errorComment?: string };
  for (let attempt = 0; attempt < 50 && last.status !== wanted; attempt++) {
    const association = await storageAssociation();
    sendCStore(association, instanceOf(150_000));
    last = await response(association);
    await association.close();
    if (last.status !== wanted) await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

describe('C-STORE data sets over DIMSE_MAX_BUFFERED_BYTES', () => {
  it('[dimse.cstore-scp.a700] a data set that does not fit beside another in flight is refused A700, the other stored; then the bytes are free again', async () => {
    const holder = await storageAssociation();
    const held = instanceOf(180_000);
    const sendLast = sendCStore(holder, held, { holdLast: true });

    // 180 KB in flight + 150 KB > 300 KB: refused, with an Error Comment saying to retry.
    const refused = await storeUntil(0xa700);
    expect(refused.status).toBe(0xa700);
    expect(refused.errorComment).toMatch(/retry later/);

    // The data set in flight is whole and stored: its bytes were never taken from it.
    sendLast();
    expect((await response(holder)).status).toBe(0x0000);
    const stored = await fetch(`${archive.url}/instances?SOPInstanceUID=${held.sopInstanceUID}`, {
      headers: { Accept: 'application/dicom+json' },
    });
    expect(stored.status).toBe(200);
    await holder.close();

    expect((await storeUntil(0x0000)).status).toBe(0x0000);
  }, 60_000);

  it('an association ended with its data set half sent gives the bytes back', async () => {
    const dropped = await storageAssociation();
    sendCStore(dropped, instanceOf(180_000), { holdLast: true });
    expect((await storeUntil(0xa700)).status).toBe(0xa700);
    await dropped.close();
    expect((await storeUntil(0x0000)).status).toBe(0x0000);
  }, 60_000);
});
