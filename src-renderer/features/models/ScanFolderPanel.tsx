import { useState } from 'react';
import { ErrorBanner } from '../../ui/components.js';
import { useAction } from '../../ui/useApi.js';
import { navigate } from '../../app/router.js';
import { PathField } from '../../ui/PathField.js';

/** Starts a "scan a folder" run and opens it. */
export function ScanFolderPanel({ onClose }: { onClose: () => void }) {
  const [folder, setFolder] = useState('');
  const [recursive, setRecursive] = useState(true);
  const scan = useAction('models.scan');
  const start = async () => {
    const r = await scan.run({ folder, recursive });
    if (r) navigate(`/runs/${r.runId}`);
  };
  return (
    <div className="panel">
      <div className="row">
        <PathField
          value={folder}
          onChange={setFolder}
          label="Folder to scan"
          placeholder="/path/to/models"
          pick={{ kind: 'folder', title: 'Scan a folder for GGUF models' }}
        />
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
