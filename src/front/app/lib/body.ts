/**
 * Bodies as people read them: JSON and XML indented, protobuf (and gRPC frames) decoded without
 * a schema like `protoc --decode_raw`, anything else as text or a hex dump. Pure functions with
 * named limits: a 100 MB body never freezes the tab.
 */
import { MAX_HEX_BYTES, MAX_PRETTY_CHARS } from './limits.ts';

/** Deepest nested protobuf message decoded; deeper ones stay bytes. */
export const MAX_PROTO_DEPTH = 8;
/** Protobuf fields decoded per body. */
export const MAX_PROTO_FIELDS = 5000;

export type BodyKind = 'json' | 'xml' | 'protobuf' | 'grpc' | 'form' | 'text' | 'binary' | 'empty';

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** JSON indented by two spaces; undefined when `text` is not JSON (or too long to redo). */
export function prettyJson(text: string): string | undefined {
  if (text.length > MAX_PRETTY_CHARS) return undefined;
  const t = text.trim();
  if (t === '' || !/^[[{"\d\-tfn]/.test(t)) return undefined;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return undefined;
  }
}

/**
 * XML indented by two spaces, one element per line; text-only elements stay on one line.
 * Undefined when `text` does not look like XML. Not a validator: it re-indents what it gets.
 */
export function prettyXml(text: string): string | undefined {
  if (text.length > MAX_PRETTY_CHARS) return undefined;
  const t = text.trim();
  if (!t.startsWith('<') || !t.endsWith('>')) return undefined;
  const parts = t.match(/<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|<[^>]+>|[^<]+/g);
  if (parts === null) return undefined;
  const lines: string[] = [];
  let depth = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.trim() === '') continue;
    const pad = '  '.repeat(depth);
    if (p.startsWith('</')) {
      depth = Math.max(0, depth - 1);
      lines.push('  '.repeat(depth) + p);
    } else if (p.startsWith('<?') || p.startsWith('<!') || p.endsWith('/>') || !p.startsWith('<')) {
      lines.push(pad + p.trim());
    } else {
      // <a>text</a> on one line.
      const next = parts[i + 1];
      const close = parts[i + 2];
      if (next !== undefined && !next.startsWith('<') && close?.startsWith('</')) {
        lines.push(pad + p + next.trim() + close);
        i += 2;
      } else {
        lines.push(pad + p);
        depth++;
      }
    }
  }
  return lines.join('\n');
}

/** `00000000  48 65 6c 6c 6f  |Hello|`, 16 bytes a line, cut at `max` bytes. */
export function hexDump(bytes: Uint8Array, max = MAX_HEX_BYTES): string {
  const n = Math.min(bytes.length, max);
  const lines: string[] = [];
  for (let off = 0; off < n; off += 16) {
    const row = bytes.subarray(off, Math.min(off + 16, n));
    let hex = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      const b = row[i];
      hex += b === undefined ? '   ' : b.toString(16).padStart(2, '0') + ' ';
      if (i === 7) hex += ' ';
      if (b !== undefined) ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex} |${ascii}|`);
  }
  if (bytes.length > n) lines.push(`… ${bytes.length - n} more bytes`);
  return lines.join('\n');
}

// ---------------------------------------------------------------- protobuf, schema-less

export interface ProtoField {
  /** Field number. */
  field: number;
  wire: 'varint' | 'i64' | 'len' | 'i32';
  /** varint: the number (as a decimal string when beyond 2^53); i64/i32: hex and numbers. */
  value: string;
  /** `len` fields: a nested message when the bytes parse as one, else a string or bytes. */
  message?: ProtoField[];
  text?: string;
  bytes?: Uint8Array;
}

class ProtoReader {
  pos = 0;
  constructor(readonly b: Uint8Array) {}
  varint(): bigint | undefined {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const byte = this.b[this.pos++];
      if (byte === undefined) return undefined;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
    return undefined;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function printable(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u0008\u000e-\u001f\u007f]/.test(s);
}

/**
 * The fields of a protobuf message without its schema; undefined when the bytes are not a
 * well-formed message (so a caller can fall back to text or hex).
 */
export function decodeProtobuf(
  bytes: Uint8Array,
  depth = 0,
  budget = { fields: MAX_PROTO_FIELDS },
): ProtoField[] | undefined {
  const r = new ProtoReader(bytes);
  const out: ProtoField[] = [];
  while (r.pos < bytes.length) {
    if (--budget.fields < 0) return undefined;
    const key = r.varint();
    if (key === undefined) return undefined;
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (field < 1 || field > 536870911) return undefined;
    if (wireType === 0) {
      const v = r.varint();
      if (v === undefined) return undefined;
      out.push({ field, wire: 'varint', value: v.toString() });
    } else if (wireType === 1 || wireType === 5) {
      const n = wireType === 1 ? 8 : 4;
      if (r.pos + n > bytes.length) return undefined;
      const view = new DataView(bytes.buffer, bytes.byteOffset + r.pos, n);
      const value =
        n === 8
          ? `${view.getBigUint64(0, true).toString()} (double ${view.getFloat64(0, true)})`
          : `${view.getUint32(0, true)} (float ${view.getFloat32(0, true)})`;
      r.pos += n;
      out.push({ field, wire: n === 8 ? 'i64' : 'i32', value });
    } else if (wireType === 2) {
      const len = r.varint();
      if (len === undefined || BigInt(r.pos) + len > BigInt(bytes.length)) return undefined;
      const sub = bytes.subarray(r.pos, r.pos + Number(len));
      r.pos += Number(len);
      const f: ProtoField = { field, wire: 'len', value: `${sub.length} bytes` };
      let text: string | undefined;
      try {
        text = utf8.decode(sub);
      } catch {
        text = undefined;
      }
      const nested =
        depth < MAX_PROTO_DEPTH && sub.length > 0
          ? decodeProtobuf(sub, depth + 1, budget)
          : undefined;
      if (
        text !== undefined &&
        printable(text) &&
        (nested === undefined || /^[\x20-\x7e]*$/.test(text))
      )
        f.text = text;
      else if (nested !== undefined) f.message = nested;
      else f.bytes = sub;
      out.push(f);
    } else {
      return undefined;
    }
  }
  return out;
}

/** gRPC length-prefixed messages (flag byte + 4-byte big-endian length); undefined if not. */
export function grpcFrames(
  bytes: Uint8Array,
): { compressed: boolean; data: Uint8Array }[] | undefined {
  const out: { compressed: boolean; data: Uint8Array }[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (pos + 5 > bytes.length) return undefined;
    const flag = bytes[pos]!;
    if (flag > 1) return undefined;
    const len =
      ((bytes[pos + 1]! << 24) |
        (bytes[pos + 2]! << 16) |
        (bytes[pos + 3]! << 8) |
        bytes[pos + 4]!) >>>
      0;
    if (pos + 5 + len > bytes.length) return undefined;
    out.push({ compressed: flag === 1, data: bytes.subarray(pos + 5, pos + 5 + len) });
    pos += 5 + len;
  }
  return out;
}

/** Text form of decoded protobuf fields, one per line, nested messages indented. */
export function protoText(fields: readonly ProtoField[], indent = ''): string {
  const lines: string[] = [];
  for (const f of fields) {
    if (f.message !== undefined) {
      lines.push(`${indent}${f.field} {`);
      lines.push(protoText(f.message, indent + '  '));
      lines.push(`${indent}}`);
    } else if (f.text !== undefined) {
      lines.push(`${indent}${f.field}: ${JSON.stringify(f.text)}`);
    } else if (f.bytes !== undefined) {
      const hex = Array.from(f.bytes.subarray(0, 64), (b) => b.toString(16).padStart(2, '0'));
      lines.push(`${indent}${f.field}: <${hex.join(' ')}${f.bytes.length > 64 ? ' …' : ''}>`);
    } else {
      lines.push(`${indent}${f.field}: ${f.value}`);
    }
  }
  return lines.filter((l) => l !== '').join('\n');
}

export interface RenderedBody {
  kind: BodyKind;
  /** What to show (pretty-printed, decoded, or a hex dump). */
  text: string;
  /** Why it is shown this way (`JSON`, `XML`, `protobuf (schema-less)`, `hex`…). */
  label: string;
}

/**
 * How to show a body given its content type and what the entry kept (`text` when printable
 * UTF-8, else `base64`), in the order: decoded fields the entry carries, protobuf / gRPC, JSON,
 * XML, form, text, hex.
 */
export function renderBody(
  contentType: string | undefined,
  body: { text?: string; base64?: string; decoded?: unknown },
): RenderedBody {
  const ct = (contentType ?? '').toLowerCase();
  if (body.decoded !== undefined && body.decoded !== null)
    return { kind: 'protobuf', text: JSON.stringify(body.decoded, null, 2), label: 'decoded' };
  const bytes =
    body.base64 !== undefined
      ? base64ToBytes(body.base64)
      : body.text !== undefined
        ? new TextEncoder().encode(body.text)
        : new Uint8Array(0);
  if (bytes.length === 0) return { kind: 'empty', text: '', label: 'empty' };
  if (ct.startsWith('application/grpc')) {
    const frames = grpcFrames(bytes);
    if (frames !== undefined) {
      const parts = frames.map((fr, i) => {
        const head = `message ${i + 1} (${fr.data.length} bytes${fr.compressed ? ', compressed' : ''})`;
        const fields = fr.compressed ? undefined : decodeProtobuf(fr.data);
        return `${head}\n${fields !== undefined ? protoText(fields, '  ') : hexDump(fr.data)}`;
      });
      return { kind: 'grpc', text: parts.join('\n\n'), label: 'gRPC, protobuf (schema-less)' };
    }
  }
  if (ct.includes('protobuf') || ct.includes('x-protobuf')) {
    const fields = decodeProtobuf(bytes);
    if (fields !== undefined)
      return { kind: 'protobuf', text: protoText(fields), label: 'protobuf (schema-less)' };
  }
  if (body.text !== undefined) {
    const json = ct.includes('json') || !ct.includes('xml') ? prettyJson(body.text) : undefined;
    if (json !== undefined) return { kind: 'json', text: json, label: 'JSON' };
    const xml =
      ct.includes('xml') || ct.includes('html') || /^\s*<[?!a-zA-Z]/.test(body.text)
        ? prettyXml(body.text)
        : undefined;
    if (xml !== undefined)
      return { kind: 'xml', text: xml, label: ct.includes('html') ? 'HTML' : 'XML' };
    if (ct.includes('x-www-form-urlencoded')) {
      const form = body.text
        .split('&')
        .map((kv) => {
          const [k = '', v = ''] = kv.split('=');
          const dec = (s: string): string => {
            try {
              return decodeURIComponent(s.replace(/\+/g, ' '));
            } catch {
              return s;
            }
          };
          return `${dec(k)} = ${dec(v)}`;
        })
        .join('\n');
      return { kind: 'form', text: form, label: 'form' };
    }
    return { kind: 'text', text: body.text, label: 'text' };
  }
  return { kind: 'binary', text: hexDump(bytes), label: 'hex' };
}
