import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { tempDir, waitUntil } from '../helpers/workspace.js';
import { callHttp, startServer, type ServerProcess } from '../helpers/server.js';
import { launchBrowser, openPage, screenshot, succeeded } from './browser.js';

let server: ServerProcess;
let browser: Browser;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  server = await startServer(tempDir()); // with the sample model and the sample dataset
  await waitUntil(
    async () => (((await callHttp(server.url, 'runs.list', {})).value ?? []) as { status: string }[]).filter((r) => r.status === 'succeeded').length === 2,
    60_000,
    'the sample workspace',
  );
  browser = await launchBrowser();
  page = await openPage(browser, `${server.url}/#/distill`, errors);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('distillation in Chromium', () => {
  it('starts a run from the form, shows answers beside their prompts as they arrive, cancels, resumes, opens the training set', async () => {
    await page.getByLabel('Dataset', { exact: true }).selectOption('sample-support');
    await page.getByLabel('Teacher').selectOption({ label: 'tiny-demo-llama (F16)' });
    await page.getByLabel('max tokens').fill('200');
    await page.getByLabel('temperature').fill('0');
    await page.getByLabel('parallel').fill('1');
    await page.getByLabel('reject truncated answers').uncheck();
    await expect(page.getByLabel('output dataset').inputValue()).resolves.toBe('sample-support-distilled');
    await page.getByTestId('distill-estimate').filter({ hasText: '24 answers · at most 4,800 tokens · speed not measured yet' }).waitFor();
    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/#\/distill\/\d+$/);
    // the answer being written shows as it grows, before it is committed
    await page.getByTestId('distill-in-flight').locator('tbody tr').first().waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="distill-in-flight"] tbody td:nth-child(3)')?.textContent) >= 20, null, {
      timeout: 60_000,
    });
    await screenshot(page, 'distill-streaming');
    const answers = page.getByTestId('distill-answers');
    await answers.locator('tbody tr').first().waitFor({ timeout: 60_000 });
    await expect(answers.locator('tbody tr').first().innerText()).resolves.toContain('My printer shows error E-04 after replacing the toner.');
    await screenshot(page, 'distill-running');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('distill-progress').locator('.badge-cancelled').waitFor({ timeout: 30_000 });
    // a cancelled run shows what it made, no time left, and nothing being written
    await page
      .getByTestId('distill-progress')
      .filter({ hasText: /answers \(\d+ kept, 0 rejected\) · cancelled/ })
      .waitFor();
    await expect(page.getByTestId('distill-progress').innerText()).resolves.not.toMatch(/left/);
    await expect(page.getByTestId('distill-in-flight').count()).resolves.toBe(0);
    const kept = await answers.locator('tbody tr').count();
    expect(kept).toBeLessThan(24);
    await page.getByRole('button', { name: 'Resume' }).click();
    await succeeded(page.getByTestId('distill-progress'), 120_000, { resumed: true });
    await page.getByRole('button', { name: '24 answers' }).waitFor();
    await screenshot(page, 'distill-done');
    await page.getByRole('link', { name: 'sample-support-distilled@1' }).click();
    await page.getByTestId('example-1').waitFor();
    await expect(page.locator('main').innerText()).resolves.toContain('24 examples');
  });

  it('saves an API key from the form (encrypted, never shown again), runs with an LLM judge, and excludes a kept answer', async () => {
    await page.goto(`${server.url}/#/distill`);
    await page.getByLabel('Dataset', { exact: true }).selectOption('sample-support');
    await page.getByLabel('Teacher', { exact: true }).selectOption('server');
    await page.getByLabel('Teacher API key').selectOption('+');
    await page.getByLabel('Key name').fill('my-server');
    await page.getByLabel('API key', { exact: true }).fill('sk-e2e-never-shown-123456');
    await page.getByRole('button', { name: 'Save key' }).click();
    // selected once the saved key is among the options (the list is fetched again after the save)
    await page.waitForFunction(() => (document.querySelector('select[aria-label="Teacher API key"]') as HTMLSelectElement | null)?.value === 'my-server');
    const listed = (await callHttp(server.url, 'secrets.list', {})).value as { secrets: { name: string }[] };
    expect(listed.secrets.map((k) => k.name)).toEqual(['my-server']);
    expect(JSON.stringify(listed)).not.toContain('sk-e2e-never-shown');
    expect(await page.content()).not.toContain('sk-e2e-never-shown');
    await page.getByLabel('Teacher model name').fill('gpt-4o-mini');
    await screenshot(page, 'distill-form-server');

    await page.getByLabel('Teacher', { exact: true }).selectOption({ label: 'tiny-demo-llama (F16)' });
    await page.getByLabel('max tokens').fill('24');
    await page.getByLabel('temperature').fill('0');
    await page.getByLabel('only the first').fill('4');
    await page.getByLabel('reject truncated answers').uncheck();
    await page.getByLabel('LLM judge').check();
    await page.getByLabel('Judge', { exact: true }).selectOption({ label: 'tiny-demo-llama (F16)' });
    await page.getByLabel('Rubric').fill('The answer helps the customer.');
    await page.getByLabel('pass mark (1–10)').fill('1');
    await page.getByLabel('output dataset').fill('judged-tickets');
    await screenshot(page, 'distill-form-judge');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/#\/distill\/\d+$/);
    await succeeded(page.getByTestId('distill-progress'), 120_000);
    const answers = page.getByTestId('distill-answers');
    await page.getByRole('button', { name: '4 kept' }).waitFor();
    // every answer has the judge's score, 1..10
    const scores = await answers.locator('tbody tr td:nth-child(4)').allInnerTexts();
    expect(scores).toHaveLength(4);
    for (const sc of scores) expect(sc).toMatch(/^(10|[1-9])\/10$/);
    await answers.getByRole('button', { name: 'exclude' }).first().click();
    await page.getByRole('status').filter({ hasText: 'removed from the working copy of judged-tickets' }).waitFor();
    await page.getByRole('button', { name: '3 kept' }).waitFor();
    await screenshot(page, 'distill-judged');
  });

  it('a run whose first answers are all cut short stops early, says what to change, and runs again with its settings', async () => {
    await page.goto(`${server.url}/#/distill`);
    await page.getByLabel('Dataset', { exact: true }).selectOption('sample-support');
    await page.getByLabel('Teacher', { exact: true }).selectOption({ label: 'tiny-demo-llama (F16)' });
    await page.getByLabel('max tokens').fill('3');
    await page.getByLabel('temperature').fill('0');
    await page.getByLabel('parallel').fill('2');
    await page.getByLabel('output dataset').fill('cut-short');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/#\/distill\/\d+$/);
    const runId = Number(/\/distill\/(\d+)$/.exec(page.url())![1]);
    await page.getByTestId('distill-progress').locator('.badge-failed').waitFor({ timeout: 120_000 });
    await expect(page.getByTestId('distill-error').innerText()).resolves.toBe(
      "the first 8 answers all hit max tokens 3; raise it or untick 'reject truncated' (CLI: --keep-truncated) (stopped early; resume the run to answer the rest anyway)",
    );
    await page.getByRole('button', { name: '0 kept' }).waitFor();
    await screenshot(page, 'distill-failed');
    // the runs list: kept and rejected per run
    await page.goto(`${server.url}/#/distill`);
    const row = page.locator('tr', { hasText: 'cut-short' });
    await row
      .getByTestId('distill-run-counts')
      .filter({ hasText: /^0 kept · \d+ rejected$/ })
      .waitFor();
    await row.locator('.badge-failed').waitFor();
    await screenshot(page, 'distill-runs-list');
    // run again: the form holds that run's settings (its output name is free: it wrote no dataset)
    await row.click();
    await page.getByRole('button', { name: 'Run again with these settings' }).click();
    await page.waitForURL(new RegExp(`#/distill/again/${runId}$`));
    await page.getByTestId('distill-again').waitFor();
    await expect(page.getByLabel('max tokens').inputValue()).resolves.toBe('3');
    await expect(page.getByLabel('parallel').inputValue()).resolves.toBe('2');
    await expect(page.getByLabel('output dataset').inputValue()).resolves.toBe('cut-short');
    await expect(page.getByLabel('fail above % rejected').inputValue()).resolves.toBe('50');
    await expect(page.getByLabel('Teacher', { exact: true }).inputValue()).resolves.not.toBe('');
    await expect(page.getByLabel('reject truncated answers').isChecked()).resolves.toBe(true);
    await screenshot(page, 'distill-run-again');
  });

  it('logged no page errors', () => {
    expect(errors.filter((e) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(e))).toEqual([]);
  });
});
