/**
 * The typed configuration: Kubeshark's key names, our defaults, one doc line each.
 * Precedence (config/load.ts): flag > --set > KUBESHARK_* env > config file > defaults.
 */
import { defaultLimits } from '../util/limits.ts';
// The protocols this build has, and which run by default, come from the dissector registry.
import { dissectors } from '../tap/dissectors/registry.ts';

export type LeafType = 'string' | 'int' | 'bool' | 'size' | 'list<string>' | 'list<int>';

export interface Leaf {
  kind: 'leaf';
  type: LeafType;
  default: unknown;
  doc: string;
}
/** A map with user-chosen keys (e.g. `tap.portMapping.<protocol>`), all values of one type. */
export interface OpenMap {
  kind: 'map';
  value: LeafType;
  default: Record<string, unknown>;
  doc: string;
}
export interface Group {
  kind: 'group';
  children: Record<string, Node>;
}
export type Node = Leaf | OpenMap | Group;

const leaf = (type: LeafType, def: unknown, doc: string): Leaf => ({
  kind: 'leaf',
  type,
  default: def,
  doc,
});
const group = (children: Record<string, Node>): Group => ({ kind: 'group', children });

const limitDocs: Record<keyof typeof defaultLimits, string> = {
  maxBufferedBytesPerConnection: 'out-of-order bytes buffered per TCP connection direction',
  maxBufferedBytesTotal: 'out-of-order bytes buffered over all connections',
  maxStreams: 'TCP connections + UDP flows tracked at once',
  maxHalfOpenConnections:
    'TCP connections without payload or completed handshake tracked at once (SYN floods)',
  maxUnansweredFlows: 'UDP flows that heard from one side only (unanswered queries) at once',
  idleTimeoutSec: 'seconds without packets before a connection/flow is flushed',
  maxFragmentBytes: 'bytes held for IP fragment reassembly',
  maxFragmentDatagrams: 'incomplete IP datagrams held at once',
  maxPduBytes: 'largest single protocol message parsed',
  maxHeaderBytes: 'largest HTTP head (start line + headers)',
  maxBodyBytes: 'body bytes kept per message (also the decompression cap)',
  maxPendingRequests: 'requests waiting for a response per connection',
  maxViolations: 'protocol violations before a dissector is detached',
  maxDetectBytes: 'bytes per direction kept while detecting the protocol',
};

/** `tap.resources.<role>`: Kubernetes requests/limits, quantities as strings. */
const resourcesGroup = (reqCpu: string, reqMem: string, limCpu: string, limMem: string): Group =>
  group({
    requests: group({
      cpu: leaf('string', reqCpu, 'CPU request'),
      memory: leaf('string', reqMem, 'memory request'),
    }),
    limits: group({
      cpu: leaf('string', limCpu, 'CPU limit'),
      memory: leaf('string', limMem, 'memory limit'),
    }),
  });
/** `tap.probes.<role>`: readiness/liveness timing of GET /api/health. */
const probeGroup = (): Group =>
  group({
    initialDelaySeconds: leaf('int', 5, 'seconds before the first probe'),
    periodSeconds: leaf('int', 10, 'seconds between probes'),
    successThreshold: leaf('int', 1, 'successes to count as ready'),
    failureThreshold: leaf('int', 3, 'failures before not ready / restarted'),
  });

export const schema: Group = group({
  tap: group({
    namespaces: leaf('list<string>', [], 'namespaces to tap (empty: all)'),
    regex: leaf('string', '.*', 'pod name regular expression to tap'),
    excludedNamespaces: leaf(
      'list<string>',
      [],
      'namespaces never tapped (wins over tap.namespaces)',
    ),
    allowedHosts: leaf(
      'list<string>',
      [],
      'host names the API and dashboard answer besides IP literals, localhost and (in the cluster) the release services, e.g. an ingress host (*.example.com: its sub-domains); others get 403',
    ),
    trustedProxies: leaf(
      'list<string>',
      [],
      'addresses (IPs or CIDRs) besides loopback whose X-Forwarded-Host/-Proto are believed',
    ),
    release: group({
      namespace: leaf('string', 'default', 'namespace Kubeshark is installed in'),
      name: leaf('string', 'kubeshark', 'Helm release name'),
    }),
    proxy: group({
      host: leaf('string', '127.0.0.1', 'address the local proxy binds'),
      front: group({
        port: leaf('int', 8899, 'local port of the dashboard'),
        srvPort: leaf('int', 8080, 'port the front container listens on in the cluster'),
      }),
      hub: group({
        port: leaf('int', 8898, 'local port of the hub API'),
        srvPort: leaf('int', 8898, 'port the hub container listens on in the cluster'),
      }),
      worker: group({ srvPort: leaf('int', 48999, 'port of the worker API on each node') }),
    }),
    enabledDissectors: leaf(
      'list<string>',
      dissectors.filter((d) => d.enabledByDefault).map((d) => d.id),
      'dissectors to run (ids as in `kubeshark dissect --help`)',
    ),
    portMapping: {
      kind: 'map',
      value: 'list<int>',
      default: {},
      doc: 'extra server ports per protocol, hints for detection (e.g. tap.portMapping.http=8080,8081)',
    },
    bpfOverride: leaf('string', '', 'BPF capture filter replacing the one built from the targets'),
    customMacros: {
      kind: 'map',
      value: 'string',
      default: {},
      doc: 'KFL macros (name: expression)',
    },
    capture: group({
      dbMaxSize: leaf('size', '500Mi', 'per-node entry store size before FIFO eviction'),
      bufferSize: leaf(
        'size',
        '256Mi',
        'kernel capture buffer per interface (tcpdump -B): absorbs bursts while the worker is busy',
      ),
    }),
    storageLimit: leaf('size', '5Gi', 'per-node raw capture (pcap ring) size'),
    metrics: group({ port: leaf('int', 49100, 'worker Prometheus metrics port') }),
    networkPolicy: group({
      enabled: leaf(
        'bool',
        true,
        'NetworkPolicies: only the hub reaches the workers, only the front reaches the hub',
      ),
    }),
    limits: group(
      Object.fromEntries(
        Object.entries(defaultLimits).map(([k, v]) => [
          k,
          leaf('int', v, limitDocs[k as keyof typeof defaultLimits]),
        ]),
      ),
    ),
    debug: leaf('bool', false, 'debug logging in the deployed components'),
    docker: group({
      registry: leaf('string', 'ghcr.io/kubeshark-ts', 'image registry of the kubeshark image'),
      tag: leaf('string', '', 'image tag (empty: this version)'),
      imagePullPolicy: leaf('string', 'IfNotPresent', 'image pull policy of every container'),
    }),
    resources: group({
      hub: resourcesGroup('100m', '128Mi', '1', '1Gi'),
      front: resourcesGroup('50m', '64Mi', '500m', '256Mi'),
      worker: resourcesGroup('100m', '256Mi', '2', '2Gi'),
    }),
    probes: group({
      hub: probeGroup(),
      front: probeGroup(),
      worker: probeGroup(),
    }),
    tolerations: group({
      hub: leaf('list<string>', [], 'taint keys the hub tolerates (operator Exists)'),
      front: leaf('list<string>', [], 'taint keys the front tolerates (operator Exists)'),
      workers: leaf('list<string>', [], 'taint keys the workers tolerate (operator Exists)'),
    }),
    nodeSelector: {
      kind: 'map',
      value: 'string',
      default: {},
      doc: 'node labels every pod of the release requires (label: value)',
    },
    labels: { kind: 'map', value: 'string', default: {}, doc: 'extra labels on every object' },
    annotations: {
      kind: 'map',
      value: 'string',
      default: {},
      doc: 'extra annotations on every object',
    },
    redaction: group({
      enabled: leaf('bool', true, 'replace secrets with [REDACTED] before entries are stored'),
      headers: leaf(
        'list<string>',
        [
          'authorization',
          'proxy-authorization',
          'cookie',
          'set-cookie',
          'x-api-key',
          'x-auth-token',
        ],
        'header names whose values are redacted (case-insensitive; Cookie/Set-Cookie also redact the cookie maps)',
      ),
      bodyFields: leaf(
        'list<string>',
        [
          'password',
          'passwd',
          'secret',
          'token',
          'access_token',
          'refresh_token',
          'client_secret',
          'api_key',
          'apikey',
        ],
        'JSON/form body fields, WebSocket JSON fields and query parameters redacted (case-insensitive)',
      ),
      names: leaf(
        'list<string>',
        [
          '*password*',
          '*passwd*',
          '*passphrase*',
          '*passcode*',
          '*secret*',
          '*credential*',
          '*privatekey*',
          '*apikey*',
          '*token',
          '*accesskey',
          '*authkey',
          '*appkey',
          '*applicationkey',
          '*accountkey',
          '*subscriptionkey',
          '*functionskey',
          '*masterkey',
          '*signingkey',
          '*encryptionkey',
          '*sharedkey',
          '*clientkey',
          '*sessionid',
          '*sessionkey',
          '*signature',
          '*authorization',
          '*auth',
          'pass',
          'pwd',
          'sig',
          'jwt',
        ],
        'name patterns redacted in headers, query parameters, JSON/form/multipart fields and name=value text alike: compared with the name lower-cased without - _ . and spaces; * matches anything (*token: every name ending in token)',
      ),
      patterns: leaf(
        'bool',
        true,
        'also find secrets by their shape in every header value, URL, body (any type) and WebSocket message: JWTs, PEM private keys, cloud and SaaS API keys, Bearer/Basic credentials, passwords in URLs',
      ),
    }),
  }),
  kube: group({
    configPath: leaf('string', '', 'kubeconfig path (empty: $KUBECONFIG or ~/.kube/config)'),
    context: leaf('string', '', 'kubeconfig context (empty: current)'),
  }),
  headless: leaf('bool', false, 'do not open the browser'),
  node: group({ name: leaf('string', '', 'node name recorded on entries (default: host name)') }),
  hub: group({
    workers: leaf(
      'list<string>',
      [],
      'worker API URLs the hub fans out to (URL or name=URL; --worker adds to them); in a cluster the hub finds its workers itself',
    ),
  }),
});
