import { useState } from 'react';
import { ErrorBanner } from '../../ui/components.js';
import { useAction } from '../../ui/useApi.js';
import { navigate } from '../../app/router.js';
import { desktop } from '../../client.js';

/** Starts a "scan a folder" run and opens it. */
export function ScanFolderPanel({ onClose }: { onClose: () => void }) {
  const [folder, setFolder] = useState('');
  const [recursive, setRecursive] = useState(true);
  const scan = useAction('models.scan');
  const start = async () => {
    const r = await scan.run({ folder, recursive });
    if (r) navigate(`/runs/${r.runId}`);
  };
  const browse = async () => {
    const picked = await desktop?.pickFolder({ title: 'Scan a folder for GGUF models' });
    if (picked) setFolder(picked);
  };
  return (
    <div className="panel">
      <div className="row">
        <input className="grow mono" placeholder="/path/to/models" value={folder} onChange={(e) => setFolder(e.target.value)} aria-label="Folder to scan" />
        {desktop && (
          <button className="secondary" onClick={() => void browse()}>
            Browse…
          </button>
        )}
        <label>
          <input type="checkbox" checked={recursive} onChange={(e) => setRecursive(e.target.checked)} /> subfolders
        </label>
        <button onClick={() => void start()} disabled={!folder.trim() || scan.pending}>
          Scan
        </button>
        <button className="link" onClick={onClose}>
          Cancel
        </button>
      </div>
      <ErrorBanner error={scan.error} />
    </div>
  );
}
