/**
 * `get_file_url` / `download_file`: hub-relative files (an exported PCAP, an API answer saved as a
 * file) resolved against the hub's URL and, for download, written on the agent's machine. Both
 * sides are guarded: the path must stay on the hub under `/api/` (no scheme, host, `..`, encoded
 * dots or backslashes), the destination must stay inside the allowed directory (no `..`, no
 * absolute path elsewhere, no symlink out of it), and a download stops at a size cap.
 */
import { createWriteStream, mkdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { KsError } from '../util/errors.ts';

/** Largest file `download_file` fetches unless `--max-download` says otherwise. */
export const MCP_MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024;
/** Time a download may take. */
export const MCP_DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

/** The default download directory: `kubeshark` under the OS temp directory. */
export function defaultDownloadDir(): string {
  return join(tmpdir(), 'kubeshark');
}

/**
 * A hub-relative path as the agent gave it → `/api/…` with its query, or KS_ERR_USAGE saying why
 * not. `api/x`, `/api/x?y=1` are accepted; anything that could leave the hub's `/api` is not.
 */
export function hubPath(path: string): string {
  const p = path.trim();
  const bad = (why: string) =>
    new KsError('KS_ERR_USAGE', `\`path\`: ${why}: ${JSON.stringify(path)}`);
  if (p === '') throw bad('empty');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(p)) throw bad('control characters or backslashes');
  if (/^[a-z][a-z0-9+.-]*:/i.test(p) || p.startsWith('//'))
    throw bad('give a path on the hub, not a URL');
  const abs = p.startsWith('/') ? p : `/${p}`;
  const q = abs.indexOf('?');
  const pathname = q < 0 ? abs : abs.slice(0, q);
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    throw bad('bad percent-encoding');
  }
  const segments = decoded.split('/');
  if (segments.some((s) => s === '..' || s === '.')) throw bad('`.` and `..` are not allowed');
  if (decoded.includes('\\')) throw bad('backslashes are not allowed');
  if (!decoded.startsWith('/api/')) throw bad('hub files are under /api/');
  return abs;
}

/** The URL of a hub-relative path for `base` (the front or hub the tools use). */
export function fileUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + hubPath(path);
}

/**
 * Where a download goes: `dest` relative to `dir` (or absolute inside it); default the path's
 * last segment. Fails when it would land outside `dir` (symlinks resolved).
 */
export function downloadTarget(dir: string, path: string, dest?: string): string {
  mkdirSync(dir, { recursive: true });
  const root = realpathSync(dir);
  const fallback = basename(hubPath(path).split('?')[0]!) || 'download';
  const name = dest === undefined || dest.trim() === '' ? fallback : dest.trim();
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(name)) throw new KsError('KS_ERR_USAGE', '`dest`: control characters');
  const target = resolve(root, isAbsolute(name) ? name : join(root, name));
  const rel = relative(root, target);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new KsError(
      'KS_ERR_USAGE',
      `\`dest\`: ${JSON.stringify(name)} is outside the download directory ${root} (give a name inside it)`,
    );
  }
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const realParent = realpathSync(parent);
  if (realParent !== root && !realParent.startsWith(root + sep)) {
    throw new KsError('KS_ERR_USAGE', `\`dest\`: ${name} leads outside ${root} (a symlink)`);
  }
  const final = join(realParent, basename(target));
  try {
    if (statSync(final).isDirectory())
      throw new KsError('KS_ERR_USAGE', `\`dest\`: ${name} is a directory`);
  } catch (e) {
    if (e instanceof KsError) throw e;
  }
  return final;
}

export interface Downloaded {
  path: string;
  bytes: number;
  contentType: string;
}

/** GETs `url` into `target`, at most `maxBytes` (past it the partial file is removed). */
export async function download(url: string, target: string, maxBytes: number): Promise<Downloaded> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(MCP_DOWNLOAD_TIMEOUT_MS) });
  } catch (err) {
    throw new KsError('KS_ERR_UNAVAILABLE', `cannot fetch ${url}: ${(err as Error).message}`);
  }
  if (!res.ok) {
    const text = (await res.text()).slice(0, 500);
    let msg = text;
    try {
      const b = JSON.parse(text) as { error?: { message?: string; code?: string } };
      if (b.error?.message) msg = `${b.error.message} [${b.error.code ?? ''}]`;
    } catch {
      // Not JSON: the text as is.
    }
    throw new KsError(
      res.status === 404 ? 'KS_ERR_NOT_FOUND' : 'KS_ERR_UNAVAILABLE',
      `${url} answered ${res.status}: ${msg}`,
    );
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw tooBig(url, maxBytes, declared);
  }
  const out = createWriteStream(target);
  let n = 0;
  try {
    if (res.body) {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        n += chunk.byteLength;
        if (n > maxBytes) throw tooBig(url, maxBytes);
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
    }
    await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
  } catch (err) {
    out.destroy();
    rmSync(target, { force: true });
    throw err;
  }
  return { path: target, bytes: n, contentType: res.headers.get('content-type') ?? '' };
}

function tooBig(url: string, max: number, size?: number): KsError {
  return new KsError(
    'KS_ERR_USAGE',
    `${url} is larger than the download cap of ${max} bytes${size ? ` (${size})` : ''}; nothing was kept`,
  );
}
