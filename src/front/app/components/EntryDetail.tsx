/**
 * One entry in full (`GET /api/entries/:id?node=`): request and response (headers tables, bodies
 * pretty-printed or decoded), timing, L4 endpoints and connection, and the raw KFL JSON view.
 * Every value whose field is in the catalogue is click-to-filter; redacted values are marked.
 */
import { useState, type MouseEvent, type ReactNode } from 'react';
import { api } from '../lib/api.ts';
import { viewClause, type Catalogue } from '../lib/filters.ts';
import { fmtDuration, parseIsoUs, statusClass } from '../lib/format.ts';
import { useLoad } from '../lib/hooks.ts';
import { messageViewOf } from '../protocols/index.ts';
import { KvTable, REDACTED, Section, Val, num, obj, str, type Obj } from './detail-kit.tsx';

export { REDACTED } from './detail-kit.tsx';

type Tab = 'request' | 'response' | 'timing' | 'l4' | 'raw';
const TABS: { tab: Tab; label: string }[] = [
  { tab: 'request', label: 'Request' },
  { tab: 'response', label: 'Response' },
  { tab: 'timing', label: 'Timing' },
  { tab: 'l4', label: 'L4' },
  { tab: 'raw', label: 'Raw JSON' },
];

interface Props {
  node: string;
  id: number;
  cat: Catalogue;
  onFilter: (clause: string) => void;
  onClose: () => void;
}

function Message({
  cat,
  entry,
  side,
}: {
  cat: Catalogue;
  entry: Obj;
  side: 'request' | 'response';
}) {
  const m = obj(entry[side]);
  if (m === undefined) {
    const other = side === 'request' ? 'response' : 'request';
    return (
      <div className="dim" data-testid={`no-${side}`}>
        No {side}{' '}
        {obj(entry[other]) !== undefined ? `(this entry is a single ${other} message)` : 'seen'}.
      </div>
    );
  }
  const View = messageViewOf(str(entry.protocol), m);
  return <View cat={cat} side={side} m={m} />;
}

function Timing({ entry }: { entry: Obj }) {
  const ts = str(entry.timestamp);
  const reqT = str(obj(entry.request)?.time);
  const resT = str(obj(entry.response)?.time);
  const elapsed = num(entry.elapsed_time);
  const t0 = reqT !== undefined ? parseIsoUs(reqT) : ts !== undefined ? parseIsoUs(ts) : NaN;
  const t1 = resT !== undefined ? parseIsoUs(resT) : NaN;
  const rtt = num(entry.conn_rtt);
  const rows: [ReactNode, ReactNode][] = [
    ['timestamp', ts ?? ''],
    ['request seen', reqT ?? '—'],
    ['response seen', resT ?? '—'],
    ['elapsed', <span data-testid="elapsed">{fmtDuration(elapsed)}</span>],
  ];
  if (rtt !== undefined) rows.push(['TCP handshake RTT', fmtDuration(rtt)]);
  const span = Number.isFinite(t0) && Number.isFinite(t1) && t1 >= t0 ? t1 - t0 : undefined;
  return (
    <>
      <KvTable rows={rows} testid="timing" />
      {span !== undefined && (
        <div className="waterfall" title={`${fmtDuration(span)} from request to response`}>
          <div className="wf-req">request</div>
          <div className="wf-bar" />
          <div className="wf-res">response +{fmtDuration(span)}</div>
        </div>
      )}
    </>
  );
}

const L4_KEYS = /^(conn_|flow_|tcp_|udp_|icmp_|sctp_)/;

function L4({ cat, entry }: { cat: Catalogue; entry: Obj }) {
  const side = (s: 'src' | 'dst'): ReactNode => {
    const ep = obj(entry[s]) ?? {};
    const rows: [ReactNode, ReactNode][] = [];
    const leaf = (path: string[], v: unknown): void => {
      rows.push([path.slice(1).join('.'), <Val v={v} clause={viewClause(cat, path, v, false)} />]);
    };
    for (const [k, v] of Object.entries(ep)) {
      const o = obj(v);
      if (o !== undefined && k !== 'labels' && k !== 'annotations')
        for (const [k2, v2] of Object.entries(o)) leaf([s, k, k2], v2);
      else if (o !== undefined)
        for (const [k2, v2] of Object.entries(o)) rows.push([`${k}.${k2}`, <Val v={v2} />]);
      else leaf([s, k], v);
    }
    return <KvTable rows={rows} testid={`l4-${s}`} />;
  };
  const conn: [ReactNode, ReactNode][] = [];
  for (const k of [
    'protocol',
    'tcp',
    'udp',
    'conn_id',
    'flow_id',
    'stream',
    'index',
    'node_name',
    'worker',
    'capture_source',
  ])
    if (entry[k] !== undefined)
      conn.push([k, <Val v={entry[k]} clause={viewClause(cat, [k], entry[k], false)} />]);
  for (const [k, v] of Object.entries(entry))
    if (L4_KEYS.test(k) && typeof v !== 'object')
      conn.push([k, <Val v={v} clause={viewClause(cat, [k], v, false)} />]);
  return (
    <div className="l4">
      <Section title="Source">{side('src')}</Section>
      <Section title="Destination">{side('dst')}</Section>
      <Section title="Connection">
        <KvTable rows={conn} testid="l4-conn" />
      </Section>
    </div>
  );
}

/** The KFL JSON view as a tree; leaves that are catalogue fields filter when clicked. */
function JsonTree({
  cat,
  value,
  path,
  inList,
}: {
  cat: Catalogue;
  value: unknown;
  path: string[];
  inList: boolean;
}): ReactNode {
  if (Array.isArray(value)) {
    if (value.length === 0) return <span className="jp">[]</span>;
    return (
      <>
        <span className="jp">[</span>
        <div className="jindent">
          {value.map((v, i) => (
            <div key={i}>
              <JsonTree cat={cat} value={v} path={path} inList={true} />
              {i < value.length - 1 ? ',' : ''}
            </div>
          ))}
        </div>
        <span className="jp">]</span>
      </>
    );
  }
  const o = obj(value);
  if (o !== undefined) {
    const keys = Object.keys(o);
    if (keys.length === 0) return <span className="jp">{'{}'}</span>;
    return (
      <>
        <span className="jp">{'{'}</span>
        <div className="jindent">
          {keys.map((k, i) => (
            <div key={k}>
              <span className="jk">{JSON.stringify(k)}</span>:{' '}
              <JsonTree cat={cat} value={o[k]} path={[...path, k]} inList={false} />
              {i < keys.length - 1 ? ',' : ''}
            </div>
          ))}
        </div>
        <span className="jp">{'}'}</span>
      </>
    );
  }
  if (value === REDACTED) return <span className="redacted-badge">REDACTED</span>;
  const c = path.length > 0 ? viewClause(cat, path, value, inList) : undefined;
  const text = JSON.stringify(value);
  const cls = `jv j-${value === null ? 'null' : typeof value}`;
  return c === undefined ? (
    <span className={cls}>{text}</span>
  ) : (
    <span className={`${cls} fv`} data-clause={c} title={`filter: ${c}`}>
      {text}
    </span>
  );
}

export function EntryDetail({ node, id, cat, onFilter, onClose }: Props) {
  const r = useLoad((signal) => api.entry(node, id, signal), [node, id]);
  const [tab, setTab] = useState<Tab | undefined>(undefined);
  const entry = r.data?.entry;
  const s = r.data?.summary;
  const isL4 = entry !== undefined && entry.request === undefined && entry.response === undefined;
  const shown: Tab =
    tab ??
    (isL4
      ? 'l4'
      : entry?.request === undefined && entry?.response !== undefined
        ? 'response'
        : 'request');
  const redacted = Array.isArray(entry?.redacted) ? (entry.redacted as unknown[]).map(String) : [];

  const onClick = (ev: MouseEvent<HTMLElement>): void => {
    const fv = (ev.target as HTMLElement).closest<HTMLElement>('.fv');
    if (fv?.dataset.clause !== undefined) onFilter(fv.dataset.clause);
  };

  return (
    <aside className="detail" data-testid="detail" data-entry={`${node}/${id}`} onClick={onClick}>
      <div className="detail-head">
        {s !== undefined ? (
          <>
            <span className={`badge p-${s.protocol}`}>{s.protocol}</span>
            <span className="detail-summary" data-testid="detail-summary">
              {s.summary}
            </span>
            <span className={`status st-${statusClass(s)}`}>{s.statusText}</span>
            <span className="dim">{fmtDuration(s.elapsed)}</span>
            {(s.redacted === true || redacted.length > 0) && (
              <span className="redacted-badge" data-testid="redacted" title={redacted.join(', ')}>
                redacted{redacted.length > 0 ? ` (${redacted.length})` : ''}
              </span>
            )}
          </>
        ) : (
          <span className="dim">{r.error !== undefined ? 'error' : 'loading…'}</span>
        )}
        <button
          className="btn close"
          onClick={onClose}
          aria-label="Close detail"
          data-testid="detail-close"
        >
          ✕
        </button>
      </div>
      {r.error !== undefined && (
        <div className="banner error" data-testid="detail-error">
          {r.error.message}
        </div>
      )}
      {entry !== undefined && (
        <>
          {s?.error !== undefined && (
            <div className="banner warn">
              {s.error.code}: {s.error.message}
            </div>
          )}
          {redacted.length > 0 && (
            <div className="banner redacted" data-testid="redacted-fields">
              Redacted before storage: {redacted.join(', ')}
            </div>
          )}
          {r.data?.truncated === true && (
            <div className="banner warn">Bodies cut for display; the stored entry is whole.</div>
          )}
          <div className="dtabs" role="tablist">
            {TABS.map((t) => (
              <button
                key={t.tab}
                role="tab"
                aria-selected={shown === t.tab}
                className={shown === t.tab ? 'tab active' : 'tab'}
                data-tab={t.tab}
                onClick={() => setTab(t.tab)}
              >
                {t.label}
              </button>
            ))}
          </div>
          <div className="dbody" data-testid={`tab-${shown}`}>
            {shown === 'request' && <Message cat={cat} entry={entry} side="request" />}
            {shown === 'response' && <Message cat={cat} entry={entry} side="response" />}
            {shown === 'timing' && <Timing entry={entry} />}
            {shown === 'l4' && <L4 cat={cat} entry={entry} />}
            {shown === 'raw' && (
              <div className="json" data-testid="raw-json">
                <JsonTree cat={cat} value={entry} path={[]} inList={false} />
              </div>
            )}
          </div>
        </>
      )}
    </aside>
  );
}
