/** Building blocks of the entry detail, shared by the per-protocol message views (../protocols). */
import type { ReactNode } from 'react';
import { renderBody } from '../lib/body.ts';
import { clause, type Catalogue } from '../lib/filters.ts';
import { fmtBytes } from '../lib/format.ts';

/** What redaction leaves in place of a value (see the redaction rules of the worker). */
export const REDACTED = '[REDACTED]';

export type Obj = Record<string, unknown>;

/** What a protocol's message view is given: one side of an entry's KFL view. */
export interface MessageProps {
  cat: Catalogue;
  side: 'request' | 'response';
  m: Obj;
}

export const obj = (x: unknown): Obj | undefined =>
  typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Obj) : undefined;
export const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
export const num = (x: unknown): number | undefined => (typeof x === 'number' ? x : undefined);

/** A value, as a badge when redacted, clickable when `clause` is given. */
export function Val({ v, clause: c }: { v: unknown; clause?: string }) {
  if (v === REDACTED) return <span className="redacted-badge">REDACTED</span>;
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  if (c === undefined) return <span className="val">{text}</span>;
  return (
    <span className="val fv" data-clause={c} title={`filter: ${c}`}>
      {text}
    </span>
  );
}

export function KvTable({ rows, testid }: { rows: [ReactNode, ReactNode][]; testid?: string }) {
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

export function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="dsec">
      <h4>{title}</h4>
      {children}
    </section>
  );
}

export function BodyView({ body, contentType }: { body: unknown; contentType?: string }) {
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
export function headerRows(cat: Catalogue, field: string, m: Obj): [ReactNode, ReactNode][] {
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

export function mapRows(cat: Catalogue, field: string, m: unknown): [ReactNode, ReactNode][] {
  return Object.entries(obj(m) ?? {}).map(([k, v]) => [
    k,
    <Val v={v} clause={v === REDACTED ? undefined : clause(cat, field, String(v), k)} />,
  ]);
}

/** Rows of records (DNS questions…); `fields` maps a column to the list field it filters. */
export function RecordTable({
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

/** Any other protocol's message: its scalar fields as a table, nested parts as JSON. */
export function GenericMessage({ m }: MessageProps) {
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
