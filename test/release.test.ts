/**
 * The release pipeline's outputs for this platform (linux-x64 here): scripts/release.ts run as
 * the workflow runs it, over the built dist/kubeshark (CI builds it before `npm test`; locally
 * run `npm run build` first, otherwise the tests that need it are skipped with a note), the
 * Homebrew formula it renders, and install.sh against a local HTTP server standing in for
 * GitHub's release downloads.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { execa } from 'execa';
import { parse } from 'yaml';
import {
  PLATFORMS,
  chartName,
  hostPlatform,
  tarballName,
  type Platform,
} from '../scripts/release.ts';

const root = new URL('..', import.meta.url).pathname;
const exe = join(root, 'dist/kubeshark');
const skipBuilt =
  !existsSync(exe) && !process.env.CI ? 'dist/kubeshark not built (npm run build)' : false;
const version = (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
).version;
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const tmp = mkdtempSync(join(tmpdir(), 'ks-release-'));
const out = join(tmp, 'release');
const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };

/** Runs scripts/release.ts as the workflow does (tsx), in the repository. */
function release(args: string[], extra: Record<string, string> = {}) {
  return execa(process.execPath, ['--import', 'tsx', join(root, 'scripts/release.ts'), ...args], {
    cwd: root,
    env: { ...env, ...extra },
    reject: false,
  });
}

const sha256 = (buf: Buffer | string) => createHash('sha256').update(buf).digest('hex');

before(async () => {
  if (skipBuilt) return;
  const r = await release([version, '--out', out]);
  assert.equal(r.exitCode, 0, r.stderr);
});

after(() => rmSync(tmp, { recursive: true, force: true }));

test(
  "release: this platform's archive holds an executable kubeshark that prints the version",
  { skip: skipBuilt },
  async () => {
    const file = join(out, tarballName(version, hostPlatform()));
    assert.equal(hostPlatform(), `${process.platform}_${process.arch}`);
    const list = spawnSync('tar', ['-tvzf', file], { encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.equal(lines.length, 1, list.stdout);
    assert.match(lines[0]!, /^-rwxr-xr-x .* kubeshark$/);
    const x = join(tmp, 'x');
    mkdirSync(x);
    assert.equal(spawnSync('tar', ['-xzf', file, '-C', x]).status, 0);
    assert.equal(
      readFileSync(join(x, 'kubeshark')).equals(readFileSync(exe)),
      true,
      'archived bytes = dist/kubeshark',
    );
    const r = await execa(join(x, 'kubeshark'), ['version'], {
      env: { HOME: tmp, PATH: process.env.PATH ?? '' },
      extendEnv: false,
    });
    assert.equal(r.stdout.trim(), version);
  },
);

test(
  'release: checksums.txt is sha256sum output over every archive',
  { skip: skipBuilt },
  async () => {
    const text = readFileSync(join(out, 'checksums.txt'), 'utf8');
    const names = text
      .trim()
      .split('\n')
      .map((l) => l.split('  ')[1]);
    const archives = readdirSync(out)
      .filter((f) => f.endsWith('.tar.gz') || f.endsWith('.tgz'))
      .sort();
    assert.deepEqual(names, archives);
    assert.deepEqual(
      archives.sort(),
      [chartName(version), tarballName(version, hostPlatform())].sort(),
    );
    for (const line of text.trim().split('\n')) {
      const [digest, name] = line.split('  ');
      assert.equal(digest, sha256(readFileSync(join(out, name!))), name);
    }
    if (has('sha256sum')) {
      const c = spawnSync('sha256sum', ['-c', 'checksums.txt'], { cwd: out, encoding: 'utf8' });
      assert.equal(c.status, 0, c.stdout + c.stderr);
    }
  },
);

/** The files of the chart package, name → content, through the system's tar. */
function chartFiles(file: string): Map<string, Buffer> {
  const list = spawnSync('tar', ['-tzf', file], { encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  const files = new Map<string, Buffer>();
  for (const name of list.stdout.trim().split('\n')) {
    const r = spawnSync('tar', ['-xzOf', file, name]);
    assert.equal(r.status, 0);
    files.set(name, r.stdout);
  }
  return files;
}

function sourceChart(): string[] {
  const walk = (d: string, pre: string): string[] =>
    readdirSync(join(root, 'helm-chart', d), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(d, e.name), `${pre}${e.name}/`) : [`${pre}${e.name}`],
    );
  return walk('', '').sort();
}

test(
  'release: the chart package is helm-chart/ under kubeshark/ with the release version',
  { skip: skipBuilt },
  () => {
    const files = chartFiles(join(out, chartName(version)));
    const src = sourceChart();
    assert.deepEqual(
      [...files.keys()].sort(),
      src.map((f) => `kubeshark/${f}`),
    );
    for (const t of readdirSync(join(root, 'helm-chart/templates'))) {
      assert.ok(files.has(`kubeshark/templates/${t}`), t);
    }
    const chart = parse(files.get('kubeshark/Chart.yaml')!.toString()) as Record<string, unknown>;
    assert.equal(chart.name, 'kubeshark');
    assert.equal(chart.version, version);
    assert.equal(chart.appVersion, version);
    for (const f of src.filter((f) => f !== 'Chart.yaml')) {
      assert.ok(files.get(`kubeshark/${f}`)!.equals(readFileSync(join(root, 'helm-chart', f))), f);
    }
  },
);

test('release: the chart of another version, built twice, is the same bytes', async () => {
  const v = '9.8.7-rc.1';
  const dirs = [join(tmp, 'chart-a'), join(tmp, 'chart-b')];
  for (const d of dirs) {
    const r = await release(['chart', `v${v}`, '--out', d]);
    assert.equal(r.exitCode, 0, r.stderr);
  }
  const [a, b] = dirs.map((d) => readFileSync(join(d, chartName(v))));
  assert.ok(a!.equals(b!), 'SOURCE_DATE_EPOCH makes the archive reproducible');
  const chart = parse(
    chartFiles(join(dirs[0]!, chartName(v)))
      .get('kubeshark/Chart.yaml')!
      .toString(),
  ) as Record<string, unknown>;
  assert.equal(chart.version, v);
  assert.equal(chart.appVersion, v);
  const bad = await release(['chart', '1.2', '--out', dirs[0]!]);
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, /not a SemVer version/);
});

test('release: a binary of another version is refused', { skip: skipBuilt }, async () => {
  const d = join(tmp, 'wrong');
  const r = await release(['tarball', '42.0.0', '--out', d]);
  assert.equal(r.exitCode, 2);
  assert.match(
    r.stderr,
    new RegExp(`printed "${version.replace(/\./g, '\\.')}".*expected 42\\.0\\.0`),
  );
  assert.equal(existsSync(join(d, tarballName('42.0.0', hostPlatform()))), false);
});

test("release: checksums --verify refuses a runner's digest that disagrees with the file", async () => {
  const d = join(tmp, 'verify');
  mkdirSync(d);
  const files = PLATFORMS.map((p) => tarballName('1.0.0', p));
  for (const f of files) writeFileSync(join(d, f), `archive ${f}`);
  const good = files.map((f) => `${sha256(`archive ${f}`)}  ${f}\n`).join('');
  writeFileSync(join(tmp, 'runner-good.txt'), good);
  const ok = await release(['checksums', '--out', d, '--verify', join(tmp, 'runner-good.txt')]);
  assert.equal(ok.exitCode, 0, ok.stderr);
  // PLATFORMS is in file-name order, the order of checksums.txt.
  assert.equal(readFileSync(join(d, 'checksums.txt'), 'utf8'), good);
  writeFileSync(join(tmp, 'runner-bad.txt'), `${sha256('something else')}  ${files[2]}\n`);
  const bad = await release(['checksums', '--out', d, '--verify', join(tmp, 'runner-bad.txt')]);
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, new RegExp(`${files[2]!.replace(/\./g, '\\.')}: .* says sha256`));
});

/** url and sha256 per platform, read from the formula's on_macos/on_linux × on_arm/on_intel blocks. */
function formulaPlatforms(rb: string): Map<Platform, { url: string; sha256: string }> {
  const out = new Map<Platform, { url: string; sha256: string }>();
  for (const os of rb.matchAll(/^ {2}on_(macos|linux) do\n([\s\S]*?)^ {2}end$/gm)) {
    for (const cpu of os[2]!.matchAll(
      /on_(arm|intel) do\s+url "([^"]+)"\s+sha256 "([^"]+)"\s+end/g,
    )) {
      const p =
        `${os[1] === 'macos' ? 'darwin' : 'linux'}_${cpu[1] === 'arm' ? 'arm64' : 'x64'}` as Platform;
      out.set(p, { url: cpu[2]!, sha256: cpu[3]! });
    }
  }
  return out;
}

test(
  "release: the formula puts each platform's URL and sha256 in its block",
  { skip: skipBuilt },
  async () => {
    // The merged checksums of a release: this runner's real line plus the other runners' lines.
    const own = readFileSync(join(out, 'checksums.txt'), 'utf8');
    const others = PLATFORMS.filter((p) => p !== hostPlatform())
      .map((p) => `${sha256(`other runner ${p}`)}  ${tarballName(version, p)}\n`)
      .join('');
    const merged = join(tmp, 'merged-checksums.txt');
    writeFileSync(merged, own + others);
    const expected = new Map<string, string>(
      (own + others)
        .trim()
        .split('\n')
        .map((l) => [l.split('  ')[1]!, l.split('  ')[0]!] as [string, string]),
    );
    const fdir = join(tmp, 'formula');
    const r = await release(['formula', `v${version}`, '--checksums', merged, '--out', fdir]);
    assert.equal(r.exitCode, 0, r.stderr);
    const rb = readFileSync(join(fdir, 'kubeshark.rb'), 'utf8');
    assert.match(rb, new RegExp(`^ {2}version "${version.replace(/\./g, '\\.')}"$`, 'm'));
    assert.doesNotMatch(rb, /\{\{/);
    const blocks = formulaPlatforms(rb);
    assert.deepEqual([...blocks.keys()].sort(), [...PLATFORMS].sort());
    for (const p of PLATFORMS) {
      const file = tarballName(version, p);
      assert.equal(
        blocks.get(p)!.url,
        `https://github.com/kubeshark-ts/kubeshark/releases/download/v${version}/${file}`,
      );
      assert.equal(blocks.get(p)!.sha256, expected.get(file), p);
    }
    assert.equal(
      blocks.get(hostPlatform())!.sha256,
      sha256(readFileSync(join(out, tarballName(version, hostPlatform())))),
    );

    // One runner's line missing: no formula.
    writeFileSync(merged, own);
    const missing = await release([
      'formula',
      version,
      '--checksums',
      merged,
      '--out',
      join(tmp, 'formula-missing'),
    ]);
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr, /no entry for kubeshark_/);
    assert.equal(existsSync(join(tmp, 'formula-missing', 'kubeshark.rb')), false);
  },
);

test(
  'release: the rendered formula is valid Ruby (ruby -c)',
  { skip: skipBuilt || (!has('ruby') && 'ruby not installed: formula syntax not checked') },
  () => {
    const rb = join(tmp, 'formula', 'kubeshark.rb');
    const r = spawnSync('ruby', ['-c', rb], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Syntax OK/);
  },
);

// ---- install.sh -------------------------------------------------------------------------------

type Tamper = 'none' | 'checksums' | 'tarball';

/** GitHub's release downloads, locally: /download/v<version>/<file> and /latest → /tag/v<version>. */
async function releaseServer(
  dir: string,
  tamper: Tamper,
): Promise<{ server: Server; base: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    hits.push(url);
    if (url === '/latest') {
      res.writeHead(302, { location: `/tag/v${version}` }).end();
      return;
    }
    if (url === `/tag/v${version}`) {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>release</html>');
      return;
    }
    const m = /^\/download\/v([^/]+)\/([^/]+)$/.exec(url);
    const file = m && m[1] === version ? join(dir, m[2]!) : '';
    if (!file || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    if (tamper === 'checksums' && m![2] === 'checksums.txt') {
      // Another digest for every file: as if the archive had been swapped after the release.
      const text = readFileSync(file, 'utf8').replace(/^[0-9a-f]{64}/gm, (d) => sha256(d));
      res.writeHead(200).end(text);
      return;
    }
    if (tamper === 'tarball' && m![2]!.endsWith('.tar.gz')) {
      const buf = readFileSync(file);
      const at = buf.length >> 1;
      buf.writeUInt8(buf.readUInt8(at) ^ 0xff, at);
      res.writeHead(200).end(buf);
      return;
    }
    res.writeHead(200, { 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server, base: `http://127.0.0.1:${port}`, hits };
}

async function runInstall(tamper: Tamper, extra: Record<string, string>) {
  const { server, base, hits } = await releaseServer(out, tamper);
  const dir = mkdtempSync(join(tmp, 'bin-'));
  try {
    const r = await execa('sh', [join(root, 'install.sh')], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: tmp,
        INSTALL_DIR: dir,
        KUBESHARK_BASE_URL: `${base}/download`,
        KUBESHARK_LATEST_URL: `${base}/latest`,
        ...extra,
      },
      extendEnv: false,
      reject: false,
    });
    return { r, dir, hits };
  } finally {
    server.close();
  }
}

test(
  'install.sh downloads, verifies and installs the given version',
  { skip: skipBuilt },
  async () => {
    const { r, dir, hits } = await runInstall('none', { KUBESHARK_VERSION: `v${version}` });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(
      hits.sort(),
      [
        `/download/v${version}/checksums.txt`,
        `/download/v${version}/${tarballName(version, hostPlatform())}`,
      ].sort(),
    );
    assert.equal(r.stdout.trim(), `kubeshark ${version} installed to ${join(dir, 'kubeshark')}`);
    assert.equal(statSync(join(dir, 'kubeshark')).mode & 0o777, 0o755);
    const v = await execa(join(dir, 'kubeshark'), ['version'], {
      env: { HOME: tmp },
      extendEnv: false,
    });
    assert.equal(v.stdout.trim(), version);
    assert.deepEqual(readdirSync(dir), ['kubeshark'], 'no temporary file left behind');
  },
);

for (const downloader of ['curl', 'wget']) {
  test(
    `install.sh resolves the latest release through its redirect (${downloader})`,
    { skip: skipBuilt || (!has(downloader) && `${downloader} not installed`) },
    async () => {
      const { r, dir, hits } = await runInstall('none', { KUBESHARK_DOWNLOADER: downloader });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(hits[0], '/latest');
      assert.ok(hits.includes(`/download/v${version}/checksums.txt`), hits.join(' '));
      const v = await execa(join(dir, 'kubeshark'), ['version'], {
        env: { HOME: tmp },
        extendEnv: false,
      });
      assert.equal(v.stdout.trim(), version);
    },
  );
}

for (const tamper of ['checksums', 'tarball'] as const) {
  test(
    `install.sh refuses a download whose sha256 does not match (tampered ${tamper})`,
    { skip: skipBuilt },
    async () => {
      const { r, dir } = await runInstall(tamper, { KUBESHARK_VERSION: version });
      assert.notEqual(r.exitCode, 0);
      assert.match(
        r.stderr,
        new RegExp(
          `checksum mismatch for ${tarballName(version, hostPlatform()).replace(/\./g, '\\.')}: .*not installing`,
        ),
      );
      assert.deepEqual(readdirSync(dir), [], 'nothing installed');
    },
  );
}

test('install.sh stops with a clear error when the version does not exist', async () => {
  const { r, dir } = await runInstall('none', { KUBESHARK_VERSION: '0.0.1' });
  assert.notEqual(r.exitCode, 0);
  assert.match(r.stderr, /error: cannot download .*\/download\/v0\.0\.1\/kubeshark_0\.0\.1_/);
  assert.deepEqual(readdirSync(dir), []);
});

test(
  'install.sh and build-image.sh pass shellcheck (install.sh as POSIX sh)',
  { skip: !has('shellcheck') && 'shellcheck not installed' },
  () => {
    for (const [file, shell] of [
      ['install.sh', 'sh'],
      ['scripts/build-image.sh', 'bash'],
    ] as const) {
      const r = spawnSync('shellcheck', ['-s', shell, join(root, file)], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${file}:\n${r.stdout}`);
    }
  },
);
