/**
 * Raw DICOM upper layer PDUs (PS3.8 9.3) and DIMSE command sets (PS3.7 6.3, 9.3.1), written byte by
 * byte so that tests can send what no DIMSE library would: a PDU of any length, a data set cut off
 * midway, an association held open with a message half sent.
 */
import net from 'node:net';
import { PduType } from '../../lambdas/dimse/pdu-guard';

export const VERIFICATION = '1.2.840.10008.1.1';
export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** An item of an association PDU (PS3.8 9.3.2): type, reserved byte, 2-byte length, value. */
export function item(type: number, value: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16BE(value.length, 2);
  return Buffer.concat([h, value]);
}

const ae = (title: string) => Buffer.from(title.padEnd(16, ' '), 'ascii');

/** A PDU header: type, reserved byte, 4-byte length (PS3.8 9.3.1). */
export function pduHeader(type: number, length: number): Buffer {
  const h = Buffer.alloc(6);
  h[0] = type;
  h.writeUInt32BE(length, 2);
  return h;
}

export interface ProposedContext {
  readonly abstractSyntax: string;
  readonly transferSyntaxes: readonly string[];
}

/**
 * A-ASSOCIATE-RQ (PS3.8 9.3.2) with the given Maximum Length Received (D.1), proposing the contexts
 * (ids 1, 3, 5...; default Verification in Implicit VR Little Endian).
 */
export function associateRq(maxLength: number, opts: { calledAe?: string; contexts?: readonly ProposedContext[] } = {}): Buffer {
  const fixed = Buffer.concat([Buffer.from([0, 1, 0, 0]), ae(opts.calledAe ?? 'ARCHIVE'), ae('FUZZER'), Buffer.alloc(32)]);
  const maxLengthValue = Buffer.alloc(4);
  maxLengthValue.writeUInt32BE(maxLength);
  const contexts = (opts.contexts ?? [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }]).map((c, i) =>
    item(
      0x20,
      Buffer.concat([
        Buffer.from([2 * i + 1, 0, 0, 0]),
        item(0x30, Buffer.from(c.abstractSyntax)),
        ...c.transferSyntaxes.map((ts) => item(0x40, Buffer.from(ts))),
      ]),
    ),
  );
  const body = Buffer.concat([
    fixed,
    item(0x10, Buffer.from('1.2.840.10008.3.1.1.1')),
    ...contexts,
    item(0x50, Buffer.concat([item(0x51, maxLengthValue), item(0x52, Buffer.from('1.2.826.0.1.3680043.10.511'))])),
  ]);
  return Buffer.concat([pduHeader(PduType.AssociateRQ, body.length), body]);
}

/** The sub-items of an A-ASSOCIATE-AC's User Information item (PS3.8 9.3.3.3), by type. */
export function userInformationOf(ac: Buffer): Map<number, Buffer> {
  const subItems = new Map<number, Buffer>();
  for (let at = 74; at + 4 <= ac.length;) {
    const length = ac.readUInt16BE(at + 2);
    if (ac[at] === 0x50) {
      for (let sub = at + 4; sub + 4 <= at + 4 + length; sub += 4 + ac.readUInt16BE(sub + 2)) {
        subItems.set(ac[sub]!, ac.subarray(sub + 4, sub + 4 + ac.readUInt16BE(sub + 2)));
      }
    }
    at += 4 + length;
  }
  return subItems;
}

/** The Maximum Length Received of an A-ASSOCIATE-AC (sub-item 51H, PS3.8 D.1). */
export const maxLengthOf = (ac: Buffer) => userInformationOf(ac).get(0x51)?.readUInt32BE(0);

/** True once a whole PDU has arrived. */
export const hasWholePdu = (b: Buffer) => b.length >= 6 && b.length >= 6 + b.readUInt32BE(2);

/** P-DATA-TF (PS3.8 9.3.5) of one PDV: a command or data fragment, the last of its message or not (E.2). */
export function pDataTf(contextId: number, kind: 'command' | 'data', last: boolean, fragment: Buffer): Buffer {
  const pdv = Buffer.alloc(6);
  pdv.writeUInt32BE(2 + fragment.length, 0);
  pdv[4] = contextId;
  pdv[5] = (kind === 'command' ? 1 : 0) | (last ? 2 : 0);
  return Buffer.concat([pduHeader(PduType.PDataTF, 6 + fragment.length), pdv, fragment]);
}

/** An element of a command set: Implicit VR Little Endian (PS3.7 6.3.1), UIs padded with NUL. */
function commandElement(element: number, value: string | number): Buffer {
  const bytes =
    typeof value === 'number' ? Buffer.from([value & 0xff, value >> 8]) : Buffer.from(value.length % 2 ? `${value}\0` : value, 'ascii');
  const header = Buffer.alloc(8);
  header.writeUInt16LE(0x0000, 0);
  header.writeUInt16LE(element, 2);
  header.writeUInt32LE(bytes.length, 4);
  return Buffer.concat([header, bytes]);
}

/** C-STORE-RQ command set (PS3.7 9.3.1.1), with a data set to follow. */
export function cStoreRq(messageId: number, sopClassUID: string, sopInstanceUID: string): Buffer {
  const elements = Buffer.concat([
    commandElement(0x0002, sopClassUID),
    commandElement(0x0100, 0x0001), // Command Field: C-STORE-RQ
    commandElement(0x0110, messageId),
    commandElement(0x0700, 0x0000), // Priority: medium
    commandElement(0x0800, 0x0000), // Command Data Set Type: present
    commandElement(0x1000, sopInstanceUID),
  ]);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt32LE(0x00000000, 0);
  groupLength.writeUInt32LE(4, 4);
  groupLength.writeUInt32LE(elements.length, 8);
  return Buffer.concat([groupLength, elements]);
}

/** Status (0000,0900) and Error Comment (0000,0902) of the command sets in P-DATA-TF PDUs received. */
export function responsesIn(received: Buffer): { status: number; errorComment?: string }[] {
  const out: { status: number; errorComment?: string }[] = [];
  for (let at = 0; hasWholePdu(received.subarray(at)); at += 6 + received.readUInt32BE(at + 2)) {
    if (received[at] !== PduType.PDataTF) continue;
    const pdv = received.subarray(at + 6, at + 6 + received.readUInt32BE(at + 2));
    if ((pdv[5]! & 1) === 0) continue;
    const command = pdv.subarray(6, 4 + pdv.readUInt32BE(0));
    const response: { status: number; errorComment?: string } = { status: -1 };
    for (let e = 0; e + 8 <= command.length; e += 8 + command.readUInt32LE(e + 4)) {
      const value = command.subarray(e + 8, e + 8 + command.readUInt32LE(e + 4));
      if (command.readUInt16LE(e + 2) === 0x0900) response.status = value.readUInt16LE(0);
      if (command.readUInt16LE(e + 2) === 0x0902) response.errorComment = value.toString('ascii').replace(/[\0 ]+$/, '');
    }
    out.push(response);
  }
  return out;
}

/** An association held open on a raw socket. */
export interface RawAssociation {
  /** The A-ASSOCIATE-AC (or -RJ) it got. */
  readonly answer: Buffer;
  send(bytes: Buffer): void;
  /** What arrived after the answer, once `until` holds (or after `waitMs`). */
  receive(until: (received: Buffer) => boolean, waitMs?: number): Promise<Buffer>;
  /** Sends, then reads what the gateway answers until it closes the connection. */
  sendUntilClosed(bytes: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

export async function associate(port: number, rq: Buffer = associateRq(16_384)): Promise<RawAssociation> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const received: Buffer[] = [];
  socket.on('data', (d: Buffer) => received.push(d));
  socket.write(rq);
  const pause = () => new Promise((r) => setTimeout(r, 20));
  for (let i = 0; i < 250 && !hasWholePdu(Buffer.concat(received)); i++) await pause();
  return {
    answer: Buffer.concat(received.splice(0)),
    send: (bytes) => void socket.write(bytes),
    receive: async (until, waitMs = 10_000) => {
      for (let waited = 0; waited < waitMs && !until(Buffer.concat(received)); waited += 20) await pause();
      return Buffer.concat(received.splice(0));
    },
    sendUntilClosed: async (bytes) => {
      socket.write(bytes);
      await closed;
      return Buffer.concat(received);
    },
    close: async () => {
      socket.destroy();
      await closed;
    },
  };
}
