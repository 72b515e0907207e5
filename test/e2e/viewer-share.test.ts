/**
 * e2e, in a real browser: second-opinion share links opened in the OHIF Viewer of an archive that
 * checks credentials (AUTH=token,api-keys). A link made by /admin/shares opens its study in a fresh
 * browser with no login, painted, every DICOMweb request carrying the link's token and none refused;
 * the token cannot read another study; a revoked link's requests are refused with 401.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureViewerDist } from '../../lib/viewer/dist';
import { checkPage, expectViewportPainted, keepScreenshot, launchChromium, viewerPage, type PageWatch } from '../support/browser';
import { DICOM_JSON, stowBody, tempArchive } from '../support/http';
import { renderFixtureStudy } from '../support/viewer-studies';

const ADMIN_TOKEN = 'viewer-share-admin';
const SHARED = renderFixtureStudy('ct.dcm', 'Shared CT');
const OTHER = renderFixtureStudy('ct.dcm', 'Other CT');
const TIMEOUT_MS = 45_000;
let archive: Awaited<ReturnType<typeof tempArchive>>;
let browser: Browser;

beforeAll(async () => {
  const dist = await ensureViewerDist();
  archive = await tempArchive({ storage: 'local', viewer: { dist }, env: { AUTH: 'token,api-keys', AUTH_TOKEN: ADMIN_TOKEN } });
  for (const study of [SHARED, OTHER]) {
    const { body, contentType } = stowBody(study.files);
    const stored = await fetch(`${archive.url}/studies`, {
      method: 'POST',
      headers: { 'Content-Type': contentType, Accept: DICOM_JSON, Authorization: `Bearer ${ADMIN_TOKEN}` },
      body,
    });
    expect(stored.status).toBe(200);
  }
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await archive?.close();
});

/** A link made over the admin resource, as `npm run share` makes it. */
async function share(study: string): Promise<{ id: string; token: string; link: string }> {
  const r = await fetch(`${archive.url}/admin/shares`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ study, expires: '1d', note: 'browser suite' }),
  });
  expect(r.status).toBe(201);
  return (await r.json()) as { id: string; token: string; link: string };
}

/** `check` on a page of a fresh browser context (no session); the context closed afterwards. */
async function inFreshBrowser(check: (page: Page, watch: PageWatch) => Promise<void>): Promise<void> {
  const { context, page, watch } = await viewerPage(browser, archive.url);
  try {
    await check(page, watch);
  } finally {
    await context.close();
  }
}

describe('a share link in the viewer', () => {
  it('opens its study with no login, painted, every request with its token and none refused', async () => {
    const { token, link } = await share(SHARED.studyInstanceUID);
    expect(link).toBe(`${archive.url}/viewer/viewer?StudyInstanceUIDs=${SHARED.studyInstanceUID}&token=${token}`);
    await inFreshBrowser(async (page, watch) => {
      const sent: { url: string; authorization?: string }[] = [];
      page.on('request', (r) => {
        const { pathname } = new URL(r.url());
        if (r.url().startsWith(archive.url) && !pathname.startsWith('/viewer'))
          sent.push({ url: r.url(), authorization: r.headers().authorization });
      });
      await checkPage(page, watch, 'viewer-share-open', async () => {
        await page.goto(link);
        await expectViewportPainted(page, TIMEOUT_MS);
      });
      expect(sent.some((r) => r.url.includes('/frames/'))).toBe(true);
      for (const r of sent) expect(r.authorization, r.url).toBe(`Bearer ${token}`);
      expect(page.url()).not.toContain('token=');
      // The token, from the reader's page, reads no other study.
      const other = await page.evaluate(
        async ([url, t]) => (await fetch(url!, { headers: { Authorization: `Bearer ${t}` } })).status,
        [`${archive.url}/studies/${OTHER.studyInstanceUID}/metadata`, token],
      );
      expect(other).toBe(403);
    });
  }, 120_000);

  it('refuses a revoked link: the viewer gets 401 and no image', async () => {
    const { id, link } = await share(SHARED.studyInstanceUID);
    const revoked = await fetch(`${archive.url}/admin/shares/${id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(revoked.status).toBe(204);
    await inFreshBrowser(async (page, watch) => {
      try {
        const refused = page.waitForResponse((r) => r.url().startsWith(archive.url) && r.status() === 401, { timeout: TIMEOUT_MS });
        await page.goto(link);
        await refused;
        expect(watch.archiveResponses.filter((r) => r.startsWith('2'))).toEqual([]);
      } catch (error) {
        const file = await keepScreenshot(page, 'viewer-share-revoked');
        if (error instanceof Error) error.message += `\n(screenshot: ${file})`;
        throw error;
      }
    });
  }, 120_000);
});
