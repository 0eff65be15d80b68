// A run's chain (op runs.chain): the steps that led to a run and those made from it, read from every run's lineage rows
// and from the dataset versions (a version curated by hand from another is a step of its own, with no run).
import type { RunsStore } from './store.js';
import type { LineageLink } from '../../../src-shared/domain/runs.js';
import { runAgainRoute, type ChainStep, type ChainStepKind, type RunChain } from '../../../src-shared/domain/chain.js';

/** Where the versions come from (DatasetsService.versionParents). */
export interface VersionSource {
  versionParents(): { dataset: string; number: number; parentNumber: number | null; runId: number | null }[];
}

/** The chain stops growing at this many steps, or this many links away from the run, whichever comes first. */
export const CHAIN_LIMITS = { steps: 80, hops: 40 };

interface Node {
  kind: ChainStepKind;
  label: string;
  href: string | null;
}

const KIND_ORDER: ChainStepKind[] = ['dataset', 'curation', 'file', 'endpoint', 'model', 'adapter', 'run'];
const datasetHref = (name: string, version: number | null) => `#/datasets/${encodeURIComponent(name)}${version === null ? '' : `@${version}`}`;
const datasetKey = (name: string, version: number) => `dataset:${name}@${version}`;

/** The graph of everything: nodes by key, arrows both ways. */
class Graph {
  readonly nodes = new Map<string, Node>();
  readonly out = new Map<string, Set<string>>();
  readonly in = new Map<string, Set<string>>();

  node(key: string, n: Node): string {
    if (!this.nodes.has(key)) this.nodes.set(key, n);
    return key;
  }

  link(from: string, to: string): void {
    if (from === to) return;
    const add = (m: Map<string, Set<string>>, a: string, b: string) => (m.get(a) ?? m.set(a, new Set()).get(a)!).add(b);
    add(this.out, from, to);
    add(this.in, to, from);
  }

  /** The node a lineage row names. A dataset's row names it by name, its label by `name@version`. */
  artifact(l: LineageLink): string {
    switch (l.kind) {
      case 'run':
        return this.node(`run:${l.ref}`, { kind: 'run', label: l.label, href: `#/runs/${l.ref}` });
      case 'dataset': {
        const m = /^(.*)@(\d+)/.exec(l.label);
        if (m && m[1] === l.ref)
          return this.node(datasetKey(l.ref, Number(m[2])), { kind: 'dataset', label: `${l.ref}@${m[2]}`, href: datasetHref(l.ref, Number(m[2])) });
        return this.node(`dataset:${l.ref}`, { kind: 'dataset', label: l.ref, href: datasetHref(l.ref, null) });
      }
      case 'model':
        return this.node(`model:${l.ref}`, { kind: 'model', label: l.label.replace(/ \(judge\)$/, ''), href: `#/models/${l.ref}` });
      case 'adapter':
        return this.node(`adapter:${l.ref}`, { kind: 'adapter', label: l.label.replace(/ ×[\d.]+$/, ''), href: '#/adapters' });
      case 'file':
        return this.node(`file:${l.ref}`, { kind: 'file', label: l.label, href: null });
      case 'endpoint':
        return this.node(`endpoint:${l.ref}`, { kind: 'endpoint', label: l.label.replace(/ \(judge\)$/, ''), href: null });
    }
  }
}

function build(runs: RunsStore, datasets: VersionSource): Graph {
  const g = new Graph();
  for (const row of runs.allLineage()) {
    const run = g.node(`run:${row.runId}`, { kind: 'run', label: `run ${row.runId}`, href: `#/runs/${row.runId}` });
    const other = g.artifact(row);
    if (row.direction === 'input') g.link(other, run);
    else g.link(run, other);
  }
  for (const v of datasets.versionParents()) {
    const to = g.node(datasetKey(v.dataset, v.number), { kind: 'dataset', label: `${v.dataset}@${v.number}`, href: datasetHref(v.dataset, v.number) });
    if (v.parentNumber === null) continue;
    const from = g.node(datasetKey(v.dataset, v.parentNumber), {
      kind: 'dataset',
      label: `${v.dataset}@${v.parentNumber}`,
      href: datasetHref(v.dataset, v.parentNumber),
    });
    const via =
      v.runId === null
        ? g.node(`curation:${v.dataset}@${v.number}`, {
            kind: 'curation',
            label: `curation: ${v.dataset}@${v.parentNumber} → @${v.number}`,
            href: `#/datasets/${encodeURIComponent(v.dataset)}/diff/${v.parentNumber}..${v.number}`,
          })
        : g.node(`run:${v.runId}`, { kind: 'run', label: `run ${v.runId}`, href: `#/runs/${v.runId}` });
    g.link(from, via);
    g.link(via, to);
  }
  return g;
}

/** Breadth first from `start` along `next`, at most `hops` links away, adding to `seen` while it has room. */
function walk(start: string, next: Map<string, Set<string>>, seen: Set<string>, limits: typeof CHAIN_LIMITS): boolean {
  let frontier = [start];
  for (let hop = 0; frontier.length > 0; hop++) {
    const following: string[] = [];
    for (const key of frontier) {
      for (const n of next.get(key) ?? []) {
        if (seen.has(n)) continue;
        if (hop >= limits.hops || seen.size >= limits.steps) return true;
        seen.add(n);
        following.push(n);
      }
    }
    frontier = following;
  }
  return false;
}

/** Each step's column: the longest path to it from the chain's first steps (Kahn's order; a step on a cycle keeps the deepest column reached). */
function depths(keys: Set<string>, links: { from: string; to: string }[]): Map<string, number> {
  const depth = new Map([...keys].map((k) => [k, 0]));
  const pending = new Map([...keys].map((k) => [k, 0]));
  const out = new Map<string, string[]>();
  for (const l of links) {
    pending.set(l.to, pending.get(l.to)! + 1);
    out.set(l.from, [...(out.get(l.from) ?? []), l.to]);
  }
  const ready = [...keys].filter((k) => pending.get(k) === 0);
  while (ready.length) {
    const k = ready.pop()!;
    for (const to of out.get(k) ?? []) {
      depth.set(to, Math.max(depth.get(to)!, depth.get(k)! + 1));
      pending.set(to, pending.get(to)! - 1);
      if (pending.get(to) === 0) ready.push(to);
    }
  }
  return depth;
}

/** The chain through run `runId`: upstream (what it read, and what made that) and downstream (what it made, and what used that). */
export function runChain(runId: number, deps: { runs: RunsStore; datasets: VersionSource }, limits = CHAIN_LIMITS): RunChain {
  const { runs } = deps;
  const self = runs.summary(runId); // not_found for a run that does not exist
  const g = build(runs, deps.datasets);
  const start = `run:${runId}`;
  g.node(start, { kind: 'run', label: self.title, href: `#/runs/${runId}` });
  const seen = new Set([start]);
  const cutUp = walk(start, g.in, seen, limits);
  const cutDown = walk(start, g.out, seen, limits);
  const links = [...seen].flatMap((from) => [...(g.out.get(from) ?? [])].filter((to) => seen.has(to)).map((to) => ({ from, to })));
  const depth = depths(seen, links);
  const steps = [...seen].map((key): ChainStep => {
    const n = g.nodes.get(key)!;
    const step: ChainStep = { key, kind: n.kind, label: n.label, href: n.href, depth: depth.get(key)! };
    if (n.kind !== 'run') return step;
    const id = Number(key.slice('run:'.length));
    let s;
    try {
      s = id === runId ? self : runs.summary(id);
    } catch {
      return { ...step, label: `run ${id} (deleted)`, href: null };
    }
    return { ...step, label: s.title, run: { id, kind: s.kind, status: s.status, runAgain: runAgainRoute(s.kind, id) } };
  });
  steps.sort((a, b) => a.depth - b.depth || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.key.localeCompare(b.key, 'en', { numeric: true }));
  return { runId, steps, links, truncated: cutUp || cutDown };
}
