/**
 * A real browser for e2e suites: Debian's Chromium driven by playwright-core (never a browser
 * download), headless, WebGL on SwiftShader (the viewer's viewports draw with WebGL). Watches a page
 * for what a user would see fail, and keeps a screenshot of a failure under test-artifacts/.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { expect } from 'vitest';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where screenshots of failures are kept (git-ignored; docs/testing.md). */
export const TEST_ARTIFACTS_DIR = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: the browser suite drives Debian's chromium package ` +
        '(apt-get install -y chromium, as .ci/run does), or set CHROMIUM_PATH',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      // Tests run as root in containers, where Chromium's sandbox cannot start.
      '--no-sandbox',
      '--disable-dev-shm-usage',
      // WebGL without a GPU: ANGLE on SwiftShader.
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
      '--ignore-gpu-blocklist',
    ],
  });
}

/** What went wrong on a page while it was watched. */
export interface PageWatch {
  readonly problems: string[];
  /** Responses of the archive's DICOMweb services, as `STATUS METHOD path`. */
  readonly archiveResponses: string[];
  clear(): void;
}

/**
 * Collects failed requests, answers >= 400 from the archive (`origin`), uncaught page errors and
 * console errors other than those in `ignoredConsole`.
 */
export function watchPage(page: Page, origin: string, ignoredConsole: readonly RegExp[] = []): PageWatch {
  const problems: string[] = [];
  const archiveResponses: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    if (!ignoredConsole.some((re) => re.test(text))) problems.push(`console error: ${text}`);
  });
  page.on('requestfailed', (request) => {
    const failure = request.failure()?.errorText ?? '';
    // A request the page itself gave up (navigation, aborted prefetch) is not a failure of the archive.
    if (failure === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${request.method()} ${request.url()} ${failure}`);
  });
  page.on('response', (response) => {
    if (!response.url().startsWith(origin)) return;
    const { pathname, search } = new URL(response.url());
    if (!pathname.startsWith('/viewer')) archiveResponses.push(`${response.status()} ${response.request().method()} ${pathname}${search}`);
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
  });
  return {
    problems,
    archiveResponses,
    clear: () => {
      problems.length = 0;
      archiveResponses.length = 0;
    },
  };
}

/** Keeps a screenshot of the page as test-artifacts/<name>.png; never fails the caller. */
export async function keepScreenshot(page: Page, name: string): Promise<string | undefined> {
  try {
    await mkdir(TEST_ARTIFACTS_DIR, { recursive: true });
    const file = path.join(TEST_ARTIFACTS_DIR, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  } catch {
    return undefined;
  }
}

/** True when the image has more than one colour (a blank viewport is all one colour). */
export async function notUniform(png: Buffer): Promise<boolean> {
  const { channels } = await sharp(png).removeAlpha().stats();
  return channels.some((c) => c.max - c.min > 16);
}

/**
 * The first viewport's canvas (cornerstone's) alone: every other element hidden while its screenshot
 * is taken, so the viewer's overlays (patient text, dialogs) cannot make a blank viewport look painted.
 */
export async function viewportScreenshot(page: Page, timeout: number): Promise<Buffer> {
  const canvas = page.locator('canvas.cornerstone-canvas').first();
  await canvas.waitFor({ state: 'visible', timeout });
  const style = await page.addStyleTag({
    content: 'body * { visibility: hidden !important; } canvas.cornerstone-canvas { visibility: visible !important; }',
  });
  try {
    return await canvas.screenshot();
  } finally {
    await style.evaluate((element) => element.remove());
  }
}

/** Waits until the first viewport is painted (its canvas not one colour), failing after `timeout` ms. */
export async function expectViewportPainted(page: Page, timeout: number): Promise<void> {
  await expect.poll(async () => notUniform(await viewportScreenshot(page, timeout)), { timeout, interval: 500 }).toBe(true);
}

/** Waits until OHIF's PDF viewport shows a document: its <object> on a blob: URL, painted (not one colour). */
export async function expectPdfShown(page: Page, timeout: number): Promise<void> {
  const pdf = page.locator('object[type="application/pdf"]');
  await pdf.waitFor({ state: 'attached', timeout });
  expect(await pdf.getAttribute('data')).toMatch(/^blob:/);
  await expect.poll(async () => notUniform(await pdf.screenshot()), { timeout, interval: 500 }).toBe(true);
}

/**
 * Runs `check` on a watched page, waits for its late requests (thumbnails, prefetch), and fails when
 * the page had a problem; a failure keeps a screenshot as test-artifacts/<name>.png and names the
 * page's problems in its message.
 */
export async function checkPage(page: Page, watch: PageWatch, name: string, check: () => Promise<void>): Promise<void> {
  watch.clear();
  try {
    await check();
    await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => undefined);
    expect(watch.problems, name).toEqual([]);
  } catch (error) {
    const file = await keepScreenshot(page, name);
    if (error instanceof Error) error.message += `\n(screenshot: ${file}; page problems: ${JSON.stringify(watch.problems)})`;
    throw error;
  }
}

/**
 * What a returning user of the OHIF Viewer has dismissed (its onboarding tour, its investigational-use
 * banner), which would cover the viewport: an init script for a browser context. A frame without
 * storage (a PDF's document) throws: nothing to dismiss there.
 */
export const OHIF_RETURNING_USER =
  'try { localStorage.setItem("shownTours", \'["basicViewerTour"]\'); ' +
  'sessionStorage.setItem("investigationalUseDialog", "hidden"); } catch {}';

/**
 * A page in a context of its own, as the viewer suites drive it: 1280 x 800, a returning user of OHIF,
 * watched (watchPage) for the answers of `origin`.
 */
export async function viewerPage(browser: Browser, origin: string): Promise<{ context: BrowserContext; page: Page; watch: PageWatch }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript({ content: OHIF_RETURNING_USER });
  const page = await context.newPage();
  return { context, page, watch: watchPage(page, origin) };
}
