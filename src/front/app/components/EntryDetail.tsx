/**
 * One entry in full (`GET /api/entries/:id?node=`): request and response (headers tables, bodies
 * pretty-printed or decoded), timing, L4 endpoints and connection, and the raw KFL JSON view.
 * Every value whose field is in the catalogue is click-to-filter; redacted values are marked.
 */
import { useState, type MouseEvent, type ReactNode } from 'react';
import { api } from '../lib/api.ts';
import { renderBody } from '../lib/body.ts';
import { clause, viewClause, type Catalogue } from '../lib/filters.ts';
import { fmtBytes, fmtDuration, parseIsoUs, statusClass } from '../lib/format.ts';
import { useLoad } from '../lib/hooks.ts';

type Obj = Record<string, unknown>;
type Tab = 'request' | 'response' | 'timing' | 'l4' | 'raw';
const TABS: { tab: Tab; label: string }[] = [
  { tab: 'request', label: 'Request' },
  { tab: 'response', label: 'Response' },
  { tab: 'timing', label: 'Timing' },
  { tab: 'l4', label: 'L4' },
  { tab: 'raw', label: 'Raw JSON' },
];

/** What redaction leaves in place of a value (see the redaction rules of the worker). */
export const REDACTED = '[REDACTED]';

const obj = (x: unknown): Obj | undefined =>
  typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Obj) : undefined;
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
const num = (x: unknown): number | undefined => (typeof x === 'number' ? x : undefined);

interface Props {
  node: string;
  id: number;
  cat: Catalogue;
  onFilter: (clause: string) => void;
  onClose: () => void;
}

/** A value, as a badge when redacted, clickable when `clause` is given. */
function Val({ v, clause: c }: { v: unknown; clause?: string }) {
  if (v === REDACTED) return <span className="redacted-badge">REDACTED</span>;
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  if (c === undefined) return <span className="val">{text}</span>;
  return (
    <span className="val fv" data-clause={c} title={`filter: ${c}`}>
      {text}
    </span>
  );
}

function KvTable({ rows, testid }: { rows: [ReactNode, ReactNode][]; testid?: string }) {
  if (rows.length === 0) return <div className="dim">none</div>;
  return (
    <table className="kv" data-testid={testid}>
      <tbody>
        {rows.map(([k, v], i) => (
          <tr key={i}>
            <th>{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="dsec">
      <h4>{title}</h4>
      {children}
    </section>
  );
}

function BodyView({ body, contentType }: { body: unknown; contentType?: string }) {
  const b = obj(body);
  if (b === undefined) return <div className="dim">no body</div>;
  const size = num(b.size) ?? 0;
  const kept = str(b.text) !== undefined || str(b.base64) !== undefined || b.decoded !== undefined;
  const meta = [
    `${fmtBytes(size)} on the wire`,
    str(b.encoding) !== undefined
      ? `${str(b.encoding)} → ${fmtBytes(num(b.decodedSize))}`
      : undefined,
  ].filter((x) => x !== undefined);
  if (!kept)
    return <div className="dim">{size === 0 ? 'empty' : `${meta.join(', ')}; not kept`}</div>;
  if (b.text === REDACTED || b.base64 === REDACTED)
    return <span className="redacted-badge">REDACTED</span>;
  const r = renderBody(contentType, {
    text: str(b.text),
    base64: str(b.base64),
    decoded: b.decoded,
  });
  return (
    <div className="body">
      <div className="body-meta">
        <span className="badge">{r.label}</span> {meta.join(', ')}
        {b.truncated === true && <span className="warn"> truncated</span>}
      </div>
      <pre className={`code body-${r.kind}`} data-testid="body">
        {r.text}
      </pre>
    </div>
  );
}

/** Header rows with click-to-filter on `request.headers["name"] == "value"`. */
function headerRows(cat: Catalogue, field: string, m: Obj): [ReactNode, ReactNode][] {
  const list = Array.isArray(m.headersList)
    ? (m.headersList as unknown[]).filter(
        (h): h is [string, string] => Array.isArray(h) && h.length === 2,
      )
    : Object.entries(obj(m.headers) ?? {}).map(([k, v]) => [k, String(v)] as [string, string]);
  return list.map(([k, v]) => [
    k,
    <Val v={v} clause={v === REDACTED ? undefined : clause(cat, field, v, k.toLowerCase())} />,
  ]);
}

function mapRows(cat: Catalogue, field: string, m: unknown): [ReactNode, ReactNode][] {
  return Object.entries(obj(m) ?? {}).map(([k, v]) => [
    k,
    <Val v={v} clause={v === REDACTED ? undefined : clause(cat, field, String(v), k)} />,
  ]);
}

function HttpMessage({ cat, side, m }: { cat: Catalogue; side: 'request' | 'response'; m: Obj }) {
  const headers = obj(m.headers) ?? {};
  const ct = str(headers['content-type']);
  const start =
    side === 'request'
      ? `${str(m.method) ?? ''} ${str(m.url) ?? ''} ${str(m.httpVersion) ?? ''}`
      : `${str(m.httpVersion) ?? ''} ${num(m.statusCode) ?? ''} ${str(m.statusText) ?? ''}`;
  return (
    <>
      <div className="startline" data-testid={`${side}-startline`}>
        <code>{start}</code>
      </div>
      <Section title={`Headers (${fmtBytes(num(m.headersSize))})`}>
        <KvTable rows={headerRows(cat, `${side}.headers`, m)} testid={`${side}-headers`} />
      </Section>
      {side === 'request' && Object.keys(obj(m.query) ?? {}).length > 0 && (
        <Section title="Query">
          <KvTable rows={mapRows(cat, 'query_string', m.query)} />
        </Section>
      )}
      {Object.keys(obj(m.cookies) ?? {}).length > 0 && (
        <Section title="Cookies">
          <KvTable rows={mapRows(cat, `${side}.cookies`, m.cookies)} />
        </Section>
      )}
      {obj(m.trailers) !== undefined && Object.keys(obj(m.trailers)!).length > 0 && (
        <Section title="Trailers">
          <KvTable rows={Object.entries(obj(m.trailers)!).map(([k, v]) => [k, <Val v={v} />])} />
        </Section>
      )}
      <Section title="Body">
        <BodyView body={m.body} contentType={ct} />
      </Section>
    </>
  );
}

/** Rows of records (DNS questions…); `fields` maps a column to the list field it filters. */
function RecordTable({
  cat,
  rows,
  name,
  fields = {},
}: {
  cat: Catalogue;
  rows: unknown;
  name: string;
  fields?: Record<string, string>;
}) {
  const list = Array.isArray(rows) ? rows.map(obj).filter((r): r is Obj => r !== undefined) : [];
  if (list.length === 0) return null;
  const cols = [...new Set(list.flatMap((r) => Object.keys(r)))];
  return (
    <Section title={`${name} (${list.length})`}>
      <table className="grid">
        <thead>
          <tr>
            {cols.map((c) => (
              <th key={c}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {list.map((r, i) => (
            <tr key={i}>
              {cols.map((c) => {
                const v = r[c];
                const f = fields[c];
                const cl = f !== undefined && typeof v === 'string' ? clause(cat, f, v) : undefined;
                return (
                  <td key={c}>
                    <Val v={v ?? ''} clause={cl} />
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

function DnsMessage({ cat, m }: { cat: Catalogue; m: Obj }) {
  return (
    <>
      <KvTable
        rows={(['id', 'opcode', 'rcode', 'flags', 'length'] as const)
          .filter((k) => m[k] !== undefined)
          .map((k) => [k, <Val v={m[k]} />])}
      />
      <RecordTable
        cat={cat}
        rows={m.questions}
        name="Questions"
        fields={{ name: 'dns_questions', type: 'dns_question_types' }}
      />
      <RecordTable cat={cat} rows={m.answers} name="Answers" fields={{ data: 'dns_answers' }} />
      <RecordTable cat={cat} rows={m.authorities} name="Authorities" />
      <RecordTable cat={cat} rows={m.additionals} name="Additionals" />
    </>
  );
}

function WsMessage({ m }: { m: Obj }) {
  const keys = [
    'opcode',
    'frames',
    'masked',
    'compressed',
    'payloadLength',
    'closeCode',
    'closeReason',
    'upgradePath',
  ];
  return (
    <>
      <KvTable rows={keys.filter((k) => m[k] !== undefined).map((k) => [k, <Val v={m[k]} />])} />
      <Section title="Payload">
        <BodyView body={m.payload} />
      </Section>
    </>
  );
}

/** Any other protocol's message: its scalar fields as a table, nested parts as JSON. */
function GenericMessage({ m }: { m: Obj }) {
  const rows: [ReactNode, ReactNode][] = Object.entries(m).map(([k, v]) => [
    k,
    typeof v === 'object' && v !== null ? (
      <pre className="code small">{JSON.stringify(v, null, 2)}</pre>
    ) : (
      <Val v={v} />
    ),
  ]);
  return <KvTable rows={rows} />;
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
  const protocol = str(entry.protocol);
  if (protocol === 'dns' || Array.isArray(m.questions)) return <DnsMessage cat={cat} m={m} />;
  if (protocol === 'ws' || m.opcode !== undefined) return <WsMessage m={m} />;
  if (m.headers !== undefined) return <HttpMessage cat={cat} side={side} m={m} />;
  return <GenericMessage m={m} />;
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
