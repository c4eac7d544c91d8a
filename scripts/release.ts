/**
 * Release assets, written into one directory (default dist/release/):
 *
 *   kubeshark_<version>_<os>_<arch>.tar.gz   the single executable of the platform this runs on
 *                                            (os linux|darwin, arch x64|arm64), built before by
 *                                            `npm run build`; checked to print <version>
 *   kubeshark-<version>.tgz                  the Helm chart (helm-chart/, Chart.yaml's version and
 *                                            appVersion set to <version>), as `helm package` lays
 *                                            it out: every file under `kubeshark/`
 *   checksums.txt                            sha256 of every archive, `sha256sum` format
 *   kubeshark.rb                             the Homebrew formula: packaging/homebrew/
 *                                            kubeshark.rb.tmpl filled with the version, the URLs
 *                                            and the sha256 of the four platform archives
 *
 * Each platform's archive is built on its own native runner (.github/workflows/release.yml);
 * one job then gathers them, rewrites checksums.txt over all of them (checking what each runner
 * reported) and renders the formula. Archives are written here (ustar + gzip) rather than with
 * `tar`, whose GNU and BSD flavours differ in flags and in what macOS adds (xattrs, `._` files);
 * their timestamps are SOURCE_DATE_EPOCH when set, so rebuilding gives the same bytes.
 *
 * Usage: npx tsx scripts/release.ts <command> [options]
 *   <version>                     = tarball + chart
 *   tarball <version>             this platform's archive (+ checksums.txt)
 *   chart <version>               the chart package (+ checksums.txt)
 *   checksums [--verify FILE...]  rewrites checksums.txt over every archive in the directory;
 *                                 each FILE (a runner's checksums.txt) must agree with the files
 *   formula <version> [--checksums FILE]
 *                                 kubeshark.rb from FILE (default: the directory's checksums.txt)
 * Options: --out DIR (default dist/release), --binary PATH (default dist/kubeshark)
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { parseDocument } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the release assets are downloaded from (the formula's URLs, install.sh's default). */
export const DOWNLOAD_BASE = 'https://github.com/kubeshark-ts/kubeshark/releases/download';

/** The platforms a release ships, in the formula's order: `<os>_<arch>`. */
export const PLATFORMS = ['darwin_arm64', 'darwin_x64', 'linux_arm64', 'linux_x64'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** SemVer 2 (what Helm requires of a chart version), without the tag's leading `v`. */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export class ReleaseError extends Error {}

/** `v1.2.3` or `1.2.3` → `1.2.3`; anything that is not SemVer is refused. */
export function normalizeVersion(v: string): string {
  const s = v.startsWith('v') ? v.slice(1) : v;
  if (!SEMVER.test(s)) throw new ReleaseError(`not a SemVer version: ${JSON.stringify(v)}`);
  return s;
}

/** The platform this process runs on, as release archives name it. */
export function hostPlatform(): Platform {
  const os = process.platform === 'darwin' ? 'darwin' : process.platform === 'linux' ? 'linux' : '';
  const arch = process.arch === 'x64' ? 'x64' : process.arch === 'arm64' ? 'arm64' : '';
  const p = `${os}_${arch}`;
  if (!(PLATFORMS as readonly string[]).includes(p)) {
    throw new ReleaseError(`no release archive for ${process.platform}/${process.arch}`);
  }
  return p as Platform;
}

export const tarballName = (version: string, p: Platform) => `kubeshark_${version}_${p}.tar.gz`;
export const chartName = (version: string) => `kubeshark-${version}.tgz`;
export const CHECKSUMS = 'checksums.txt';
export const FORMULA = 'kubeshark.rb';

// ---- ustar ------------------------------------------------------------------------------------

/** One file of an archive: a path inside it and either its bytes or a file to stream. */
export interface TarEntry {
  name: string;
  mode: number;
  data?: Buffer;
  file?: string;
}

const BLOCK = 512;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** A ustar header block (names up to 100 bytes are all a release needs). */
function tarHeader(name: string, mode: number, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  if (Buffer.byteLength(name) > 100) throw new ReleaseError(`archive path too long: ${name}`);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum field counts as spaces while summing
  h.write('0', 156, 'ascii'); // regular file
  h.write('ustar\0' + '00', 257, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

async function* tarStream(entries: TarEntry[], mtime: number): AsyncGenerator<Buffer> {
  for (const e of entries) {
    const size = e.data ? e.data.length : statSync(e.file!).size;
    yield tarHeader(e.name, e.mode, size, mtime);
    let written = 0;
    if (e.data) {
      yield e.data;
      written = e.data.length;
    } else {
      for await (const chunk of createReadStream(e.file!)) {
        written += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    }
    if (written !== size) throw new ReleaseError(`${e.file} changed while being archived`);
    if (size % BLOCK) yield Buffer.alloc(BLOCK - (size % BLOCK));
  }
  yield Buffer.alloc(2 * BLOCK); // end of archive
}

/** Writes `entries` as a gzip-compressed ustar archive (complete or not at all). */
export async function writeTarGz(out: string, entries: TarEntry[], mtime: number): Promise<void> {
  const part = `${out}.part`;
  try {
    await pipeline(
      Readable.from(tarStream(entries, mtime)),
      createGzip({ level: 9 }),
      createWriteStream(part),
    );
    renameSync(part, out);
  } finally {
    rmSync(part, { force: true });
  }
}

/** Archive timestamps: SOURCE_DATE_EPOCH (reproducible builds) or now. */
function archiveTime(): number {
  const s = process.env.SOURCE_DATE_EPOCH;
  if (s && /^\d+$/.test(s)) return Number(s);
  return Math.floor(Date.now() / 1000);
}

// ---- checksums ----------------------------------------------------------------------------------

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** `sha256sum` output → file name → hex digest (text or `*` binary marker both accepted). */
export function parseChecksums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) throw new ReleaseError(`checksums line ${i + 1} is not "<sha256>  <file>": ${line}`);
    out.set(m[2]!, m[1]!);
  }
  return out;
}

export function formatChecksums(sums: Map<string, string>): string {
  return [...sums.keys()]
    .sort()
    .map((f) => `${sums.get(f)!}  ${f}\n`)
    .join('');
}

/** Release archives present in `dir` (what checksums.txt covers). */
function archivesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /^kubeshark[_-].+\.(tar\.gz|tgz)$/.test(f))
    .sort();
}

/**
 * Rewrites `dir`/checksums.txt over every archive in `dir`. Each of `verify` (checksums files
 * from the runners) must list only files present here, with the same digest.
 */
export async function writeChecksums(
  dir: string,
  verify: string[] = [],
): Promise<Map<string, string>> {
  const sums = new Map<string, string>();
  for (const f of archivesIn(dir)) sums.set(f, await sha256File(join(dir, f)));
  for (const v of verify) {
    for (const [f, digest] of parseChecksums(readFileSync(v, 'utf8'))) {
      const actual = sums.get(f);
      if (actual === undefined) throw new ReleaseError(`${v} lists ${f}, which is not in ${dir}`);
      if (actual !== digest) {
        throw new ReleaseError(`${f}: ${v} says sha256 ${digest}, the file has ${actual}`);
      }
    }
  }
  writeFileSync(join(dir, CHECKSUMS), formatChecksums(sums));
  return sums;
}

// ---- assets ---------------------------------------------------------------------------------------

/**
 * This platform's archive: `binary` as `kubeshark` (0755). The binary must print `version`
 * (it is run): a release never ships an executable of another version.
 */
export async function buildTarball(version: string, out: string, binary: string): Promise<string> {
  if (!existsSync(binary)) {
    throw new ReleaseError(`${binary} not found: run 'npm run build' first`);
  }
  const r = spawnSync(binary, ['version'], { encoding: 'utf8', timeout: 60_000 });
  const printed = (r.stdout ?? '').trim();
  if (r.status !== 0 || printed !== version) {
    throw new ReleaseError(
      `${binary} version printed ${JSON.stringify(printed)} (exit ${r.status ?? r.signal}), expected ${version}: ` +
        "set package.json's version to the release version and rebuild",
    );
  }
  mkdirSync(out, { recursive: true });
  const name = tarballName(version, hostPlatform());
  await writeTarGz(
    join(out, name),
    [{ name: 'kubeshark', mode: 0o755, file: binary }],
    archiveTime(),
  );
  return name;
}

/** Every file under `dir`, `/`-separated and relative to it, sorted. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(join(dir, f)).isFile())
    .map((f) => f.split(sep).join('/'))
    .sort();
}

/** The chart package: helm-chart/ under `kubeshark/`, Chart.yaml's version/appVersion set. */
export async function buildChart(
  version: string,
  out: string,
  chartDir = join(ROOT, 'helm-chart'),
): Promise<string> {
  const chartYaml = join(chartDir, 'Chart.yaml');
  if (!existsSync(chartYaml)) throw new ReleaseError(`${chartYaml} not found`);
  const doc = parseDocument(readFileSync(chartYaml, 'utf8'));
  const name = doc.get('name');
  if (name !== 'kubeshark')
    throw new ReleaseError(`${chartYaml}: name is ${String(name)}, expected kubeshark`);
  doc.set('version', version);
  doc.set('appVersion', version);
  const entries: TarEntry[] = listFiles(chartDir).map((f) => ({
    name: `kubeshark/${f}`,
    mode: 0o644,
    data: f === 'Chart.yaml' ? Buffer.from(doc.toString()) : readFileSync(join(chartDir, f)),
  }));
  mkdirSync(out, { recursive: true });
  const file = chartName(version);
  await writeTarGz(join(out, file), entries, archiveTime());
  return file;
}

/**
 * The Homebrew formula from its template: `{{VERSION}}`, and `{{URL_<OS>_<ARCH>}}` /
 * `{{SHA256_<OS>_<ARCH>}}` for each platform. Every platform needs its digest; an unknown
 * placeholder is an error (the template and this function cannot drift apart silently).
 */
export function renderFormula(
  template: string,
  version: string,
  sums: Map<string, string>,
  base = DOWNLOAD_BASE,
): string {
  const values = new Map<string, string>([['VERSION', version]]);
  for (const p of PLATFORMS) {
    const file = tarballName(version, p);
    const digest = sums.get(file);
    if (!digest) throw new ReleaseError(`the checksums have no entry for ${file}`);
    const key = p.toUpperCase();
    values.set(`URL_${key}`, `${base}/v${version}/${file}`);
    values.set(`SHA256_${key}`, digest);
  }
  const used = new Set<string>();
  const text = template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, k: string) => {
    const v = values.get(k);
    if (v === undefined)
      throw new ReleaseError(`unknown placeholder {{${k}}} in the formula template`);
    used.add(k);
    return v;
  });
  const unused = [...values.keys()].filter((k) => !used.has(k));
  if (unused.length)
    throw new ReleaseError(`the formula template does not use ${unused.join(', ')}`);
  return text;
}

// ---- CLI ------------------------------------------------------------------------------------------

interface Args {
  command: string;
  version?: string;
  out: string;
  binary: string;
  checksums?: string;
  verify: string[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    command: '',
    out: join(ROOT, 'dist/release'),
    binary: join(ROOT, 'dist/kubeshark'),
    verify: [],
  };
  const pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new ReleaseError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--out') a.out = resolve(val());
    else if (arg === '--binary') a.binary = resolve(val());
    else if (arg === '--checksums') a.checksums = resolve(val());
    else if (arg === '--verify') {
      while (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--'))
        a.verify.push(resolve(argv[++i]!));
    } else if (arg.startsWith('--')) throw new ReleaseError(`unknown option ${arg}`);
    else pos.push(arg);
  }
  const commands = ['tarball', 'chart', 'checksums', 'formula'];
  if (pos[0] && commands.includes(pos[0])) {
    a.command = pos.shift()!;
  } else {
    a.command = 'all';
  }
  if (a.command !== 'checksums') {
    if (!pos[0])
      throw new ReleaseError(`${a.command === 'all' ? '' : a.command + ': '}a version is required`);
    a.version = normalizeVersion(pos.shift()!);
  }
  if (pos.length) throw new ReleaseError(`unexpected argument ${pos[0]}`);
  return a;
}

async function main(argv: string[]): Promise<void> {
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help')) {
    const head = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]!;
    process.stdout.write(head.replace(/^\/\*\*\n|^ \* ?/gm, ''));
    return;
  }
  const a = parseArgs(argv);
  const v = a.version!;
  const shown = relative(process.cwd(), a.out);
  const say = (what: string) =>
    console.error(`release: ${join(shown.startsWith('..') ? a.out : shown || '.', what)}`);
  if (a.command === 'tarball' || a.command === 'all') say(await buildTarball(v, a.out, a.binary));
  if (a.command === 'chart' || a.command === 'all') say(await buildChart(v, a.out));
  if (a.command !== 'formula') {
    mkdirSync(a.out, { recursive: true });
    await writeChecksums(a.out, a.verify);
    say(CHECKSUMS);
    return;
  }
  const sumsFile = a.checksums ?? join(a.out, CHECKSUMS);
  if (!existsSync(sumsFile)) throw new ReleaseError(`${sumsFile} not found`);
  const template = readFileSync(join(ROOT, 'packaging/homebrew/kubeshark.rb.tmpl'), 'utf8');
  const formula = renderFormula(template, v, parseChecksums(readFileSync(sumsFile, 'utf8')));
  mkdirSync(a.out, { recursive: true });
  writeFileSync(join(a.out, FORMULA), formula);
  say(FORMULA);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`release: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(e instanceof ReleaseError ? 2 : 1);
  });
}
