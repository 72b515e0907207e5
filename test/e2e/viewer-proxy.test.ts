/**
 * e2e, in a real browser: the OHIF Viewer behind a reverse proxy that rewrites Host and adds a path
 * prefix (test/support/reverse-proxy.ts, as nginx's `location /pacs/ { proxy_pass ...; }`), with no
 * PUBLIC_BASE_URL: the archive trusts the proxy (TRUSTED_PROXIES), so the viewer's pages, its
 * app-config.js roots and the metadata's BulkDataURIs all follow the public base the proxy forwarded.
 * The study list shows the studies, a CT paints and the Encapsulated PDF displays, and every request
 * of the page goes to the proxy's `/pacs/`: none fails, none reaches the archive's own address.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureViewerDist } from '../../lib/viewer/dist';
import { checkPage, expectPdfShown, expectViewportPainted, launchChromium, viewerPage, type PageWatch } from '../support/browser';
import { stow, tempArchive } from '../support/http';
import { reverseProxy, type ReverseProxy } from '../support/reverse-proxy';
import { encapsulatedPdfStudy, renderFixtureStudy } from '../support/viewer-studies';

const CT_STUDY = renderFixtureStudy('ct.dcm', 'CT');
const PDF_STUDY = encapsulatedPdfStudy();
const STUDIES = [CT_STUDY, PDF_STUDY];

/** How long a viewer page may take to paint on a busy 2-core machine. */
const PAINT_TIMEOUT_MS = 45_000;

let archive: Awaited<ReturnType<typeof tempArchive>>;
let proxy: ReverseProxy;
let browser: Browser;
let page: Page;
let watch: PageWatch;
/** Every URL the page asked for over HTTP (data: and blob: URLs are the page's own). */
const requested: string[] = [];

beforeAll(async () => {
  const dist = await ensureViewerDist({ log: (line) => console.log(line) });
  archive = await tempArchive({ storage: 'local', viewer: { dist }, env: { TRUSTED_PROXIES: '127.0.0.1,::1' } });
  proxy = await reverseProxy(archive.url, '/pacs');
  for (const study of STUDIES) expect((await stow(proxy.url, study.files)).status, study.label).toBe(200);
  browser = await launchChromium();
  ({ page, watch } = await viewerPage(browser, new URL(proxy.url).origin));
  page.on('request', (request) => {
    if (/^https?:/.test(request.url())) requested.push(request.url());
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await archive?.close();
});

/** Runs a browser check (test/support/browser.ts checkPage), and every request of the page went to the proxy's /pacs/. */
const inBrowser = (name: string, check: () => Promise<void>) =>
  checkPage(page, watch, `viewer-proxy-${name}`, async () => {
    requested.length = 0;
    await check();
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((url) => !url.startsWith(`${proxy.url}/`))).toEqual([]);
  });

describe('the OHIF Viewer behind a trusted reverse proxy at /pacs/, in Chromium', () => {
  it('lists the studies, every request through the proxy', async () => {
    await inBrowser('study-list', async () => {
      await page.goto(`${proxy.url}/viewer/`);
      for (const study of STUDIES)
        await page.getByText(study.patientName.replace('^', ', '), { exact: true }).waitFor({ timeout: PAINT_TIMEOUT_MS });
      expect(requested.some((url) => url.startsWith(`${proxy.url}/studies?`))).toBe(true);
    });
  }, 90_000);

  it('paints the CT, its frames fetched through the proxy', async () => {
    await inBrowser('ct', async () => {
      await page.goto(`${proxy.url}/viewer/viewer?StudyInstanceUIDs=${CT_STUDY.studyInstanceUID}`);
      await expectViewportPainted(page, PAINT_TIMEOUT_MS);
      expect(requested.some((url) => url.startsWith(`${proxy.url}/studies/`) && url.includes('/frames/'))).toBe(true);
    });
  }, 90_000);

  it("displays the Encapsulated PDF, its BulkDataURI at the proxy's address", async () => {
    await inBrowser('pdf', async () => {
      await page.goto(`${proxy.url}/viewer/viewer?StudyInstanceUIDs=${PDF_STUDY.studyInstanceUID}`);
      await expectPdfShown(page, PAINT_TIMEOUT_MS);
      const metadata = await fetch(`${proxy.url}/studies/${PDF_STUDY.studyInstanceUID}/metadata`, {
        headers: { Accept: 'application/dicom+json' },
      });
      const [instance] = (await metadata.json()) as Record<string, { BulkDataURI?: string }>[];
      const bulkDataUri = instance!['00420011']?.BulkDataURI;
      expect(bulkDataUri?.startsWith(`${proxy.url}/studies/${PDF_STUDY.studyInstanceUID}/`)).toBe(true);
      // The document came from its BulkDataURI, through the proxy.
      await expect.poll(() => requested.some((url) => url.startsWith(bulkDataUri!))).toBe(true);
    });
  }, 90_000);
});
