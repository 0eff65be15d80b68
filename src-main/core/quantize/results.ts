// What a ladder run made and measured (quantize.results) and a quantized model's gate (quantize.gateOf): the run's
// committed items joined — files with their `gate:<type>` items, the source with `gate:source` — in the ladder's order.
import fs from 'node:fs';
import type { Db } from '../store/db.js';
import type { JobRunner } from '../jobs/runner.js';
import { bitsPerWeight } from './jobs/ladder.js';
import { gateSourceLabel } from './jobs/gate-step.js';
import type { GateItem, LadderResults, ModelGate, QuantizedFile } from '../../../src-shared/contract/index.js';

export function ladderResults(runner: JobRunner, runId: number): LadderResults {
  const c = runner.config(runId, 'quantize.ladder');
  const items = runner.itemResults(runId, 'quantize.ladder');
  const files = items.filter((x): x is QuantizedFile => 'type' in x);
  const gates = new Map(items.filter((x): x is GateItem => 'of' in x).map((g) => [g.of, g]));
  const computed = items.find((x): x is { imatrix: string; entries: number; chunks: number } => 'imatrix' in x);
  const order = c.types.map((t) => t.name);
  const exists = fs.existsSync(c.model.path);
  return {
    runId,
    source: {
      modelId: c.model.id,
      name: c.model.name,
      bytes: exists ? fs.statSync(c.model.path).size : 0,
      bpw: exists ? bitsPerWeight(c.model.path) : 0,
      speed: gates.get('source')?.speed ?? null,
    },
    imatrix: c.imatrix ?? (computed ? { file: computed.imatrix, entries: computed.entries, chunks: computed.chunks, datasets: [] } : null),
    gateSource: c.gate ? gateSourceLabel(c.gate.source) : null,
    rows: files
      .sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type))
      .map((f) => ({ ...f, gate: gates.get(f.type)?.gate ?? null, speed: gates.get(f.type)?.speed ?? null })),
  };
}

/** Through the ladder run whose output `modelId` is (its lineage), newest first; null when no ladder made it or it was not gated. */
export function gateOf(db: Db, runner: JobRunner, modelId: number): ModelGate | null {
  const runs = db
    .prepare(
      `SELECT r.id FROM runs r JOIN run_lineage l ON l.run_id = r.id
        WHERE r.kind = 'quantize.ladder' AND l.direction = 'output' AND l.kind = 'model' AND l.ref = ? ORDER BY r.id DESC`,
    )
    .all(String(modelId)) as { id: number }[];
  for (const { id } of runs) {
    const r = ladderResults(runner, id);
    const row = r.rows.find((x) => x.modelId === modelId);
    if (row?.gate === null && row.speed === null) return null;
    if (row)
      return {
        runId: id,
        type: row.type,
        source: { modelId: r.source.modelId, name: r.source.name },
        bytes: row.bytes,
        bpw: row.bpw,
        gate: row.gate,
        speed: row.speed,
      };
  }
  return null;
}
