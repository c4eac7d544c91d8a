/**
 * The local Resolver: which process (name, pid, container) owns a socket on this machine, from
 * /proc — for `tap --local`, where there is no Kubernetes to ask.
 *
 * A refresh reads the socket tables of every network namespace (/proc/net/{tcp,tcp6,udp,udp6}
 * for our own, /proc/[pid]/net/… for the others: a container's sockets are only in its own),
 * finds the process holding each socket inode through the /proc/[pid]/fd/* links
 * (`socket:[inode]`), and records (transport, local ip, local port) → identity with the time it
 * was seen. Traffic is dissected after the fact and short-lived clients (a curl) are often gone
 * by then, so observations are kept for LOCAL_IDENTITY_TTL_MS after they were last seen, in a
 * table bounded by LOCAL_MAX_REMEMBERED keys. Full refreshes run on a timer.
 *
 * Between two refreshes a connection can open and close (a 5 ms curl), so the pipeline tells the
 * resolver each new flow's endpoints when its first packet arrives (`prefetch`): an endpoint on
 * a local address with no recently seen owner is looked for at once — the first of a batch of
 * packets right away, the others on the next turn of the event loop, or when a lookup asks for it
 * first — by a targeted look that reads only that namespace's socket table of that transport and
 * the fd links of new processes and of processes that hold sockets already. A lookup that misses
 * on a local address does the same, reading every process's fd links if need be (a key at most
 * once per LOCAL_MISS_REFRESH_MIN_MS). With the sock_diag addon (sockdiag.ts), a flow start in
 * this network namespace asks the kernel for its socket by the exact tuple instead of reading a
 * table. Targeted looks share a budget of LOCAL_TARGETED_MAX_DUTY of one
 * core (bursts of LOCAL_TARGETED_BURST_MS); keys waiting past it are bounded by
 * LOCAL_MAX_PENDING, the oldest dropped and counted.
 *
 * Cost: the fd links of every process are the expensive part, so they are read only when a
 * socket has no known owner, new processes first, stopping once every new socket is found; a
 * quiet machine's refresh reads the tables and one ns link per process. See stats().
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { KsError } from '../util/errors.ts';
import {
  containerIdFromCgroup,
  normalizeIp,
  parseFibTrieLocal,
  parseIfInet6,
  parseSocketTable,
  processName,
  type SocketRow,
} from './procfs.ts';
import { loadSockDiag, type SockDiag } from './sockdiag.ts';
import type { Identity, Resolver } from './types.ts';

/** Period of the background refresh. */
export const LOCAL_REFRESH_MS = 1000;
/** Least time between two targeted looks for one key caused by lookup misses. */
export const LOCAL_MISS_REFRESH_MIN_MS = 200;
/** Targeted looks (flow starts, misses) use at most this share of one core… */
export const LOCAL_TARGETED_MAX_DUTY = 0.1;
/** …with bursts of up to this much time (ms) when they have been idle. */
export const LOCAL_TARGETED_BURST_MS = 200;
/** Most flow-start keys waiting for a targeted look; the oldest are dropped (counted). */
export const LOCAL_MAX_PENDING = 4096;
/** An observation is forgotten this long after its socket was last seen. */
export const LOCAL_IDENTITY_TTL_MS = 120_000;
/** Most (transport, ip, port) keys remembered; the least recently seen go first. */
export const LOCAL_MAX_REMEMBERED = 65_536;
/** Successive owners kept per key (a port reused by another process). */
export const LOCAL_MAX_OWNERS_PER_KEY = 4;
/**
 * Refreshes use at most this share of one core: a slow refresh (each network namespace's socket
 * tables cost the kernel a walk of the whole socket hash) spaces out the timer.
 */
export const LOCAL_REFRESH_MAX_DUTY = 0.05;
/** A socket whose owner a full fd scan did not find is looked for again after this long. */
export const LOCAL_UNOWNED_RETRY_MS = 10_000;

export interface LocalResolverOptions {
  /** Default `/proc`; tests point it at a fixture tree. */
  procRoot?: string;
  /** Background refresh period (default LOCAL_REFRESH_MS); 0 disables the timer. */
  refreshMs?: number;
  /** Clock in ms since the epoch (default Date.now). */
  now?: () => number;
  ttlMs?: number;
  maxRemembered?: number;
  missRefreshMinMs?: number;
  /** Exact socket lookups (sock_diag); default: the addon when built, null: none (/proc only). */
  sockDiag?: SockDiag | null;
}

export interface LocalResolverStats {
  refreshes: number;
  /** Targeted looks (each reads one transport's tables of the namespaces asked for). */
  targetedLooks: number;
  /** Keys looked for: asked by a flow start (`prefetch`) / by a lookup miss. */
  prefetched: number;
  missLooks: number;
  /** Flow-start keys skipped because their owner had just been seen (no look needed). */
  prefetchKnown: number;
  /** Flow-start keys dropped waiting (LOCAL_MAX_PENDING). */
  pendingDropped: number;
  /** Time spent in targeted looks (ms). */
  totalTargetedMs: number;
  /** Flow starts looked up by their exact tuple (sock_diag), and of them the sockets found. */
  diagLookups: number;
  diagFound: number;
  /** Wall time of the last refresh / the slowest one / all of them (ms). */
  lastRefreshMs: number;
  maxRefreshMs: number;
  totalRefreshMs: number;
  /** In the last refresh: processes listed, network namespaces, sockets with an inode. */
  processes: number;
  namespaces: number;
  sockets: number;
  /**
   * Sockets whose owner is known (last refresh); processes whose fds were read (last refresh or
   * targeted look).
   */
  ownedSockets: number;
  fdScans: number;
  /** Keys in the history table now. */
  remembered: number;
  lookups: number;
  hits: number;
  misses: number;
  /** Keys dropped for age (TTL) / for room (LOCAL_MAX_REMEMBERED). */
  expired: number;
  evicted: number;
  /** Refreshes that failed (the previous tables stay). */
  errors: number;
}

export interface LocalResolver extends Resolver {
  /** Re-reads /proc now (also done on the timer). */
  refresh(): void;
  /**
   * A flow with the endpoint `ip:port` has just started (its first packet was seen): when the
   * address is local and its owner was not seen lately, look for it soon, while its socket exists.
   */
  prefetch(ip: string, port: number, transport: 'tcp' | 'udp'): void;
  /**
   * A flow between `client` and `server` has just started: each end on a local address whose
   * owner was not seen lately is looked up at once by its exact tuple when sock_diag is there
   * (this network namespace), else as `prefetch`.
   */
  prefetchFlow(
    transport: 'tcp' | 'udp',
    client: { ip: string; port: number },
    server: { ip: string; port: number },
  ): void;
  /** Stops the timer and forgets everything. */
  close(): void;
  stats(): LocalResolverStats;
}

/** One owner of a key over a span of refreshes (µs). */
interface Owner {
  id: Identity;
  pid: number;
  first: number;
  last: number;
}

/** An endpoint to look for in a targeted look. */
interface Want {
  ip: string;
  port: number;
  transport: 'tcp' | 'udp';
}

/** The socket tables of one transport in a namespace's `net/` directory. */
const TABLES = {
  tcp: [
    ['tcp', false],
    ['tcp6', true],
  ],
  udp: [
    ['udp', false],
    ['udp6', true],
  ],
} as const;

/** The rows of `transport`'s tables (IPv4 and IPv6) in `netDir` that a process holds (inode). */
function tableRows(netDir: string, transport: 'tcp' | 'udp'): SocketRow[] {
  const out: SocketRow[] = [];
  for (const [file, v6] of TABLES[transport]) {
    const text = readText(`${netDir}/${file}`);
    if (text === undefined) continue;
    for (const row of parseSocketTable(text, transport, v6)) if (row.inode !== 0) out.push(row);
  }
  return out;
}

/** The history and look key of a local endpoint. */
const keyOf = (transport: string, ip: string, port: number): string => `${transport} ${ip} ${port}`;

interface Namespace {
  key: string;
  /** Directory holding tcp, tcp6, udp, udp6, fib_trie, if_inet6. */
  netDir: string;
}

const isLoopback = (ip: string): boolean => ip.startsWith('127.') || ip === '::1';
const isUnspecified = (ip: string): boolean => ip === '0.0.0.0' || ip === '::';

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

const SOCKET_LINK = /^socket:\[(\d+)\]$/;

class ProcResolver implements LocalResolver {
  private readonly root: string;
  private readonly now: () => number;
  private readonly ttlUs: number;
  private readonly maxKeys: number;
  private readonly missMinMs: number;
  private readonly refreshMs: number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /** `tcp 127.0.0.1 8080` → owners (oldest first); Map order = least recently seen first. */
  private readonly history = new Map<string, Owner[]>();
  /** Local address → namespaces it belongs to, with when it was last seen (µs). */
  private readonly addrs = new Map<string, { ns: Set<string>; last: number }>();
  /** Socket inode → owning pid (valid while the inode is in a table and the pid lives). */
  private readonly owners = new Map<number, number>();
  /** Inodes a full scan did not find an owner for → when to look again (ms). */
  private readonly unowned = new Map<number, number>();
  private knownPids = new Set<number>();
  /** Namespace key → its directory of tables (from the last refresh). */
  private nsDirs = new Map<string, string>();
  /** Keys waiting for a targeted look (insertion order: oldest first). */
  private readonly pending = new Map<string, Want>();
  private drainScheduled = false;
  /** Key → when a lookup's (thorough) look last looked for it (ms); bounded like `pending`. */
  private readonly lookedAt = new Map<string, number>();
  /** Budget of targeted look time (ms) and when it was last topped up (ms). */
  private budgetMs = LOCAL_TARGETED_BURST_MS;
  private budgetAt: number;
  private selfNs = 'self';
  private readonly diag: SockDiag | undefined;
  private readonly st: LocalResolverStats = {
    refreshes: 0,
    targetedLooks: 0,
    prefetched: 0,
    missLooks: 0,
    prefetchKnown: 0,
    pendingDropped: 0,
    totalTargetedMs: 0,
    diagLookups: 0,
    diagFound: 0,
    lastRefreshMs: 0,
    maxRefreshMs: 0,
    totalRefreshMs: 0,
    processes: 0,
    namespaces: 0,
    sockets: 0,
    ownedSockets: 0,
    fdScans: 0,
    remembered: 0,
    lookups: 0,
    hits: 0,
    misses: 0,
    expired: 0,
    evicted: 0,
    errors: 0,
  };

  constructor(o: LocalResolverOptions) {
    this.root = (o.procRoot ?? '/proc').replace(/\/+$/, '');
    this.now = o.now ?? Date.now;
    this.ttlUs = (o.ttlMs ?? LOCAL_IDENTITY_TTL_MS) * 1000;
    this.maxKeys = o.maxRemembered ?? LOCAL_MAX_REMEMBERED;
    this.missMinMs = o.missRefreshMinMs ?? LOCAL_MISS_REFRESH_MIN_MS;
    this.refreshMs = o.refreshMs ?? LOCAL_REFRESH_MS;
    this.budgetAt = this.now();
    // The addon sees this machine's sockets: not those of a fixture tree.
    this.diag =
      o.sockDiag === undefined
        ? o.procRoot === undefined
          ? loadSockDiag()
          : undefined
        : (o.sockDiag ?? undefined);
    if (readText(`${this.root}/net/tcp`) === undefined) {
      throw new KsError(
        'KS_ERR_PROC_UNAVAILABLE',
        `cannot read ${this.root}/net/tcp: local process identity needs Linux /proc`,
      );
    }
    this.refresh();
    this.schedule();
  }

  private schedule(): void {
    if (this.refreshMs <= 0 || this.closed) return;
    this.timer = setTimeout(() => {
      this.refresh();
      this.schedule();
    }, this.gapMs(this.refreshMs));
    this.timer.unref();
  }

  /** Least time between refreshes: `base`, or more when refreshes are slow (see *_MAX_DUTY). */
  private gapMs(base: number): number {
    return Math.max(base, this.st.lastRefreshMs / LOCAL_REFRESH_MAX_DUTY);
  }

  // ---------------------------------------------------------------- lookup

  lookup(ip: string, port: number, transport: 'tcp' | 'udp', tsUs: number): Identity | undefined {
    this.st.lookups++;
    const n = normalizeIp(ip);
    if (n === undefined) {
      this.st.misses++;
      return undefined;
    }
    const key = keyOf(transport, n, port);
    // Its flow's start asked for a look that has not run yet: run it now, before answering.
    if (this.pending.has(key)) this.drain();
    let id = this.find(n, port, transport, tsUs);
    if (id === undefined && !this.closed && this.isLocal(n)) {
      const nowMs = this.now();
      const at = this.lookedAt.get(key);
      if (at === undefined || nowMs - at >= this.missMinMs) {
        this.st.missLooks++;
        this.want(key, { ip: n, port, transport });
        this.drain(true);
        id = this.find(n, port, transport, tsUs);
      }
    }
    if (id) this.st.hits++;
    else this.st.misses++;
    return id;
  }

  prefetch(ip: string, port: number, transport: 'tcp' | 'udp'): void {
    if (this.closed) return;
    const n = normalizeIp(ip);
    if (n === undefined || !this.isLocal(n)) return;
    if (this.seenLately(n, port, transport)) {
      this.st.prefetchKnown++;
      return;
    }
    const key = keyOf(transport, n, port);
    if (this.pending.has(key)) return;
    this.st.prefetched++;
    this.want(key, { ip: n, port, transport });
    if (!this.drainScheduled) {
      // The first flow of a batch of packets is looked for at once (a 5 ms client is gone after
      // a few milliseconds); the others that start in the same batch share one look next turn.
      this.drainScheduled = true;
      this.drain();
      setImmediate(() => {
        this.drainScheduled = false;
        this.drain();
      });
    }
  }

  prefetchFlow(
    transport: 'tcp' | 'udp',
    client: { ip: string; port: number },
    server: { ip: string; port: number },
  ): void {
    this.diagEnd(transport, client, server);
    this.diagEnd(transport, server, client);
  }

  /** One end of a new flow: by its exact tuple when it is ours to ask, else `prefetch`. */
  private diagEnd(
    transport: 'tcp' | 'udp',
    local: { ip: string; port: number },
    remote: { ip: string; port: number },
  ): void {
    if (this.closed) return;
    const ip = normalizeIp(local.ip);
    const peer = normalizeIp(remote.ip);
    if (ip === undefined || peer === undefined || !this.isLocal(ip)) return;
    // sock_diag answers for this process's network namespace only.
    const here = isLoopback(ip) || (this.addrs.get(ip)?.ns.has(this.selfNs) ?? false);
    if (!this.diag || !here) return this.prefetch(ip, local.port, transport);
    if (this.seenLately(ip, local.port, transport)) {
      this.st.prefetchKnown++;
      return;
    }
    this.st.diagLookups++;
    const inode = this.diag.inode(
      transport,
      { ip, port: local.port },
      { ip: peer, port: remote.port },
    );
    if (inode === undefined) return this.prefetch(ip, local.port, transport);
    if (inode === 0) return; // gone already, or a request socket not accepted yet
    const pid = this.ownerOf(inode);
    if (pid === undefined) return;
    const id = this.readIdentity(pid);
    if (!id) return;
    this.st.diagFound++;
    const row: SocketRow = {
      transport,
      localIp: ip,
      localPort: local.port,
      remoteIp: peer,
      remotePort: remote.port,
      state: 1,
      inode,
    };
    this.record(this.selfNs, row, id, pid, this.now() * 1000);
  }

  /** The process holding socket `inode`: known, else among new processes and socket holders. */
  private ownerOf(inode: number): number | undefined {
    const known = this.owners.get(inode);
    if (known !== undefined) return known;
    const wanted = new Set([inode]);
    for (const pid of this.scanOrder(this.listPids(), true)) {
      this.scanFds(pid, wanted, wanted);
      if (wanted.size === 0) return this.owners.get(inode);
    }
    return undefined;
  }

  private want(key: string, w: Want): void {
    this.pending.delete(key);
    this.pending.set(key, w);
    while (this.pending.size > LOCAL_MAX_PENDING) {
      this.pending.delete(this.pending.keys().next().value as string);
      this.st.pendingDropped++;
    }
  }

  /** An owner of the endpoint was seen within one refresh period (no look needed). */
  private seenLately(ip: string, port: number, transport: string): boolean {
    const since = this.now() * 1000 - this.slackUs();
    for (const k of this.keysFor(ip, port, transport)) {
      const list = this.history.get(k);
      if (list !== undefined && list[list.length - 1]!.last >= since) return true;
    }
    return false;
  }

  private slackUs(): number {
    return this.gapMs(this.refreshMs > 0 ? this.refreshMs : LOCAL_REFRESH_MS) * 1000;
  }

  /**
   * Runs one targeted look for every pending key, when the budget allows; `thorough` (a lookup
   * missed: the entry is about to be stored) reads every process's fd links if need be.
   */
  private drain(thorough = false): void {
    if (this.closed || this.pending.size === 0) return;
    const nowMs = this.now();
    this.budgetMs = Math.min(
      LOCAL_TARGETED_BURST_MS,
      this.budgetMs + Math.max(0, nowMs - this.budgetAt) * LOCAL_TARGETED_MAX_DUTY,
    );
    this.budgetAt = nowMs;
    if (this.budgetMs <= 0) return; // the keys wait (bounded) for a later turn
    const wants = [...this.pending.values()];
    this.pending.clear();
    const t0 = performance.now();
    try {
      this.look(wants, nowMs, thorough);
    } catch {
      this.st.errors++;
    }
    const took = performance.now() - t0;
    this.budgetMs -= took;
    this.st.targetedLooks++;
    this.st.totalTargetedMs += took;
    // Misses are spaced per key after a thorough look; a flow start's quick one does not count.
    for (const w of thorough ? wants : []) {
      const key = keyOf(w.transport, w.ip, w.port);
      this.lookedAt.delete(key);
      this.lookedAt.set(key, nowMs);
    }
    while (this.lookedAt.size > LOCAL_MAX_PENDING) {
      this.lookedAt.delete(this.lookedAt.keys().next().value as string);
    }
  }

  /**
   * Reads the socket tables (of the wanted transports) of the namespaces the wanted addresses
   * are local in, and records the owners of the sockets on the wanted ports: fd links are read
   * only for sockets without a known owner, new processes first, until every one is found.
   */
  private look(wants: readonly Want[], nowMs: number, thorough: boolean): void {
    const nowUs = nowMs * 1000;
    /** `<netDir> <transport>` → the ports wanted there. */
    const groups = new Map<
      string,
      { ns: string; dir: string; tr: 'tcp' | 'udp'; ports: Set<number> }
    >();
    for (const w of wants) {
      for (const ns of this.namespacesOf(w.ip)) {
        const dir = this.nsDirs.get(ns);
        if (dir === undefined) continue;
        const g = `${dir} ${w.transport}`;
        let e = groups.get(g);
        if (!e) groups.set(g, (e = { ns, dir, tr: w.transport, ports: new Set() }));
        e.ports.add(w.port);
      }
    }
    const rows: { ns: string; row: SocketRow }[] = [];
    const inodes = new Set<number>();
    for (const { ns, dir, tr, ports } of groups.values()) {
      for (const row of tableRows(dir, tr)) {
        if (!ports.has(row.localPort)) continue;
        rows.push({ ns, row });
        inodes.add(row.inode);
      }
    }
    const wanted = new Set<number>();
    for (const inode of inodes) if (!this.owners.has(inode)) wanted.add(inode);
    this.st.fdScans = 0;
    if (wanted.size > 0) {
      // A flow start reads only where a new socket is likely (see scanOrder): it must be quick.
      for (const pid of this.scanOrder(this.listPids(), !thorough)) {
        if (wanted.size === 0) break;
        this.scanFds(pid, wanted, inodes);
      }
    }
    const ids = new Map<number, Identity | null>();
    for (const { ns, row } of rows) {
      const pid = this.owners.get(row.inode);
      if (pid === undefined) continue;
      let id = ids.get(pid);
      if (id === undefined) ids.set(pid, (id = this.readIdentity(pid) ?? null));
      if (id) this.record(ns, row, id, pid, nowUs);
    }
  }

  private isLocal(ip: string): boolean {
    return isLoopback(ip) || this.addrs.has(ip);
  }

  /** Namespaces where `ip` is a local address (loopback: only ours, where we capture). */
  private namespacesOf(ip: string): Iterable<string> {
    if (isLoopback(ip)) return [this.selfNs];
    return this.addrs.get(ip)?.ns ?? [];
  }

  /**
   * The history keys an endpoint is found by, in order: its exact address; sockets bound to
   * 0.0.0.0 / :: (they answer on every local address of their namespace); then a listener bound
   * to loopback (reached through a local redirect) as the last resort.
   */
  private *keysFor(ip: string, port: number, transport: string): Generator<string> {
    yield keyOf(transport, ip, port);
    for (const kind of ['*', 'lo']) {
      for (const ns of this.namespacesOf(ip)) yield `${transport} ${kind}${ns} ${port}`;
    }
  }

  private find(ip: string, port: number, transport: string, tsUs: number): Identity | undefined {
    for (const k of this.keysFor(ip, port, transport)) {
      const id = this.pick(this.history.get(k), tsUs);
      if (id) return id;
    }
    return undefined;
  }

  /**
   * The owner at `tsUs`: the first one still seen at that time (or within one refresh period
   * after it: a socket can close between two refreshes), else the latest; owners last seen
   * more than the TTL ago do not count.
   */
  private pick(list: Owner[] | undefined, tsUs: number): Identity | undefined {
    if (!list) return undefined;
    const slack = this.slackUs();
    const cutoff = this.now() * 1000 - this.ttlUs; // older owners of a live key are forgotten
    let latest: Owner | undefined;
    for (const o of list) {
      if (o.last < cutoff) continue;
      if (tsUs <= o.last + slack) return o.id;
      latest = o;
    }
    return latest?.id;
  }

  // ---------------------------------------------------------------- refresh

  refresh(): void {
    if (this.closed) return;
    const t0 = performance.now();
    const nowMs = this.now();
    try {
      this.scan(nowMs);
    } catch {
      // A vanished process or an unreadable file is skipped inside scan(); anything else is
      // counted and the previous tables stay in use.
      this.st.errors++;
    }
    const took = performance.now() - t0;
    this.st.refreshes++;
    this.st.lastRefreshMs = took;
    this.st.maxRefreshMs = Math.max(this.st.maxRefreshMs, took);
    this.st.totalRefreshMs += took;
  }

  private scan(nowMs: number): void {
    const nowUs = nowMs * 1000;
    const pids = this.listPids();
    const alive = new Set(pids);

    // Network namespaces: ours through /proc/net, every other one through one of its processes.
    this.selfNs = readLink(`${this.root}/self/ns/net`) ?? 'self';
    const namespaces: Namespace[] = [{ key: this.selfNs, netDir: `${this.root}/net` }];
    const seenNs = new Set([this.selfNs]);
    for (const pid of pids) {
      const ns = readLink(`${this.root}/${pid}/ns/net`);
      if (ns === undefined || seenNs.has(ns)) continue;
      seenNs.add(ns);
      namespaces.push({ key: ns, netDir: `${this.root}/${pid}/net` });
    }

    this.nsDirs = new Map(namespaces.map((n) => [n.key, n.netDir]));

    const rows: { ns: string; row: SocketRow }[] = [];
    for (const ns of namespaces) {
      for (const tr of ['tcp', 'udp'] as const) {
        for (const row of tableRows(ns.netDir, tr)) rows.push({ ns: ns.key, row });
      }
      const local = [
        ...parseFibTrieLocal(readText(`${ns.netDir}/fib_trie`) ?? ''),
        ...parseIfInet6(readText(`${ns.netDir}/if_inet6`) ?? ''),
      ];
      for (const a of local) {
        if (isLoopback(a)) continue; // every namespace has one: resolved in ours only
        const e = this.addrs.get(a);
        if (e) {
          e.ns.add(ns.key);
          e.last = nowUs;
        } else this.addrs.set(a, { ns: new Set([ns.key]), last: nowUs });
      }
    }

    // Owners: keep those still valid, look for the rest in the fd tables.
    const inTables = new Set(rows.map((r) => r.row.inode));
    for (const [inode, pid] of this.owners) {
      if (!inTables.has(inode) || !alive.has(pid)) this.owners.delete(inode);
    }
    for (const inode of this.unowned.keys()) if (!inTables.has(inode)) this.unowned.delete(inode);
    const wanted = new Set<number>();
    for (const inode of inTables) {
      if (this.owners.has(inode)) continue;
      const retry = this.unowned.get(inode);
      if (retry === undefined || retry <= nowMs) wanted.add(inode);
    }
    this.st.fdScans = 0;
    if (wanted.size > 0) {
      for (const pid of this.scanOrder(pids)) {
        if (wanted.size === 0) break;
        this.scanFds(pid, wanted, inTables);
      }
      for (const inode of wanted) this.unowned.set(inode, nowMs + LOCAL_UNOWNED_RETRY_MS);
    }
    this.knownPids = alive;

    // Identities of the owners, read once per refresh (a fork + exec changes the name).
    const ids = new Map<number, Identity | null>();
    const identityOf = (pid: number): Identity | undefined => {
      let id = ids.get(pid);
      if (id === undefined) {
        id = this.readIdentity(pid) ?? null;
        ids.set(pid, id);
      }
      return id ?? undefined;
    };
    let owned = 0;
    for (const { ns, row } of rows) {
      const pid = this.owners.get(row.inode);
      if (pid === undefined) continue;
      const id = identityOf(pid);
      if (!id) continue;
      owned++;
      this.record(ns, row, id, pid, nowUs);
    }
    this.expire(nowUs);
    this.st.processes = pids.length;
    this.st.namespaces = namespaces.length;
    this.st.sockets = rows.length;
    this.st.ownedSockets = owned;
    this.st.remembered = this.history.size;
  }

  /** The pids in /proc now. */
  private listPids(): number[] {
    const pids: number[] = [];
    for (const name of readdirSync(this.root)) {
      const c = name.charCodeAt(0);
      if (c >= 0x30 && c <= 0x39) pids.push(Number(name));
    }
    return pids;
  }

  /**
   * The order to read processes' fd links in when looking for new sockets: new processes first
   * (a new socket most likely belongs to one), then those that hold sockets already (a server, a
   * client with a pool), then the rest — left out with `likelyOnly` (a flow start's look: a
   * process that held no socket at the last refresh is found by a lookup's look or a refresh).
   */
  private scanOrder(pids: readonly number[], likelyOnly = false): number[] {
    const holders = new Set(this.owners.values());
    const rank = (p: number): number => (!this.knownPids.has(p) ? 0 : holders.has(p) ? 1 : 2);
    const out: number[][] = [[], [], []];
    for (const p of pids) out[rank(p)]!.push(p);
    return likelyOnly ? [...out[0]!, ...out[1]!] : out.flat();
  }

  /** Remembers `row`'s owner under the keys a lookup finds it by. */
  private record(ns: string, row: SocketRow, id: Identity, pid: number, nowUs: number): void {
    const tr = row.transport;
    if (isUnspecified(row.localIp)) {
      this.observe(`${tr} *${ns} ${row.localPort}`, id, pid, nowUs);
    } else {
      this.observe(keyOf(tr, row.localIp, row.localPort), id, pid, nowUs);
      const listening = tr === 'tcp' ? row.state === 0x0a : row.remotePort === 0;
      if (listening && isLoopback(row.localIp))
        this.observe(`${tr} lo${ns} ${row.localPort}`, id, pid, nowUs);
    }
  }

  /** Records the owner of every table socket among `pid`'s fds; removes them from `wanted`. */
  private scanFds(pid: number, wanted: Set<number>, inTables: ReadonlySet<number>): void {
    const dir = `${this.root}/${pid}/fd`;
    let fds: string[];
    try {
      fds = readdirSync(dir);
    } catch {
      return; // exited, or not ours to read
    }
    this.st.fdScans++;
    for (const fd of fds) {
      const link = readLink(`${dir}/${fd}`);
      if (link === undefined || link.charCodeAt(0) !== 0x73 /* s */) continue;
      const m = SOCKET_LINK.exec(link);
      if (!m) continue;
      const inode = Number(m[1]);
      if (wanted.delete(inode) || (inTables.has(inode) && !this.owners.has(inode)))
        this.owners.set(inode, pid);
    }
  }

  private readIdentity(pid: number): Identity | undefined {
    const dir = `${this.root}/${pid}`;
    const comm = readText(`${dir}/comm`);
    if (comm === undefined) return undefined;
    const cmdline = readText(`${dir}/cmdline`) ?? '';
    const id: Identity = { process: { name: processName(comm, cmdline), pid } };
    const container = containerIdFromCgroup(readText(`${dir}/cgroup`) ?? '');
    if (container) id.containerId = container;
    return id;
  }

  private observe(key: string, id: Identity, pid: number, nowUs: number): void {
    let list = this.history.get(key);
    if (list) {
      this.history.delete(key); // re-inserted last: Map order stays least recently seen first
      const last = list[list.length - 1]!;
      if (
        last.pid === pid &&
        last.id.process?.name === id.process?.name &&
        last.id.containerId === id.containerId
      ) {
        last.last = nowUs;
      } else {
        list.push({ id, pid, first: nowUs, last: nowUs });
        if (list.length > LOCAL_MAX_OWNERS_PER_KEY) list.shift();
      }
    } else {
      list = [{ id, pid, first: nowUs, last: nowUs }];
      while (this.history.size >= this.maxKeys) {
        const oldest = this.history.keys().next().value as string;
        this.history.delete(oldest);
        this.st.evicted++;
      }
    }
    this.history.set(key, list);
  }

  private expire(nowUs: number): void {
    const cutoff = nowUs - this.ttlUs;
    for (const [key, list] of this.history) {
      if (list[list.length - 1]!.last >= cutoff) break; // the rest were seen later
      this.history.delete(key);
      this.st.expired++;
    }
    for (const [a, e] of this.addrs) if (e.last < cutoff) this.addrs.delete(a);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.history.clear();
    this.addrs.clear();
    this.owners.clear();
    this.unowned.clear();
    this.pending.clear();
    this.lookedAt.clear();
  }

  stats(): LocalResolverStats {
    return { ...this.st, remembered: this.history.size };
  }
}

/**
 * A Resolver of local sockets to their processes, from /proc. Throws KsError
 * `KS_ERR_PROC_UNAVAILABLE` when `procRoot` has no socket tables (not Linux).
 */
export function createLocalResolver(opts: LocalResolverOptions = {}): LocalResolver {
  return new ProcResolver(opts);
}
