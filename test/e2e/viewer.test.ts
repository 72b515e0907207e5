/**
 * e2e, in a real browser: the OHIF Viewer served by the embedded archive under /viewer/ (Debian's
 * Chromium driven by playwright-core, test/support/browser.ts). The study list shows the stored
 * patients and filters them by Patient's Name; a study of each transfer syntax the archive stores
 * is painted in the viewport (its canvas alone, screenshot decoded with sharp: not one colour); an
 * Encapsulated PDF shows through its BulkDataURI. No request fails, the archive answers no 4xx/5xx,
 * and the page throws no error. A failure keeps a screenshot under test-artifacts/.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureViewerDist } from '../../lib/viewer/dist';
import { checkPage, expectPdfShown, expectViewportPainted, launchChromium, viewerPage, type PageWatch } from '../support/browser';
import { stow, tempArchive } from '../support/http';
import { encapsulatedPdfStudy, renderFixtureStudy, type ViewerStudy } from '../support/viewer-studies';

/** One study per transfer syntax (test/fixtures/render/README.md), each its own patient. */
const IMAGE_STUDIES: readonly ViewerStudy[] = [
  renderFixtureStudy('ct.dcm', 'CT'),
  renderFixtureStudy('ct-j2k-lossless.dcm', 'JPEG 2000'),
  renderFixtureStudy('ct-htj2k-lossless.dcm', 'HTJ2K'),
  renderFixtureStudy('rgb.dcm', 'RGB'),
  renderFixtureStudy('enhanced-ct.dcm', 'Multiframe'),
  renderFixtureStudy('ct-jpeg-ls.dcm', 'JPEG-LS'),
  renderFixtureStudy('ct-rle.dcm', 'RLE'),
  renderFixtureStudy('rgb-jpeg-baseline.dcm', 'JPEG baseline'),
  renderFixtureStudy('mono8-jpeg-extended.dcm', 'JPEG extended'),
  renderFixtureStudy('ct-jpeg-lossless.dcm', 'JPEG lossless'),
  renderFixtureStudy('ct-big-endian.dcm', 'Big endian'),
];
const PDF_STUDY = encapsulatedPdfStudy();
const STUDIES = [...IMAGE_STUDIES, PDF_STUDY];

/** How OHIF shows a Patient's Name `Family^Given`: `Family, Given`. */
const shown = (study: ViewerStudy) => study.patientName.replace('^', ', ');

/** How long a viewer page may take to paint on a busy 2-core machine. */
const PAINT_TIMEOUT_MS = 45_000;

let archive: Awaited<ReturnType<typeof tempArchive>>;
let browser: Browser;
let page: Page;
let watch: PageWatch;

beforeAll(async () => {
  const dist = await ensureViewerDist({ log: (line) => console.log(line) });
  // Other origins allowed by CORS change nothing for the viewer, which is on the archive's own.
  archive = await tempArchive({ storage: 'local', viewer: { dist }, env: { CORS_ALLOWED_ORIGINS: 'https://viewer.example.org' } });
  for (const study of STUDIES) expect((await stow(archive.url, study.files)).status, study.label).toBe(200);
  browser = await launchChromium();
  ({ page, watch } = await viewerPage(browser, archive.url));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await archive?.close();
});

/** Runs a browser check, keeping a screenshot and the page's problems when it fails. */
const inBrowser = (name: string, check: () => Promise<void>) => checkPage(page, watch, `viewer-${name}`, check);

describe('the OHIF Viewer at /viewer/, in Chromium', () => {
  it('lists the stored patients and filters them by Patient Name', async () => {
    await inBrowser('study-list', async () => {
      await page.goto(`${archive.url}/viewer/`);
      for (const study of STUDIES) await page.getByText(shown(study), { exact: true }).waitFor({ timeout: PAINT_TIMEOUT_MS });

      const rgb = STUDIES.find((s) => s.label === 'RGB')!;
      const searched = page.waitForResponse((r) => r.url().includes('/studies?') && /00100010=|PatientName=/.test(r.url()));
      // The first filter of the list is the patient's.
      await page.locator('input').first().fill('RGB');
      expect((await searched).status()).toBe(200);
      await page.getByText(shown(rgb), { exact: true }).waitFor();
      await expect.poll(() => page.getByText(shown(IMAGE_STUDIES[0]!), { exact: true }).count()).toBe(0);
    });
  }, 90_000);

  it.each(IMAGE_STUDIES.map((study) => [study.label, study] as const))(
    'paints the %s study in the viewport',
    async (label, study) => {
      await inBrowser(label, async () => {
        await page.goto(`${archive.url}/viewer/viewer?StudyInstanceUIDs=${study.studyInstanceUID}`);
        await expectViewportPainted(page, PAINT_TIMEOUT_MS);
        // The pixels came from the archive's frames resource (PS3.18 10.4.1.1.3).
        expect(watch.archiveResponses.some((r) => r.startsWith('200 GET') && r.includes('/frames/'))).toBe(true);
      });
    },
    90_000,
  );

  it('shows the Encapsulated PDF in the PDF viewport, its document read through the BulkDataURI', async () => {
    await inBrowser('pdf', async () => {
      await page.goto(`${archive.url}/viewer/viewer?StudyInstanceUIDs=${PDF_STUDY.studyInstanceUID}`);
      await expectPdfShown(page, PAINT_TIMEOUT_MS);
      const metadataAt = watch.archiveResponses.findIndex((r) => r.startsWith('200 GET') && r.endsWith('/metadata'));
      expect(metadataAt).toBeGreaterThanOrEqual(0);
      // The document is larger than BULKDATA_THRESHOLD: fetched from its BulkDataURI, not inline.
      expect(watch.archiveResponses.slice(metadataAt + 1).some((r) => r.startsWith('200 GET') && !r.includes('/metadata'))).toBe(true);
    });
  }, 90_000);
});
