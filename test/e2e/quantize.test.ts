import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { tempDir } from '../helpers/tmp.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { launchBrowser, openPage, screenshot } from './browser.js';

let server: ServerProcess;
let browser: Browser;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  server = await startServer(tempDir()); // the sample workspace's demo model (F16) is the source
  browser = await launchBrowser();
  page = await openPage(browser, `${server.url}/#/models`, errors);
  await page.getByText('tiny-demo-llama').waitFor();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the Quantize page in Chromium', () => {
  it('quantizes the demo model to a ladder of three types and shows each file against the source', async () => {
    await page.goto(`${server.url}/#/quantize`);
    const form = page.getByTestId('quantize-form');
    await form.getByLabel('Source model').waitFor();
    // the usual three are ticked; a type that needs an importance matrix blocks the start until it is given or unticked
    const types = form.getByRole('group', { name: 'Types' });
    for (const t of ['Q8_0', 'Q6_K', 'Q4_K_M']) await expect(types.getByLabel(t, { exact: true }).isChecked()).resolves.toBe(true);
    await types.getByText('IQ2_XS').click();
    await expect(page.getByTestId('needs-imatrix').innerText()).resolves.toBe('IQ2_XS needs an importance matrix: give one, or untick it.');
    await expect(form.getByRole('button', { name: /^Quantize/ }).isDisabled()).resolves.toBe(true);
    await screenshot(page, 'quantize-form');
    await types.getByText('IQ2_XS').click();
    await form.getByRole('button', { name: 'Quantize (3 types)' }).click();

    await page.waitForURL(/#\/quantize\/\d+$/);
    await page.getByTestId('quantize-progress').locator('.badge-succeeded').waitFor({ timeout: 120_000 });
    const rows = page.getByTestId('quantize-files').locator('tbody tr');
    await expect(rows.count()).resolves.toBe(3);
    const text = await page.getByTestId('quantize-files').innerText();
    expect(text).toMatch(/Q8_0\s+[\d.]+ MB\s+8\.\d\d\s+1\.\d\d×/);
    expect(text).toMatch(/Q4_K_M\s+[\d.]+ MB\s+[45]\.\d\d\s+[23]\.\d\d×/);
    expect(text).toContain('tiny-demo-llama-Q6_K.gguf');
    await expect(page.locator('.size-bar').count()).resolves.toBe(3);
    await screenshot(page, 'quantize-run');

    // the files joined the library: a quantized model's page opens from the table
    await page.getByRole('link', { name: 'tiny-demo-llama-Q4_K_M.gguf' }).click();
    await page.waitForURL(/#\/models\/\d+$/);
    await page.getByText('Quantized from tiny-demo-llama (Q4_K_M) by run').waitFor();

    // the same ladder again: the existing files are not replaced without asking
    await page.goto(`${server.url}/#/quantize`);
    await page.getByTestId('quantize-form').getByRole('button', { name: 'Quantize (3 types)' }).click();
    await page.getByText(/already exists/).waitFor();
    // the refusal is an HTTP 409 the console reports; anything else would be a page error
    expect(errors.filter((e) => !/Failed to load resource: the server responded with a status of 409/.test(e))).toEqual([]);
  }, 240_000);
});
