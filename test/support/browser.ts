/**
 * A real browser for e2e suites: Debian's Chromium driven by playwright-core (never a browser
 * download), headless, WebGL on SwiftShader (the viewer's viewports draw with WebGL). Watches a page
 * for what a user would see fail, and keeps a screenshot of a failure under test-artifacts/.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';

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

/**
 * What a returning user of the OHIF Viewer has dismissed (its onboarding tour, its investigational-use
 * banner), which would cover the viewport: an init script for a browser context. A frame without
 * storage (a PDF's document) throws: nothing to dismiss there.
 */
export const OHIF_RETURNING_USER =
  'try { localStorage.setItem("shownTours", \'["basicViewerTour"]\'); ' +
  'sessionStorage.setItem("investigationalUseDialog", "hidden"); } catch {}';
