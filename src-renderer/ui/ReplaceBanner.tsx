import type { AppError } from '../../src-shared/errors.js';
import { ErrorBanner } from './components.js';

/**
 * The error of an action that writes a user-named file. When the service says the file exists (code file_exists), it
 * asks "replace?" instead: Replace retries the action with `replace: true`, Keep it dismisses. Any other error is the
 * usual banner.
 */
export function WriteErrorBanner({ error, onReplace, onClose }: { error: AppError | null; onReplace: () => void; onClose: () => void }) {
  if (error?.code !== 'file_exists') return <ErrorBanner error={error} onClose={onClose} />;
  const file = error.message.split(' already exists')[0];
  return (
    <div className="error-banner" role="alertdialog" aria-label="File exists" data-testid="replace-confirm">
      <span className="grow">
        <span className="mono">{file}</span> already exists — replace it?
      </span>
      <button onClick={onReplace}>Replace</button>
      <button className="secondary" onClick={onClose}>
        Keep it
      </button>
    </div>
  );
}
