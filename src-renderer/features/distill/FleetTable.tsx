import type { RunMetric } from '../../../src-shared/domain/runs.js';

/** A fleet endpoint's figures, read from a run's `endpoint_*:<name>` metrics. */
export interface FleetRow {
  name: string;
  answers: number;
  tps: number | null;
  failures: number;
  drained: boolean;
}

/** One row per endpoint named by an `endpoint_answers:<name>` metric, in the run's order; none without a fleet. */
export function fleetRows(metrics: RunMetric[]): FleetRow[] {
  const at = (figure: string, name: string) => metrics.find((m) => m.name === `${figure}:${name}` && m.step === null)?.value ?? null;
  return metrics
    .filter((m) => m.name.startsWith('endpoint_answers:') && m.step === null)
    .map((m) => {
      const name = m.name.slice('endpoint_answers:'.length);
      return {
        name,
        answers: m.value,
        tps: at('endpoint_tps', name),
        failures: at('endpoint_failures', name) ?? 0,
        drained: at('endpoint_drained', name) === 1,
      };
    });
}

/** The endpoints of a fleet teacher: how many answers each gave, at what speed, its failures, whether it was drained. */
export function FleetTable({ metrics }: { metrics: RunMetric[] }) {
  const rows = fleetRows(metrics);
  if (rows.length === 0) return null;
  return (
    <table className="table compact" data-testid="distill-fleet">
      <thead>
        <tr>
          <th>Endpoint</th>
          <th>Answers</th>
          <th>Tokens/s</th>
          <th>Failed attempts</th>
          <th>State</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.name}>
            <td>{r.name}</td>
            <td>{r.answers}</td>
            <td>{r.tps === null ? '–' : r.tps.toFixed(1)}</td>
            <td>{r.failures}</td>
            <td className={r.drained ? 'error-text' : 'muted'}>{r.drained ? 'drained' : 'up'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
