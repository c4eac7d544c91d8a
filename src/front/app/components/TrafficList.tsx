/**
 * The live traffic list: a virtualized table over the LiveList ring (only visible rows exist in
 * the DOM), re-rendered at most once per animation frame. Newest at the bottom with follow mode
 * (Wireshark's autoscroll) or newest at the top; scrolling away stops following, and the view
 * stays put while rows arrive or old ones are dropped. Values are click-to-filter; clicking
 * elsewhere on a row opens its detail.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import {
  useLayoutEffect,
  useRef,
  useState,
  useSyncExternalStore,
  type KeyboardEvent,
  type MouseEvent,
  type PointerEvent,
  type ReactNode,
  type WheelEvent,
} from 'react';
import type { EndpointSummary, EntrySummary } from '../../../api/types.ts';
import { endpointClause, summaryClause, type Catalogue, type SummaryPart } from '../lib/filters.ts';
import { fmtBytes, fmtClock, fmtCount, fmtDuration, fmtIso, statusClass } from '../lib/format.ts';
import { MAX_ROWS, ROW_HEIGHT } from '../lib/limits.ts';
import type { LiveList } from '../lib/live.ts';

interface Props {
  live: LiveList;
  cat: Catalogue;
  selected?: { node: string; id: number };
  onSelect: (sel: { node: string; id: number }) => void;
  onFilter: (clause: string) => void;
}

/** A value that filters when clicked (`data-clause`), or plain text when it cannot. */
function V({
  clause,
  children,
  className,
}: {
  clause?: string;
  children: ReactNode;
  className?: string;
}) {
  if (clause === undefined) return <span className={className}>{children}</span>;
  return (
    <span className={`fv ${className ?? ''}`} data-clause={clause} title={`filter: ${clause}`}>
      {children}
    </span>
  );
}

function Endpoint({ cat, side, ep }: { cat: Catalogue; side: 'src' | 'dst'; ep: EndpointSummary }) {
  if (ep.name !== undefined && ep.name !== '') {
    return (
      <V clause={endpointClause(cat, side, ep, 'name')} className="ep-name">
        {ep.namespace ? `${ep.namespace}/` : ''}
        {ep.name}
      </V>
    );
  }
  return (
    <span className="ep">
      <V clause={endpointClause(cat, side, ep, 'ip')}>
        {ep.ip.includes(':') ? `[${ep.ip}]` : ep.ip}
      </V>
      :<V clause={endpointClause(cat, side, ep, 'port')}>{ep.port}</V>
    </span>
  );
}

function Row({
  s,
  cat,
  selected,
  top,
}: {
  s: EntrySummary;
  cat: Catalogue;
  selected: boolean;
  top: number;
}) {
  const part = (p: SummaryPart): string | undefined => summaryClause(cat, s, p);
  const hasMethodPath = s.method !== undefined || s.path !== undefined;
  // What the summary says beyond method and path: a query string, a WebSocket message…
  const shown = [s.method, s.path].filter((x) => x !== undefined).join(' ');
  const rest = s.summary.startsWith(shown) ? s.summary.slice(shown.length) : ` ${s.summary}`;
  return (
    <div
      role="row"
      className={`row st-${statusClass(s)}${selected ? ' selected' : ''}`}
      data-node={s.node}
      data-id={s.id}
      style={{ transform: `translateY(${top}px)` }}
    >
      <span className="c time" title={fmtIso(s.ts)}>
        {fmtClock(s.ts)}
      </span>
      <span className="c proto">
        <V clause={part('protocol')} className={`badge p-${s.protocol}`}>
          {s.protocol}
        </V>
      </span>
      <span className="c eps">
        <Endpoint cat={cat} side="src" ep={s.src} />
        <span className="arrow">→</span>
        <Endpoint cat={cat} side="dst" ep={s.dst} />
      </span>
      <span className="c summary" title={s.summary}>
        {s.redacted === true && (
          <span
            className="redacted-mark"
            title="values redacted before storage"
            data-testid="row-redacted"
          >
            ✱
          </span>
        )}
        {hasMethodPath ? (
          <>
            {s.method !== undefined && (
              <V clause={part('method')} className="method">
                {s.method}
              </V>
            )}{' '}
            {s.path !== undefined && <V clause={part('path')}>{s.path}</V>}
            {rest !== '' && <span className="dim">{rest}</span>}
          </>
        ) : (
          s.summary
        )}
      </span>
      <span className="c status" title={s.error?.message}>
        <V clause={part('status')}>{s.statusText}</V>
        {s.error !== undefined && <span className="err-code">{s.error.code}</span>}
      </span>
      <span className="c latency">{fmtDuration(s.elapsed)}</span>
      <span className="c size">
        {fmtBytes(s.requestSize)} / {fmtBytes(s.responseSize)}
      </span>
    </div>
  );
}

export function TrafficList({ live, cat, selected, onSelect, onFilter }: Props) {
  const version = useSyncExternalStore(live.subscribe, live.getVersion);
  const rows = live.rows;
  const st = live.state;
  const [newestFirst, setNewestFirst] = useState(false);
  /** Pinned to the newest edge (Wireshark's autoscroll); scrolling away turns it off. */
  const [follow, setFollow] = useState(true);
  const [viewHeight, setViewHeight] = useState(800);
  const scroller = useRef<HTMLDivElement>(null);

  const count = rows.size;
  const rowAt = (i: number): EntrySummary | undefined =>
    newestFirst ? rows.fromNewest(i) : rows.at(i);
  /**
   * Following at the bottom, the visible rows are simply the last ones: they are rendered
   * directly and the view is pinned to the end before paint, so a fast stream never shows a
   * frame of rows that the scroll position has already left.
   */
  const tail = follow && !newestFirst;
  // Elsewhere rows are keyed by entry, so the virtualizer keeps what you look at in place while
  // rows arrive and the oldest are dropped; following at the top, index keys keep the top.
  const virtualizer = useVirtualizer({
    count,
    enabled: !tail,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    // Re-enabled after following: start from where the view is, not from the top.
    initialOffset: () => scroller.current?.scrollTop ?? 0,
    getItemKey: (i) => {
      if (follow) return i;
      const s = rowAt(i);
      return s === undefined ? i : `${s.node}/${s.id}`;
    },
    // (the virtualizer anchors by key only in its 'end' mode)
    anchorTo: 'end',
  });
  const items: { index: number; start: number }[] = [];
  if (tail) {
    const visible = Math.ceil(viewHeight / ROW_HEIGHT) + 2;
    for (let i = Math.max(0, count - visible); i < count; i++)
      items.push({ index: i, start: i * ROW_HEIGHT });
  } else
    for (const vi of virtualizer.getVirtualItems())
      items.push({ index: vi.index, start: vi.start });

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el === null) return;
    const ro = new ResizeObserver(() => setViewHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  // Pinned: to the end before paint (tail), or to the top.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el === null || !follow) return;
    // From what is known (no layout read): rows are ROW_HEIGHT each, the view viewHeight tall.
    const target = newestFirst ? 0 : Math.max(0, count * ROW_HEIGHT - viewHeight);
    if (Math.abs(el.scrollTop - target) >= 1) el.scrollTop = target;
  }, [version, follow, newestFirst, count, viewHeight]);

  /** The user moves away from the newest edge (wheel, keys, scrollbar): stop following. */
  const away = (): void => {
    if (follow) setFollow(false);
  };
  const onWheel = (ev: WheelEvent<HTMLDivElement>): void => {
    if (newestFirst ? ev.deltaY > 0 : ev.deltaY < 0) away();
  };
  const onKeyDown = (ev: KeyboardEvent<HTMLDivElement>): void => {
    const toOld = newestFirst ? ['ArrowDown', 'PageDown', 'End'] : ['ArrowUp', 'PageUp', 'Home'];
    if (toOld.includes(ev.key)) away();
  };
  const onPointerDown = (ev: PointerEvent<HTMLDivElement>): void => {
    // On the scrollbar (outside the content box): a drag may leave the edge.
    const el = ev.currentTarget;
    if (ev.target === el && ev.nativeEvent.offsetX > el.clientWidth) away();
  };
  const onScroll = (): void => {
    const el = scroller.current;
    if (el === null || follow) return;
    const atEdge = newestFirst
      ? el.scrollTop <= ROW_HEIGHT / 2
      : el.scrollTop + el.clientHeight >= el.scrollHeight - ROW_HEIGHT / 2;
    if (atEdge) setFollow(true);
  };

  const onClick = (ev: MouseEvent<HTMLDivElement>): void => {
    const t = ev.target as HTMLElement;
    const fv = t.closest<HTMLElement>('.fv');
    if (fv?.dataset.clause !== undefined) {
      ev.stopPropagation();
      onFilter(fv.dataset.clause);
      return;
    }
    const row = t.closest<HTMLElement>('[role=row][data-id]');
    if (row?.dataset.node !== undefined && row.dataset.id !== undefined)
      onSelect({ node: row.dataset.node, id: Number(row.dataset.id) });
  };

  return (
    <section className="traffic" aria-label="Traffic">
      <div className="toolbar">
        <button
          className={`btn ${live.isPaused ? 'primary' : ''}`}
          data-testid="pause"
          onClick={() => (live.isPaused ? live.resume() : live.pause())}
        >
          {live.isPaused ? '▶ Resume' : '❚❚ Pause'}
        </button>
        <button
          className="btn"
          data-testid="order"
          title="Where new entries appear"
          onClick={() => {
            setNewestFirst((n) => !n);
            setFollow(true);
          }}
        >
          {newestFirst ? 'Newest on top' : 'Newest at bottom'}
        </button>
        <label className="check">
          <input
            type="checkbox"
            checked={follow}
            data-testid="follow"
            onChange={(e) => setFollow(e.target.checked)}
          />{' '}
          follow
        </label>
        <span className={`phase ph-${st.phase}`} data-testid="phase">
          {st.phase}
        </span>
        <span className="count" data-testid="row-count" data-count={count}>
          {fmtCount(count)} {count === 1 ? 'entry' : 'entries'}
        </span>
        {st.entriesPerSec !== undefined && (
          <span className="dim">{st.entriesPerSec.toFixed(0)}/s</span>
        )}
        {rows.dropped > 0 && (
          <span className="warn" data-testid="rows-dropped" data-count={rows.dropped}>
            {fmtCount(rows.dropped)} older dropped (limit {fmtCount(MAX_ROWS)})
          </span>
        )}
        {st.serverDropped > 0 && (
          <span className="warn" data-testid="server-dropped" data-count={st.serverDropped}>
            {fmtCount(st.serverDropped)} not delivered (slow connection)
          </span>
        )}
        {st.historyMore && <span className="dim">older entries not loaded</span>}
        {st.unavailable.length > 0 && (
          <span className="warn">no answer from {st.unavailable.join(', ')}</span>
        )}
        {st.workersDown.length > 0 && (
          <span className="warn">down: {st.workersDown.join(', ')}</span>
        )}
      </div>
      {st.phase === 'error' && st.error !== undefined && (
        <div className="banner error" data-testid="list-error">
          {st.error.message}
        </div>
      )}
      <div className="thead" role="row">
        <span className="c time">time</span>
        <span className="c proto">protocol</span>
        <span className="c eps">source → destination</span>
        <span className="c summary">summary</span>
        <span className="c status">status</span>
        <span className="c latency">latency</span>
        <span className="c size">req / resp</span>
      </div>
      <div
        className="scroller"
        ref={scroller}
        tabIndex={0}
        onScroll={onScroll}
        onWheel={onWheel}
        onKeyDown={onKeyDown}
        onPointerDown={onPointerDown}
        onClick={onClick}
        data-testid="rows"
        data-follow={follow}
        role="grid"
      >
        <div style={{ height: count * ROW_HEIGHT, position: 'relative' }}>
          {items.map((vi) => {
            const s = rowAt(vi.index);
            if (s === undefined) return null;
            return (
              <Row
                key={`${s.node}/${s.id}`}
                s={s}
                cat={cat}
                top={vi.start}
                selected={
                  selected !== undefined && selected.node === s.node && selected.id === s.id
                }
              />
            );
          })}
        </div>
        {count === 0 && st.phase !== 'error' && (
          <div className="empty">
            {st.phase === 'live' ? 'No entries match yet; new ones appear here.' : 'Loading…'}
          </div>
        )}
      </div>
    </section>
  );
}
