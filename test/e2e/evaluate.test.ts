import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { tempDir, waitUntil } from '../helpers/workspace.js';
import { callHttp, startServer, type ServerProcess } from '../helpers/server.js';
import { fixtureModel } from '../fixtures/models.js';
import type { EvalExamplesPage, EvalReport } from '../../src-shared/domain/evaluate.js';
import { FILTER_LABELS, formatMetric, formatPaired } from '../../src-renderer/features/evaluate/eval-format.js';
import { launchBrowser, openPage, screenshot, succeeded } from './browser.js';

// The Evaluate room in Chromium against `distillery serve`: an evaluation of the fixture student against the fixture
// teacher (real generation, scoring and divergence on CPU) started from the form on a dataset's test split, then its
// report: the leaderboard (chart and table), the per-example table with a filter, divergence with "send to curation",
// the routing curve, the systems table and its export; then two runs compared. Every figure the page shows is checked
// against the report the service gives for the same run.
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

/** A dataset of these examples, every one in its test split, committed. */
async function importTestSplit(name: string, records: { prompt: string; completion: string | null }[]): Promise<void> {
  const file = path.join(dir, `${name}.jsonl`);
  fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  await waitRun((await call<{ runId: number }>('datasets.import', { path: file, name })).runId);
  await call('datasets.split', { name, counts: { test: records.length, validation: 0 }, seed: 1 });
  await call('datasets.commit', { name, message: 'every example in the test split' });
}

const TOPICS = [
  'the printer jams',
  'the toner is low',
  'the scanner is slow',
  'the driver fails',
  'the tray is empty',
  'the cable is loose',
  'the page is blank',
  'the network drops',
];

beforeAll(async () => {
  dir = tempDir();
  server = await startServer(tempDir(), ['--no-sample']);
  student = (await call<{ id: number }>('models.add', { path: await fixtureModel('student'), roles: ['student'] })).id;
  teacher = (await call<{ id: number }>('models.add', { path: await fixtureModel('teacher'), roles: ['teacher'] })).id;
  // The references are the teacher's own greedy answers (a first, teacher-only run on the same prompts), so the
  // teacher is right on every example and the random-weight student wrong: figures and filters with something in them.
  await importTestSplit(
    'draft',
    TOPICS.map((t, i) => ({ prompt: `Ticket ${i + 1}: ${t}. What should I do?`, completion: 'unknown' })),
  );
  const { runId } = await call<{ runId: number }>('evaluate.start', {
    dataset: 'draft',
    variants: [{ kind: 'model', modelId: teacher }],
    generation: { maxTokens: 16 },
    divergence: false,
    systems: false,
  });
  await waitRun(runId);
  const rows = (await call<EvalExamplesPage>('evaluate.examples', { runId, limit: 8 })).rows;
  expect(rows.map((r) => r.answers[0]!.text?.length ?? 0).every((n) => n > 0)).toBe(true);
  await importTestSplit(
    'support',
    rows.map((r) => ({ prompt: r.prompt.replace(/^user: /, ''), completion: r.answers[0]!.text })),
  );
  // "training data" holding three of the evaluation prompts word for word: the contamination check flags those. Not
  // the teacher's answers: random weights start many of them alike, which would flag every example.
  const seen = path.join(dir, 'seen.jsonl');
  fs.writeFileSync(
    seen,
    rows
      .slice(0, 3)
      .map((r) => JSON.stringify({ prompt: r.prompt.replace(/^user: /, ''), completion: 'noted' }))
      .join('\n') + '\n',
  );
  await waitRun((await call<{ runId: number }>('datasets.import', { path: seen, name: 'seen' })).runId);
  browser = await launchBrowser();
  page = await openPage(browser, `${server.url}/#/evaluate`, errors);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const runIdOf = (url: string) => Number(/#\/evaluate\/run\/(\d+)$/.exec(url)![1]);

describe('the Evaluate room in Chromium', () => {
  let runA: number;
  let report: EvalReport;

  it('starts an evaluation of the student against the teacher from the form (bad fields named where they are), cancels and resumes it', async () => {
    const form = page.getByTestId('evaluate-form');
    await form.getByLabel('Dataset', { exact: true }).selectOption('support');
    await page.getByTestId('evaluate-split-count').filter({ hasText: '8 examples in test' }).waitFor();
    await expect(form.getByLabel('Split').inputValue()).resolves.toBe('test');
    await form.getByLabel('Variant 1 model').selectOption(String(student));
    await form.getByLabel('Variant 2 model').selectOption(String(teacher));
    await expect(form.getByLabel('Variant 2 is the teacher').isChecked()).resolves.toBe(true);
    await form.getByLabel('max tokens').fill('16');
    // a JSON schema that does not parse: said under the schema, and nothing starts
    await form.getByLabel('Schema match').check();
    await form.getByLabel('JSON schema').fill('{"type": ');
    await form.getByRole('button', { name: 'Evaluate' }).click();
    await expect(page.getByTestId('schema-error').innerText()).resolves.toMatch(/^not JSON: /);
    await expect(form.getByRole('button', { name: 'Evaluate' }).isDisabled()).resolves.toBe(true);
    await screenshot(page, 'evaluate-form-error');
    await form.getByLabel('JSON schema').fill('');
    await form.getByLabel('Schema match').uncheck();
    await expect(page.getByTestId('schema-error').count()).resolves.toBe(0);
    // a predictions file that is not there: the service's error (its AppError.field) shows inside that variant
    const v1 = form.getByTestId('eval-variant-0');
    await v1.getByRole('radio', { name: 'Predictions file' }).click();
    const missing = path.join(dir, 'no-such-predictions.jsonl');
    await v1.getByLabel('Variant 1 predictions file').fill(missing);
    await form.getByRole('button', { name: 'Evaluate' }).click();
    await v1.getByRole('alert').filter({ hasText: 'no-such-predictions.jsonl' }).waitFor();
    await expect(form.getByRole('alert').count()).resolves.toBe(1); // there only
    await screenshot(page, 'evaluate-form-field-error');
    await v1.getByRole('radio', { name: 'Library model' }).click(); // an edit clears the service's verdict
    await expect(v1.getByRole('alert').count()).resolves.toBe(0);
    await expect(form.getByLabel('Variant 1 model').inputValue()).resolves.toBe(String(student)); // the model chosen before is kept
    // a contamination check against "seen" (all its examples, 5-grams)
    await form.getByLabel('Contamination check').check();
    const contamination = page.getByTestId('eval-contamination');
    await contamination.getByLabel('Contamination dataset 1').selectOption('seen');
    await contamination.getByLabel('Contamination split 1').selectOption('all');
    await contamination.getByLabel('n-gram length').fill('5');
    await screenshot(page, 'evaluate-form');
    await form.getByRole('button', { name: 'Evaluate' }).click();

    await page.waitForURL(/#\/evaluate\/run\/\d+$/);
    runA = runIdOf(page.url());
    const progress = page.getByTestId('evaluate-progress');
    await progress.getByRole('progressbar').waitFor();
    // cancel it mid-way, then resume: every answer is there at the end
    await page.getByRole('button', { name: 'Cancel' }).click();
    await progress.locator('.badge-cancelled').waitFor({ timeout: 60_000 });
    await screenshot(page, 'evaluate-cancelled');
    await page.getByRole('button', { name: 'Resume' }).click();
    await succeeded(progress, 300_000, { resumed: true });
    report = await call<EvalReport>('evaluate.report', { runId: runA });
    expect(report.leaderboard.map((r) => [r.answered, r.failed])).toEqual([
      [8, 0],
      [8, 0],
    ]);
    expect(report.examples).toBe(8);
    expect(report.against).toBe('reference');
    expect(report.variants.map((v) => [v.label, v.isTeacher])).toEqual([
      [expect.stringMatching(/student/), false],
      [expect.stringMatching(/teacher/), true],
    ]);
  }, 400_000);

  it('shows the leaderboard: a bar per variant with its interval, and every metric with its interval and the paired difference', async () => {
    await page.getByTestId('leaderboard-chart').locator('canvas').waitFor();
    const table = page.getByTestId('leaderboard-table');
    await expect(table.locator('tbody tr').count()).resolves.toBe(2);
    const [student, teacher] = report.leaderboard;
    expect(student!.isTeacher).toBe(false);
    for (const m of ['exact', 'f1', 'rougeL', 'chrf'] as const) {
      const s = student!.metrics[m]!;
      const t = teacher!.metrics[m]!;
      const cell = await table.getByTestId(`board-0-${m}`).innerText();
      expect(cell).toContain(formatMetric(m, s.mean));
      expect(cell).toContain(`[${formatMetric(m, s.low)}, ${formatMetric(m, s.high)}]`);
      expect(cell).toContain(`vs teacher ${formatPaired(m, student!.vsTeacher[m])}`);
      // the references are the teacher's answers: the teacher is perfect, the student below it
      if (m === 'exact' || m === 'chrf') expect(t.mean).toBe(m === 'chrf' ? 100 : 1);
      expect(s.mean).toBeLessThan(t.mean);
      await expect(table.getByTestId(`board-1-${m}`).innerText()).resolves.toContain(formatMetric(m, t.mean));
    }
    expect(report.sentences.length).toBeGreaterThan(0);
    await expect(page.getByTestId('evaluate-sentences').innerText()).resolves.toContain(report.sentences[0]!);
    // another metric on the chart
    await page.getByLabel('Leaderboard metric').selectOption('chrf');
    await page.getByTestId('leaderboard-chart').locator('canvas').waitFor();
    await page.getByTestId('evaluate-leaderboard').scrollIntoViewIfNeeded();
    await screenshot(page, 'evaluate-leaderboard');
  });

  it('pages the per-example table, answers side by side with a word diff, and filters it', async () => {
    const examples = page.getByTestId('evaluate-examples');
    await examples.scrollIntoViewIfNeeded();
    await expect.poll(() => page.getByTestId('examples-count').innerText()).toBe('1–8 of 8');
    const cards = page.getByTestId('examples-table').locator('.eval-example');
    await expect(cards.count()).resolves.toBe(8);
    const all = await call<EvalExamplesPage>('evaluate.examples', { runId: runA, limit: 8 });
    const first = all.rows[0]!;
    const card = page.getByTestId(`example-${first.position}`);
    await expect(card.innerText()).resolves.toContain(first.prompt.split('\n')[0]!);
    // the reference is the diff's base: the student's answer shows its own words marked
    const studentAnswer = first.answers.find((a) => a.variant === 0)!;
    const teacherAnswer = first.answers.find((a) => a.variant === 1)!;
    await expect(card.getByTestId(`example-${first.position}-answer-1`).innerText()).resolves.toContain(teacherAnswer.text!.trim().slice(0, 20));
    if (studentAnswer.text !== teacherAnswer.text)
      await expect(card.getByTestId(`example-${first.position}-answer-0`).locator('mark.diff-add, .diff-rem').count()).resolves.toBeGreaterThan(0);
    await expect(card.getByTestId(`example-${first.position}-metrics-0`).innerText()).resolves.toContain(
      `chrF ${formatMetric('chrf', studentAnswer.metrics.chrf)}`,
    );
    await screenshot(page, 'evaluate-examples');

    // "student wrong, teacher right": the examples the service says, in its order
    const filter = 'student-wrong-teacher-right';
    const wrong = await call<EvalExamplesPage>('evaluate.examples', { runId: runA, limit: 50, filter });
    await page.getByLabel('Example filter').selectOption({ label: FILTER_LABELS[filter] });
    await expect.poll(() => page.getByTestId('examples-count').innerText()).toBe(wrong.total === 0 ? 'no example' : `1–${wrong.total} of ${wrong.total}`);
    await expect(cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')))).resolves.toEqual(wrong.rows.map((r) => `example-${r.position}`));
    expect(wrong.total).toBe(8); // the teacher's answers are the references; the student's random weights say nothing like them
    // most divergent first: the order of the per-example KLD
    await page.getByLabel('Example filter').selectOption({ label: FILTER_LABELS['most-divergent'] });
    const divergent = await call<EvalExamplesPage>('evaluate.examples', { runId: runA, limit: 50, filter: 'most-divergent' });
    const klds = divergent.rows.map((r) => r.answers.find((a) => a.variant === 0)!.divergence!.kld);
    expect(klds).toEqual([...klds].sort((a, b) => b - a));
    await expect
      .poll(() => cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-testid'))))
      .toEqual(divergent.rows.map((r) => `example-${r.position}`));
    await screenshot(page, 'evaluate-examples-divergent');
  });

  it('shows the divergence histogram and sends the most divergent examples to curation', async () => {
    expect(report.divergence.map((d) => d.variant)).toEqual([0]);
    const d = report.divergence[0]!;
    expect(d.method).toBe('full'); // a local teacher: whole distributions
    expect(d.histogram.counts.reduce((a, b) => a + b, 0)).toBe(8);
    const panel = page.getByTestId('divergence-0');
    await panel.scrollIntoViewIfNeeded();
    await page.getByTestId('divergence-histogram-0').locator('canvas').waitFor();
    await expect(page.getByTestId('divergence-figures-0').innerText()).resolves.toContain(`${(100 * d.top1).toFixed(1)}%`);
    await panel.getByLabel(/^Most divergent count/).fill('3');
    await panel.getByLabel(/^Curation tag/).fill('hard');
    await panel.getByRole('button', { name: 'Send to curation' }).click();
    await expect(page.getByTestId('curation-done-0').innerText()).resolves.toMatch(
      /^Tagged #hard: 3 examples in support's working copy \(1 change not committed\)\. Undo there\.$/,
    );
    await screenshot(page, 'evaluate-divergence');
  });

  it('draws the routing curve between the student and the teacher, and answers again for another share', async () => {
    const r = report.routing[0]!;
    expect(r.variant).toBe(0);
    // the curve's ends are the student alone and the teacher alone
    expect(r.apgr).not.toBeNull(); // the student is below the teacher: there is a gap to recover
    const ends = [...r.curve].sort((a, b) => a.share - b.share);
    expect(ends[0]!.share).toBe(0);
    expect(ends[0]!.quality).toBeCloseTo(r.studentScore, 9);
    expect(ends.at(-1)!.share).toBe(1);
    expect(ends.at(-1)!.quality).toBeCloseTo(r.teacherScore, 9);
    const routing = page.getByTestId('evaluate-routing');
    await routing.scrollIntoViewIfNeeded();
    await page.getByTestId('routing-chart-0').locator('canvas').waitFor();
    await expect(page.getByTestId('routing-chart-0').locator('.u-legend').innerText()).resolves.toMatch(/router[\s\S]*student alone[\s\S]*teacher alone/);
    const figures = page.getByTestId('routing-figures-0');
    await expect(figures.innerText()).resolves.toContain(`APGR\n${r.apgr!.toFixed(3)}`);
    await expect(figures.innerText()).resolves.toContain(`PGR at 50% escalated\n${r.pgrAt.pgr!.toFixed(3)}`);
    await routing.getByLabel('Routing share').fill('25');
    const r25 = (await call<EvalReport>('evaluate.report', { runId: runA, routing: { share: 0.25 } })).routing[0]!;
    await expect.poll(() => figures.innerText()).toContain(`PGR at 25% escalated\n${r25.pgrAt.pgr!.toFixed(3)}`);
    await screenshot(page, 'evaluate-routing');
  });

  it('shows what the contamination check flagged, the leaderboard without those examples, and filters them', async () => {
    const c = report.contamination!;
    expect([c.n, c.checked, c.flagged]).toEqual([5, 8, 3]);
    const card = page.getByTestId('evaluate-contamination');
    await card.scrollIntoViewIfNeeded();
    await expect(card.innerText()).resolves.toContain(`3 of 8 examples share a 5-gram with ${c.against.join(', ')}.`);
    const clean = page.getByTestId('leaderboard-clean');
    await expect(clean.locator('tbody tr').count()).resolves.toBe(2);
    const student = report.leaderboardClean!.find((r) => r.variant === 0)!;
    expect(student.metrics.chrf!.n).toBe(5);
    await expect(clean.getByTestId('board-0-chrf').innerText()).resolves.toContain(formatMetric('chrf', student.metrics.chrf!.mean));
    await screenshot(page, 'evaluate-contamination');
    await page.getByLabel('Example filter').selectOption({ label: FILTER_LABELS.contaminated });
    await expect.poll(() => page.getByTestId('examples-count').innerText()).toBe('1–3 of 3');
    const flagged = page.getByTestId('examples-table').locator('.eval-example');
    await expect(flagged.evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')))).resolves.toEqual(c.positions.map((p) => `example-${p}`));
    await expect(flagged.locator('.chip-flag').count()).resolves.toBe(3);
  });

  it('shows the systems table with measured figures and exports it as CSV', async () => {
    const systems = page.getByTestId('evaluate-systems');
    await systems.scrollIntoViewIfNeeded();
    await expect(page.getByTestId('systems-table').locator('tbody tr').count()).resolves.toBe(2);
    for (const row of report.systems) {
      expect(row.genTokensPerSecond).toBeGreaterThan(0);
      expect(row.fileBytes).toBeGreaterThan(0);
      const text = await page.getByTestId(`systems-row-${row.variant}`).innerText();
      expect(text).toContain(row.genTokensPerSecond!.toFixed(1));
      expect(text).toContain(formatMetric('chrf', row.quality.chrf));
    }
    const [download] = await Promise.all([page.waitForEvent('download'), systems.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    for (const row of report.systems) expect(csv).toContain(row.label);
    await screenshot(page, 'evaluate-systems');
    await page.setViewportSize({ width: 1400, height: 3000 });
    await page.evaluate(() => document.querySelector('.main')?.scrollTo(0, 0));
    await screenshot(page, 'evaluate-run-full');
    await page.setViewportSize({ width: 1400, height: 860 });
  });

  it('compares two evaluation runs metric by metric', async () => {
    // a second, smaller run of the same variants (the first 4 examples), started through the contract
    const { runId: runB } = await call<{ runId: number }>('evaluate.start', {
      dataset: 'support',
      variants: [
        { kind: 'model', modelId: student },
        { kind: 'model', modelId: teacher },
      ],
      teacher: 1,
      generation: { maxTokens: 16 },
      limit: 4,
      divergence: false,
      systems: false,
    });
    await waitUntil(async () => (await call<{ status: string }>('runs.get', { id: runB })).status === 'succeeded', 300_000, `run ${runB}`);
    await page.goto(`${server.url}/#/evaluate/run/${runA}`);
    await page.getByLabel('Compare with').selectOption(String(runB));
    await page.waitForURL(new RegExp(`#/evaluate/compare/${runA}/${runB}$`));
    const table = page.getByTestId('evaluate-compare');
    await table.getByTestId('compare-row-1').waitFor();
    await expect(table.locator('tbody tr').count()).resolves.toBe(2);
    const b = await call<EvalReport>('evaluate.report', { runId: runB });
    const row = await page.getByTestId('compare-row-0').innerText();
    expect(row).toContain(formatMetric('exact', report.leaderboard[0]!.metrics.exact!.mean));
    expect(row).toContain(formatMetric('exact', b.leaderboard[0]!.metrics.exact!.mean));
    await page.getByTestId('compare-chart').locator('canvas').waitFor();
    await screenshot(page, 'evaluate-compare');
  }, 400_000);

  it('checks contamination on its own from the Evaluate page and shows what it flagged', async () => {
    await page.goto(`${server.url}/#/evaluate`);
    const form = page.getByTestId('contamination-form');
    await form.getByLabel('Checked dataset').selectOption('support');
    await expect(form.getByLabel('Checked split').inputValue()).resolves.toBe('test');
    await form.getByLabel('Training dataset 1').selectOption('seen');
    await form.getByLabel('Training split 1').selectOption('all');
    await form.getByLabel('Check n-gram length').fill('5');
    await form.getByRole('button', { name: 'Check' }).click();
    await page.waitForURL(/#\/evaluate\/run\/\d+$/);
    const runId = runIdOf(page.url());
    await succeeded(page.getByTestId('evaluate-progress'), 60_000);
    const found = await call<{ checked: number; flagged: number; positions: number[]; against: string[] }>('evaluate.contaminationOf', { runId });
    expect([found.checked, found.flagged]).toEqual([8, 3]);
    expect(found.positions).toEqual(report.contamination!.positions); // the same three as the check inside the evaluation
    await expect(page.getByTestId('contamination-summary').innerText()).resolves.toBe(`3 of 8 examples share a 5-gram with ${found.against.join(', ')}.`);
    await expect(page.getByTestId('contamination-positions').innerText()).resolves.toBe(`Flagged example positions: ${found.positions.join(', ')}`);
    await screenshot(page, 'evaluate-contamination-check');
  });

  it('lists the runs on the Evaluate page (the references run, the form run, the compared run; the check) and logged no page error', async () => {
    await page.goto(`${server.url}/#/evaluate`);
    await expect.poll(() => page.getByTestId('runs-evaluate.run').locator('tbody tr').count()).toBe(3);
    await expect(page.getByTestId('runs-evaluate.contamination').locator('tbody tr').count()).resolves.toBe(1);
    // the refused start (the missing predictions file) answered 404, which Chromium logs by itself; anything else is a bug
    expect(errors.filter((e) => !/Failed to load resource: the server responded with a status of 404/.test(e))).toEqual([]);
  });
});
