/**
 * e2e, in a real browser: the viewer of an archive in AUTH=oidc (test/support/oidc-provider.ts, a
 * real OpenID provider in process). A reader opening /viewer/ is sent to the issuer, logs in by the
 * authorization code flow with PKCE, comes back to /viewer/callback and sees the study list, every
 * request to the archive carrying the access token. A link with its own token
 * (/viewer/viewer?StudyInstanceUIDs=...&token=...) opens the study in a fresh browser with no login.
 */
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureViewerDist } from '../../lib/viewer/dist';
import { checkPage, expectViewportPainted, launchChromium, viewerPage, type PageWatch } from '../support/browser';
import { DICOM_JSON, stowBody, tempArchive } from '../support/http';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider';
import { renderFixtureStudy } from '../support/viewer-studies';

const STUDY = renderFixtureStudy('ct.dcm', 'Login CT');
const TIMEOUT_MS = 45_000;
let idp: TestOidcProvider;
let archive: Awaited<ReturnType<typeof tempArchive>>;
let browser: Browser;

beforeAll(async () => {
  const dist = await ensureViewerDist();
  idp = await startOidcProvider();
  archive = await tempArchive({
    storage: 'local',
    viewer: { dist },
    env: { AUTH: 'oidc', OIDC_ISSUER: idp.issuer, OIDC_AUDIENCE: idp.audience, VIEWER_OIDC_CLIENT_ID: idp.viewerClient.clientId },
  });
  const { access_token } = await idp.clientCredentialsToken({ ...idp.machineClient, scope: 'write' });
  const { body, contentType } = stowBody(STUDY.files);
  const stored = await fetch(`${archive.url}/studies`, {
    method: 'POST',
    headers: { 'Content-Type': contentType, Accept: DICOM_JSON, Authorization: `Bearer ${access_token}` },
    body,
  });
  expect(stored.status).toBe(200);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await archive?.close();
  await idp?.close();
});

/** A fresh browser context (no session, no token), its page watched; a screenshot kept if `check` fails. */
async function inFreshBrowser(name: string, check: (page: Page, watch: PageWatch, requests: Request[]) => Promise<void>): Promise<void> {
  const { context, page, watch } = await viewerPage(browser, archive.url);
  const requests: Request[] = [];
  page.on('request', (request) => requests.push(request));
  try {
    await checkPage(page, watch, `viewer-login-${name}`, () => check(page, watch, requests));
  } finally {
    await context.close();
  }
}

/** The DICOMweb requests the page sent to the archive (not the viewer's own files). */
const archiveRequests = (requests: readonly Request[]) =>
  requests.filter((r) => r.url().startsWith(archive.url) && !new URL(r.url()).pathname.startsWith('/viewer'));

describe('the viewer of an archive checking OIDC access tokens', () => {
  it('logs in by the code flow with PKCE and lists the studies with the access token', async () => {
    await inFreshBrowser('code-flow', async (page, _watch, requests) => {
      await page.goto(`${archive.url}/viewer/`);
      await page.getByText(STUDY.patientName.replace('^', ', '), { exact: true }).waitFor({ timeout: TIMEOUT_MS });
      const authorize = requests.find((r) => r.url().startsWith(`${idp.issuer}/auth`));
      expect(authorize, 'the page went to the issuer').toBeDefined();
      const params = new URL(authorize!.url()).searchParams;
      expect(params.get('response_type')).toBe('code');
      expect(params.get('code_challenge_method')).toBe('S256');
      expect(params.get('client_id')).toBe(idp.viewerClient.clientId);
      expect(params.get('redirect_uri')).toBe(`${archive.url}/viewer/callback`);
      const searches = archiveRequests(requests);
      expect(searches.length).toBeGreaterThan(0);
      for (const search of searches) expect(search.headers().authorization, search.url()).toMatch(/^Bearer ey/);
    });
  }, 90_000);

  it('opens a link carrying its own token with no login, and paints the study', async () => {
    const { access_token } = await idp.clientCredentialsToken({ ...idp.readOnlyClient, scope: 'read' });
    await inFreshBrowser('token-link', async (page, _watch, requests) => {
      await page.goto(`${archive.url}/viewer/viewer?StudyInstanceUIDs=${STUDY.studyInstanceUID}&token=${access_token}`);
      await expectViewportPainted(page, TIMEOUT_MS);
      expect(requests.filter((r) => r.url().startsWith(idp.issuer))).toEqual([]);
      const sent = archiveRequests(requests);
      expect(sent.some((r) => r.url().includes('/frames/'))).toBe(true);
      for (const request of sent) expect(request.headers().authorization, request.url()).toBe(`Bearer ${access_token}`);
      // OHIF takes the token out of the address bar.
      expect(page.url()).not.toContain('token=');
    });
  }, 90_000);
});
