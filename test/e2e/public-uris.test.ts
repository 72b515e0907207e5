/**
 * e2e: public URIs behind a reverse proxy (lambdas/http/public-uri.ts). A proxy in the test serves the
 * archive under /pacs/ the way nginx's `location /pacs/ { proxy_pass http://archive/; }` does: it
 * rewrites Host to the archive's and strips the prefix, and says what the client used in
 * X-Forwarded-Host / -Proto / -Prefix. Trusted (TRUSTED_PROXIES), the archive writes RetrieveURL and
 * BulkDataURI at the proxy's address, and an encapsulated PDF's bulk data is fetched through them; not
 * trusted, the forwarded headers are ignored.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tag } from '../../lambdas/dicom/tags';
import { SopClass, newUid } from '../../lambdas/dicom/uid';
import { startArchive } from '../../lib/local/archive';
import { makeInstance } from '../support/dicom-factory';
import { PDF, encapsulatedPdf } from '../support/encapsulated-pdf';
import { reverseProxy, type ReverseProxy } from '../support/reverse-proxy';
import { DICOM_JSON, multipartParts, stowBody, tempArchive } from '../support/http';

const PREFIX = '/pacs';

type Json = Record<string, { vr: string; Value?: unknown[]; BulkDataURI?: string }>;

async function json(response: Response): Promise<Json[]> {
  expect(response.status).toBeLessThan(300);
  return (await response.json()) as Json[];
}

/** Stores a CT and a PDF of a fresh study through `base`; what the searches and metadata say of them. */
async function storeAndRead(base: string) {
  const study = newUid();
  const patientID = `PROXY-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const { body, contentType } = stowBody([
    makeInstance({ studyInstanceUID: study, patientID, approximateBytes: 8192 }),
    encapsulatedPdf({ studyInstanceUID: study, patientID }),
  ]);
  const stored = await fetch(`${base}/studies`, { method: 'POST', headers: { 'Content-Type': contentType, Accept: DICOM_JSON }, body });
  expect(stored.status).toBe(200);
  const storeResponse = (await stored.json()) as Json;
  const studies = await json(await fetch(`${base}/studies?PatientID=${patientID}`, { headers: { Accept: DICOM_JSON } }));
  const metadata = await json(await fetch(`${base}/studies/${study}/metadata`, { headers: { Accept: DICOM_JSON } }));
  const pdf = metadata.find((m) => m[Tag.SOPClassUID]?.Value?.[0] === SopClass.EncapsulatedPDFStorage)!;
  const ct = metadata.find((m) => m[Tag.SOPClassUID]?.Value?.[0] === SopClass.CTImageStorage)!;
  return {
    study,
    storeRetrieveUrl: (storeResponse[Tag.ReferencedSOPSequence]!.Value![0] as Json)[Tag.RetrieveURL]!.Value![0] as string,
    retrieveUrl: studies[0]![Tag.RetrieveURL]!.Value![0] as string,
    pdfBulkDataUri: pdf['00420011']!.BulkDataURI!,
    pixelBulkDataUri: ct[Tag.PixelData]!.BulkDataURI!,
  };
}

describe('public URIs behind a reverse proxy that rewrites Host and adds a path prefix', () => {
  let trusting: Awaited<ReturnType<typeof tempArchive>>;
  let ignoring: Awaited<ReturnType<typeof tempArchive>>;
  let trustedProxy: ReverseProxy;
  let untrustedProxy: ReverseProxy;

  beforeAll(async () => {
    trusting = await tempArchive({ env: { TRUSTED_PROXIES: '127.0.0.1,::1' } });
    ignoring = await tempArchive();
    trustedProxy = await reverseProxy(trusting.url, PREFIX);
    untrustedProxy = await reverseProxy(ignoring.url, PREFIX);
  });
  afterAll(async () => {
    await Promise.all([trustedProxy?.close(), untrustedProxy?.close()]);
    await Promise.all([trusting?.close(), ignoring?.close()]);
  });

  it("writes RetrieveURL and BulkDataURI at the trusted proxy's address, and the PDF is fetched through them", async () => {
    const seen = await storeAndRead(trustedProxy.url);
    expect(seen.storeRetrieveUrl.startsWith(`${trustedProxy.url}/studies/${seen.study}/series/`)).toBe(true);
    expect(seen.retrieveUrl).toBe(`${trustedProxy.url}/studies/${seen.study}`);
    expect(seen.pdfBulkDataUri.startsWith(`${trustedProxy.url}/studies/${seen.study}/series/`)).toBe(true);
    expect(seen.pixelBulkDataUri.startsWith(`${trustedProxy.url}/studies/${seen.study}/series/`)).toBe(true);

    const bulk = await fetch(seen.pdfBulkDataUri, { headers: { Accept: 'multipart/related; type="application/octet-stream"' } });
    expect(bulk.status).toBe(200);
    const parts = await multipartParts(bulk);
    expect(parts).toHaveLength(1);
    // The value as stored: the PDF, padded to an even length (PS3.5 7.1.1).
    const document = Buffer.from(parts[0]!.body);
    expect(document.subarray(0, PDF.length).equals(PDF)).toBe(true);
    expect(document.length - PDF.length).toBeLessThanOrEqual(1);
  });

  it("writes the frames' Content-Location and the capabilities base at the proxy's address too", async () => {
    const seen = await storeAndRead(trustedProxy.url);
    const instance = seen.pixelBulkDataUri.slice(0, seen.pixelBulkDataUri.indexOf('/bulkdata/'));
    const frames = await fetch(`${instance}/frames/1`, { headers: { Accept: 'multipart/related; type="application/octet-stream"' } });
    expect(frames.status).toBe(200);
    expect((await multipartParts(frames))[0]!.headers['content-location']).toBe(`${instance}/frames/1`);
    const capabilities = await fetch(`${trustedProxy.url}/studies/${seen.study}`, {
      method: 'OPTIONS',
      headers: { Accept: 'application/json' },
    });
    expect(((await capabilities.json()) as { base: string }).base).toBe(`${trustedProxy.url}/studies/${seen.study}`);
  });

  it('ignores the forwarded headers when TRUSTED_PROXIES is unset: the URIs are the request own', async () => {
    const seen = await storeAndRead(untrustedProxy.url);
    expect(seen.retrieveUrl).toBe(`${ignoring.url}/studies/${seen.study}`);
    expect(seen.storeRetrieveUrl.startsWith(`${ignoring.url}/studies/${seen.study}/series/`)).toBe(true);
    expect(seen.pdfBulkDataUri.startsWith(`${ignoring.url}/studies/${seen.study}/series/`)).toBe(true);
  });
});

describe('TRUSTED_PROXIES malformed', () => {
  it('the archive refuses to start, naming the variable and the entry', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'archive-e2e-'));
    try {
      await expect(startArchive({ dataDir, env: { TRUSTED_PROXIES: '127.0.0.1,proxy.internal' } })).rejects.toThrow(
        /^TRUSTED_PROXIES: "proxy.internal" is not an IPv4 or IPv6 address or CIDR block/,
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
