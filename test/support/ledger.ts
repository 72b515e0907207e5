/**
 * The client's ledger of acknowledged instances for load and fault tests: what a Store response
 * referenced (PS3.18 10.5.3, Referenced SOP Sequence) is recorded with the bytes sent, and is later
 * checked against the archive: every acknowledged instance retrievable byte-identical, and every
 * instance the index lists retrievable (no index entry without its object).
 */
import { Tag } from '../../lambdas/dicom/tags';
import { DICOM_JSON, multipartParts, stowBody } from './http';

export interface SentInstance {
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID: string;
  readonly sopInstanceUID: string;
  readonly bytes: Uint8Array;
}

type Item = Record<string, { vr: string; Value?: unknown[] }>;

const {
  ReferencedSOPSequence: REFERENCED_SOP_SEQUENCE,
  ReferencedSOPInstanceUID: REFERENCED_SOP_INSTANCE_UID,
  SOPInstanceUID: SOP_INSTANCE_UID,
  StudyInstanceUID: STUDY_INSTANCE_UID,
  RetrieveURL: RETRIEVE_URL,
} = Tag;
const AS_STORED = 'multipart/related; type="application/dicom"; transfer-syntax=*';

export class Ledger {
  readonly acknowledged = new Map<string, SentInstance>();

  /** Records the instances a 200/202 Store response referenced; returns their SOP Instance UIDs. */
  record(status: number, module: unknown, sent: readonly SentInstance[]): string[] {
    if (status !== 200 && status !== 202) return [];
    const items = ((module as Item)[REFERENCED_SOP_SEQUENCE]?.Value ?? []) as Item[];
    const referenced = items.map((i) => i[REFERENCED_SOP_INSTANCE_UID]?.Value?.[0] as string);
    for (const uid of referenced) {
      const instance = sent.find((s) => s.sopInstanceUID === uid);
      if (!instance) throw new Error(`the archive acknowledged ${uid}, which was not sent`);
      this.acknowledged.set(uid, instance);
    }
    return referenced;
  }
}

/** POST /studies of the instances; the status and the parsed module (undefined when not JSON). */
export async function storeInstances(baseUrl: string, sent: readonly SentInstance[], signal?: AbortSignal) {
  const { body, contentType } = stowBody(sent.map((s) => s.bytes));
  const r = await fetch(`${baseUrl}/studies`, {
    method: 'POST',
    headers: { 'Content-Type': contentType, Accept: DICOM_JSON },
    body,
    signal,
  });
  const text = await r.text();
  let module: unknown;
  try {
    module = JSON.parse(text);
  } catch {
    module = undefined;
  }
  return { status: r.status, retryAfter: r.headers.get('retry-after'), module };
}

/** The Part 10 bytes the archive returns for an instance, as stored (transfer-syntax=*). */
export async function retrieveAsStored(baseUrl: string, i: Omit<SentInstance, 'bytes'>): Promise<{ status: number; bytes?: Uint8Array }> {
  const r = await fetch(`${baseUrl}/studies/${i.studyInstanceUID}/series/${i.seriesInstanceUID}/instances/${i.sopInstanceUID}`, {
    headers: { Accept: AS_STORED },
  });
  if (r.status !== 200) {
    await r.arrayBuffer();
    return { status: r.status };
  }
  const [part] = await multipartParts(r);
  return { status: 200, bytes: part?.body };
}

/** SOP Instance UIDs of acknowledged instances that are missing or differ from what was sent. */
export async function lostOrAltered(baseUrl: string, ledger: Ledger): Promise<string[]> {
  const bad: string[] = [];
  for (const i of ledger.acknowledged.values()) {
    const got = await retrieveAsStored(baseUrl, i);
    if (got.status !== 200 || !got.bytes || Buffer.compare(Buffer.from(got.bytes), Buffer.from(i.bytes)) !== 0) bad.push(i.sopInstanceUID);
  }
  return bad;
}

/**
 * Walks every instance the index holds and retrieves each: the SOP Instance UIDs listed and those
 * whose object cannot be retrieved (an index entry without its object). Studies come from QIDO
 * /studies; their instances from /studies/{study}/instances, which reads the table itself rather than
 * a global secondary index: in AWS a GSI only ever reflects committed items, but dynalite writes a
 * GSI entry before its item, so a process killed between the two leaves a GSI entry with no item
 * behind it, an artefact of the emulator that says nothing about the archive's write order.
 */
export async function walkIndex(baseUrl: string): Promise<{ listed: string[]; withoutObject: string[] }> {
  const listed: string[] = [];
  const withoutObject: string[] = [];
  const pages = async function* (url: string): AsyncGenerator<Item> {
    for (let offset = 0; ; offset += 1000) {
      const r = await fetch(`${url}${url.includes('?') ? '&' : '?'}limit=1000&offset=${offset}`, { headers: { Accept: DICOM_JSON } });
      if (r.status === 204) return;
      if (r.status !== 200) throw new Error(`QIDO ${url} answered ${r.status}`);
      const page = (await r.json()) as Item[];
      yield* page;
      if (page.length < 1000) return;
    }
  };
  for await (const study of pages(`${baseUrl}/studies`)) {
    const studyUid = study[STUDY_INSTANCE_UID]!.Value![0] as string;
    for await (const item of pages(`${baseUrl}/studies/${studyUid}/instances`)) {
      const uid = item[SOP_INSTANCE_UID]!.Value![0] as string;
      listed.push(uid);
      const got = await fetch(item[RETRIEVE_URL]!.Value![0] as string, { headers: { Accept: AS_STORED } });
      await got.arrayBuffer();
      if (got.status !== 200) withoutObject.push(uid);
    }
  }
  return { listed, withoutObject };
}
