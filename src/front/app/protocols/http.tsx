/** An HTTP request or response: start line, headers, query, cookies, trailers, body. */
import {
  BodyView,
  KvTable,
  Section,
  Val,
  headerRows,
  mapRows,
  num,
  obj,
  str,
  type MessageProps,
} from '../components/detail-kit.tsx';
import { fmtBytes } from '../lib/format.ts';
export function HttpMessage({ cat, side, m }: MessageProps) {
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
