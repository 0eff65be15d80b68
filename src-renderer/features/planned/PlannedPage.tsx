import { Page } from '../../ui/components.js';
import { ROOMS } from '../../app/rooms.js';

/** Rooms of the navigation that are not built yet: what they will do, and what already does part of it. */
export const PLANNED: Record<string, { title: string; what: string; meanwhile: { text: string; href: string }[] }> = {};

export function PlannedPage({ room }: { room: string }) {
  const p = PLANNED[room];
  if (!p) {
    return (
      <Page title="Not found">
        <p>
          There is no page here. <a href="#/models">Go to Models</a>.
        </p>
      </Page>
    );
  }
  // Derived from the navigation, so it cannot go stale when a room is built.
  const available = ROOMS.filter((r) => !PLANNED[r.id]);
  return (
    <Page title={p.title}>
      <div className="planned-card" data-testid="planned">
        <p className="planned-status">Planned. Not built yet.</p>
        <p>{p.what}</p>
        <p>
          Today, part of it:{' '}
          {p.meanwhile.map((m, i) => (
            <span key={m.href}>
              {i > 0 && '; '}
              <a href={m.href}>{m.text}</a>
            </span>
          ))}
          .
        </p>
        <p className="muted">
          Available now:{' '}
          {available.map((r, i) => (
            <span key={r.id}>
              {i > 0 && (i === available.length - 1 ? ' and ' : ', ')}
              <a href={`#/${r.id}`}>{r.label}</a>
            </span>
          ))}
          .
        </p>
      </div>
    </Page>
  );
}
