/**
 * C-STORE of a large stored instance without holding it (PS3.8 9.3.5): its data set goes out in
 * P-DATA-TF PDUs, one PDV each within the Maximum Length the peer announced (PS3.8 D.1), as the
 * object is read from storage, the File Meta Information skipped (PS3.10 7.1), the socket's
 * backpressure awaited between PDUs. dcmjs-dimse writes a data set whole from one buffer, so the
 * association's Network is given a sender for StreamedDataset commands; every other PDU waits for a
 * streamed data set in flight to end, so none interleaves with it.
 */
import type { Socket } from 'node:net';
import type { StoredFile } from '../send/store-request-body';
import { Dataset, type DimseClient } from './lib';
import { abortPdu, MAX_PDU_LENGTH, PduType } from './pdu-guard';

/** A-ABORT source and reason (PS3.8 Table 9-26): DICOM UL service-user, reason not specified. */
const ABORT_SOURCE_SERVICE_USER = 0;
const ABORT_REASON_NOT_SPECIFIED = 0;

/** The library's own cap on a P-DATA-TF PDU it sends, kept. */
const LIBRARY_MAX_PDU_LENGTH = 4 * 1024 * 1024;

/** A stored instance's data set as dcmjs-dimse's Dataset, read from storage when sent; it cannot be transcoded. */
export class StreamedDataset extends Dataset {
  constructor(
    readonly file: StoredFile,
    private readonly uids: { readonly SOPClassUID: string; readonly SOPInstanceUID: string },
  ) {
    super({}, file.transferSyntaxUID);
  }
  override getElement(tag: string): string | undefined {
    return tag === 'SOPClassUID' || tag === 'SOPInstanceUID' ? this.uids[tag] : undefined;
  }
  /** Transcoding reads the elements: refused (the library then skips the request, which fails). */
  override getElements(): Record<string, unknown> {
    throw new StreamedDataSetError('a streamed data set is sent in its stored transfer syntax only');
  }
  override getDenaturalizedDataset(): Buffer {
    throw new StreamedDataSetError('a streamed data set is sent from its stream');
  }
}

export class StreamedDataSetError extends Error {
  override readonly name = 'StreamedDataSetError';
}

/** The parts of dcmjs-dimse's Network (src/Network.js, 0.3.x) this module drives. */
interface Network {
  socket: Socket;
  association: { getMaxPduLength(): number };
  lastPduTime?: number;
  _sendPdu(pdu: unknown): void;
  _sendPDataTF(command: Command, pcId: number, maxPduLength: number): void;
  emit(event: 'networkError', error: Error): void;
}

interface Command {
  getDataset(): unknown;
  getCommandDataset(): { getDenaturalizedCommandDataset(): Buffer };
  raiseDoneEvent(): void;
}

/**
 * Makes the client's association (after `client.send`) send StreamedDataset data sets from their
 * stream. A read that fails midway aborts the association (A-ABORT, PS3.8 7.3): its instance and
 * those after it get no response and count as failed.
 */
export function streamDataSets(client: DimseClient): void {
  const network = (client as unknown as { network?: Network }).network;
  if (!network) return;
  const sendPdu = network._sendPdu.bind(network);
  const sendPDataTF = network._sendPDataTF.bind(network);
  // The last send queued while one is unfinished: later sends wait for it, in order.
  let tail: Promise<void> | undefined;
  const track = (sending: Promise<void>) => {
    const tracked: Promise<void> = sending
      .catch(() => undefined)
      .then(() => {
        if (tail === tracked) tail = undefined;
      });
    return tracked;
  };
  const serial = (send: () => Promise<void> | void) => {
    if (tail) {
      tail = track(tail.then(send));
      return;
    }
    const sending = send();
    if (sending) tail = track(sending);
  };
  network._sendPdu = (pdu) => serial(() => sendPdu(pdu));
  network._sendPDataTF = (command, pcId, maxPduLength) =>
    serial(() => {
      const dataset = command.getDataset();
      if (dataset instanceof StreamedDataset) return sendStreamed(network, command, dataset.file, pcId, maxPduLength);
      sendPDataTF(command, pcId, maxPduLength);
    });
}

async function sendStreamed(network: Network, command: Command, file: StoredFile, pcId: number, maxPduLength: number): Promise<void> {
  let stream: AsyncIterable<Uint8Array> | undefined;
  try {
    stream = await file.open();
  } catch {
    stream = undefined;
  }
  if (!stream) return command.raiseDoneEvent(); // the object is gone: no C-STORE, the instance fails
  const pdvLength = Math.min(maxPduLength === 0 ? MAX_PDU_LENGTH : maxPduLength, LIBRARY_MAX_PDU_LENGTH) - 6;
  try {
    await write(network, pDataTf(pcId, true, true, command.getCommandDataset().getDenaturalizedCommandDataset()));
    // One PDU is held back until the next shows whether it is the last.
    let pending: Buffer | undefined;
    for await (const pdu of dataPdus(dataSetBytes(stream), pdvLength)) {
      if (pending) await write(network, framed(pending, pcId, false));
      pending = pdu;
    }
    if (!pending) throw new StreamedDataSetError('the stored object has no data set');
    await write(network, framed(pending, pcId, true));
  } catch (error) {
    // A-ABORT from the service-user (PS3.8 9.3.8), written here: the library's own would queue behind this send.
    if (!network.socket.destroyed) network.socket.write(abortPdu(ABORT_SOURCE_SERVICE_USER, ABORT_REASON_NOT_SPECIFIED));
    network.emit('networkError', error instanceof Error ? error : new StreamedDataSetError('the data set could not be read'));
  }
}

/** Writes a PDU; resolves once the socket takes more (its buffer drained), rejects when it closes. */
function write(network: Network, pdu: Buffer): Promise<void> {
  const { socket } = network;
  if (socket.destroyed) return Promise.reject(new StreamedDataSetError('the association is closed'));
  // Sending is activity: the library's PDU timeout counts from the last PDU either way.
  network.lastPduTime = Date.now();
  if (socket.write(pdu)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new StreamedDataSetError('the association is closed'));
    socket.on('drain', onDrain);
    socket.on('close', onClose);
  });
}

/** Bytes of a P-DATA-TF PDU before its PDV's data: PDU type, reserved, length; item length, context, header. */
const PDU_HEAD_BYTES = 12;

/** A P-DATA-TF PDU with one PDV (PS3.8 9.3.5, E.2: message control header bit 0 command, bit 1 last). */
function pDataTf(pcId: number, command: boolean, last: boolean, data: Uint8Array): Buffer {
  const pdu = Buffer.allocUnsafe(PDU_HEAD_BYTES + data.byteLength);
  pdu.set(data, PDU_HEAD_BYTES);
  return framed(pdu, pcId, last, command);
}

/** Writes the head of a P-DATA-TF PDU whose PDV data already follows it in `pdu`. */
function framed(pdu: Buffer, pcId: number, last: boolean, command = false): Buffer {
  const data = pdu.length - PDU_HEAD_BYTES;
  pdu.writeUInt8(PduType.PDataTF, 0);
  pdu.writeUInt8(0, 1);
  pdu.writeUInt32BE(6 + data, 2);
  pdu.writeUInt32BE(2 + data, 6);
  pdu.writeUInt8(pcId, 10);
  pdu.writeUInt8((command ? 1 : 0) | (last ? 2 : 0), 11);
  return pdu;
}

/**
 * The stream's bytes as P-DATA-TF PDUs of `length` bytes of data each (the last shorter), their
 * heads left to `framed`: each byte copied once, into the PDU that carries it.
 */
async function* dataPdus(bytes: AsyncIterable<Uint8Array>, length: number): AsyncIterable<Buffer> {
  let pdu = Buffer.allocUnsafe(PDU_HEAD_BYTES + length);
  let filled = 0;
  for await (const chunk of bytes) {
    for (let at = 0; at < chunk.byteLength;) {
      const n = Math.min(length - filled, chunk.byteLength - at);
      pdu.set(chunk.subarray(at, at + n), PDU_HEAD_BYTES + filled);
      filled += n;
      at += n;
      if (filled === length) {
        yield pdu;
        pdu = Buffer.allocUnsafe(PDU_HEAD_BYTES + length);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield pdu.subarray(0, PDU_HEAD_BYTES + filled);
}

/**
 * The data set of a Part 10 file's stream: what follows its File Meta Information, whose end its
 * Group Length (0002,0000) gives (PS3.10 7.1; part10-file.ts dataSetOf for a file held whole).
 */
export async function* dataSetBytes(file: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  let head = Buffer.alloc(0);
  let skip: number | undefined;
  for await (const chunk of file) {
    if (skip === undefined) {
      head = Buffer.concat([head, chunk]);
      if (head.length < 144) continue;
      if (head.toString('latin1', 128, 132) !== 'DICM' || head.readUInt16LE(132) !== 0x0002 || head.readUInt16LE(134) !== 0x0000) {
        throw new StreamedDataSetError('the stored object is not a Part 10 file with a File Meta Information Group Length');
      }
      skip = 144 + head.readUInt32LE(140);
      const rest = head.subarray(Math.min(skip, head.length));
      skip -= head.length - rest.length;
      head = Buffer.alloc(0);
      if (rest.length > 0) yield rest;
      continue;
    }
    if (skip > 0) {
      const n = Math.min(skip, chunk.byteLength);
      skip -= n;
      if (n < chunk.byteLength) yield chunk.subarray(n);
      continue;
    }
    yield chunk;
  }
  if (skip === undefined || skip > 0) throw new StreamedDataSetError('the stored object ends in its File Meta Information');
}
