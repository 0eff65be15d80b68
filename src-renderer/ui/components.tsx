import type { ReactNode } from 'react';
import type { RunStatus } from '../../src-shared/domain/runs.js';
import type { AppError } from '../../src-shared/errors.js';

export function ProgressBar({ done, total, label }: { done: number; total: number | null; label?: string }) {
  const pct = total ? Math.min(100, (100 * done) / total) : null;
  return (
    <div className="progress" role="progressbar" aria-valuenow={pct ?? undefined} aria-valuemin={0} aria-valuemax={100}>
      <div className={`progress-fill${pct === null ? ' indeterminate' : ''}`} style={{ width: pct === null ? '30%' : `${pct}%` }} />
      <span className="progress-label">{label ?? (total ? `${done} / ${total}` : done ? String(done) : '')}</span>
    </div>
  );
}

export function StatusBadge({ status }: { status: RunStatus | 'ok' | 'missing' | 'changed' }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}

export function ErrorBanner({ error, onClose }: { error: AppError | { message: string } | null; onClose?: () => void }) {
  if (!error) return null;
  return (
    <div className="error-banner" role="alert">
      <span>{error.message}</span>
      {onClose && (
        <button className="link" onClick={onClose} aria-label="Dismiss">
          ×
        </button>
      )}
    </div>
  );
}

/** What an action just did (not an error): dismissable. */
export function Notice({ text, onClose }: { text: string | null; onClose: () => void }) {
  if (!text) return null;
  return (
    <div className="notice-banner" role="status">
      <span>{text}</span>
      <button className="link" onClick={onClose} aria-label="Dismiss">
        ×
      </button>
    </div>
  );
}

export function Page({ title, actions, children }: { title: ReactNode; actions?: ReactNode; children: ReactNode }) {
  return (
    <section className="page">
      <header className="page-header">
        <h1>{title}</h1>
        <div className="page-actions">{actions}</div>
      </header>
      {children}
    </section>
  );
}

export function Fields({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="fields">
      {rows.map(([k, v]) => (
        <div key={k} className="field">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}
