import { useQuery } from '../../ui/useApi.js';

/**
 * Under a form filled from a past run: the dataset is read at its latest version (the point of running again after
 * curation), and which one that is beside the version the run read.
 */
export function LatestVersionNote({ name, ran }: { name: string; ran: number }) {
  const datasets = useQuery('datasets.list', {}, ['runs.changed']);
  const latest = datasets.data?.find((d) => d.name === name)?.latest;
  if (!datasets.data) return null;
  if (!latest) return <p className="warn-text">The run read {`${name}@${ran}`}; there is no dataset of that name any more: pick another.</p>;
  return (
    <p className="muted" data-testid="latest-version">
      {latest.number === ran
        ? `${name} is read at its latest version, @${latest.number} (${latest.exampleCount} examples), as the run read it.`
        : `${name} is read at its latest version, @${latest.number} (${latest.exampleCount} examples); the run read @${ran}.`}
    </p>
  );
}
