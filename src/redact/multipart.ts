/**
 * `multipart/form-data` (and any `multipart/*`) bodies: the content of a part whose field name is
 * secret is replaced; a JSON part has its secret fields replaced. Everything else stays byte for
 * byte (the boundaries, the part headers, other parts); the shapes pass (patterns.ts) then runs
 * over the whole body as over any text. A body cut at `maxBodyBytes` is handled up to the cut: a
 * secret part cut off is redacted to the end.
 */
import { redactJsonText } from './json.ts';
import type { NameTest } from './names.ts';

export interface MultipartRedaction {
  text: string;
  /** `<field>` or `<field>.<json path>` of each value replaced. */
  paths: string[];
}

/** The `boundary` parameter of a multipart Content-Type (quoted or not), if any. */
export function multipartBoundary(contentType: string): string | undefined {
  if (!/^\s*multipart\//i.test(contentType)) return undefined;
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;,]{1,200}))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

const NAME = /;\s*name\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]+))/i;
const isJson = (ct: string): boolean => /[/+]json\b/i.test(ct);

export function redactMultipart(
  text: string,
  boundary: string,
  secretName: NameTest,
  replacement: string,
): MultipartRedaction | undefined {
  const delim = `--${boundary}`;
  const paths: string[] = [];
  let out = '';
  let at = 0; // copied up to here
  let i = text.indexOf(delim);
  while (i >= 0) {
    const after = i + delim.length;
    if (text.startsWith('--', after)) break; // the closing delimiter
    const lineEnd = text.indexOf('\n', after);
    if (lineEnd < 0) break;
    const headStart = lineEnd + 1;
    let headEnd = text.indexOf('\r\n\r\n', headStart);
    let bodyStart = headEnd + 4;
    const lf = text.indexOf('\n\n', headStart);
    if (lf >= 0 && (headEnd < 0 || lf < headEnd)) {
      headEnd = lf;
      bodyStart = lf + 2;
    }
    if (headEnd < 0) break; // headers cut off: nothing of the value is kept
    const next = text.indexOf(delim, bodyStart);
    // The content ends before the CRLF that precedes the next delimiter (or at the cut).
    let bodyEnd = next < 0 ? text.length : next;
    if (next >= 0 && text[bodyEnd - 1] === '\n') bodyEnd--;
    if (next >= 0 && text[bodyEnd - 1] === '\r') bodyEnd--;
    const head = text.slice(headStart, headEnd);
    const disposition = /^content-disposition\s*:(.*)$/im.exec(head)?.[1] ?? '';
    const nm = NAME.exec(disposition);
    const name = nm ? (nm[1] ?? nm[2] ?? '') : '';
    const ct = /^content-type\s*:(.*)$/im.exec(head)?.[1]?.trim() ?? '';
    const content = text.slice(bodyStart, bodyEnd);
    let replaced: string | undefined;
    if (name !== '' && secretName(name)) {
      if (content !== replacement && content !== '') {
        replaced = replacement;
        paths.push(name);
      }
    } else if (isJson(ct) || /^\s*[{[]/.test(content)) {
      const r = redactJsonText(content, secretName, replacement);
      if (r) {
        replaced = r.text;
        for (const p of r.paths) paths.push(name === '' ? p : `${name}.${p}`);
      }
    }
    if (replaced !== undefined) {
      out += text.slice(at, bodyStart) + replaced;
      at = bodyEnd;
    }
    if (next < 0) break;
    i = next;
  }
  if (paths.length === 0) return undefined;
  return { text: out + text.slice(at), paths };
}
