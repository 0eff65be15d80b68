import type { ReactNode } from 'react';
import { useAction } from './useApi.js';
import type { RunStatus } from '../../src-shared/domain/runs.js';
import type { AppError } from '../../src-shared/errors.js';

const RESUMABLE: readonly RunStatus[] = ['interrupted', 'failed', 'cancelled'];

/**
 * A run page's Cancel (while it is queued or running) and Resume (once it stopped short) buttons, and the error either
 * call left, for the page's error banner.
 */
export function useRunControls(runId: number, status: RunStatus | undefined, cancelClassName = 'secondary'): { buttons: ReactNode; error: AppError | null } {
  const cancel = useAction('runs.cancel');
  const resume = useAction('runs.resume');
  const buttons =
    status === undefined ? null : (
      <>
        {(status === 'running' || status === 'queued') && (
          <button className={cancelClassName} onClick={() => void cancel.run({ id: runId })} disabled={cancel.pending}>
            Cancel
          </button>
        )}
        {RESUMABLE.includes(status) && (
          <button onClick={() => void resume.run({ id: runId })} disabled={resume.pending}>
            Resume
          </button>
        )}
      </>
    );
  return { buttons, error: cancel.error ?? resume.error };
}
