/**
 * Live capture through a privilege-separated capture process, as Wireshark does with dumpcap:
 * tcpdump opens the interface (the only step that needs CAP_NET_RAW/CAP_NET_ADMIN), Debian's
 * build then drops to its `tcpdump` user, and streams packet-buffered pcap to our stdin pipe.
 * The pcap bytes go through the same reader as capture files (captureFromStream), so files and
 * live capture share one parser. Kernel drop counters come from tcpdump's SIGUSR1 report.
 */
import { spawn, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { KsError } from '../../util/errors.ts';
import type { ErrorCode } from '../../util/errors.ts';
import { captureFromStream } from './open.ts';
import type { CaptureInfo, Packet, PacketSource } from './types.ts';

/** tcpdump's own default snapshot length: whole packets. */
export const DEFAULT_SNAPLEN = 262_144;
/**
 * Kernel capture buffer per interface (`-B`, KiB; config `tap.capture.bufferSize`): room for
 * bursts while the parser is busy. Measured (scripts/bench/live.ts, 2 cores shared with the load):
 * 8 MiB drops ~0.4% of packets at 4,700 HTTP req/s even with `cat` reading; 64 MiB drops
 * 0.1–0.4% at 30,000 req/s with the worker reading; 256 MiB none at 30,000–35,000 req/s.
 */
export const DEFAULT_BUFFER_KIB = 256 * 1024;
/** How often tcpdump is asked (SIGUSR1) for its received/dropped counters. */
export const STATS_POLL_MS = 2000;
/** How long close() waits for tcpdump to flush and exit after SIGINT before SIGKILL. */
export const STOP_GRACE_MS = 3000;
/** How long the `tcpdump -d` filter check may take (a huge filter compiles in ~1 s). */
export const FILTER_CHECK_TIMEOUT_MS = 20_000;
/** stderr lines of each tcpdump kept for error messages (the last ones). */
export const STDERR_KEEP_LINES = 20;
/** Longest stderr line kept; a longer one is cut (tcpdump's lines are short). */
const STDERR_MAX_LINE = 1024;

export interface LiveCaptureOptions {
  /** Interfaces, one tcpdump each, merged into one source (default `['any']`). */
  interfaces?: readonly string[];
  /** Capture filter (tcpdump's last argument); empty or absent: everything. */
  bpf?: string;
  /** Bytes kept per packet (`-s`, default {@link DEFAULT_SNAPLEN}). */
  snaplen?: number;
  /**
   * The tcpdump program: a path or name looked up in PATH (default `tcpdump`), or a command
   * prefix that execs it, e.g. `['ip', 'netns', 'exec', 'ns1', 'tcpdump']` or `nsenter …` to
   * capture in another network namespace. Signals are sent to the spawned process, so the
   * prefix must exec tcpdump (as `ip netns exec`, `nsenter`, `setpriv` do).
   */
  tcpdump?: string | readonly string[];
  /** Kernel buffer per interface (`-B`, KiB, default {@link DEFAULT_BUFFER_KIB}). */
  bufferSizeKiB?: number;
  /**
   * `-Z user`: the user tcpdump switches to after opening the device. Absent: tcpdump's build
   * default (Debian's drops to `tcpdump`). Only acts when tcpdump starts as root.
   */
  dropUser?: string;
  /** Counter poll period (default {@link STATS_POLL_MS}). */
  statsIntervalMs?: number;
}

/** Counters reported by the capture processes, summed over interfaces. */
export interface LiveCaptureStats {
  /** Packets the kernel filter accepted ("received by filter"; on `lo`/`any` libpcap sees
   * each looped packet twice and drops the outgoing copy, so this can exceed `captured`). */
  received: number;
  /** Packets tcpdump wrote to the pipe ("packets captured"). */
  captured: number;
  /** Dropped by the kernel: buffer full because we read too slowly. */
  dropped: number;
  /** Dropped by the interface/driver (tcpdump reports it only when non-zero). */
  ifDropped: number;
  /** Packets this side parsed from the pipes so far. */
  delivered: number;
}

export interface LiveCapture extends PacketSource {
  readonly interfaces: readonly string[];
  /** The filter in use ('' for none). */
  readonly bpf: string;
  /**
   * Resolves once every tcpdump is capturing ("listening on"); rejects with the KsError that
   * stopped one (KS_ERR_CAPTURE_TOOL / _PRIVILEGE / _INTERFACE / _FILTER / _FAILED). The same
   * error is thrown by `packets()`.
   */
  ready(): Promise<void>;
  stats(): LiveCaptureStats;
  /** Asks every tcpdump for fresh counters now (they arrive on stderr shortly after). */
  requestStats(): void;
  /** tcpdump warnings (e.g. "Kernel filter failed": filtering fell back to user space). */
  warnings(): string[];
  /** Stops every tcpdump (SIGINT: it flushes and prints final counters); `packets()` ends. */
  close(): Promise<void>;
}

/** Starts capturing at once; iterate `packets()` to read (unread packets wait in the pipe). */
export function openLiveCapture(opts: LiveCaptureOptions = {}): LiveCapture {
  return new TcpdumpCapture(opts);
}

interface ProcCounters {
  received: number;
  captured: number;
  dropped: number;
  ifDropped: number;
}

const COUNTER_RES: [keyof ProcCounters, RegExp][] = [
  ['captured', /(\d+) packets? captured/],
  ['received', /(\d+) packets? received by filter/],
  ['dropped', /(\d+) packets? dropped by kernel/],
  ['ifDropped', /(\d+) packets? dropped by interface/],
];

function commandOf(tcpdump: LiveCaptureOptions['tcpdump']): string[] {
  const cmd = typeof tcpdump === 'string' ? [tcpdump] : [...(tcpdump ?? ['tcpdump'])];
  if (cmd.length === 0 || cmd.some((c) => c === '')) {
    throw new KsError('KS_ERR_USAGE', 'tcpdump command is empty');
  }
  return cmd;
}

function toolMissing(cmd: readonly string[], why: string): KsError {
  return new KsError(
    'KS_ERR_CAPTURE_TOOL',
    `tcpdump not found: install it (apt-get install tcpdump) or set the path of the tcpdump ` +
      `program (${cmd.join(' ')}: ${why})`,
  );
}

/**
 * How each tcpdump is started: by a shell that forks a watcher and then execs tcpdump, in a
 * process group of its own (`detached`). The watcher blocks reading the stdin pipe that only this
 * process holds open; when this process is gone — even killed with SIGKILL — the pipe ends and
 * the watcher sends SIGTERM to the group, so tcpdump never outlives its worker (and never keeps
 * its kernel buffer). A parent-death signal (`setpriv --pdeathsig`) would not do: the kernel
 * clears it when tcpdump drops to its own user. The watcher is a member of the group, so the
 * group's id stays tcpdump's and is never reused while a signal to it can still be sent. The
 * group also keeps a terminal's Ctrl-C away from tcpdump: the worker stops it in order.
 */
const WATCHED_EXEC =
  'exec 3<&0; (while read -r _ <&3; do :; done; kill -TERM -$$ 2>/dev/null) & exec "$@" </dev/null 3<&-';
/** The shell's own complaint that it could not exec the program (exit 127 / 126). */
const SHELL_EXEC_FAILED = /exec: .*(not found|Permission denied)/i;

/** A wrapper (ip netns exec, setpriv…) reporting it could not exec the program. */
const EXEC_FAILED = /exec(ute)?\b.*(No such file or directory|Permission denied)/i;
const PRIVILEGE =
  /You don't have permission|Operation not permitted|Permission denied|requires root|not permitted/i;
const NO_DEVICE = /No such device|no suitable device|device is not up|is not up|doesn't exist/i;
const FILTER_PHRASES =
  /syntax error|expression rejects all packets|modifier applied|illegal|unknown (host|port|protocol|network|ether)|supported only on|not supported|can't resolve|invalid|filter/i;

/** Maps a tcpdump that exited before capturing to a program-level error. */
function startFailure(
  iface: string,
  cmd: readonly string[],
  stderr: string,
  exit: string,
  hasFilter: boolean,
): KsError {
  const text = stderr.trim() || `exited (${exit}) without a message`;
  const msg = (code: ErrorCode, s: string): KsError => new KsError(code, s);
  if (EXEC_FAILED.test(text)) return toolMissing(cmd, text);
  if (PRIVILEGE.test(text)) {
    return msg(
      'KS_ERR_CAPTURE_PRIVILEGE',
      `no permission to capture on ${iface}: run as root, or grant tcpdump the capabilities ` +
        `CAP_NET_RAW and CAP_NET_ADMIN (setcap cap_net_raw,cap_net_admin=eip ${cmd[cmd.length - 1]}; ` +
        `in Kubernetes: securityContext.capabilities.add [NET_RAW, NET_ADMIN]). tcpdump said: ${text}`,
    );
  }
  if (NO_DEVICE.test(text)) {
    return msg(
      'KS_ERR_CAPTURE_INTERFACE',
      `cannot capture on interface "${iface}": ${text} (list interfaces with: tcpdump -D)`,
    );
  }
  if (hasFilter && FILTER_PHRASES.test(text)) {
    return msg('KS_ERR_CAPTURE_FILTER', `capture filter rejected on ${iface}: ${text}`);
  }
  return msg('KS_ERR_CAPTURE_FAILED', `tcpdump on ${iface} failed (${exit}): ${text}`);
}

/**
 * Compiles the filter with `tcpdump -d` (no device, no privilege: Ethernet link type), so a bad
 * filter is reported as a filter error even where capture would fail first for lack of privilege.
 */
function checkFilter(cmd: readonly string[], bpf: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd[0]!,
      [...cmd.slice(1), '-d', bpf],
      { timeout: FILTER_CHECK_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (err, _stdout, stderr) => {
        if (!err) return resolve();
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        if (e.code === 'ENOENT' || e.code === 'EACCES') return reject(toolMissing(cmd, e.code));
        const lines = stderr
          .split('\n')
          .filter((l) => l.trim() !== '' && !l.startsWith('Warning: assuming Ethernet'));
        const text = lines.join('; ').replace(/^tcpdump: /, '');
        if (EXEC_FAILED.test(text)) return reject(toolMissing(cmd, text));
        // tcpdump prefixes its messages: anything else is the wrapper (ip netns exec…) failing.
        if (!e.killed && !lines.some((l) => l.startsWith('tcpdump: '))) {
          return reject(
            new KsError(
              'KS_ERR_CAPTURE_FAILED',
              `cannot run ${cmd.join(' ')}: ${text || err.message}`,
            ),
          );
        }
        if (e.killed) {
          return reject(
            new KsError(
              'KS_ERR_CAPTURE_FILTER',
              `capture filter did not compile within ${FILTER_CHECK_TIMEOUT_MS} ms`,
            ),
          );
        }
        reject(
          new KsError(
            'KS_ERR_CAPTURE_FILTER',
            `invalid capture filter "${bpf}": ${text || err.message}`,
          ),
        );
      },
    );
  });
}

/** One tcpdump on one interface. */
class TcpdumpProcess {
  readonly counters: ProcCounters = { received: 0, captured: 0, dropped: 0, ifDropped: 0 };
  readonly warnings: string[] = [];
  readonly source: PacketSource;
  /** Resolves when capturing; rejects with the start failure. */
  readonly started: Promise<void>;
  /** Resolves when the process is gone and stderr is read: its failure, if it failed. */
  readonly finished: Promise<KsError | undefined>;
  delivered = 0;
  private readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private listening = false;
  private stopping = false;
  private poll: NodeJS.Timeout | undefined;

  constructor(
    readonly iface: string,
    readonly index: number,
    cmd: readonly string[],
    args: readonly string[],
    hasFilter: boolean,
    statsMs: number,
  ) {
    const child = spawn('/bin/sh', ['-c', WATCHED_EXEC, 'sh', ...cmd, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    // Never written: its end (ours closing, or this process dying) is the watcher's signal.
    child.stdin!.on('error', () => undefined);
    if (running.size === 0) process.on('exit', killRunning);
    running.add(child);
    let onStarted!: () => void;
    let onStartFailed!: (e: KsError) => void;
    this.started = new Promise<void>((res, rej) => {
      onStarted = res;
      onStartFailed = rej;
    });
    // Nobody may be waiting for it (close() before start): never an unhandled rejection.
    this.started.catch(() => undefined);
    let spawnError: KsError | undefined;
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError =
        e.code === 'ENOENT' || e.code === 'EACCES'
          ? toolMissing(cmd, e.code)
          : new KsError('KS_ERR_CAPTURE_FAILED', `cannot run ${cmd.join(' ')}: ${e.message}`);
    });
    let partial = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      const parts = (partial + s).split('\n');
      partial = parts.pop()!.slice(0, STDERR_MAX_LINE);
      for (const line of parts) this.line(line, onStarted);
    });
    this.finished = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        running.delete(child);
        child.stdin!.destroy(); // the watcher ends too (its group holds nobody else now)
        if (running.size === 0) process.off('exit', killRunning);
        if (partial) this.line(partial, onStarted);
        if (this.poll) clearInterval(this.poll);
        const exit = signal ? `signal ${signal}` : `exit code ${code}`;
        let failure: KsError | undefined;
        if (spawnError) failure = spawnError;
        else if (
          !this.listening &&
          (code === 126 || code === 127) &&
          SHELL_EXEC_FAILED.test(this.lines.join('\n'))
        ) {
          failure = toolMissing(cmd, code === 127 ? 'ENOENT' : 'EACCES');
        } else if (!this.listening) {
          failure = this.stopping
            ? undefined
            : startFailure(iface, cmd, this.lines.join('; '), exit, hasFilter);
        } else if (!this.stopping) {
          const last = this.lines.filter((l) => !l.startsWith('listening on '));
          failure = new KsError(
            'KS_ERR_CAPTURE_FAILED',
            `tcpdump on ${iface} stopped (${exit}): ${last.slice(-3).join('; ') || 'no message'}`,
          );
        }
        if (failure) onStartFailed(failure);
        else if (!this.listening) onStartFailed(stoppedBeforeStart(iface));
        resolve(failure);
      });
    });
    this.started
      .then(() => {
        this.poll = setInterval(() => this.requestStats(), statsMs);
        this.poll.unref();
      })
      .catch(() => undefined);
    this.source = captureFromStream(`tcpdump:${iface}`, child.stdout!);
  }

  private line(raw: string, onStarted: () => void): void {
    const line = raw.replace(/^tcpdump: /, '').trimEnd();
    if (line === '') return;
    let counted = false;
    for (const [key, re] of COUNTER_RES) {
      const m = re.exec(line);
      if (m) {
        this.counters[key] = Number(m[1]);
        counted = true;
      }
    }
    // Counters are parsed above; the link type note says nothing an error message needs.
    if (counted || line.startsWith('data link type ')) return;
    this.lines.push(line);
    if (this.lines.length > STDERR_KEEP_LINES) this.lines.shift();
    if (line.startsWith('Warning:') && this.warnings.length < STDERR_KEEP_LINES) {
      this.warnings.push(line);
    }
    if (!this.listening && line.startsWith('listening on ')) {
      this.listening = true;
      onStarted();
    }
  }

  /** SIGUSR1 makes tcpdump print its counters; before its handler is set it would kill it. */
  requestStats(): void {
    const alive = this.child.exitCode === null && this.child.signalCode === null;
    if (this.listening && !this.stopping && alive) {
      this.child.kill('SIGUSR1');
    }
  }

  /** Packet batches, tagged with this interface's position; the process's failure wins. */
  async *batches(): AsyncGenerator<Packet[]> {
    try {
      for await (const batch of this.source.packets()) {
        for (const p of batch) p.ifIndex = this.index;
        this.delivered += batch.length;
        yield batch;
      }
    } catch (e) {
      const failure = await this.finished;
      if (failure) throw failure;
      // A stream cut by our own stop (nothing written yet, or SIGKILL mid-record) is the end.
      if (this.stopping) return;
      throw e;
    }
    const failure = await this.finished;
    if (failure) throw failure;
  }

  /**
   * SIGINT: tcpdump flushes, prints its final counters and exits. `abandon` (nobody reads any
   * more): our end of the pipe is closed too, or a tcpdump blocked writing to a full pipe would
   * only die at the SIGKILL deadline.
   */
  async stop(abandon = false): Promise<void> {
    if (abandon) this.child.stdout?.destroy();
    const alive = (): boolean => this.child.exitCode === null && this.child.signalCode === null;
    if (!this.stopping) {
      this.stopping = true;
      if (alive()) this.child.kill('SIGINT');
    }
    // Past the grace period the unread tail is given up: a stuck reader cannot hold close().
    const timer = setTimeout(() => {
      if (alive()) this.child.kill('SIGKILL');
      this.child.stdout?.destroy();
    }, STOP_GRACE_MS);
    await this.finished;
    clearTimeout(timer);
  }
}

/** Capture processes still running: killed if this process exits without closing them. */
const running = new Set<ChildProcess>();
function killRunning(): void {
  for (const c of running) c.kill('SIGKILL');
}

/** Errors that only say close() came first: packets() then just ends. */
const closedEarly = new WeakSet<KsError>();
function stoppedBeforeStart(iface: string): KsError {
  const e = new KsError(
    'KS_ERR_CAPTURE_FAILED',
    `capture on ${iface} was closed before it started`,
  );
  closedEarly.add(e);
  return e;
}

class TcpdumpCapture implements LiveCapture {
  readonly name: string;
  readonly interfaces: readonly string[];
  readonly bpf: string;
  private readonly cmd: string[];
  private procs: TcpdumpProcess[] = [];
  /** The processes, once the filter check passed and they were spawned. */
  private readonly spawned: Promise<TcpdumpProcess[]>;
  private readonly readyPromise: Promise<void>;
  private closing: Promise<void> | undefined;
  private iterated = false;

  constructor(opts: LiveCaptureOptions) {
    const ifaces = opts.interfaces && opts.interfaces.length > 0 ? [...opts.interfaces] : ['any'];
    if (new Set(ifaces).size !== ifaces.length || ifaces.some((i) => i.trim() === '')) {
      throw new KsError('KS_ERR_USAGE', `interfaces must be distinct names: ${ifaces.join(',')}`);
    }
    this.interfaces = ifaces;
    this.bpf = opts.bpf?.trim() ?? '';
    this.cmd = commandOf(opts.tcpdump);
    this.name = ifaces.join(',');
    const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    const bufKiB = opts.bufferSizeKiB ?? DEFAULT_BUFFER_KIB;
    for (const [what, v] of [
      ['snaplen', snaplen],
      ['bufferSizeKiB', bufKiB],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0) {
        throw new KsError('KS_ERR_USAGE', `${what} must be a positive integer, not ${v}`);
      }
    }
    const statsMs = opts.statsIntervalMs ?? STATS_POLL_MS;
    const args = (iface: string): string[] => {
      const a = ['-i', iface, '-n', '-U', '-w', '-', '--immediate-mode'];
      a.push('-s', String(snaplen), '-B', String(bufKiB));
      if (opts.dropUser) a.push('-Z', opts.dropUser);
      if (this.bpf) a.push(this.bpf);
      return a;
    };
    const check = this.bpf ? checkFilter(this.cmd, this.bpf) : Promise.resolve();
    this.spawned = check.then(() => {
      if (this.closing) return [];
      this.procs = ifaces.map(
        (iface, i) => new TcpdumpProcess(iface, i, this.cmd, args(iface), !!this.bpf, statsMs),
      );
      return this.procs;
    });
    this.readyPromise = this.spawned.then(async (procs) => {
      if (procs.length === 0) throw stoppedBeforeStart(this.name);
      // The first failure wins: the others are stopped rather than left half-started.
      try {
        await Promise.all(procs.map((p) => p.started));
      } catch (e) {
        await Promise.all(procs.map((p) => p.stop()));
        throw e;
      }
    });
    this.readyPromise.catch(() => undefined);
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  info(): CaptureInfo | undefined {
    return this.procs[0]?.source.info();
  }

  stats(): LiveCaptureStats {
    const s: LiveCaptureStats = {
      received: 0,
      captured: 0,
      dropped: 0,
      ifDropped: 0,
      delivered: 0,
    };
    for (const p of this.procs) {
      s.received += p.counters.received;
      s.captured += p.counters.captured;
      s.dropped += p.counters.dropped;
      s.ifDropped += p.counters.ifDropped;
      s.delivered += p.delivered;
    }
    return s;
  }

  warnings(): string[] {
    return this.procs.flatMap((p) => p.warnings.map((w) => `${p.iface}: ${w}`));
  }

  requestStats(): void {
    for (const p of this.procs) p.requestStats();
  }

  /**
   * Batches from every interface as they arrive. At most one batch per interface is in flight,
   * so a slow consumer leaves packets in the pipes and kernel buffers (counted as kernel drops
   * when those fill) rather than in memory here. Iterate once; leaving the loop closes.
   */
  async *packets(): AsyncGenerator<Packet[]> {
    if (this.iterated) throw new KsError('KS_ERR_INTERNAL', 'a live capture is read once');
    this.iterated = true;
    let abandoned = true;
    try {
      try {
        await this.readyPromise;
      } catch (e) {
        if (e instanceof KsError && closedEarly.has(e)) return;
        throw e;
      }
      const its = this.procs.map((p) => p.batches());
      type Next = { i: number; r: IteratorResult<Packet[]> };
      const pending = new Map<number, Promise<Next>>();
      const pull = (i: number): void => {
        const next = its[i]!.next().then((r) => ({ i, r }));
        next.catch(() => undefined);
        pending.set(i, next);
      };
      its.forEach((_, i) => pull(i));
      while (pending.size > 0) {
        const { i, r } = await Promise.race(pending.values());
        if (r.done) {
          pending.delete(i);
          continue;
        }
        pull(i);
        yield r.value;
      }
      abandoned = false;
    } finally {
      await this.stopAll(abandoned);
    }
  }

  close(): Promise<void> {
    return this.stopAll(false);
  }

  private stopAll(abandon: boolean): Promise<void> {
    this.closing ??= this.spawned
      .catch(() => [] as TcpdumpProcess[])
      .then(async (procs) => {
        await Promise.all(procs.map((p) => p.stop(abandon)));
      });
    if (abandon) for (const p of this.procs) void p.stop(true);
    return this.closing;
  }
}
