import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { tempDir, waitUntil } from '../helpers/workspace.js';
import { callHttp, startServer, type ServerProcess } from '../helpers/server.js';
import { launchBrowser, openPage, screenshot } from './browser.js';

// The chain on a run's page, in Chromium against `distillery serve` on the sample workspace: a short real loop made
// through the contract (the demo model distils four prompts of the sample dataset; its answers are curated into @2; an
// evaluation reads @2), then the distillation's page lists the steps in order, each a link, and "Run again from here"
// opens the Distill form filled with the run's settings, its dataset at the latest version (curated since).
let server: ServerProcess;
let browser: Browser;
let page: Page;
const errors: string[] = [];
let demo: number;
let distill: number;
let evaluate: number;
let quantize: number;

async function call<T>(op: string, input: unknown): Promise<T> {
  const r = await callHttp(server.url, op, input);
  if (!r.ok) throw new Error(`${op} ${JSON.stringify(input)}: ${r.error?.code} ${r.error?.message}`);
  return r.value as T;
}
/** Waits for a run to end and expects it to have succeeded. */
async function succeeded(runId: number, timeoutMs = 120_000): Promise<void> {
  let status = '';
  await waitUntil(
    async () => !['queued', 'running'].includes((status = (await call<{ status: string }>('runs.get', { id: runId })).status)),
    timeoutMs,
    `run ${runId}`,
  );
  expect(status, `run ${runId}`).toBe('succeeded');
}
/** Tags every example of the dataset's working copy and commits it: a curation by hand, no run. */
async function curate(name: string, tag: string): Promise<number> {
  await call('datasets.curate', { name, selection: { filter: {} }, action: { kind: 'tag', tag } });
  return (await call<{ number: number }>('datasets.commit', { name, message: `tagged ${tag}` })).number;
}

beforeAll(async () => {
  server = await startServer(tempDir()); // with the sample model and the sample dataset
  await waitUntil(
    async () => (((await callHttp(server.url, 'runs.list', {})).value ?? []) as { status: string }[]).filter((r) => r.status === 'succeeded').length === 2,
    60_000,
    'the sample workspace',
  );
  demo = (await call<{ id: number; name: string }[]>('models.list', {})).find((m) => m.name === 'tiny-demo-llama')!.id;
  distill = (
    await call<{ runId: number }>('distill.start', {
      dataset: 'sample-support',
      teacher: { modelId: demo },
      template: { system: 'You answer support tickets.', user: 'Ticket: {{prompt}}' },
      generation: { temperature: 0, maxTokens: 12, samples: 1, seed: 7 },
      filters: { truncated: false },
      parallel: 2,
      limit: 4,
      outName: 'tickets',
    })
  ).runId;
  await succeeded(distill);
  expect(await curate('tickets', 'reviewed')).toBe(2);
  evaluate = (
    await call<{ runId: number }>('evaluate.start', {
      dataset: 'tickets',
      split: 'all',
      variants: [{ kind: 'model', modelId: demo }],
      generation: { maxTokens: 8 },
      limit: 2,
      divergence: false,
      systems: false,
    })
  ).runId;
  await succeeded(evaluate);
  // the evaluated answers are curated again afterwards: evaluating again reads @3
  expect(await curate('tickets', 'second-look')).toBe(3);
  // the prompts are curated after the distillation: running it again reads the new version
  expect(await curate('sample-support', 'checked')).toBe(2);
  // a ladder from the demo model: its own chain (model → ladder → files), and its form filled again
  quantize = (await call<{ runId: number }>('quantize.start', { modelId: demo, types: ['Q8_0', 'Q4_0'], gate: null, pure: true })).runId;
  await succeeded(quantize);
  browser = await launchBrowser();
  page = await openPage(browser, `${server.url}/#/runs/${distill}`, errors);
}, 300_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the chain on a run’s page in Chromium', () => {
  it('lists the steps through the distillation in order, each a link, the run itself marked', async () => {
    const chain = page.getByTestId('run-chain');
    await chain.waitFor();
    const keys = await chain.getByTestId('chain-step').evaluateAll((els) => els.map((e) => e.getAttribute('data-key')!));
    const order = ['dataset:sample-support@1', `run:${distill}`, 'dataset:tickets@1', 'curation:tickets@2', 'dataset:tickets@2', `run:${evaluate}`];
    const at = order.map((k) => keys.indexOf(k));
    expect(
      at.every((i) => i >= 0),
      keys.join(', '),
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(keys.indexOf(`model:${demo}`)).toBeLessThan(keys.indexOf(`run:${distill}`));
    // the prompts' curation came after, from the version the run read: not on its chain
    expect(keys).not.toContain('dataset:sample-support@2');

    const step = (key: string) => chain.locator(`[data-key="${key}"]`);
    await expect(step(`run:${distill}`).getAttribute('aria-current')).resolves.toBe('step');
    await expect(step(`run:${distill}`).locator('.chain-status-succeeded').count()).resolves.toBe(1);
    await expect(step('curation:tickets@2').innerText()).resolves.toContain('curation: tickets@1 → @2');
    // the teacher feeds the run from further left than the column before it: named on the run
    await expect(step(`run:${distill}`).locator('.chain-from').innerText()).resolves.toBe('also from tiny-demo-llama');
    // the ladder read the teacher model, not the run: not on its chain
    expect(keys).not.toContain(`run:${quantize}`);
    await expect(step('dataset:tickets@2').getByRole('link').getAttribute('href')).resolves.toBe('#/datasets/tickets@2');
    await expect(step(`model:${demo}`).getByRole('link').getAttribute('href')).resolves.toBe(`#/models/${demo}`);
    await expect(step(`run:${evaluate}`).getByRole('link').getAttribute('href')).resolves.toBe(`#/runs/${evaluate}`);
    // an import made the prompts: a run the app has no form to run again from
    const importStep = chain.locator('[data-key^="run:"]').first();
    await expect(importStep.getByRole('button', { name: 'Run again from here' }).count()).resolves.toBe(0);
    await screenshot(page, 'chain-run');

    // a link opens that step's page: the evaluation's, whose chain reaches back to the distillation
    await step(`run:${evaluate}`).getByRole('link').click();
    await page.waitForURL(new RegExp(`#/runs/${evaluate}$`));
    await page.getByTestId('run-chain').locator(`[data-key="run:${distill}"]`).waitFor();
    await expect(page.getByTestId('run-chain').locator(`[data-key="run:${evaluate}"]`).getAttribute('aria-current')).resolves.toBe('step');
    await screenshot(page, 'chain-evaluate');
  });

  it('"Run again from here" opens the Distill form filled with the run’s settings, the dataset at its latest version', async () => {
    await page.goto(`${server.url}/#/runs/${distill}`);
    await page.getByTestId('run-chain').locator(`[data-key="run:${distill}"]`).getByRole('button', { name: 'Run again from here' }).click();
    await page.waitForURL(new RegExp(`#/distill/again/${distill}$`));
    await page.getByTestId('distill-again').waitFor();
    await expect.poll(() => page.getByLabel('Dataset', { exact: true }).inputValue()).toBe('sample-support');
    await expect.poll(() => page.getByLabel('Teacher', { exact: true }).inputValue()).toBe(String(demo));
    await expect(page.getByLabel('System prompt').inputValue()).resolves.toBe('You answer support tickets.');
    await expect(page.getByLabel('Prompt template').inputValue()).resolves.toBe('Ticket: {{prompt}}');
    await expect(page.getByLabel('temperature').inputValue()).resolves.toBe('0');
    await expect(page.getByLabel('max tokens').inputValue()).resolves.toBe('12');
    await expect(page.getByLabel('seed').inputValue()).resolves.toBe('7');
    await expect(page.getByLabel('parallel').inputValue()).resolves.toBe('2');
    await expect(page.getByLabel('only the first').inputValue()).resolves.toBe('4');
    await expect(page.getByLabel('reject truncated answers').isChecked()).resolves.toBe(false);
    await expect(page.getByLabel('output dataset').inputValue()).resolves.toBe('tickets-2');
    await expect(page.getByTestId('latest-version').innerText()).resolves.toMatch(
      /^sample-support is read at its latest version, @2 \(24 examples\); the run read @1\.$/,
    );
    await screenshot(page, 'chain-run-again');
  });

  it('"Run again from here" on the evaluation opens the Evaluate form filled with its settings, the dataset at its latest version', async () => {
    await page.goto(`${server.url}/#/runs/${distill}`);
    await page.getByTestId('run-chain').locator(`[data-key="run:${evaluate}"]`).getByRole('button', { name: 'Run again from here' }).click();
    await page.waitForURL(new RegExp(`#/evaluate/again/${evaluate}$`));
    await page.getByTestId('evaluate-again').waitFor();
    const form = page.getByTestId('evaluate-form');
    await expect.poll(() => form.getByLabel('Dataset', { exact: true }).inputValue()).toBe('tickets');
    await expect(form.getByLabel('Version', { exact: true }).inputValue()).resolves.toBe('');
    await expect.poll(() => form.getByLabel('Variant 1 model').inputValue()).toBe(String(demo));
    await expect(form.getByTestId('eval-variant-1').count()).resolves.toBe(0);
    await expect(form.getByLabel('max tokens').inputValue()).resolves.toBe('8');
    await expect(form.getByLabel('Limit').inputValue()).resolves.toBe('2');
    await expect(page.getByTestId('latest-version').innerText()).resolves.toMatch(
      /^tickets is read at its latest version, @3 \(\d+ examples\); the run read @2\.$/,
    );
    await screenshot(page, 'chain-evaluate-again');
  });

  it('"Run again from here" on a ladder opens the Quantize form filled with its settings', async () => {
    await page.goto(`${server.url}/#/runs/${quantize}`);
    const chain = page.getByTestId('run-chain');
    await chain.locator(`[data-key="model:${demo}"]`).waitFor();
    await expect(chain.locator('[data-key^="model:"]').count()).resolves.toBe(3); // the source and its two files
    await chain.locator(`[data-key="run:${quantize}"]`).getByRole('button', { name: 'Run again from here' }).click();
    await page.waitForURL(new RegExp(`#/quantize/again/${quantize}$`));
    await page.getByTestId('quantize-again').waitFor();
    const form = page.getByTestId('quantize-form');
    await expect.poll(() => form.getByLabel('Source model').inputValue()).toBe(String(demo));
    const ticked = await form.getByRole('group', { name: 'Types' }).locator('label.on').allInnerTexts();
    expect(ticked.map((t) => t.trim()).sort()).toEqual(['Q4_0', 'Q8_0']);
    await expect(form.getByLabel('Quality gate').isChecked()).resolves.toBe(false);
    await expect(form.getByLabel('pure (no k-quant mixture)').isChecked()).resolves.toBe(true);
    await screenshot(page, 'chain-quantize-again');
  });

  it('a run started while the page is open joins its chain when it starts and shows how it ended', async () => {
    await page.goto(`${server.url}/#/runs/${distill}`);
    const chain = page.getByTestId('run-chain');
    await chain.locator(`[data-key="run:${evaluate}"]`).waitFor();
    const again = (
      await call<{ runId: number }>('evaluate.start', {
        dataset: 'tickets',
        split: 'all',
        variants: [{ kind: 'model', modelId: demo }],
        generation: { maxTokens: 4 },
        limit: 1,
        divergence: false,
        systems: false,
      })
    ).runId;
    await chain.locator(`[data-key="run:${again}"]`).locator('.chain-status-succeeded').waitFor({ timeout: 60_000 });
    await expect(chain.locator(`[data-key="run:${again}"]`).innerText()).resolves.toContain('tickets@3');
  });

  it('logged no page errors', () => {
    expect(errors.filter((e) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(e))).toEqual([]);
  });
});
