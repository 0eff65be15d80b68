// What the CLI prints: a command's result as JSON (--json) or text, the text tables and details shared by the rooms,
// and a failure as one line on stderr with its exit code. Everything goes through an Io: the process's own streams for
// the `distillery` command, a caller's own for a test or a program that runs the CLI in its process.
import { CommanderError } from 'commander';
import { humanBytes, humanCount } from '../../src-shared/format.js';
import type { ModelEntry } from '../../src-shared/domain/models.js';
import type { RunDetail, RunSummary } from '../../src-shared/domain/runs.js';

/** Standard input as `secrets set` reads it: a stream, which on a terminal can be switched to raw mode. */
export type InputStream = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(raw: boolean): unknown };

/** What one run of the CLI writes to and reads from. */
export interface Io {
  /** Standard output: results. */
  out(text: string): void;
  /** Standard error: failures, progress, prompts. */
  err(text: string): void;
  /** The environment the commands read: the default data folder (XDG_CONFIG_HOME, APPDATA), DISTILLERY_GPU, DISTILLERY_NO_KEYRING. */
  env: NodeJS.ProcessEnv;
  /** Where `secrets set` reads an API key from. */
  stdin: InputStream;
}

/** The process's own streams and environment: the `distillery` command's Io. */
export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  get env() {
    return process.env;
  },
  get stdin() {
    return process.stdin;
  },
};

/** A command's result on stdout: `value` as JSON with --json, else `text()`. */
export function print(io: Io, opts: { json?: boolean }, value: unknown, text: () => string): void {
  io.out((opts.json ? JSON.stringify(value, null, 2) : text()) + '\n');
}

/** A failed command's exit code, after saying why in one line on stderr (commander has said it for its own errors). */
export function reportFailure(io: Io, e: unknown): number {
  if (e instanceof CommanderError) {
    // help and version "errors" are successes; commander has printed its own message for the rest
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    if (e.code.startsWith('distillery.')) io.err(`distillery: ${e.message}\n`);
    return e.exitCode || 2;
  }
  const message = e instanceof Error ? e.message : String(e);
  // After `npm start`, better-sqlite3 is built for Electron; say how to get the Node build back.
  const hint = /NODE_MODULE_VERSION/.test(message) ? ' (run: node scripts/native-for.mjs node)' : '';
  io.err(`distillery: ${message.split('\n')[0]}${hint}\n`);
  return 1;
}

/** A plain left-aligned text table. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function modelDetails(m: ModelEntry): string {
  const s = m.summary;
  const rows: [string, string][] = [
    ['id', String(m.id)],
    ['name', m.name],
    ['path', m.path],
    ['status', m.status],
    ['architecture', s.architecture],
    ['parameters', `${humanCount(s.parameterCount)} (${s.parameterCount})`],
    ['file size', humanBytes(m.sizeBytes)],
    ['file type', s.fileType],
    ['context length', String(s.contextLength ?? '?')],
    ['layers', String(s.blockCount ?? '?')],
    ['heads (KV)', `${s.headCount ?? '?'} (${s.headCountKv ?? '?'})`],
    ['embedding', String(s.embeddingLength ?? '?')],
    ['vocabulary', `${s.vocabSize ?? '?'} (${s.tokenizerModel ?? 'unknown tokenizer'})`],
    ['chat template', s.hasChatTemplate ? 'yes' : 'no'],
    ['roles', m.roles.join(', ') || '-'],
    ['note', m.note || '-'],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

export function modelsTable(list: ModelEntry[]): string {
  if (list.length === 0) return 'The library is empty. Add a model with: distillery models add <file.gguf>';
  return table(
    ['ID', 'NAME', 'ARCH', 'PARAMS', 'SIZE', 'TYPE', 'CTX', 'ROLES', 'STATUS'],
    list.map((m) => [
      String(m.id),
      m.name,
      m.summary.architecture,
      humanCount(m.summary.parameterCount),
      humanBytes(m.sizeBytes),
      m.summary.fileType,
      String(m.summary.contextLength ?? '?'),
      m.roles.join(',') || '-',
      m.status,
    ]),
  );
}

function progressText(r: RunSummary): string {
  const { done, total } = r.progress;
  return total ? `${done}/${total} (${Math.round((100 * done) / total)}%)` : String(done);
}

export function runsTable(list: RunSummary[]): string {
  if (list.length === 0) return 'No runs yet.';
  return table(
    ['ID', 'KIND', 'STATUS', 'PROGRESS', 'CREATED', 'TITLE'],
    list.map((r) => [String(r.id), r.kind, r.status, progressText(r), r.createdAt.replace('T', ' ').slice(0, 19), r.title]),
  );
}

export function runDetails(r: RunDetail): string {
  const out = [
    `run ${r.id}  ${r.kind}  ${r.status}`,
    `title     ${r.title}`,
    `progress  ${progressText(r)} ${r.progress.message}`,
    `created   ${r.createdAt}`,
    `started   ${r.startedAt ?? '-'}`,
    `ended     ${r.endedAt ?? '-'}`,
    `items     ${r.itemsDone} committed`,
  ];
  if (r.error) out.push(`error     ${r.error}`);
  out.push('', 'config', JSON.stringify(r.config, null, 2));
  if (r.lineage.length) out.push('', 'lineage', ...r.lineage.map((l) => `  ${l.direction.padEnd(6)} ${l.kind} ${l.ref} ${l.label}`));
  if (r.metrics.length) {
    out.push('', 'metrics', ...r.metrics.map((m) => `  ${m.name}${m.step === null ? '' : `[${m.step}]`} = ${+m.value.toFixed(3)} ${m.unit}`));
  }
  if (r.logs.length) out.push('', 'log', ...r.logs.map((l) => `  ${l.at.slice(11, 19)} ${l.level.padEnd(5)} ${l.message}`));
  return out.join('\n');
}
