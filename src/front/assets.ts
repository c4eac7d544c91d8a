/**
 * The dashboard's built files. Inside the single executable they are SEA assets: `front/<path>`
 * for each path listed in the asset `front/manifest.json` (a JSON array of relative paths, put
 * there by scripts/build.mjs). Outside it they are read from a directory: `dist/front/` of the
 * checkout (made by `npm run build`), or the one given. When neither exists the front answers a
 * 503 page saying how to build them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getAsset, isSea } from 'node:sea';

/** Key prefix and manifest of the dashboard's SEA assets. */
export const SEA_ASSET_PREFIX = 'front/';
export const SEA_MANIFEST_KEY = 'front/manifest.json';

/** Content types by extension (anything else: application/octet-stream). */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
};

export function contentType(path: string): string {
  const m = /\.[A-Za-z0-9]+$/.exec(path);
  return (m && TYPES[m[0].toLowerCase()]) ?? 'application/octet-stream';
}

/**
 * Whether a file name carries a content hash (Vite: `name-<8+ chars>.ext`), so it can be cached
 * forever: a new build has new names.
 */
export function isHashed(path: string): boolean {
  return /[-.][A-Za-z0-9_-]{8,}\.[A-Za-z0-9]+$/.test(path) && /(^|\/)assets\//.test(path);
}

export interface Asset {
  body: Buffer;
  type: string;
  hashed: boolean;
}

export interface Assets {
  /** Where the files come from. `none`: not built. */
  readonly kind: 'sea' | 'dir' | 'none';
  /** The directory, `sea`, or (kind none) where they were looked for. */
  readonly where: string;
  /** Relative paths (`index.html`, `assets/index-abc12345.js`). */
  readonly paths: ReadonlySet<string>;
  /** A file by relative path (no leading slash). */
  get(path: string): Asset | undefined;
}

/** Where `dist/front` is: beside the bundle when built, else at the checkout's root. */
export function defaultAssetsDir(): string {
  const url = (import.meta as { url?: string }).url;
  if (typeof url === 'string' && url.startsWith('file:')) {
    return resolve(dirname(fileURLToPath(url)), '../../dist/front');
  }
  // The CommonJS bundle (dist/kubeshark.cjs): no import.meta; dist/front is beside it.
  return join(dirname(resolve(process.argv[1] ?? '.')), 'front');
}

function walk(dir: string, root: string, out: Set<string>): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, root, out);
    else if (st.isFile()) out.add(relative(root, p).split(sep).join('/'));
  }
}

/** The files of a built dashboard directory (listed once; read on request). */
export function dirAssets(dir: string): Assets {
  const root = resolve(dir);
  const paths = new Set<string>();
  if (existsSync(join(root, 'index.html'))) walk(root, root, paths);
  if (paths.size === 0) return noAssets(root);
  return {
    kind: 'dir',
    where: root,
    paths,
    get(path) {
      if (!paths.has(path)) return undefined;
      let body: Buffer;
      try {
        body = readFileSync(join(root, path));
      } catch {
        return undefined;
      }
      return { body, type: contentType(path), hashed: isHashed(path) };
    },
  };
}

/** The dashboard embedded in the single executable, if it has one. */
export function seaAssets(): Assets | undefined {
  if (!isSea()) return undefined;
  let list: unknown;
  try {
    list = JSON.parse(getAsset(SEA_MANIFEST_KEY, 'utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(list)) return undefined;
  const paths = new Set(list.filter((p): p is string => typeof p === 'string'));
  const cache = new Map<string, Asset>();
  return {
    kind: 'sea',
    where: 'sea',
    paths,
    get(path) {
      if (!paths.has(path)) return undefined;
      let a = cache.get(path);
      if (a === undefined) {
        let body: Buffer;
        try {
          body = Buffer.from(getAsset(SEA_ASSET_PREFIX + path));
        } catch {
          return undefined;
        }
        a = { body, type: contentType(path), hashed: isHashed(path) };
        cache.set(path, a);
      }
      return a;
    },
  };
}

export function noAssets(where: string): Assets {
  return { kind: 'none', where, paths: new Set(), get: () => undefined };
}

/**
 * The dashboard's files: `dir` when given; else the executable's embedded ones; else
 * `dist/front/`. `kind: 'none'` when there are none.
 */
export function loadAssets(opts: { dir?: string } = {}): Assets {
  if (opts.dir !== undefined) return dirAssets(opts.dir);
  return seaAssets() ?? dirAssets(defaultAssetsDir());
}
