import { useEffect, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { ExampleRow, ExamplesFilter } from '../../../src-shared/domain/datasets.js';
import { client } from '../../client.js';

const PAGE = 200;
/** 30 px keeps a million rows (30 M px) under Chromium's ~33.5 M px limit on an element's height. */
const ROW_HEIGHT = 30;
const MAX_IN_FLIGHT = 2;

/**
 * A virtualized list of a version's examples: only the visible rows are in the DOM, pages are fetched on demand.
 * Remount it (key) when the filter or the data change: the page cache belongs to one query.
 */
export function ExamplesTable({
  name,
  version,
  filter,
  selected,
  onToggle,
  onOpen,
  onTotal,
}: {
  name: string;
  version: number;
  filter: ExamplesFilter;
  selected: ReadonlySet<number>;
  onToggle: (position: number) => void;
  onOpen: (row: ExampleRow) => void;
  onTotal: (total: number, exact: boolean) => void;
}) {
  const parent = useRef<HTMLDivElement>(null);
  const [pages, setPages] = useState<Map<number, ExampleRow[]>>(() => new Map());
  const [total, setTotal] = useState(0);
  const requested = useRef(new Set<number>());
  // The React Compiler cannot memoize TanStack Virtual's instance; that is fine here.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => parent.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 20,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items.at(-1)?.index ?? 0;

  // Pages are fetched for what is on screen when a request slot frees up, at most MAX_IN_FLIGHT at a time: a fast
  // scroll across a million rows then costs a few requests, not one per page it flew over.
  const visible = useRef({ first: 0, last: 0 });
  visible.current = { first, last };
  const inFlight = useRef(0);
  const pump = useRef<() => void>(() => undefined);
  pump.current = () => {
    const { first: a, last: b } = visible.current;
    for (let p = Math.floor(a / PAGE); p <= Math.floor(b / PAGE) && inFlight.current < MAX_IN_FLIGHT; p++) {
      if (requested.current.has(p)) continue;
      requested.current.add(p);
      inFlight.current++;
      void client
        .call('datasets.examples', { name, version, offset: p * PAGE, limit: PAGE, filter })
        .then(
          (r) => {
            setPages((prev) => new Map(prev).set(p, r.rows));
            setTotal(r.total);
            onTotal(r.total, r.exact);
          },
          () => requested.current.delete(p), // asked again when next on screen
        )
        .finally(() => {
          inFlight.current--;
          pump.current();
        });
    }
  };
  useEffect(() => pump.current(), [first, last]);

  return (
    <div className="virtual-table" ref={parent} data-testid="examples-table">
      <div className="virtual-head">
        <span />
        <span>#</span>
        <span>Prompt</span>
        <span>Answer</span>
        <span>Labels</span>
      </div>
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {items.map((item) => {
          const row = pages.get(Math.floor(item.index / PAGE))?.[item.index % PAGE];
          const prompt = row?.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
          return (
            <div
              key={item.key}
              className="virtual-row clickable"
              style={{
                transform: `translateY(${item.start}px)`,
                height: ROW_HEIGHT,
              }}
              onClick={() => row && onOpen(row)}
              data-testid={row ? `example-${row.position}` : undefined}
            >
              {row ? (
                <>
                  <input
                    type="checkbox"
                    aria-label={`Select example ${row.position}`}
                    checked={selected.has(row.position)}
                    onClick={(e) => e.stopPropagation()}
                    onChange={() => onToggle(row.position)}
                  />
                  <span className="muted">{row.position}</span>
                  <span className="ellipsis">{prompt}</span>
                  <span className="ellipsis">{row.reference ?? <span className="muted">none</span>}</span>
                  <span
                    className="ellipsis labels"
                    title={[row.split ?? '', ...row.tags.map((t) => `#${t}`), ...row.flags.map((f) => `⚑ ${f}`), row.cluster !== null ? `≈${row.cluster}` : '']
                      .filter(Boolean)
                      .join(' ')}
                  >
                    {row.split && <span className="chip chip-split">{row.split}</span>}
                    {/* flags and clusters before tags: when the row is too narrow, tags are what gets clipped */}
                    {row.flags.map((f) => (
                      <span key={f} className="chip chip-flag" title={`flagged: ${f}`}>
                        ⚑ {f}
                      </span>
                    ))}
                    {row.cluster !== null && (
                      <span className="chip" title={`duplicate cluster ${row.cluster}`}>
                        ≈{row.cluster}
                      </span>
                    )}
                    {row.tags.map((t) => (
                      <span key={t} className="chip">
                        #{t}
                      </span>
                    ))}
                    {row.tokens !== null && <span className="muted">{row.tokens} tok</span>}
                  </span>
                </>
              ) : (
                <span className="muted">…</span>
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}
