export { humanBytes as bytes, humanCount as count } from '../../src-shared/format.js';

export function when(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  const same = new Date().toDateString() === d.toDateString();
  return same ? d.toLocaleTimeString() : d.toLocaleString();
}

export function duration(startIso: string | null, endIso: string | null): string {
  if (!startIso) return '—';
  const ms = (endIso ? new Date(endIso).getTime() : Date.now()) - new Date(startIso).getTime();
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function num(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(digits);
}
