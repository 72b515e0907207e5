/** Small HTTP helpers for e2e tests: a STOW body builder and a multipart response reader. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseMediaType, parseMultipartRelated, type MultipartPart } from '../../lambdas/dicom/multipart';
import { archiveStorage } from '../../lib/local/data-layout';
import { startArchive, type ArchiveOptions, type EmbeddedArchive } from '../../lib/local/archive';

export const DICOM_JSON = 'application/dicom+json';

/** multipart/related; type="application/dicom" body of the given Part 10 files (PS3.18 10.5.1.2). */
export function stowBody(files: readonly Uint8Array[], boundary = 'e2e-boundary-7d1f'): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const file of files) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`));
    chunks.push(Buffer.from(file));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}

export async function stow(baseUrl: string, files: readonly Uint8Array[], study?: string): Promise<Response> {
  const { body, contentType } = stowBody(files);
  return fetch(`${baseUrl}/studies${study ? `/${study}` : ''}`, {
    method: 'POST',
    headers: { 'Content-Type': contentType, Accept: DICOM_JSON },
    body,
  });
}

/** The parts of a multipart/related response. */
export async function multipartParts(response: Response): Promise<MultipartPart[]> {
  const media = parseMediaType(response.headers.get('content-type') ?? '');
  const body = new Uint8Array(await response.arrayBuffer());
  return parseMultipartRelated(body, media.params.boundary!);
}

/** First value of a DICOM JSON attribute. */
export function value(obj: Record<string, { Value?: unknown[] }>, tag: string): unknown {
  return obj[tag]?.Value?.[0];
}

/**
 * An embedded archive on a fresh temporary data directory, removed on close; on the storage of
 * STORAGE in the test process (`STORAGE=local npx vitest run test/e2e`), like `npm start`. A test
 * pointing an emulator endpoint away (S3_ENDPOINT, DYNAMODB_ENDPOINT) injects a fault of the AWS
 * adapters: it runs on the emulators.
 */
export async function tempArchive(opts: Omit<ArchiveOptions, 'dataDir'> = {}): Promise<EmbeddedArchive & { dataDir: string }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'archive-e2e-'));
  const awsFault = opts.env?.S3_ENDPOINT !== undefined || opts.env?.DYNAMODB_ENDPOINT !== undefined;
  const storage = archiveStorage(opts.env?.STORAGE ?? (awsFault ? 'aws-emulators' : process.env.STORAGE));
  const archive = await startArchive({ storage, ...opts, dataDir });
  return {
    ...archive,
    dataDir,
    close: async () => {
      await archive.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
