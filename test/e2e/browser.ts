import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { REPO } from '../helpers/server.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SHOTS = path.join(REPO, 'test-results');

/** Debian's Chromium, headless, with the flags this closed network needs. */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (the CI script does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', ...extraArgs],
  });
}

/** A page that fails the test on any uncaught error or console error. */
export async function openPage(browser: Browser, url: string, errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  return page;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/**
 * Waits for the run shown in `progress` to end and expects it to have succeeded; a failed or cancelled run fails the
 * test at once with what the page says (its reason), instead of waiting out the timeout. `resumed`: the run was just
 * resumed from a cancel or failure, so its old badge is ignored.
 */
export async function succeeded(progress: Locator, timeout: number, opts: { resumed?: boolean } = {}): Promise<void> {
  const ended = progress.locator('.badge-succeeded, .badge-failed, .badge-cancelled, .badge-interrupted').first();
  // a resumed run shows its old end until the page hears it is queued again
  if (opts.resumed) await progress.locator('.badge-queued, .badge-running, .badge-succeeded').first().waitFor({ timeout });
  await ended.waitFor({ timeout });
  const cls = (await ended.getAttribute('class')) ?? '';
  if (!cls.includes('badge-succeeded')) throw new Error(`the run ended ${cls}: ${await progress.innerText()}`);
}
