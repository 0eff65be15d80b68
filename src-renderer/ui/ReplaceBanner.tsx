import type { AppError } from '../../src-shared/errors.js';
import { ErrorBanner } from './components.js';

/**
 * The error of an action that writes a user-named file. When the service says the file exists (code file_exists), it
 * asks "replace?" instead: Replace retries the action with `replace: true`, Keep it dismisses. Any other error is the
 * usual banner.
 */
export function WriteErrorBanner({ error, onReplace, onClose }: { error: AppError | null; onReplace: () => void; onClose: () => void }) {
  if (error?.code !== 'file_exists') return <ErrorBanner error={error} onClose={onClose} />;
  // "<file> already exists…", or a folder's "<dir> exists and is not empty…"
  const m = /^(.*?) (already exists|exists and is not empty)/.exec(error.message);
  const file = m?.[1] ?? error.message;
  const question = m?.[2] === 'exists and is not empty' ? 'is not empty — replace it as a whole?' : 'already exists — replace it?';
  return (
    <div className="error-banner" role="alertdialog" aria-label="File exists" data-testid="replace-confirm">
      <span className="grow">
        <span className="mono">{file}</span> {question}
      </span>
      <button onClick={onReplace}>Replace</button>
      <button className="secondary" onClick={onClose}>
        Keep it
      </button>
    </div>
  );
}
