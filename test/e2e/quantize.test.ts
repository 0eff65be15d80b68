import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { tempDir } from '../helpers/tmp.js';
import { callValue, startServer, type ServerProcess } from '../helpers/server.js';
import { mulberry32 } from '../../src-main/core/random.js';
import type { LadderResults } from '../../src-shared/contract/quantize.js';
import { formatMetric } from '../../src-shared/domain/quantize-answer.js';
import { humanBytes } from '../../src-shared/format.js';
import { launchBrowser, openPage, screenshot, succeeded } from './browser.js';

// The Quantize room in Chromium against `distillery serve`, on the sample workspace's demo model (F16, real weights
// file, real llama.cpp): a ladder of three types with the quality gate, its answer under a budget, the charts and the
// table, a second ladder with an importance matrix computed in the run, the two compared, and a quantized model's page.
let server: ServerProcess;
let browser: Browser;
let page: Page;
const errors: string[] = [];
let textFile: string;
let outB: string;

/** ~3,000 words of deterministic English-ish text (many 128-token chunks). */
function sampleText(words: number, seed: number): string {
  const vocab = 'the printer paper tray error toner page driver cable network update firmware jam fix check replace restart setting color scan'.split(' ');
  const next = mulberry32(seed);
  return Array.from({ length: words }, (_, i) => vocab[Math.floor(next() * vocab.length)]! + (i % 12 === 11 ? '.\n' : ' ')).join('');
}

beforeAll(async () => {
  const dir = tempDir();
  textFile = path.join(dir, 'support.txt');
  fs.writeFileSync(textFile, sampleText(3000, 5));
  outB = path.join(dir, 'with-imatrix');
  fs.mkdirSync(outB);
  server = await startServer(tempDir()); // the sample workspace's demo model (F16) is the source
  browser = await launchBrowser();
  page = await openPage(browser, `${server.url}/#/models`, errors);
  await page.getByText('tiny-demo-llama').waitFor();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const results = (runId: number) => callValue<LadderResults>(server.url, 'quantize.results', { runId });
const runIdOf = (url: string) => Number(/#\/quantize\/(\d+)$/.exec(url)![1]);

/** The gate's text: the test's file, 128-token chunks, at most 8 of them. */
async function gateOnText(form: ReturnType<Page['getByTestId']>) {
  const gate = form.getByTestId('gate-options');
  await gate.getByRole('radio', { name: 'Text file' }).click();
  await gate.getByLabel('Gate text file').fill(textFile);
  await gate.getByLabel('Gate context size').fill('128');
  await gate.getByLabel('Gate max chunks').fill('8');
}

describe('the Quantize room in Chromium', () => {
  let runA: number;
  let runB: number;

  it('quantizes the demo model to three types with the quality gate and answers which one fits a budget', async () => {
    await page.goto(`${server.url}/#/quantize`);
    const form = page.getByTestId('quantize-form');
    await form.getByLabel('Source model').waitFor();
    // the usual three are ticked; the types that need an importance matrix are offered only once one is chosen
    const types = form.getByRole('group', { name: 'Types' });
    for (const t of ['Q8_0', 'Q6_K', 'Q4_K_M']) await expect(types.getByLabel(t, { exact: true }).isChecked()).resolves.toBe(true);
    await expect(types.getByRole('checkbox', { name: /^IQ2_XS/ }).isDisabled()).resolves.toBe(true);
    await form.getByRole('radio', { name: 'Compute' }).click();
    await form.getByTestId('imatrix-options').getByRole('radio', { name: 'Text file' }).click();
    await form.getByLabel('Importance matrix text file').fill(textFile);
    await types.getByText('IQ2_XS').click();
    // back to no matrix with IQ2_XS ticked: the start is blocked, and says why
    await form.getByRole('radio', { name: 'None' }).click();
    await expect(page.getByTestId('needs-imatrix').innerText()).resolves.toBe('IQ2_XS needs an importance matrix: choose or compute one, or untick it.');
    // the gate is on by default, and needs a text
    await expect(form.getByLabel('Quality gate').isChecked()).resolves.toBe(true);
    await page.getByTestId('gate-needs-text').waitFor();
    await expect(form.getByRole('button', { name: /^Quantize/ }).isDisabled()).resolves.toBe(true);
    await screenshot(page, 'quantize-form');
    await types.getByText('IQ2_XS').click();
    await gateOnText(form);
    await form.getByRole('button', { name: 'Quantize (3 types)' }).click();

    await page.waitForURL(/#\/quantize\/\d+$/);
    runA = runIdOf(page.url());
    // progress while it runs: the bar, and types not measured yet shown as "…"
    const progress = page.getByTestId('quantize-progress');
    await progress.locator('.badge-running, .badge-succeeded').first().waitFor({ timeout: 60_000 });
    await expect(progress.getByRole('progressbar').count()).resolves.toBe(1);
    await screenshot(page, 'quantize-running');
    await succeeded(progress, 300_000);

    const r = await results(runA);
    expect(r.rows.map((x) => x.type)).toEqual(['Q8_0', 'Q6_K', 'Q4_K_M']);
    expect(r.rows.every((x) => x.gate !== null && x.speed !== null)).toBe(true);
    expect(r.source.speed).not.toBeNull();
    const table = page.getByTestId('quantize-table');
    await expect(table.locator('tbody tr').count()).resolves.toBe(3);
    // every figure of every type, as numbers (no "…" left once the run succeeded)
    for (const x of r.rows) {
      const row = await table.getByTestId(`ladder-row-${x.type}`).innerText();
      expect(row).not.toContain('…');
      // size, bits/weight, × smaller, PPL(Q), PPL ratio ±, mean KLD ± (each ± under its figure)
      expect(row).toMatch(new RegExp(`^${x.type}\\s+[\\d.]+ MB\\s+\\d+\\.\\d\\d\\s+[\\d.]+×\\s+[\\d.]+\\s+[\\d.]+\\s+± [\\d.]+\\s+[\\d.e-]+\\s+± [\\d.e-]+`));
      expect(row).toMatch(/\d+\.\d\d%\s+± \d+\.\d\d%/); // same top
      expect(row).toContain(`${x.gate!.pplRatio.toFixed(4)}\n± ${x.gate!.pplRatioStderr.toFixed(4)}`);
      expect(row).toContain(`${formatMetric('kld', x.gate!.kld)}\n± ${formatMetric('kld', x.gate!.kldStderr)}`);
      expect(row).toContain(`${x.speed!.genTokensPerSecond.toFixed(1)}`);
    }
    // the charts: uPlot canvases with their series
    for (const id of ['chart-kld', 'chart-speed']) await page.getByTestId(id).locator('canvas').waitFor();
    await expect(page.getByTestId('chart-kld').locator('.u-legend').innerText()).resolves.toMatch(/mean KLD[\s\S]*Pareto front/);
    await expect(page.getByTestId('chart-speed').locator('.u-legend').innerText()).resolves.toMatch(/source/);

    // a budget on mean KLD: the smallest type within it is picked, and the next smaller one named
    const bySize = [...r.rows].sort((a, b) => a.bytes - b.bytes);
    const [smallest, middle] = bySize;
    expect(middle!.gate!.kld).toBeLessThan(smallest!.gate!.kld); // a larger file is closer to its source
    const answer = page.getByTestId('quantize-answer');
    await answer.getByLabel('Budget metric').selectOption('kld');
    const between = (middle!.gate!.kld + smallest!.gate!.kld) / 2;
    await answer.getByLabel('Budget value').fill(between.toPrecision(3));
    const text = page.getByTestId('quantize-answer-text');
    await expect(text.innerText()).resolves.toMatch(
      new RegExp(`^${middle!.type} is within your budget and [\\d.]+× smaller than the source; ${smallest!.type} is not \\(KLD`),
    );
    await expect(table.locator('tr.picked').getAttribute('data-testid')).resolves.toBe(`ladder-row-${middle!.type}`);
    await screenshot(page, 'quantize-run');
    // a looser budget picks the smallest
    await answer.getByLabel('Budget value').fill((smallest!.gate!.kld * 1.5).toPrecision(3));
    await expect(text.innerText()).resolves.toMatch(new RegExp(`^${smallest!.type} is within your budget and [\\d.]+× smaller than the source\\.$`));
    await expect(table.locator('tr.picked').getAttribute('data-testid')).resolves.toBe(`ladder-row-${smallest!.type}`);
    // same top: a budget no type meets names the closest
    await answer.getByLabel('Budget metric').selectOption('sameTop');
    await answer.getByLabel('Budget value').fill('100');
    const best = r.rows.reduce((a, b) => (b.gate!.sameTop > a.gate!.sameTop ? b : a));
    await expect(text.innerText()).resolves.toContain(`No type is within your budget (same top ≥ 100.0%); the closest is ${best.type}`);
    await expect(table.locator('tr.picked').count()).resolves.toBe(0);
    // the budget is remembered for the page
    await page.reload();
    await expect(page.getByTestId('quantize-answer').getByLabel('Budget value').inputValue()).resolves.toBe('100');
    await expect(page.getByTestId('quantize-answer').getByLabel('Budget metric').inputValue()).resolves.toBe('sameTop');
    await answer.getByLabel('Budget metric').selectOption('kld');
    await answer.getByLabel('Budget value').fill(between.toPrecision(3));
    await page.setViewportSize({ width: 1400, height: 1180 }); // the whole page: answer, charts and table
    await screenshot(page, 'quantize-run-full');
    await page.setViewportSize({ width: 1400, height: 860 });
    expect(errors).toEqual([]);
  }, 420_000);

  it('refuses to overwrite the files of the same ladder, then makes a second one with an importance matrix from the text', async () => {
    await page.goto(`${server.url}/#/quantize`);
    const form = page.getByTestId('quantize-form');
    await gateOnText(form);
    await form.getByRole('button', { name: 'Quantize (3 types)' }).click();
    await page.getByText(/already exists/).waitFor();

    await form.getByLabel('Output folder').fill(outB);
    await form.getByRole('radio', { name: 'Compute' }).click();
    await form.getByTestId('imatrix-options').getByRole('radio', { name: 'Text file' }).click();
    await form.getByLabel('Importance matrix text file').fill(textFile);
    await form.getByLabel('Importance matrix context size').fill('128');
    await form.getByRole('button', { name: 'Quantize (3 types)' }).click();
    await page.waitForURL(new RegExp(`#/quantize/(?!${runA}$)\\d+$`));
    runB = runIdOf(page.url());
    await succeeded(page.getByTestId('quantize-progress'), 300_000);
    const b = await results(runB);
    expect(b.imatrix).not.toBeNull();
    expect(b.rows.every((x) => x.gate !== null)).toBe(true);
    await expect(page.getByTestId('quantize-answer-text').innerText()).resolves.toMatch(/with your imatrix is within your budget/);
    await screenshot(page, 'quantize-run-imatrix');
  }, 420_000);

  it('compares the two ladders type by type and on one chart', async () => {
    await page.getByLabel('Compare with').selectOption(String(runA));
    await page.waitForURL(new RegExp(`#/quantize/compare/${runB}/${runA}$`));
    const table = page.getByTestId('quantize-compare');
    await table.locator('tbody tr').first().waitFor();
    await expect(table.locator('tbody tr').count()).resolves.toBe(3);
    // A is this page's ladder (with the matrix), B the one picked; B − A per figure
    const [a, b] = await Promise.all([results(runB), results(runA)]);
    for (const t of ['Q8_0', 'Q6_K', 'Q4_K_M']) {
      const ka = a.rows.find((x) => x.type === t)!.gate!.kld;
      const kb = b.rows.find((x) => x.type === t)!.gate!.kld;
      const cells = await table.getByTestId(`compare-row-${t}`).locator('td').allInnerTexts();
      expect(cells.length).toBe(13);
      expect(cells.slice(0, 4)).toEqual([
        t,
        formatMetric('kld', ka),
        formatMetric('kld', kb),
        kb === ka ? '=' : `${kb > ka ? '+' : ''}${formatMetric('kld', kb - ka)}`,
      ]);
      // the same tensors with or without the matrix: only the metadata naming it differs in size
      const d = b.rows.find((x) => x.type === t)!.bytes - a.rows.find((x) => x.type === t)!.bytes;
      expect(Math.abs(d)).toBeLessThan(4096);
      expect(cells[12]).toBe(d === 0 ? '=' : `${d > 0 ? '+' : '−'}${humanBytes(Math.abs(d))}`);
    }
    await page.getByTestId('chart-compare').locator('canvas').waitFor();
    const legend = await page.getByTestId('chart-compare').locator('.u-legend').innerText();
    expect(legend).toContain(`A #${runB} imatrix`);
    expect(legend).toContain(`B #${runA} no imatrix`);
    await screenshot(page, 'quantize-compare');
  }, 60_000);

  it("shows a quantized model's gate figures on its page, and nothing on the source's", async () => {
    await page.goto(`${server.url}/#/quantize/${runA}`);
    await page.getByTestId('quantize-table').getByRole('link', { name: 'Q4_K_M' }).click();
    await page.waitForURL(/#\/models\/\d+$/);
    await page.getByText('Quantized from tiny-demo-llama (Q4_K_M) by run').waitFor();
    const card = page.getByTestId('model-gate');
    const r = await results(runA);
    const q4 = r.rows.find((x) => x.type === 'Q4_K_M')!;
    const text = await card.innerText();
    expect(text).toContain('tiny-demo-llama');
    expect(text).toMatch(/Q4_K_M/);
    expect(text).toMatch(/[\d.]+× smaller/);
    expect(text).toContain(`${q4.gate!.pplRatio.toFixed(4)} ± ${q4.gate!.pplRatioStderr.toFixed(4)}`);
    expect(text).toContain(`${q4.speed!.genTokensPerSecond.toFixed(1)} tokens/s`);
    expect(text).toContain(`run ${runA}`);
    await screenshot(page, 'quantize-model-gate');
    // the source was not made by a ladder: no card
    await expect(callValue(server.url, 'quantize.gateOf', { modelId: r.source.modelId })).resolves.toBeNull();
    const asked = page.waitForResponse((res) => res.url().endsWith('/api/call/quantize.gateOf'));
    await card.getByRole('link', { name: 'tiny-demo-llama' }).click();
    await asked;
    await page.getByTestId('benchmark-history').waitFor();
    await expect(page.getByTestId('model-gate').count()).resolves.toBe(0);
    // the refusal to overwrite is an HTTP 409 the console reports; anything else would be a page error
    expect(errors.filter((e) => !/Failed to load resource: the server responded with a status of 409/.test(e))).toEqual([]);
  }, 60_000);
});
