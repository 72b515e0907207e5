/**
 * e2e: the DIMSE gateway against real DIMSE peers from Debian's dcmtk (echoscu, storescu, findscu,
 * movescu, storescp). The gateway runs inside the embedded archive (lib/local/archive.ts); what
 * storescu stores is found by QIDO-RS and WADO-RS; movescu moves to a dcmtk storescp, to a second
 * embedded archive by STOW-RS (Alternative Sub-operation Mechanism Option), through a second gateway
 * configured with the Proxy Option, and a SEND-RS request delivers by C-STORE.
 *
 * Skipped (with a message) only when dcmtk is missing and CI is not set; `.ci/run` installs dcmtk.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPart10 } from '../../lambdas/dicom/part10';
import { newUid } from '../../lambdas/dicom/uid';
import { ServiceUnavailableError } from '../../lambdas/dicomweb/errors';
import { SearchService } from '../../lambdas/dicomweb/search';
import { StoreService } from '../../lambdas/dicomweb/store';
import { Client, CStoreRequest, Dataset } from '../../lambdas/dimse/lib';
import { dataSetOf } from '../../lambdas/dimse/part10-file';
import { startDimseGateway } from '../../lambdas/dimse/scp';
import type { BlobStore } from '../../lambdas/storage/ports';
import { MemoryBlobStore } from '../support/memory-blobs';
import { MemoryMetadataIndex } from '../support/memory-index';
import { JAPANESE_NAME, makeInstance, makeJapaneseInstance, makeStudy } from '../support/dicom-factory';
import { FIXTURES, FIXTURES_DIR, FIXTURE_STUDY_UID } from '../support/fixtures';
import { dcmtk, dcmtkSuite, hasDcmtk, startStoreScp, type StoreScp } from '../support/dcmtk';
import { freePort } from '../support/net';
import { DICOM_JSON, multipartParts, tempArchive } from '../support/http';

type Archive = Awaited<ReturnType<typeof tempArchive>>;

if (!hasDcmtk && !process.env.CI) {
  console.warn('dimse-gateway e2e skipped: dcmtk is not installed (apt-get install dcmtk); CI installs it');
}
const suite = dcmtkSuite;

const FIXTURE_FILES = Object.keys(FIXTURES).map((name) => path.join(FIXTURES_DIR, name));
const FIXTURE_SOP_UIDS = Object.values(FIXTURES).map((f) => f.sopInstanceUID);
const MR = Object.values(FIXTURES).find((f) => f.sopClassUID === '1.2.840.10008.5.1.4.1.1.4')!;
const CT = Object.values(FIXTURES).find((f) => f.sopClassUID === '1.2.840.10008.5.1.4.1.1.2')!;

interface Counters {
  remaining?: number;
  completed: number;
  failed: number;
  warning: number;
  status: number;
}

/** The C-MOVE responses movescu -d printed, in order. */
function moveResponses(out: string): Counters[] {
  const n = (label: string, block: string) => {
    const m = new RegExp(`${label} Suboperations\\s*: (\\S+)`).exec(block)?.[1];
    return m === undefined || m === 'none' ? undefined : Number(m);
  };
  return out
    .split(/Received (?:Final )?Move Response/)
    .slice(1)
    .map((block) => ({
      remaining: n('Remaining', block),
      completed: n('Completed', block) ?? 0,
      failed: n('Failed', block) ?? 0,
      warning: n('Warning', block) ?? 0,
      status: parseInt(/DIMSE Status\s*: 0x([0-9a-f]{4})/i.exec(block)?.[1] ?? 'ffff', 16),
    }));
}

/** DIMSE Status values printed by a dcmtk SCU run with -d, in order. */
function statuses(out: string): number[] {
  return [...out.matchAll(/DIMSE Status\s*: 0x([0-9a-f]{4})/gi)].map((m) => parseInt(m[1]!, 16));
}

suite('DIMSE gateway with dcmtk peers', () => {
  let gw: Archive; // the archive with its gateway, AE ARCHIVE
  let web: Archive; // a second archive, reached by STOW-RS
  let proxy: Archive; // a gateway with the Proxy Option, AE PROXY, Send origin = gw
  let dest: StoreScp;
  let slow: StoreScp;
  let plain: StoreScp; // accepts uncompressed transfer syntaxes only
  let work: string;
  let refusedPort: number;
  const study2 = makeStudy({ series: 2, instancesPerSeries: 3, patientID: 'DIMSE-2', patientName: 'Second^Patient' });
  const DEST_URL = 'http://dimse-dest.invalid/dicomweb';

  const gwArgs = () => ['-aec', 'ARCHIVE', '127.0.0.1', String(gw.dimse!.port)];

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'dimse-e2e-'));
    refusedPort = await freePort();
    [dest, slow, plain] = await Promise.all([
      startStoreScp('DEST'),
      startStoreScp('SLOW', ['+xa', '--sleep-during', '1']),
      startStoreScp('PLAIN', []),
    ]);
    web = await tempArchive();
    gw = await tempArchive({ dimsePort: 0, env: { SEND_WAIT_MS: '300', SEND_BATCH_SIZE: '4', DIMSE_CSTORE_TIMEOUT_MS: '5000' } });
    const dimse = (aeTitle: string, port: number) => ({ aeTitle, host: '127.0.0.1', port });
    await writeFile(
      path.join(gw.dataDir, 'destinations.json'),
      JSON.stringify({
        destinations: [
          { url: DEST_URL, ...dimse('DEST', dest.port) },
          { url: 'http://slow.invalid/dicomweb', ...dimse('SLOW', slow.port) },
          { url: 'http://plain.invalid/dicomweb', ...dimse('PLAIN', plain.port) },
          { url: 'http://refuser.invalid/dicomweb', ...dimse('REFUSER', refusedPort) },
          { url: web.url, ...dimse('WEB', refusedPort), subOperations: ['stow'] },
          { url: `${web.url}/studies`, ...dimse('MIXED', refusedPort), subOperations: ['c-store', 'stow'] },
        ],
      }),
    );
    proxy = await tempArchive({ dimsePort: 0, env: { DIMSE_AET: 'PROXY', DIMSE_MOVE_PROXY_ORIGIN: gw.url } });
    await writeFile(
      path.join(proxy.dataDir, 'destinations.json'),
      JSON.stringify({ destinations: [{ url: DEST_URL, ...dimse('DEST', dest.port) }] }),
    );

    const files = await Promise.all(
      study2.instances.map(async (i) => {
        const file = path.join(work, `${i.sopInstanceUID}.dcm`);
        await writeFile(file, i.bytes);
        return file;
      }),
    );
    const stored = await dcmtk('storescu', [...gwArgs(), '-xy', ...FIXTURE_FILES, ...files]);
    expect(stored.code, stored.out).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await gw?.close();
    await web?.close();
    await dest?.close();
    await slow?.close();
    await plain?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe('C-ECHO', () => {
    it('[dimse.echo-scp.0000] answers echoscu with Success', async () => {
      const r = await dcmtk('echoscu', ['-v', ...gwArgs()]);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/Received Echo Response \(Success\)/);
    });

    it('rejects an association addressed to another AE Title', async () => {
      const r = await dcmtk('echoscu', ['-aec', 'NOT-ME', '127.0.0.1', String(gw.dimse!.port)]);
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/Association Rejected/i);
    });
  });

  describe('C-STORE', () => {
    it('[dimse.cstore-scp.0000] ingests through the STOW-RS store service: QIDO-RS finds and WADO-RS returns the data set as sent', async () => {
      const search = await fetch(`${gw.url}/studies/${FIXTURE_STUDY_UID}/instances`, { headers: { Accept: DICOM_JSON } });
      const found = ((await search.json()) as Record<string, { Value?: string[] }>[]).map((i) => i['00080018']!.Value![0]);
      expect(found.sort()).toEqual([...FIXTURE_SOP_UIDS].sort());

      // storescu sends the Explicit VR Little Endian CT unchanged: the archive keeps those bytes.
      const wado = await fetch(`${gw.url}/studies/${FIXTURE_STUDY_UID}/series/${CT.seriesInstanceUID}/instances/${CT.sopInstanceUID}`, {
        headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
      });
      const [part] = await multipartParts(wado);
      const original = await readFile(path.join(FIXTURES_DIR, 'ct-explicit-le.dcm'));
      expect(Buffer.from(dataSetOf(part!.body)).equals(Buffer.from(dataSetOf(original)))).toBe(true);
      expect(readPart10(part!.body).transferSyntaxUID).toBe(CT.transferSyntaxUID);
    });

    it('[dimse.cstore-scp.a901] re-storing the same instance succeeds (0000); other content under a stored SOP Instance UID fails (A901)', async () => {
      // The data set is judged, not the file: other senders and encodings are covered by duplicate-senders.test.ts.
      const again = await dcmtk('storescu', ['-d', ...gwArgs(), '-xy', path.join(FIXTURES_DIR, 'mr-implicit-le.dcm')]);
      expect(statuses(again.out)).toEqual([0x0000]);
      const clash = path.join(work, 'clash.dcm');
      await writeFile(clash, makeInstance({ ...MR, studyInstanceUID: newUid(), transferSyntaxUID: undefined }));
      const r = await dcmtk('storescu', ['-d', ...gwArgs(), clash]);
      expect(statuses(r.out)).toEqual([0xa901]);
    });

    it('[dimse.cstore-scp.c000] answers C000 for a data set that cannot be parsed', async () => {
      // A raw SCU (dcmjs-dimse) sends bytes no DICOM toolkit would write; storescu cannot.
      class Unreadable extends Dataset {
        constructor() {
          super({}, '1.2.840.10008.1.2.1');
        }
        override getElement(tag: string): string {
          return tag === 'SOPClassUID' ? CT.sopClassUID : newUid();
        }
        override getDenaturalizedDataset(): Buffer {
          return Buffer.from('not a data set at all!', 'latin1');
        }
      }
      const client = new Client();
      const request = new CStoreRequest(new Unreadable());
      let status: number | undefined;
      request.on('response', (r: { getStatus(): number }) => (status = r.getStatus()));
      client.addRequest(request);
      await new Promise<void>((resolve) => {
        client.on('closed', () => resolve());
        client.send('127.0.0.1', gw.dimse!.port, 'RAW-SCU', 'ARCHIVE');
      });
      expect(status).toBe(0xc000);
    });

    it.each([
      [
        'unavailable (throttled, unreachable): retry later',
        new ServiceUnavailableError('S3 is unavailable, retry later'),
        'storage unavailable, retry later',
      ],
      [
        'failing otherwise (permissions, configuration): see the log',
        Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }),
        'storage failed, see the gateway log',
      ],
    ])('[dimse.cstore-scp.a700] answers A700 when the storage is %s', async (_, fault, comment) => {
      const blobs = new MemoryBlobStore();
      const failing: BlobStore = {
        ...blobs,
        get: (k) => blobs.get(k),
        getStream: (k, start) => blobs.getStream(k, start),
        getRange: (k, start, end) => blobs.getRange(k, start, end),
        delete: (k) => blobs.delete(k),
        copy: () => Promise.reject(fault),
        put: () => Promise.reject(fault),
      };
      const index = new MemoryMetadataIndex();
      const search = new SearchService(index, { maxCandidates: 10, defaultLimit: 10, maxLimit: 10 });
      const gateway = await startDimseGateway(
        {
          store: new StoreService(index, failing, { bulkDataThreshold: 1024, maxRequestBytes: 1 << 20 }),
          search,
          index,
          blobs: failing,
          destinations: { load: async () => ({ destinations: [] }) },
          aeTitle: 'BROKEN',
          batchSize: 10,
          baseUrl: '',
        },
        { port: 0 },
      );
      try {
        const r = await dcmtk('storescu', [
          '-d',
          '-aec',
          'BROKEN',
          '127.0.0.1',
          String(gateway.port),
          path.join(FIXTURES_DIR, 'ct-explicit-le.dcm'),
        ]);
        expect(statuses(r.out)).toEqual([0xa700]);
        expect(r.out).toContain(`(0000,0902) LO [${comment}]`);
        // The refused instance is not indexed.
        expect(index.all().filter((e) => e.level === 'INSTANCE')).toEqual([]);
      } finally {
        await gateway.close();
      }
    });

    it('[dimse.cstore-scp.a700] refuses a data set above DIMSE_MAX_OBJECT_BYTES with A700 without keeping it; the association goes on', async () => {
      const blobs = new MemoryBlobStore();
      const index = new MemoryMetadataIndex();
      const gateway = await startDimseGateway(
        {
          store: new StoreService(index, blobs, { bulkDataThreshold: 1024, maxRequestBytes: 1 << 20 }),
          search: new SearchService(index, { maxCandidates: 10, defaultLimit: 10, maxLimit: 10 }),
          index,
          blobs,
          destinations: { load: async () => ({ destinations: [] }) },
          aeTitle: 'SMALL',
          batchSize: 10,
          baseUrl: '',
        },
        { port: 0, maxObjectBytes: 60_000 },
      );
      try {
        const big = { studyInstanceUID: newUid(), seriesInstanceUID: newUid(), sopInstanceUID: newUid() };
        const small = { ...big, sopInstanceUID: newUid() };
        const files = [path.join(work, 'big.dcm'), path.join(work, 'small.dcm')];
        await writeFile(files[0]!, makeInstance({ ...big, approximateBytes: 200_000 }));
        await writeFile(files[1]!, makeInstance({ ...small, approximateBytes: 20_000 }));
        // -nh: storescu goes on after an unsuccessful store (its default is to halt).
        const r = await dcmtk('storescu', ['-d', '-nh', '-aec', 'SMALL', '127.0.0.1', String(gateway.port), ...files]);
        expect(statuses(r.out)).toEqual([0xa700, 0x0000]);
        // storescu -d prints the response's Status Detail: the Error Comment (0000,0902).
        expect(r.out).toMatch(/\(0000,0902\) LO \[data set over 60000 bytes, the most stored\]/);
        expect(await index.getInstance(big.studyInstanceUID, big.seriesInstanceUID, big.sopInstanceUID)).toBeUndefined();
        expect(await index.getInstance(small.studyInstanceUID, small.seriesInstanceUID, small.sopInstanceUID)).toBeDefined();
      } finally {
        await gateway.close();
      }
    });

    it('[dimse.cstore-scp.a901] refuses an instance without a Study Instance UID with A901', async () => {
      const file = path.join(work, 'no-study.dcm');
      await writeFile(file, makeInstance({ omit: ['StudyInstanceUID'] }));
      const r = await dcmtk('storescu', ['-d', ...gwArgs(), file]);
      expect(statuses(r.out)).toEqual([0xa901]);
    });
  });

  describe('C-FIND', () => {
    /** findscu with -X: the response identifiers as parsed data sets, and the statuses. */
    async function find(root: '-P' | '-S', keys: readonly string[], extra: readonly string[] = []) {
      const dir = await mkdtemp(path.join(work, 'find-'));
      const r = await dcmtk('findscu', ['-d', root, ...gwArgs(), '-X', '-od', dir, ...extra, ...keys.flatMap((k) => ['-k', k])]);
      const files = (await readdir(dir)).sort();
      const matches = await Promise.all(files.map(async (f) => readPart10(await readFile(path.join(dir, f))).dict));
      const value = (m: (typeof matches)[number], tag: string) => {
        const v = m[tag]?.Value?.[0];
        return typeof v === 'object' && v !== null ? (v as { Alphabetic?: string }).Alphabetic : v;
      };
      return { statuses: statuses(r.out), matches, value, out: r.out };
    }

    it('PATIENT level (Patient Root): one match per patient with Number of Patient Related Studies', async () => {
      const r = await find('-P', ['QueryRetrieveLevel=PATIENT', 'PatientID=DIMSE-2', 'PatientName', 'NumberOfPatientRelatedStudies']);
      expect(r.statuses).toEqual([0xff00, 0x0000]);
      expect(r.value(r.matches[0]!, '00100010')).toBe('Second^Patient');
      expect(Number(r.value(r.matches[0]!, '00201200'))).toBe(1);
    });

    it('[dimse.cfind-scp.ff00] STUDY level (Study Root): the study with its counters and the Retrieve AE Title', async () => {
      const r = await find('-S', [
        'QueryRetrieveLevel=STUDY',
        `StudyInstanceUID=${study2.studyInstanceUID}`,
        'NumberOfStudyRelatedInstances',
        'RetrieveAETitle',
        'PatientName',
      ]);
      expect(r.statuses).toEqual([0xff00, 0x0000]);
      expect(Number(r.value(r.matches[0]!, '00201208'))).toBe(6);
      expect(r.value(r.matches[0]!, '00080054')).toBe('ARCHIVE');
    });

    it('SERIES level: the two series of the study', async () => {
      const r = await find('-S', [
        'QueryRetrieveLevel=SERIES',
        `StudyInstanceUID=${study2.studyInstanceUID}`,
        'SeriesInstanceUID',
        'NumberOfSeriesRelatedInstances',
      ]);
      expect(r.statuses).toEqual([0xff00, 0xff00, 0x0000]);
      expect(r.matches.map((m) => Number(r.value(m, '00201209')))).toEqual([3, 3]);
    });

    it('ISO 2022 code extensions (PS3.5 H.3.1): a Japanese instance stored by C-STORE is found by an ideographic key in escape sequences', async () => {
      const patientID = `JP-${Date.now()}`;
      const file = path.join(work, 'japanese.dcm');
      await writeFile(file, makeJapaneseInstance({ patientID }));
      expect(statuses((await dcmtk('storescu', ['-d', ...gwArgs(), file])).out)).toEqual([0x0000]);
      // The key: ideographic group only, 山田* in JIS X 0208 (ESC $ B ... ESC ( B), as a Japanese SCU sends it.
      const r = await find('-S', [
        'QueryRetrieveLevel=STUDY',
        'SpecificCharacterSet=\\ISO 2022 IR 87',
        `PatientID=${patientID}`,
        'PatientName==\x1b$B;3ED\x1b(B*',
      ]);
      expect(r.statuses).toEqual([0xff00, 0x0000]);
      expect(r.matches[0]!['00100010']!.Value).toEqual([JAPANESE_NAME.json]);
      // A key for another name matches nothing.
      const none = await find('-S', [
        'QueryRetrieveLevel=STUDY',
        'SpecificCharacterSet=\\ISO 2022 IR 87',
        `PatientID=${patientID}`,
        'PatientName==\x1b$B;3ED4V\x1b(B*',
      ]);
      expect(none.statuses).toEqual([0x0000]);
    });

    it('IMAGE level (Patient Root): the instances of a series, with wildcard matching on the patient', async () => {
      const series = study2.instances[0]!.seriesInstanceUID;
      const r = await find('-P', ['QueryRetrieveLevel=IMAGE', 'PatientName=Second*', `SeriesInstanceUID=${series}`, 'SOPInstanceUID']);
      expect(r.statuses).toEqual([0xff00, 0xff00, 0xff00, 0x0000]);
      const expected = study2.instances.filter((i) => i.seriesInstanceUID === series).map((i) => i.sopInstanceUID);
      expect(r.matches.map((m) => r.value(m, '00080018')).sort()).toEqual(expected.sort());
    });

    it('[dimse.cfind-scp.ff01] answers FF01 when an Optional Key with a value is not supported', async () => {
      const r = await find('-S', ['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${study2.studyInstanceUID}`, 'OperatorsName=SOMEONE']);
      expect(r.statuses).toEqual([0xff01, 0x0000]);
    });

    it('[dimse.cfind-scp.a900] answers A900 for a malformed key value and for a missing Query/Retrieve Level', async () => {
      const malformed = await find('-S', ['QueryRetrieveLevel=STUDY', 'StudyDate=2020x']);
      expect(malformed.statuses).toEqual([0xa900]);
      // Offending Element (0000,0901) names the Study Date key.
      expect(malformed.out).toMatch(/\(0000,0901\) AT \(0008,0020\)/);
      expect((await find('-S', ['PatientID=DIMSE-2'])).statuses).toEqual([0xa900]);
    });

    it('[dimse.cfind-scp.0000] answers Success with no match', async () => {
      const r = await find('-S', ['QueryRetrieveLevel=STUDY', 'PatientID=NOBODY']);
      expect(r.statuses).toEqual([0x0000]);
    });
  });

  describe('C-MOVE', () => {
    const move = async (
      aeTitle: string,
      destination: string,
      keys: readonly string[],
      extra: readonly string[] = [],
      port = gw.dimse!.port,
    ) => {
      const r = await dcmtk('movescu', [
        '-d',
        '-S',
        '-aec',
        aeTitle,
        '127.0.0.1',
        String(port),
        '-aem',
        destination,
        ...extra,
        ...keys.flatMap((k) => ['-k', k]),
      ]);
      return { responses: moveResponses(r.out), out: r.out };
    };
    const last = (r: { responses: Counters[] }) => r.responses[r.responses.length - 1]!;
    const studyKeys = (uid: string) => ['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${uid}`];

    it('[dimse.cmove-scp.0000] [dimse.cmove-scp.ff00] [dimse.cstore-scu.0000] moves a study to a storescp by C-STORE: Pending with the four counters, then Success', async () => {
      const r = await move('ARCHIVE', 'DEST', studyKeys(FIXTURE_STUDY_UID));
      expect(last(r)).toMatchObject({ status: 0x0000, completed: 3, failed: 0, warning: 0 });
      for (const p of r.responses.slice(0, -1)) {
        expect(p.status).toBe(0xff00);
        expect(p.remaining! + p.completed + p.failed + p.warning).toBe(3);
      }
      expect(await dest.received()).toEqual(expect.arrayContaining(FIXTURE_SOP_UIDS));
      // The data set arrives as stored (the JPEG one too: storescp accepts its transfer syntax).
      const received = await readFile(
        path.join(
          dest.dir,
          (await readdir(dest.dir)).find((f) => f.endsWith(MR.sopInstanceUID))!,
        ),
      );
      const original = await readFile(path.join(FIXTURES_DIR, 'mr-implicit-le.dcm'));
      expect(readPart10(received).dict['00100010']).toEqual(readPart10(original).dict['00100010']);
    });

    it('moves at SERIES level (Study Root) and IMAGE level (Patient Root)', async () => {
      const series = study2.instances[3]!.seriesInstanceUID;
      const bySeries = await move('ARCHIVE', 'DEST', [
        'QueryRetrieveLevel=SERIES',
        `StudyInstanceUID=${study2.studyInstanceUID}`,
        `SeriesInstanceUID=${series}`,
      ]);
      expect(last(bySeries)).toMatchObject({ status: 0x0000, completed: 3 });
      const sop = study2.instances[0]!;
      const r = await dcmtk('movescu', [
        '-d',
        '-P',
        ...gwArgs(),
        '-aem',
        'DEST',
        '-k',
        'QueryRetrieveLevel=IMAGE',
        '-k',
        'PatientID=DIMSE-2',
        '-k',
        `StudyInstanceUID=${study2.studyInstanceUID}`,
        '-k',
        `SeriesInstanceUID=${sop.seriesInstanceUID}`,
        '-k',
        `SOPInstanceUID=${sop.sopInstanceUID}`,
      ]);
      expect(moveResponses(r.out).at(-1)).toMatchObject({ status: 0x0000, completed: 1 });
      expect(await dest.received()).toEqual(
        expect.arrayContaining([sop.sopInstanceUID, ...study2.instances.slice(3).map((i) => i.sopInstanceUID)]),
      );
    });

    it('[dimse.cmove-scp.b000] a sub-operation without an acceptable presentation context fails: Warning (B000) with the failed instance listed', async () => {
      // PLAIN accepts no JPEG transfer syntax, and the gateway does not decompress.
      const r = await move('ARCHIVE', 'PLAIN', studyKeys(FIXTURE_STUDY_UID));
      expect(last(r)).toMatchObject({ status: 0xb000, completed: 2, failed: 1, warning: 0 });
      const jpeg = Object.values(FIXTURES).find((f) => f.transferSyntaxUID === '1.2.840.10008.1.2.4.50')!;
      expect(r.out).toContain(jpeg.sopInstanceUID);
      expect(await plain.received()).not.toContain(jpeg.sopInstanceUID);
    });

    it('[dimse.cmove-scp.a801] answers A801 for a Move Destination not in the AE registry', async () => {
      const r = await move('ARCHIVE', 'UNKNOWN', studyKeys(FIXTURE_STUDY_UID));
      expect(r.responses.map((x) => x.status)).toEqual([0xa801]);
      expect(r.out).toMatch(/\(0000,0902\) LO \[Move Destination not in the AE registry/);
    });

    it('[dimse.cmove-scp.a900] answers A900 when the Unique Key of the level is missing', async () => {
      const r = await move('ARCHIVE', 'DEST', ['QueryRetrieveLevel=SERIES', `StudyInstanceUID=${study2.studyInstanceUID}`]);
      expect(r.responses.map((x) => x.status)).toEqual([0xa900]);
    });

    it('[dimse.cmove-scp.a702] counts every sub-operation failed when the destination refuses the association: A702 with the Failed SOP Instance UID List', async () => {
      const r = await move('ARCHIVE', 'REFUSER', studyKeys(FIXTURE_STUDY_UID));
      expect(last(r)).toMatchObject({ status: 0xa702, completed: 0, failed: 3, warning: 0 });
      for (const uid of FIXTURE_SOP_UIDS) expect(r.out).toContain(uid);
    });

    it('Alternative Sub-operation Mechanism Option: STOW-RS to a DICOMweb endpoint, counted per C.4.2.3.1.1.4', async () => {
      const r = await move('ARCHIVE', 'WEB', studyKeys(FIXTURE_STUDY_UID));
      expect(last(r)).toMatchObject({ status: 0x0000, completed: 3, failed: 0 });
      const found = await fetch(`${web.url}/studies/${FIXTURE_STUDY_UID}/instances`, { headers: { Accept: DICOM_JSON } });
      expect(((await found.json()) as unknown[]).length).toBe(3);
    });

    it('mixed-mechanism failure retry: C-STORE refused, the same sub-operations retried by STOW-RS succeed', async () => {
      const r = await move('ARCHIVE', 'MIXED', studyKeys(study2.studyInstanceUID));
      expect(last(r)).toMatchObject({ status: 0x0000, completed: 6, failed: 0 });
      const found = await fetch(`${web.url}/studies/${study2.studyInstanceUID}/instances`, { headers: { Accept: DICOM_JSON } });
      expect(((await found.json()) as unknown[]).length).toBe(6);
    });

    it('[dimse.cmove-scp.fe00] C-CANCEL-MOVE interrupts the sub-operations and answers Cancel (FE00) with the counters', async () => {
      const r = await move('ARCHIVE', 'SLOW', studyKeys(study2.studyInstanceUID), ['--cancel', '1']);
      const final = last(r);
      expect(final.status).toBe(0xfe00);
      expect(final.remaining).toBeGreaterThan(0);
      expect(final.remaining! + final.completed + final.failed + final.warning).toBe(6);
    }, 30_000);

    it('Proxy Option: a C-MOVE to the proxy gateway becomes a Send at the origin, delivered by C-STORE', async () => {
      const before = new Set(await dest.received());
      for (const f of await readdir(dest.dir)) await rm(path.join(dest.dir, f));
      const r = await move('PROXY', 'DEST', studyKeys(FIXTURE_STUDY_UID), [], proxy.dimse!.port);
      expect(last(r)).toMatchObject({ status: 0x0000, completed: 3, failed: 0, warning: 0 });
      expect((await dest.received()).sort()).toEqual([...FIXTURE_SOP_UIDS].sort());
      expect(before.size).toBeGreaterThan(0);
      const unknown = await move('PROXY', 'UNKNOWN', studyKeys(FIXTURE_STUDY_UID), [], proxy.dimse!.port);
      expect(unknown.responses.map((x) => x.status)).toEqual([0xa801]);
    }, 30_000);
  });

  describe('SEND-RS over DIMSE', () => {
    it('a Send whose destination maps to a DIMSE AE delivers by C-STORE to storescp', async () => {
      for (const f of await readdir(dest.dir)) await rm(path.join(dest.dir, f));
      const uid = newUid();
      const target = `${gw.url}/studies/${study2.studyInstanceUID}/series/send-requests/${uid}`;
      const sent = await fetch(`${target}?destination=${encodeURIComponent(DEST_URL)}`, {
        method: 'POST',
        headers: { Accept: DICOM_JSON },
      });
      expect([200, 202]).toContain(sent.status);
      let module: Record<string, { Value?: number[] }> = {};
      for (let i = 0; i < 100; i++) {
        const check = await fetch(target, { headers: { Accept: DICOM_JSON } });
        if (check.status === 200) {
          module = ((await check.json()) as (typeof module)[])[0]!;
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(module['00000900']?.Value?.[0]).toBe(0x0000);
      expect(module['00001021']?.Value?.[0]).toBe(6);
      expect((await dest.received()).sort()).toEqual(study2.instances.map((i) => i.sopInstanceUID).sort());
    }, 30_000);
  });
});
