import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { tempDir, waitUntil } from '../helpers/workspace.js';
import { callHttp, startServer, type ServerProcess } from '../helpers/server.js';
import { fixtureAdapter, fixtureModel } from '../fixtures/models.js';
import { mulberry32 } from '../../src-main/core/random.js';
import { SHOTS, launchBrowser, openPage, screenshot } from './browser.js';

// Issue 10, "The UI a user met" (points 11–13 and 15–18), in Chromium against `distillery serve`: each test walks
// the path the tester walked and checks what the page shows. Real inference on the fixture models (CPU).
let server: ServerProcess;
let browser: Browser;
let page: Page;
const errors: string[] = [];
let dir: string;
let student: number;
let teacher: number;

async function call<T>(op: string, input: unknown): Promise<T> {
  const r = await callHttp(server.url, op, input);
  if (!r.ok) throw new Error(`${op} ${JSON.stringify(input)}: ${r.error?.code} ${r.error?.message}`);
  return r.value as T;
}

async function waitRun(runId: number): Promise<void> {
  await waitUntil(async () => (await call<{ status: string }>('runs.get', { id: runId })).status === 'succeeded', 90_000, `run ${runId}`);
}

async function importJsonl(name: string, records: object[]): Promise<void> {
  const file = path.join(dir, `${name}.jsonl`);
  fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  await waitRun((await call<{ runId: number }>('datasets.import', { path: file, name })).runId);
}

const go = async (hash: string) => {
  await page.goto(`${server.url}/#${hash}`);
};

beforeAll(async () => {
  dir = tempDir();
  server = await startServer(tempDir(), ['--no-sample']);
  student = (await call<{ id: number }>('models.add', { path: await fixtureModel('student'), roles: ['student'] })).id;
  teacher = (await call<{ id: number }>('models.add', { path: await fixtureModel('teacher'), roles: ['teacher'] })).id;
  await call('adapters.import', { path: await fixtureAdapter('student-lora'), baseModelId: student, name: 'lora-a' });
  // alpha: 30 tickets, the last 10 exact copies of the first 10; 1–3 (and so 21–23) give an e-mail address
  await importJsonl(
    'alpha',
    Array.from({ length: 30 }, (_, i) => {
      const k = (i % 20) + 1;
      return { prompt: `alpha ticket ${k}: the printer jams${k <= 3 ? `, write to user${k}@example.com` : ''}`, completion: `alpha answer ${k}` };
    }),
  );
  await importJsonl(
    'beta',
    Array.from({ length: 12 }, (_, i) => ({ prompt: `beta note ${i + 1} about billing`, completion: `beta reply ${i + 1}` })),
  );
  browser = await launchBrowser();
  page = await openPage(browser, `${server.url}/#/datasets`, errors);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the UI a user met (issue 10)', () => {
  it('11: moving from one dataset to another (link, Back) shows the new dataset’s rows and counts, not the old ones', async () => {
    await go('/datasets/alpha');
    await page.getByTestId('example-1').filter({ hasText: 'alpha ticket 1' }).waitFor();
    await page.getByLabel('Search examples').fill('printer');
    await page.getByLabel('Search examples').press('Enter');
    await page.getByTestId('matching-count').filter({ hasText: '30 matching' }).waitFor();
    await page.getByTestId('bulk-actions').getByText('Apply to all 30 matching').waitFor();

    await go('/datasets/beta');
    await page.getByTestId('example-1').filter({ hasText: 'beta note 1' }).waitFor();
    await expect(page.getByTestId('examples-table').innerText()).resolves.not.toContain('alpha');
    await page.getByTestId('bulk-actions').getByText('Apply to all 12 matching').waitFor();
    await expect(page.getByLabel('Search examples').inputValue()).resolves.toBe(''); // alpha's search did not follow
    await expect(page.getByTestId('matching-count').count()).resolves.toBe(0);

    await page.goBack();
    await page.getByTestId('example-1').filter({ hasText: 'alpha ticket 1' }).waitFor();
    await expect(page.getByTestId('examples-table').innerText()).resolves.not.toContain('beta');
    await page.getByTestId('bulk-actions').getByText('Apply to all 30 matching').waitFor();
    await page.goForward();
    await page.getByTestId('example-1').filter({ hasText: 'beta note 1' }).waitFor();
    await screenshot(page, 'hardening-dataset-navigation');
  });

  it('12: deleting everything a filter matches asks first with the count; the notice follows Undo', async () => {
    await go('/datasets/beta');
    await page.getByLabel('Search examples').fill('billing');
    await page.getByLabel('Search examples').press('Enter');
    await page.getByTestId('matching-count').filter({ hasText: '12 matching' }).waitFor();
    await page.getByTestId('bulk-actions').getByRole('button', { name: 'Delete', exact: true }).click();
    const confirm = page.getByTestId('confirm-delete');
    await confirm.getByText('Delete all 12 matching examples from the working copy?').waitFor();
    await screenshot(page, 'hardening-confirm-delete');
    await confirm.getByRole('button', { name: 'Keep them' }).click();
    await expect(confirm.count()).resolves.toBe(0);
    await expect(page.getByTestId('working-copy').count()).resolves.toBe(0); // nothing was deleted

    await page.getByTestId('bulk-actions').getByRole('button', { name: 'Delete', exact: true }).click();
    await confirm.getByRole('button', { name: 'Delete 12' }).click();
    await page.getByRole('status').filter({ hasText: '12 changed' }).waitFor();
    await page.getByTestId('working-copy').getByRole('button', { name: 'Undo last' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Undid: / })
      .waitFor();
    await expect(page.getByRole('status').innerText()).resolves.not.toContain('12 changed');
    await page.getByTestId('example-1').waitFor(); // the rows are back
  });

  it('15: curation tools say what they found where they were started; freeze works ticked with Split; relabels diff as changes; labels stay in their row', async () => {
    await go('/datasets/alpha');
    await page.getByTestId('example-1').waitFor();
    const split = page.getByTestId('split-tool');
    await split.getByRole('checkbox', { name: /Freeze the test split/ }).check();
    await split.getByText('frozen as soon as Split has made it').waitFor();
    await split.getByRole('button', { name: 'Split' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /Split 30 examples .* 30 changed; test split frozen/ })
      .waitFor();
    await expect(split.getByRole('checkbox', { name: /Freeze the test split/ }).isChecked()).resolves.toBe(true);
    await expect(split.getByRole('alert').count()).resolves.toBe(0);

    const scan = page.getByTestId('scan-tool');
    await scan.getByRole('button', { name: 'Scan' }).click();
    await scan
      .getByTestId('run-outcome')
      .filter({ hasText: '6 examples flagged (pii:email 6). Filter by the flags to review them.' })
      .waitFor({ timeout: 60_000 });

    const dups = page.getByTestId('duplicates-tool');
    await dups.getByLabel('Duplicate mode').selectOption('exact');
    await dups.getByRole('button', { name: 'Find' }).click();
    await dups.getByTestId('run-outcome').filter({ hasText: '10 clusters found, 10 examples beyond the first of each.' }).waitFor({ timeout: 60_000 });

    const out = path.join(dir, 'alpha-export.jsonl');
    const exp = page.getByTestId('export-tool');
    await exp.getByLabel('Export file').fill(out);
    await exp.getByRole('button', { name: 'Export' }).click();
    await exp
      .getByTestId('run-outcome')
      .filter({ hasText: `30 rows exported to ${out}` })
      .waitFor({ timeout: 60_000 });
    await screenshot(page, 'hardening-curation-results');

    await page.getByLabel('Commit message').fill('split, test frozen, scanned');
    await page.getByRole('button', { name: 'Commit version 2' }).click();
    await page.getByText('No uncommitted changes.').waitFor();

    // long labels on a row stay on its 30 px line
    for (const tag of ['a-rather-long-tag-one', 'another-long-tag-two', 'third-long-tag-three']) {
      await page.getByLabel('Tag', { exact: true }).fill(tag);
      await page.getByTestId('bulk-actions').getByRole('button', { name: 'Tag', exact: true }).click();
      await page
        .getByRole('status')
        .filter({ hasText: `#${tag}` })
        .waitFor();
    }
    await page.getByTestId('example-1').locator('.chip', { hasText: 'a-rather-long-tag-one' }).waitFor();
    const row1 = (await page.getByTestId('example-1').boundingBox())!;
    const labels1 = (await page.getByTestId('example-1').locator('.labels').boundingBox())!;
    const row2 = (await page.getByTestId('example-2').boundingBox())!;
    expect(labels1.y).toBeGreaterThanOrEqual(row1.y);
    expect(labels1.y + labels1.height).toBeLessThanOrEqual(row2.y + 0.5); // nothing spills onto the next row
    await page.getByTestId('examples-table').screenshot({ path: path.join(SHOTS, 'hardening-examples-labels.png') });

    await go('/datasets/alpha/diff/1..2');
    await page.getByTestId('diff-counts').getByText('30 relabeled').waitFor();
    const first = page.getByTestId('diff-relabeled').first();
    await expect(first.locator('.chip').first().innerText()).resolves.toMatch(/^split none → (train|validation|test)$/);
    const text = await first.innerText();
    expect(text.split('alpha ticket 1:').length - 1).toBe(1); // the text once, not twice
    await expect(page.getByTestId('diff-relabeled').filter({ hasText: '+⚑pii:email' }).count()).resolves.toBe(6);
    await screenshot(page, 'hardening-diff-relabeled');
  }, 240_000);

  it('13: a Playground chat is multi-turn, survives a reload, regenerates the last answer and clears', async () => {
    await go(`/playground/${teacher}`);
    await page.getByRole('button', { name: 'Chat', exact: true }).waitFor();
    await page.getByRole('spinbutton', { name: 'Max tokens' }).fill('12');
    const send = async (text: string, turns: number) => {
      await page.getByLabel('Message').fill(text);
      await page.getByRole('button', { name: 'Send' }).click();
      await page
        .getByTestId('chat-transcript')
        .getByTestId('chat-assistant')
        .nth(turns - 1)
        .waitFor({ timeout: 60_000 });
      await page.getByRole('button', { name: 'Send' }).waitFor();
      await page.getByTestId('stop-reason').waitFor();
    };
    await send('Hello, who are you?', 1);
    await send('And what can you do?', 2);
    const transcript = page.getByTestId('chat-transcript');
    await expect(transcript.getByTestId('chat-user').allInnerTexts()).resolves.toEqual([
      expect.stringContaining('Hello, who are you?'),
      expect.stringContaining('And what can you do?'),
    ]);
    // the second answer was generated after the first exchange: its prompt held the whole conversation
    const promptTokens = Number(/prompt (\d+) tokens/.exec(await page.getByTestId('generation-stats').innerText())![1]);
    expect(promptTokens).toBeGreaterThan(20);
    await screenshot(page, 'hardening-chat');

    await page.reload();
    await transcript.getByTestId('chat-assistant').nth(1).waitFor();
    await expect(transcript.getByTestId('chat-user').count()).resolves.toBe(2);
    await page.getByTestId('chat-list').getByRole('button', { name: 'Hello, who are you?', exact: true }).waitFor();

    await expect(page.getByTestId('stop-reason').count()).resolves.toBe(0); // nothing generated since the reload
    await page.getByRole('button', { name: 'Regenerate' }).click();
    await page.getByTestId('stop-reason').waitFor({ timeout: 60_000 });
    await expect(transcript.getByTestId('chat-user').count()).resolves.toBe(2); // the last answer replaced, not added
    await expect(transcript.getByTestId('chat-assistant').count()).resolves.toBe(2);

    await page.getByRole('button', { name: 'Clear' }).click();
    await transcript.getByTestId('chat-user').first().waitFor({ state: 'detached' });
    await page.reload();
    await page.getByTestId('chat-list').getByText('No saved chat yet.').waitFor();
    await expect(transcript.getByTestId('chat-assistant').count()).resolves.toBe(0);
  }, 240_000);

  it('16: pickers grey out adapters that do not fit, with the reason; a merge does not carry the adapters onto another model', async () => {
    await go(`/playground/${teacher}`);
    const side = page.getByTestId('playground-adapters');
    await side
      .getByTestId('unusable-lora-a')
      .filter({ hasText: /does not fit .*teacher/ })
      .waitFor();
    await expect(side.getByLabel('Attach lora-a').isDisabled()).resolves.toBe(true);
    await screenshot(page, 'hardening-playground-unusable-adapter');

    await go('/adapters/merge');
    const form = page.getByTestId('merge-form');
    await form.getByLabel('Model', { exact: true }).selectOption(String(teacher));
    const offered = form.getByLabel('Merge add adapter').locator('option', { hasText: 'lora-a' });
    await expect.poll(() => offered.innerText()).toMatch(/lora-a: lora-a does not fit/);
    await expect(offered.isDisabled()).resolves.toBe(true);

    await form.getByLabel('Model', { exact: true }).selectOption(String(student));
    await form.getByLabel('Merge add adapter').selectOption({ label: 'lora-a (r8)' });
    await form.getByLabel('Output file').fill(path.join(dir, 'a-merged.gguf'));
    await form.getByRole('button', { name: 'Merge', exact: true }).click();
    await form.getByTestId('started-run').getByText('New model:').waitFor({ timeout: 120_000 });
    await expect(form.getByLabel('Model', { exact: true }).inputValue()).resolves.toBe(String(student)); // still the base
    const merged = await form.getByTestId('started-run').locator('a[href^="#/models/"]').getAttribute('href');
    const mergedId = /#\/models\/(\d+)/.exec(merged!)![1]!;
    await form.getByLabel('Model', { exact: true }).selectOption(mergedId);
    await expect(form.getByLabel('Merge detach lora-a').count()).resolves.toBe(0); // the merged model has nothing attached
    await screenshot(page, 'hardening-merge-after');
  }, 180_000);

  it('17: the perplexity and sweep pages explain a figure above the vocabulary and warn about too few chunks', async () => {
    const next = mulberry32(4);
    const words = 'the printer paper tray error toner page driver cable network'.split(' ');
    const text = path.join(dir, 'short.txt');
    fs.writeFileSync(text, Array.from({ length: 900 }, () => words[Math.floor(next() * words.length)]).join(' '));
    await go('/adapters/sweep');
    await page.getByTestId('perplexity-help').filter({ hasText: '32,000 for this model' }).waitFor();
    await page.getByTestId('sweep-form').getByLabel('Max chunks').fill('4');
    await page.getByTestId('few-chunks-hint').waitFor();

    await go('/adapters/perplexity');
    const form = page.getByTestId('perplexity-form');
    await form.getByLabel('Model', { exact: true }).selectOption(String(student));
    await page.getByTestId('perplexity-help').filter({ hasText: 'worse than guessing' }).waitFor();
    await form.getByLabel('Text file').fill(text);
    await form.getByLabel('Context size').fill('128');
    await form.getByLabel('Max chunks').fill('3');
    await form.getByTestId('few-chunks-hint').waitFor();
    await form.getByRole('button', { name: 'Measure' }).click();
    await form
      .getByTestId('perplexity-warnings')
      .getByText(/Only 3 chunks of 128 tokens scored: too little text for a meaningful figure/)
      .waitFor({ timeout: 90_000 });
    // the fixture student has random weights: far worse than a uniform guess, which the page says in words
    await form
      .getByTestId('perplexity-warnings')
      .getByText(/is above the vocabulary size \(32,000 tokens\): worse than guessing uniformly/)
      .waitFor();
    await screenshot(page, 'hardening-perplexity-warning');
  }, 180_000);

  it('18: an address that names no page says so and links home; a model page shows its benchmark history', async () => {
    // every room of the navigation is built now (Evaluate was the last planned one): an unknown room is "Not found"
    await go('/nowhere');
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    await expect(page.locator('main').getByRole('link', { name: 'Go to Models' }).getAttribute('href')).resolves.toBe('#/models');
    await expect(page.locator('.nav-item.planned').count()).resolves.toBe(0);
    await screenshot(page, 'hardening-not-found');

    for (const threads of [1, 2]) {
      await waitRun((await call<{ runId: number }>('models.benchmark', { id: student, promptTokens: 16, generateTokens: 8, repetitions: 1, threads })).runId);
    }
    await go(`/models/${student}`);
    const history = page.getByTestId('benchmark-history');
    await expect.poll(() => history.getByTestId('benchmark-row').count(), { timeout: 20_000 }).toBe(2);
    await expect(history.getByTestId('benchmark-row').nth(1).innerText()).resolves.toMatch(/2\s+\d+(\.\d)? tokens\/s/);
    await expect(history.locator('canvas').count()).resolves.toBeGreaterThan(0);
    await history.screenshot({ path: path.join(SHOTS, 'hardening-benchmark-history.png') });
  }, 120_000);

  it('left no error in the page console', () => {
    expect(errors).toEqual([]);
  });
});
