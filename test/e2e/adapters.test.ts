import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { tempDir, waitUntil } from '../helpers/workspace.js';
import { callHttp, startServer, type ServerProcess } from '../helpers/server.js';
import { fixtureAdapter, fixtureModel, fixtureSpec } from '../fixtures/models.js';
import { writeSyntheticLora } from '../../src-main/core/gguf/synthetic.js';
import { mulberry32 } from '../../src-main/core/random.js';
import type { SystemInfo } from '../../src-shared/contract/index.js';
import { launchBrowser, openPage, screenshot, succeeded } from './browser.js';

// The Adapters area in Chromium against `distillery serve`: the library, a three-variant comparison with votes, a
// scale sweep's chart, and an adapter attached in the Playground. Real inference on the fixture student (CPU).
let server: ServerProcess;
let browser: Browser;
let page: Page;
const errors: string[] = [];
let student: number;
let studentName: string;
let teacher: number;
let loraA: number;
let loraB: number;
let dir: string;
let textFile: string;

async function call<T>(op: string, input: unknown): Promise<T> {
  const r = await callHttp(server.url, op, input);
  if (!r.ok) throw new Error(`${op} ${JSON.stringify(input)}: ${r.error?.code} ${r.error?.message}`);
  return r.value as T;
}

/** ~3,000 words of deterministic English-ish text (several 128-token chunks). */
function sampleText(words: number, seed: number): string {
  const vocab = 'the printer paper tray error toner page driver cable network update firmware jam fix check replace restart setting color scan'.split(' ');
  const next = mulberry32(seed);
  return Array.from({ length: words }, (_, i) => vocab[Math.floor(next() * vocab.length)]! + (i % 12 === 11 ? '.\n' : ' ')).join('');
}

beforeAll(async () => {
  dir = tempDir();
  server = await startServer(tempDir()); // with the sample model and the sample dataset
  await waitUntil(
    async () => (((await callHttp(server.url, 'runs.list', {})).value ?? []) as { status: string }[]).filter((r) => r.status === 'succeeded').length === 2,
    60_000,
    'the sample workspace',
  );
  ({ id: student, name: studentName } = await call<{ id: number; name: string }>('models.add', { path: await fixtureModel('student'), roles: ['student'] }));
  teacher = (await call<{ id: number }>('models.add', { path: await fixtureModel('teacher'), roles: ['teacher'] })).id;
  loraA = (await call<{ id: number }>('adapters.import', { path: await fixtureAdapter('student-lora'), baseModelId: student, name: 'lora-a' })).id;
  const b = path.join(dir, 'lora-b.gguf');
  writeSyntheticLora(b, { base: fixtureSpec('student'), rank: 4, alpha: 4, targets: ['attn_k', 'attn_output'], seed: 11, scale: 0.2 });
  loraB = (await call<{ id: number }>('adapters.import', { path: b, name: 'lora-b' })).id;
  textFile = path.join(dir, 'support.txt');
  fs.writeFileSync(textFile, sampleText(3000, 5));
  browser = await launchBrowser();
  page = await openPage(browser, `${server.url}/#/adapters`, errors);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('adapters in Chromium', () => {
  it('lists the library; an import that does not fit is refused with the tensor and shapes; check and remove', async () => {
    const rowA = page.getByTestId('adapter-row-lora-a');
    const rowB = page.getByTestId('adapter-row-lora-b');
    await rowA.waitFor();
    const cells = async (row: typeof rowA) => (await row.locator('td').allInnerTexts()).map((t) => t.trim());
    // Name, Arch, Rank, Alpha, Targets, Layers, Size, Checked against, From, Status
    const a = await cells(rowA);
    expect(a.slice(0, 4)).toEqual(['lora-a', 'llama', '8', '16']);
    expect(a[4]).toMatch(/attn_q\s*attn_v/);
    expect(a[7]).toBe(`${studentName} ✓`);
    expect(a[8]).toBe('GGUF');
    const b = await cells(rowB);
    expect(b.slice(0, 4)).toEqual(['lora-b', 'llama', '4', '4']);
    expect(b[4]).toMatch(/attn_k\s*attn_output/);
    expect(b[7]).toBe('not checked');

    // check lora-b against the student from its row
    await page.getByRole('button', { name: 'Check lora-b' }).click();
    await page.getByLabel('Check against').selectOption(String(student));
    await page.getByTestId('check-adapter').getByRole('button', { name: 'Check', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'lora-b fits' }).waitFor();
    await waitUntil(async () => (await cells(rowB))[7] === `${studentName} ✓`, 10_000, 'lora-b checked against the student');
    await screenshot(page, 'adapters-library');

    // import a copy against the teacher (512 wide): refused, the tensor and both shapes named
    const copy = path.join(dir, 'copy-of-a.gguf');
    fs.copyFileSync(await fixtureAdapter('student-lora'), copy);
    await page.getByRole('button', { name: 'Import adapter' }).click();
    const panel = page.getByTestId('import-adapter');
    await panel.getByLabel('Adapter path').fill(copy);
    await panel.getByLabel('Base model').selectOption(String(teacher));
    await panel.getByLabel('Adapter name').fill('lora-copy');
    await panel.getByRole('button', { name: 'Import', exact: true }).click();
    const err = page.getByTestId('import-error');
    await err.waitFor();
    await expect(err.innerText()).resolves.toMatch(/blk\.0\.attn_q\.weight.*\[512, 512\].*\[256, 8\]/s);
    await screenshot(page, 'adapters-import-error');
    // against the student it goes in; then it is removed
    await panel.getByLabel('Base model').selectOption(String(student));
    await panel.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByTestId('adapter-row-lora-copy').waitFor();
    await page.getByRole('button', { name: 'Remove lora-copy' }).click();
    await page.getByTestId('remove-adapter').getByRole('button', { name: 'Remove', exact: true }).click();
    await page.getByTestId('adapter-row-lora-copy').waitFor({ state: 'detached' });
    expect(fs.existsSync(copy)).toBe(true); // the user's own file stays
  });

  it('compares three variants on two typed prompts: answers side by side, differences highlighted, votes and tally', async () => {
    await page.getByRole('navigation', { name: 'Adapters' }).getByRole('link', { name: 'Compare' }).click();
    await page.waitForURL(/#\/adapters\/compare$/);
    const form = page.getByTestId('compare-form');
    await form.getByLabel('Variant 1 model').selectOption(String(student));
    await form.getByLabel('Variant 2 model').selectOption(String(student));
    await form.getByLabel('Variant 2 add adapter').selectOption(String(loraA));
    await form.getByRole('button', { name: 'Add variant' }).click();
    await expect(form.getByLabel('Variant 3 model').inputValue()).resolves.toBe(String(student));
    await form.getByLabel('Variant 3 add adapter').selectOption(String(loraA));
    await form.getByLabel('Variant 3 scale of lora-a').fill('0.5');
    await form.getByLabel('Variant 3 add adapter').selectOption(String(loraB));
    await expect(form.getByLabel('Variant 3 label').getAttribute('placeholder')).resolves.toBe(`${studentName} + lora-a×0.5 + lora-b`);
    await form.getByLabel('Prompt 1', { exact: true }).fill('The printer shows');
    await form.getByRole('button', { name: 'Add prompt' }).click();
    await form.getByLabel('Prompt 2', { exact: true }).fill('Replace the toner and');
    await form.getByLabel('max tokens').fill('24');
    await expect(form.getByLabel('temperature').inputValue()).resolves.toBe('0');
    await screenshot(page, 'adapters-compare-form');
    // the student has no chat template: completion
    await expect(form.getByRole('radio', { name: 'Completion' }).getAttribute('aria-checked')).resolves.toBe('true');
    await form.getByRole('button', { name: 'Compare' }).click();
    await page.waitForURL(/#\/adapters\/compare\/\d+$/);
    const runId = Number(/(\d+)$/.exec(page.url())![1]);
    await page.getByTestId('answer-0-0').filter({ hasNotText: 'waiting…' }).waitFor({ timeout: 60_000 });
    await succeeded(page.getByTestId('compare-progress'), 120_000);

    const results = await call<{ variants: { label: string }[]; prompts: { answers: { text: string }[] }[] }>('adapters.compareResults', { runId });
    expect(results.variants.map((v) => v.label)).toEqual([studentName, `${studentName} + lora-a`, `${studentName} + lora-a×0.5 + lora-b`]);
    let differing = 0;
    for (const [pi, p] of results.prompts.entries()) {
      for (let vi = 0; vi < 3; vi++) {
        const cell = page.getByTestId(`answer-${pi}-${vi}`);
        const text = await cell.locator('.answer-text').innerText();
        expect(text.replace(/\s+/g, ' ').trim()).toBe(p.answers[vi]!.text.replace(/\s+/g, ' ').trim());
        await expect(cell.locator('.answer-foot').innerText()).resolves.toMatch(/\d+ words · \d+ tokens · [\d.]+ tokens\/s/);
        if (vi > 0 && p.answers[vi]!.text !== p.answers[0]!.text) {
          differing++;
          expect(await cell.locator('mark.diff-add').count()).toBeGreaterThan(0);
          await expect(cell.locator('.answer-foot').innerText()).resolves.toMatch(/vs A: \+\d+ −\d+ words/);
        } else if (vi > 0) {
          await expect(cell.locator('.answer-foot').innerText()).resolves.toContain('same as A');
        }
      }
    }
    expect(differing).toBeGreaterThan(0); // the adapters change the answers
    await expect(page.locator('mark.diff-add').count()).resolves.toBeGreaterThan(0);

    await page.getByRole('button', { name: 'B is better on prompt 1' }).click();
    await page.getByRole('button', { name: 'C is better on prompt 2' }).click();
    const pressed = page.getByRole('button', { name: 'C is better on prompt 2' });
    await waitUntil(async () => (await pressed.getAttribute('aria-pressed')) === 'true', 10_000, 'C marked better on prompt 2');
    const tally = async () => Promise.all([0, 1, 2].map(async (i) => (await page.getByTestId(`tally-${i}`).locator('.bar-value').innerText()).trim()));
    await waitUntil(async () => JSON.stringify(await tally()) === '["0","1","1"]', 10_000, 'the tally 0, 1, 1');
    // a tie on prompt 2 takes C's win away
    await page.getByTestId('compare-prompt-1').getByRole('button', { name: 'Tie' }).click();
    await waitUntil(async () => JSON.stringify(await tally()) === '["0","1","0"]', 10_000, 'the tally 0, 1, 0');
    const after = await call<{ prompts: { winner: number | null }[]; tally: number[] }>('adapters.compareResults', { runId });
    expect(after.prompts.map((p) => p.winner)).toEqual([1, -1]);
    expect(after.tally).toEqual([0, 1, 0]);
    await page.getByTestId('compare-tally').getByText('2 of 2 prompts marked').waitFor();
    await page.evaluate(() => document.querySelector('.main')?.scrollTo(0, 0));
    await screenshot(page, 'adapters-compare');
  });

  it('shows a comparison’s answers as they arrive; cancels and resumes it', async () => {
    const prompts = ['The printer', 'My toner', 'The paper tray', 'A network cable', 'The firmware update', 'Scan to email', 'Color pages', 'The driver'];
    const { runId } = await call<{ runId: number }>('adapters.compare', {
      variants: [{ modelId: student }, { modelId: student, adapters: [{ id: loraB, scale: -1 }], label: 'minus B' }],
      prompts: { texts: prompts },
      generation: { maxTokens: 400 },
      mode: 'completion',
    });
    await page.goto(`${server.url}/#/adapters/compare/${runId}`);
    await page.getByTestId('answer-0-0').locator('.answer-foot').waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('compare-progress').locator('.badge-cancelled').waitFor({ timeout: 30_000 });
    const answered = await page.locator('.answer .answer-foot').count();
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThan(16);
    await expect(page.getByText('not answered: resume the run').count()).resolves.toBe(16 - answered);
    await screenshot(page, 'adapters-compare-cancelled');
    await page.getByRole('button', { name: 'Resume' }).click();
    await succeeded(page.getByTestId('compare-progress'), 120_000, { resumed: true });
    await waitUntil(async () => (await page.locator('.answer .answer-foot').count()) === 16, 10_000, 'all 16 answers');
    await expect(page.getByTestId('answer-0-1').innerText()).resolves.toContain('minus B');
  });

  it('sweeps a scale: the chart and a row per scale appear', async () => {
    await page.goto(`${server.url}/#/adapters/sweep`);
    const form = page.getByTestId('sweep-form');
    await form.getByLabel('Model', { exact: true }).selectOption(String(student));
    await form.getByLabel('Adapter', { exact: true }).selectOption(String(loraA));
    await form.getByLabel('Scales').fill('0, 0.5, 1');
    await form.getByLabel('Text file').fill(textFile);
    await form.getByLabel('Context size').fill('128');
    await form.getByRole('button', { name: 'Sweep' }).click();
    await page.waitForURL(/#\/adapters\/sweep\/\d+$/);
    const runId = Number(/(\d+)$/.exec(page.url())![1]);
    await succeeded(page.getByTestId('sweep-progress'), 180_000);
    const rows = page.getByTestId('sweep-table').locator('tbody tr');
    await waitUntil(async () => (await rows.allInnerTexts()).filter((t) => /\d+\.\d{4}/.test(t)).length === 3, 10_000, 'three scored rows');
    const points = await call<{ scale: number; ppl: number; stderr: number }[]>('adapters.sweepPoints', { runId });
    expect(points.map((p) => p.scale)).toEqual([0, 0.5, 1]);
    for (const [i, p] of points.entries()) {
      const cells = (await rows.nth(i).locator('td').allInnerTexts()).map((t) => t.trim());
      expect(cells[0]).toBe(String(p.scale));
      expect(cells[1]).toBe(p.ppl.toFixed(4));
      expect(cells[2]).toBe(p.stderr.toFixed(4));
    }
    await expect(page.getByTestId('sweep-chart').locator('canvas').count()).resolves.toBeGreaterThan(0);
    await screenshot(page, 'adapters-sweep');
  });

  it('attaches an adapter in the Playground: sent with the generation, the model stays loaded', async () => {
    await page.goto(`${server.url}/#/playground/${student}`);
    const side = page.getByTestId('playground-adapters');
    await side.getByLabel('Attach lora-a').waitFor();
    await page.getByRole('spinbutton', { name: 'Temperature' }).fill('0');
    await page.getByRole('spinbutton', { name: 'Max tokens' }).fill('16');
    await page.getByLabel('Prompt', { exact: true }).fill('The printer');
    const generate = async () => {
      await page.getByRole('button', { name: 'Generate' }).click();
      await page.getByTestId('stop-reason').waitFor({ timeout: 60_000 });
      const text = await page.getByTestId('generation-output').innerText();
      const stats = await page.getByTestId('generation-stats').innerText();
      await page.getByRole('button', { name: 'Generate' }).waitFor();
      return { text, stats };
    };
    const base = await generate();
    expect(base.stats).not.toContain('adapters:');
    const modelLoads = async () => (await call<SystemInfo>('system.info', {})).engine.modelLoads;
    const loadsAfterBase = await modelLoads();
    await side.getByLabel('Attach lora-a').check();
    await side.getByLabel('Scale of lora-a', { exact: true }).fill('1');
    const withA = await generate();
    expect(withA.stats).toContain('adapters: lora-a ×1');
    expect(withA.text).not.toBe(base.text);
    expect(await modelLoads()).toBe(loadsAfterBase); // the base model was not loaded again
    await side.getByLabel('Scale of lora-a', { exact: true }).fill('0');
    const off = await generate();
    expect(off.stats).toContain('adapters: lora-a ×0');
    expect(off.text).toBe(base.text); // scale 0 is the base
    await side.getByLabel('Scale of lora-a', { exact: true }).fill('0.5');
    await side.getByLabel('Attach lora-b').check();
    const both = await generate();
    expect(both.stats).toContain('adapters: lora-a ×0.5, lora-b ×1');
    expect(await modelLoads()).toBe(loadsAfterBase);
    await screenshot(page, 'playground-adapters');
  });

  it('measures perplexity and merges from their forms, linking to the runs and the merged model', async () => {
    await page.goto(`${server.url}/#/adapters/perplexity`);
    const ppl = page.getByTestId('perplexity-form');
    await ppl.getByLabel('Model', { exact: true }).selectOption(String(student));
    await ppl.getByLabel('Perplexity add adapter').selectOption(String(loraA));
    await ppl.getByLabel('Perplexity scale of lora-a').fill('0.5');
    await ppl.getByLabel('Text file').fill(textFile);
    await ppl.getByLabel('Context size').fill('128');
    await ppl.getByLabel('Max chunks').fill('4');
    await ppl.getByRole('button', { name: 'Measure' }).click();
    const started = ppl.getByTestId('started-run');
    await succeeded(started, 60_000);
    await expect(started.innerText()).resolves.toMatch(/Perplexity \d+\.\d{4} ± \d+\.\d{4}/);
    await page.getByTestId('runs-adapters.perplexity').locator('tbody tr').first().waitFor();
    await screenshot(page, 'adapters-perplexity');
    await started.getByRole('link', { name: /^run #\d+: Perplexity of student \+ lora-a×0\.5 on support\.txt \(ctx 128\)$/ }).click();
    await page.waitForURL(/#\/runs\/\d+$/);
    await page.getByTestId('run-metrics').getByText('perplexity_stderr').waitFor();

    await page.goto(`${server.url}/#/adapters/merge`);
    const merge = page.getByTestId('merge-form');
    await merge.getByLabel('Model', { exact: true }).selectOption(String(student));
    await merge.getByLabel('Merge add adapter').selectOption(String(loraA));
    await merge.getByLabel('Merge scale of lora-a').fill('0.5');
    const out = path.join(dir, 'student-merged.gguf');
    fs.writeFileSync(out, 'an older file');
    await merge.getByLabel('Output file').fill(out);
    await merge.getByRole('radio', { name: 'F32' }).click();
    await merge.getByRole('button', { name: 'Merge', exact: true }).click();
    // The file exists: the form asks before replacing it.
    const confirm = merge.getByTestId('replace-confirm');
    await confirm.getByText(`${out} already exists — replace it?`).waitFor();
    expect(fs.readFileSync(out, 'utf8')).toBe('an older file');
    await confirm.getByRole('button', { name: 'Replace' }).click();
    const done = merge.getByTestId('started-run');
    await succeeded(done, 60_000);
    const link = done.getByRole('link', { name: 'student-merged', exact: true });
    await link.waitFor();
    expect(fs.existsSync(out)).toBe(true);
    await screenshot(page, 'adapters-merge');
    await link.click();
    await page.waitForURL(/#\/models\/\d+$/);
    const models = await call<{ name: string; path: string }[]>('models.list', {});
    expect(models.find((m) => m.path === out)?.name).toBe('student-merged');
  });

  it('logged no page errors', () => {
    expect(errors.filter((e) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(e))).toEqual([]);
  });
});
