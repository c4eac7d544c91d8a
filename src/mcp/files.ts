/**
 * `get_file_url` / `download_file`: hub-relative files (an exported PCAP, an API answer saved as a
 * file) resolved against the hub's URL and, for download, written on the agent's machine. Both
 * sides are guarded: the path must stay on the hub under `/api/` (no scheme, host, `..`, encoded
 * dots or backslashes), the destination must stay inside the allowed directory (no `..`, no
 * absolute path elsewhere, no symlink out of it, no symlink as the file itself: the file is
 * created with O_CREAT | O_EXCL | O_NOFOLLOW), and a download stops at a size cap.
 *
 * The directory is this user's alone: the default is `kubeshark-<uid>` under the OS temp
 * directory, created 0700; before each download the directory must be owned by this user and
 * not writable by anyone else (the default one not readable either), else nothing is written.
 * In a shared `/tmp`, another local user could otherwise plant a symlink where a download lands.
 */
import {
  constants,
  createWriteStream,
  lstatSync,
  mkdirSync,
  openSync,
  realpathSync,
  rmSync,
  statSync,
  unlinkSync,
  type Stats,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { KsError } from '../util/errors.ts';

/** Largest file `download_file` fetches unless `--max-download` says otherwise. */
export const MCP_MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024;
/** Time a download may take. */
export const MCP_DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

/** The default download directory: `kubeshark-<uid>` under the OS temp directory. */
export function defaultDownloadDir(): string {
  const who = typeof process.getuid === 'function' ? String(process.getuid()) : userInfo().username;
  return join(tmpdir(), `kubeshark-${who}`);
}

/**
 * Creates `dir` (0700) when missing and checks it is this user's own: a directory (the default
 * one not a symlink), owned by this user, writable by no one else — and, for the default one
 * (`strict`), with no permission for group or others at all. Throws KS_ERR_USAGE saying what is
 * wrong and what to do. Owner and mode are not checked where the platform has no uids (Windows).
 */
export function checkDownloadDir(dir: string, strict: boolean): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new KsError(
      'KS_ERR_USAGE',
      `download directory ${dir} cannot be created: ${(err as Error).message}`,
    );
  }
  const st: Stats = strict ? lstatSync(dir) : statSync(dir);
  const refuse = (why: string): KsError =>
    new KsError(
      'KS_ERR_USAGE',
      `download directory ${dir} ${why}; nothing is written there (remove it, fix it, or give --download-dir)`,
    );
  if (st.isSymbolicLink()) throw refuse('is a symbolic link');
  if (!st.isDirectory()) throw refuse('is not a directory');
  if (typeof process.getuid !== 'function') return;
  const uid = process.getuid();
  if (st.uid !== uid) throw refuse(`is owned by uid ${st.uid}, not by this user (uid ${uid})`);
  const mode = st.mode & 0o777;
  const octal = mode.toString(8).padStart(4, '0');
  if (strict && (mode & 0o077) !== 0)
    throw refuse(`has mode ${octal} (must be 0700: this user's only)`);
  if ((mode & 0o022) !== 0) throw refuse(`has mode ${octal} (group or others may write to it)`);
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
 * last segment. Fails when `dir` is not this user's own (checkDownloadDir; `strict` for the
 * default directory), when the file would land outside `dir` (symlinks resolved), or when the
 * file itself is a symlink.
 */
export function downloadTarget(dir: string, path: string, dest?: string, strict = false): string {
  checkDownloadDir(dir, strict);
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
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  const realParent = realpathSync(parent);
  if (realParent !== root && !realParent.startsWith(root + sep)) {
    throw new KsError('KS_ERR_USAGE', `\`dest\`: ${name} leads outside ${root} (a symlink)`);
  }
  const final = join(realParent, basename(target));
  let st: Stats | undefined;
  try {
    st = lstatSync(final);
  } catch {
    // Not there yet: the usual case.
  }
  if (st?.isSymbolicLink()) throw symlinkRefused(name);
  if (st?.isDirectory()) throw new KsError('KS_ERR_USAGE', `\`dest\`: ${name} is a directory`);
  return final;
}

function symlinkRefused(name: string): KsError {
  return new KsError(
    'KS_ERR_USAGE',
    `\`dest\`: ${name} is a symbolic link; refusing to write through it (remove it or choose another name)`,
  );
}

/** O_NOFOLLOW where the platform has it (not on Windows). */
const NOFOLLOW = (constants as { O_NOFOLLOW?: number }).O_NOFOLLOW ?? 0;

/**
 * Creates `target` for writing (0600) without following a symlink: O_CREAT | O_EXCL |
 * O_NOFOLLOW. A regular file already there (an earlier download) is replaced; a symlink is
 * refused and what it points to is left untouched.
 */
function createTarget(target: string): number {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW;
  for (let attempt = 0; ; attempt++) {
    try {
      return openSync(target, flags, 0o600);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw symlinkRefused(basename(target));
      if (code !== 'EEXIST' || attempt > 0) throw err;
      const st = lstatSync(target);
      if (st.isSymbolicLink()) throw symlinkRefused(basename(target));
      if (!st.isFile())
        throw new KsError('KS_ERR_USAGE', `\`dest\`: ${basename(target)} is not a regular file`);
      unlinkSync(target);
    }
  }
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
  let fd: number;
  try {
    fd = createTarget(target);
  } catch (err) {
    await res.body?.cancel();
    throw err;
  }
  const out = createWriteStream('', { fd });
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
