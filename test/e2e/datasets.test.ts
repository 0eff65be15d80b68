import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { tempDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/workspace.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { launchBrowser, openPage, screenshot } from './browser.js';

let server: ServerProcess;
let browser: Browser;
let page: Page;
const errors: string[] = [];
const dir = tempDir();

beforeAll(async () => {
  server = await startServer(tempDir(), ['--no-sample']);
  browser = await launchBrowser();
  page = await openPage(browser, `${server.url}/#/datasets`, errors);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** 60 support tickets: every third about billing, the rest about printers. */
function ticketsFile(): string {
  const file = path.join(dir, 'tickets.jsonl');
  const lines = [];
  for (let i = 1; i <= 60; i++) {
    const topic = i % 3 === 0 ? `billing: invoice ${i} was charged twice` : `printer ${i} shows a paper jam`;
    lines.push(
      JSON.stringify({
        messages: [
          { role: 'user', content: `Ticket ${i}: ${topic}` },
          { role: 'assistant', content: `**Fix** for ${i}:\n\n\`\`\`\nreset ${i}\n\`\`\`` },
        ],
      }),
    );
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

describe('curating a dataset in Chromium', () => {
  it('imports, searches, tags the matching examples, splits, commits, exports per split and diffs', async () => {
    await page.getByRole('button', { name: 'Import…' }).click();
    await page.getByLabel('Dataset file path').fill(ticketsFile());
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByTestId('import-preview').getByText('Format openai').waitFor();
    await page.getByLabel('Dataset name').fill('tickets');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.waitForURL(/#\/runs\/\d+$/);
    await page.locator('.badge-succeeded').first().waitFor({ timeout: 30_000 });

    await page.goto(`${server.url}/#/datasets/tickets`);
    await page.getByTestId('example-1').waitFor();
    await page.getByTestId('example-3').click();
    const conversation = page.getByTestId('conversation');
    await conversation.locator('strong', { hasText: 'Fix' }).waitFor(); // markdown rendered
    await expect(conversation.locator('pre code').innerText()).resolves.toContain('reset 3');

    await page.getByLabel('Search examples').fill('billing');
    await page.getByLabel('Search examples').press('Enter');
    await page.getByTestId('matching-count').filter({ hasText: '20 matching' }).waitFor();
    await page.getByLabel('Tag', { exact: true }).fill('billing');
    await page.getByTestId('bulk-actions').getByRole('button', { name: 'Tag', exact: true }).click();
    await page.getByRole('status').filter({ hasText: '20 changed' }).waitFor();
    await page.getByTestId('working-copy').getByText('Tagged #billing: examples matching “billing”').waitFor();
    await screenshot(page, 'dataset-tagged');

    await page.getByLabel('Search examples').fill('');
    await page.getByLabel('Search examples').press('Enter');
    await page.getByTestId('split-tool').getByRole('button', { name: 'Split' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /Split 60 examples .* 60 changed/ })
      .waitFor();
    await page.getByLabel('Commit message').fill('billing tagged, 80/10/10 split');
    await page.getByRole('button', { name: 'Commit version 2' }).click();
    await page.getByText('No uncommitted changes.').waitFor();
    await expect(page.getByLabel('Version').inputValue()).resolves.toBe('2');
    await page.getByTestId('split-tool').getByText('train 48 · validation 6 · test 6 · none 0').waitFor();

    await page.getByLabel('Split', { exact: true }).selectOption('test');
    await page.getByTestId('matching-count').filter({ hasText: '6 matching' }).waitFor();
    await page.getByLabel('Tag filter').selectOption('billing');
    const billingTests = Number((await page.getByTestId('matching-count').innerText()).split(' ')[0]);
    expect(billingTests).toBeLessThanOrEqual(6);
    await screenshot(page, 'dataset-split');

    const out = path.join(dir, 'export', 'tickets.jsonl');
    fs.mkdirSync(path.dirname(out)); // an export never creates folders
    fs.writeFileSync(path.join(dir, 'export', 'tickets.test.jsonl'), 'an older export\n');
    await page.getByLabel('Export split').selectOption('each');
    await page.getByLabel('Export file').fill(out);
    await page.getByTestId('export-tool').getByRole('button', { name: 'Export' }).click();
    // One of the files exists: the form asks before replacing it, and replaces it when told to.
    const confirm = page.getByTestId('export-tool').getByTestId('replace-confirm');
    await confirm.getByText(`${path.join(dir, 'export', 'tickets.test.jsonl')} already exists — replace it?`).waitFor();
    expect(fs.existsSync(`${out}.manifest.json`)).toBe(false);
    await confirm.scrollIntoViewIfNeeded();
    await screenshot(page, 'dataset-export-replace');
    await confirm.getByRole('button', { name: 'Replace' }).click();
    await waitUntil(() => fs.existsSync(`${out}.manifest.json`), 30_000, 'the export manifest');
    const lines = (f: string) => fs.readFileSync(f, 'utf8').trim().split('\n').length;
    expect([
      lines(path.join(dir, 'export', 'tickets.train.jsonl')),
      lines(path.join(dir, 'export', 'tickets.validation.jsonl')),
      lines(path.join(dir, 'export', 'tickets.test.jsonl')),
    ]).toEqual([48, 6, 6]);
    const manifest = JSON.parse(fs.readFileSync(`${out}.manifest.json`, 'utf8')) as { splits: Record<string, number>; version: number };
    expect(manifest).toMatchObject({ version: 2, splits: { train: 48, validation: 6, test: 6 } });

    await page.goto(`${server.url}/#/datasets/tickets/diff/1..2`);
    await page.getByTestId('diff-counts').getByText('60 relabeled').waitFor();
    await screenshot(page, 'dataset-diff');
  });

  it('imports a CSV through a column mapping, reviews near-duplicate clusters and scans for PII', async () => {
    const csv = path.join(dir, 'faq.csv');
    fs.writeFileSync(
      csv,
      [
        'q,a,notes',
        '"How do I reset the router, step by step?","Hold the reset button for ten seconds, then wait for the lights.",x',
        '"How do I reset the router, step by step ?","Hold the reset button for ten seconds, then wait for the lights!",y',
        'Where do invoices go?,"They are mailed to billing@example.com every month.",z',
        'Which printer drivers support Linux?,All of them support IPP Everywhere.,w',
      ].join('\n') + '\n',
    );
    await page.goto(`${server.url}/#/datasets`);
    await page.getByRole('button', { name: 'Import…' }).click();
    await page.getByLabel('Dataset file path').fill(csv);
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByTestId('column-mapping').waitFor();
    await page.getByLabel('prompt column').selectOption('q');
    await page.getByLabel('response column').selectOption('a');
    await page.getByTestId('import-preview').getByText('4 examples, 0 rejected').waitFor();
    await screenshot(page, 'dataset-import-mapping');
    await page.getByLabel('Dataset name').fill('faq');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.waitForURL(/#\/runs\/\d+$/);
    await page.locator('.badge-succeeded').first().waitFor({ timeout: 30_000 });

    await page.goto(`${server.url}/#/datasets/faq`);
    await page.getByTestId('example-2').waitFor();
    await page.getByTestId('duplicates-tool').getByLabel('Similarity threshold').fill('0.8');
    await page.getByTestId('duplicates-tool').getByRole('button', { name: 'Find' }).click();
    await page
      .getByTestId('duplicates-tool')
      .getByRole('link', { name: /^run \d+$/ })
      .click();
    await page.locator('.badge-succeeded').first().waitFor({ timeout: 30_000 });
    await page.goto(`${server.url}/#/datasets/faq/duplicates`);
    const cluster = page.getByTestId('cluster');
    await cluster.first().waitFor();
    await expect(cluster.count()).resolves.toBe(1);
    await expect(cluster.getByRole('radio').count()).resolves.toBe(2);
    await cluster.getByRole('radio').nth(1).check();
    await screenshot(page, 'dataset-duplicates');
    await page.getByRole('button', { name: 'Keep one per cluster' }).click();
    await page.getByTestId('resolve-result').filter({ hasText: '1 removed' }).waitFor();
    await page.goto(`${server.url}/#/datasets/faq`);
    await page.getByTestId('example-3').waitFor(); // CSV records start on line 2: the cluster was lines 2 and 3
    await expect(page.getByTestId('example-2').count()).resolves.toBe(0); // the second one was kept
    await page.getByTestId('example-4').waitFor();

    await page.getByTestId('scan-tool').getByRole('button', { name: 'Scan' }).click();
    await page
      .getByTestId('scan-tool')
      .getByRole('link', { name: /^run \d+$/ })
      .click();
    await page.locator('.badge-succeeded').first().waitFor({ timeout: 30_000 });
    await page.getByTestId('bars').getByText('pii:email').waitFor();
    await screenshot(page, 'dataset-scan-run');
  });

  it('shows a tool-calling conversation: the tools offered, each call with its arguments, each result apart', async () => {
    const samples = path.join(path.dirname(fileURLToPath(import.meta.url)), '../datasets/samples');
    await page.goto(`${server.url}/#/datasets`);
    await page.getByRole('button', { name: 'Import…' }).click();
    await page.getByLabel('Dataset file path').fill(path.join(samples, 'sharegpt-tools.jsonl'));
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByTestId('import-preview').getByText('Format sharegpt').waitFor();
    await page.getByLabel('Dataset name').fill('glaive');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.waitForURL(/#\/runs\/\d+$/);
    await page.locator('.badge-succeeded').first().waitFor({ timeout: 30_000 });

    await page.goto(`${server.url}/#/datasets/glaive`);
    await page.getByTestId('example-1').click();
    const conversation = page.getByTestId('conversation');
    await expect(conversation.getByTestId('tool-call').count()).resolves.toBe(2);
    await expect(conversation.getByTestId('tool-result').count()).resolves.toBe(2);
    await expect(conversation.getByTestId('tool-call').first().innerText()).resolves.toMatch(/calls calculate_area · call_1\s+\{\s+"shape": "rectangle"/);
    await expect(conversation.getByTestId('tool-result').first().innerText()).resolves.toMatch(/result of calculate_area · call_1\s+\{\s+"area": 15/);
    await conversation.getByTestId('tool-list').getByText('Tools (2): calculate_area, calculate_discount').click();
    await conversation.getByText('Calculate the discounted price based on original price and discount percentage').waitFor();
    await conversation.getByTestId('tool-result').first().scrollIntoViewIfNeeded();
    await screenshot(page, 'dataset-tool-calls');
  });

  it('warns in the preview when no record is valid, and the import is refused in one line', async () => {
    const file = path.join(dir, 'answers-only.jsonl');
    fs.writeFileSync(file, [1, 2, 3].map((i) => JSON.stringify({ messages: [{ role: 'assistant', content: `answer ${i}` }] })).join('\n') + '\n');
    await page.goto(`${server.url}/#/datasets`);
    await page.getByRole('button', { name: 'Import…' }).click();
    await page.getByLabel('Dataset file path').fill(file);
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect(page.getByTestId('preview-none-valid').innerText()).resolves.toMatch(/^None of the first 3 records can be imported/);
    await page.getByLabel('Dataset name').fill('none');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page
      .getByTestId('import-preview')
      .getByText(/answers-only\.jsonl has no valid record \(3 rejected; line 1: .*\): nothing to import/)
      .waitFor();
    expect(page.url()).toMatch(/#\/datasets$/);
  });

  it('logged no page errors', () => {
    expect(errors.filter((e) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(e))).toEqual([]);
  });
});
