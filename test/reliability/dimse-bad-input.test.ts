/**
 * Reliability, bad input on the DIMSE port: what any host on the network can send to the gateway's
 * TCP listener (port scanners, TLS or HTTP clients on the wrong port, broken peers). Invariants: the
 * archive never crashes and keeps answering associations and HTTP; a PDU longer than its type allows
 * is answered with an A-ABORT (PS3.8 9.3.8) after its header alone, never read whole into memory.
 */
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CFindRequest, CMoveRequest, Client, Dataset } from '../../lambdas/dimse/lib';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../../lambdas/dimse/part10-file';
import { abortPdu, MAX_PDU_LENGTH, PduType } from '../../lambdas/dimse/pdu-guard';
import { associate as associateOn, associateRq, hasWholePdu, maxLengthOf, pduHeader, userInformationOf } from '../support/dimse-pdus';
import { tempArchive } from '../support/http';
import { mutate, mutationsArb } from '../support/mutations';

/** Fixed, so every run tries the same cases; FUZZ_SEED=<n> explores others, as in bad-input.test.ts. */
const SEED = Number(process.env.FUZZ_SEED ?? 248);

type Archive = Awaited<ReturnType<typeof tempArchive>>;
let archive: Archive;
let port: number;

beforeAll(async () => {
  archive = await tempArchive({ dimsePort: 0, host: '127.0.0.1' });
  port = archive.dimse!.port;
});
afterAll(async () => {
  await archive?.close();
});

/** An association on the gateway under test (or another), held open. */
const associate = (gatewayPort = port) => associateOn(gatewayPort);

interface Exchange {
  /** What the gateway sent. */
  readonly received: Buffer;
  /** True when the gateway closed the connection within the wait. */
  readonly closed: boolean;
  /** Bytes the peer managed to send. */
  readonly sent: number;
}

/**
 * Connects to the gateway, sends `first`, then (with `flood`) keeps sending 1 MiB chunks until the
 * gateway answers or closes; ends after `waitMs` or when the gateway closes.
 */
function exchange(
  first: Buffer,
  opts: { waitMs: number; flood?: boolean; until?: (received: Buffer) => boolean; port?: number },
): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = net.connect(opts.port ?? port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ received, closed, sent: socket.bytesWritten });
    };
    const timer = setTimeout(finish, opts.waitMs);
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      if (opts.until?.(received)) finish();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.write(first);
    if (opts.flood) {
      const chunk = Buffer.alloc(1 << 20, 0x41);
      const more = () => {
        while (!closed && received.length === 0 && socket.write(chunk));
        if (!closed && received.length === 0) socket.once('drain', more);
      };
      more();
    }
  });
}

describe('PDUs longer than their type allows', () => {
  it('an A-ASSOCIATE-RQ announcing 4 GB gets an A-ABORT after its header, and the connection is closed', async () => {
    const r = await exchange(pduHeader(PduType.AssociateRQ, 0xfffffff0), { waitMs: 10_000, flood: true });
    expect(r.received.subarray(0, 10)).toEqual(abortPdu());
    expect(r.closed).toBe(true);
    // Read and dropped, never collected: the peer could not push more than a few MiB before the close.
    expect(r.sent).toBeLessThan(64 * 1024 * 1024);
  }, 20_000);

  it('a P-DATA-TF PDU longer than the Maximum Length announced in the A-ASSOCIATE-AC gets an A-ABORT', async () => {
    const association = await associate();
    expect(association.answer[0]).toBe(PduType.AssociateAC);
    expect(maxLengthOf(association.answer)).toBe(16_384);
    expect(await association.sendUntilClosed(pduHeader(PduType.PDataTF, MAX_PDU_LENGTH + 1))).toEqual(abortPdu());
  }, 20_000);
});

describe('A-ASSOCIATE-AC', () => {
  it('names the archive’s implementation (PS3.7 D.3.3.2), as its Part 10 files do', async () => {
    const r = await exchange(associateRq(16_384), { waitMs: 5_000, until: hasWholePdu });
    const userInformation = userInformationOf(r.received);
    expect(userInformation.get(0x52)?.toString('ascii').replace(/\0$/, '')).toBe(IMPLEMENTATION_CLASS_UID);
    expect(userInformation.get(0x55)?.toString('ascii').trim()).toBe(IMPLEMENTATION_VERSION_NAME);
  }, 20_000);

  it('announces as Maximum Length Received (PS3.8 D.1) its own to a requestor announcing no limit (0), else the smaller of the two', async () => {
    for (const [requested, announced] of [
      [0, MAX_PDU_LENGTH],
      [16_384, 16_384],
      [4 * MAX_PDU_LENGTH, MAX_PDU_LENGTH],
    ] as const) {
      const r = await exchange(associateRq(requested), { waitMs: 5_000, until: hasWholePdu });
      expect(r.received[0], `requested ${requested}`).toBe(PduType.AssociateAC);
      expect(maxLengthOf(r.received), `requested ${requested}`).toBe(announced);
    }
  }, 20_000);
});

describe('arbitrary bytes and mutated association requests', () => {
  const garbage = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 300 }),
    fc.constantFrom(
      Buffer.from('GET / HTTP/1.1\r\nHost: archive\r\n\r\n'),
      Buffer.from('16030100a501000000', 'hex'), // a TLS ClientHello on the wrong port
      Buffer.from('0400000000060000000201ff', 'hex'), // P-DATA-TF before any association
      Buffer.from('05000000000400000000', 'hex'), // A-RELEASE-RQ before any association
      Buffer.from('07000000000400000000', 'hex'),
      Buffer.from('01000000000000', 'hex'),
    ),
    // A PDU header of any type and length, then a body of random bytes.
    fc
      .tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: 200 }))
      .map(([type, length, body]) => Buffer.concat([pduHeader(type, length), Buffer.from(body)])),
    // A valid A-ASSOCIATE-RQ, mutated.
    mutationsArb.map((mutations) => Buffer.from(mutate(associateRq(16_384), mutations))),
  );

  it('never crash the gateway: it answers an association and HTTP afterwards', async () => {
    await fc.assert(
      fc.asyncProperty(garbage, async (bytes) => {
        await exchange(Buffer.from(bytes), { waitMs: 60 });
      }),
      { seed: SEED, numRuns: 300, endOnFailure: true },
    );
    const r = await exchange(associateRq(16_384), { waitMs: 5_000, until: hasWholePdu });
    expect(r.received[0]).toBe(PduType.AssociateAC);
    expect([200, 204]).toContain((await fetch(`${archive.url}/studies`)).status);
  }, 120_000);
});

describe('associations beyond DIMSE_MAX_ASSOCIATIONS', () => {
  it('are rejected transient, service provider (presentation), local limit exceeded (PS3.8 9.3.4); a freed slot is served again', async () => {
    const limited = await tempArchive({ dimsePort: 0, host: '127.0.0.1', env: { DIMSE_MAX_ASSOCIATIONS: '2' } });
    try {
      const gatewayPort = limited.dimse!.port;
      const held = [await associate(gatewayPort), await associate(gatewayPort)];
      for (const h of held) expect(h.answer[0]).toBe(PduType.AssociateAC);
      const third = await associate(gatewayPort);
      // A-ASSOCIATE-RJ: type 03, length 4, reserved, result 2 (transient), source 3, reason 2.
      expect([...third.answer]).toEqual([PduType.AssociateRJ, 0, 0, 0, 0, 4, 0, 2, 3, 2]);
      await third.close();
      await held[0]!.close();
      const again = await associate(gatewayPort);
      expect(again.answer[0]).toBe(PduType.AssociateAC);
      await Promise.all([again.close(), held[1]!.close()]);
    } finally {
      await limited.close();
    }
  }, 30_000);
});

const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1';
const STUDY_ROOT_MOVE = '1.2.840.10008.5.1.4.1.2.2.2';

/**
 * One C-FIND or C-MOVE (Study Root) with the given Identifier; resolves with the statuses answered, in
 * order, and the client's own error when it could not encode the request (nothing was then sent).
 */
async function dimseCommand(
  kind: 'find' | 'move',
  elements: Record<string, unknown>,
  moveDestination = 'NOWHERE',
): Promise<{ statuses: number[]; unsendable?: string }> {
  const request = kind === 'find' ? new CFindRequest() : new CMoveRequest();
  request.setAffectedSopClassUid(kind === 'find' ? STUDY_ROOT_FIND : STUDY_ROOT_MOVE);
  if (kind === 'move') request.getCommandDataset().setElement('MoveDestination', moveDestination);
  request.setDataset(new Dataset(elements));
  const statuses: number[] = [];
  let unsendable: string | undefined;
  request.on('response', (r: { getStatus(): number }) => statuses.push(r.getStatus()));
  const client = new Client();
  client.addRequest(request);
  await new Promise<void>((resolve) => {
    client.on('closed', () => resolve());
    client.on('networkError', (error: Error) => {
      // dcmjs-dimse refuses to encode a value longer than its VR allows (a DA of 14 characters).
      if (/exceeds max length/.test(error.message)) unsendable = error.message;
      resolve();
    });
    client.send('127.0.0.1', port, 'FUZZER', 'ARCHIVE');
  });
  return { statuses, unsendable };
}

const PENDING = new Set([0xff00, 0xff01]);

describe('C-FIND and C-MOVE Identifiers', () => {
  it('one dcmjs cannot read (IS of a lone backslash) is answered A900, the process unharmed', async () => {
    const identifier = { QueryRetrieveLevel: 'STUDY', NumberOfStudyRelatedInstances: '\\' };
    expect((await dimseCommand('find', identifier)).statuses).toEqual([0xa900]);
    expect((await dimseCommand('move', identifier)).statuses).toEqual([0xa900]);
  }, 20_000);

  it('arbitrary keys and values always get a final status, never a dropped association', async () => {
    const keys = [
      'PatientName',
      'PatientID',
      'StudyDate',
      'StudyTime',
      'StudyInstanceUID',
      'SeriesInstanceUID',
      'SOPInstanceUID',
      'Modality',
      'ModalitiesInStudy',
      'QueryRetrieveLevel',
      'AccessionNumber',
      'NumberOfStudyRelatedInstances',
      'PatientBirthDate',
      'SOPClassUID',
      'InstanceNumber',
      'SpecificCharacterSet',
      'StudyDescription',
    ];
    const value = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.integer().map(String),
      fc.constantFrom(
        '',
        '*',
        '?',
        '-',
        '20200101-',
        '1.2.3\\1.2.4',
        '\\',
        'STUDY',
        'SERIES',
        'IMAGE',
        'PATIENT',
        'ISO 2022 IR 87',
        'A'.repeat(70),
      ),
    );
    const command = fc.record({
      kind: fc.constantFrom('find' as const, 'move' as const),
      // At least one key: with none, dcmjs-dimse's client announces an Identifier it never sends.
      identifier: fc.dictionary(fc.constantFrom(...keys), value, { minKeys: 1, maxKeys: 6 }),
    });
    await fc.assert(
      fc.asyncProperty(command, async ({ kind, identifier }) => {
        const { statuses, unsendable } = await dimseCommand(kind, identifier);
        if (unsendable) return; // never left the client
        expect(statuses.length).toBeGreaterThan(0);
        expect(PENDING.has(statuses[statuses.length - 1]!)).toBe(false);
      }),
      { seed: SEED, numRuns: 150, endOnFailure: true },
    );
  }, 120_000);
});
