/**
 * Discovery documents of the simulated API server: /version, health, /api, /apis (legacy,
 * non-aggregated form) and a minimal OpenAPI v3. All are read from the resource table.
 */
import { apiGroups, apiResourceList, resourcesOf } from './resources.ts';

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-kubeshark-sim',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/** Minimal OpenAPI v3 documents: kubectl reads them to learn that the server validates fields itself. */
function openApiV3Root(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const gvs = [
    { p: 'api/v1', g: '', v: 'v1' },
    ...apiGroups().map((g) => ({ p: `apis/${g.name}/${g.version}`, g: g.name, v: g.version })),
  ];
  for (const gv of gvs) paths[gv.p] = { serverRelativeURL: `/openapi/v3/${gv.p}?hash=SIM` };
  return { paths };
}

function openApiV3Doc(group: string, version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const params = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
    name,
    in: 'query',
    schema: { type: 'string', uniqueItems: true },
  }));
  for (const r of resourcesOf(group, version)) {
    const base = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
    const p = r.namespaced
      ? `${base}/namespaces/{namespace}/${r.plural}/{name}`
      : `${base}/${r.plural}/{name}`;
    const gvk = { group, version, kind: r.kind };
    const op = (id: string): Record<string, unknown> => ({
      operationId: id,
      parameters: params,
      responses: { '200': { description: 'OK' } },
      'x-kubernetes-action': id.startsWith('patch') ? 'patch' : 'put',
      'x-kubernetes-group-version-kind': gvk,
    });
    paths[p] = { put: op(`replace${r.kind}`), patch: op(`patch${r.kind}`) };
    const cp = r.namespaced ? `${base}/namespaces/{namespace}/${r.plural}` : `${base}/${r.plural}`;
    paths[cp] = {
      post: { ...op(`create${r.kind}`), 'x-kubernetes-action': 'post' },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion },
    paths,
    components: { schemas: {} },
  };
}

/**
 * The discovery document a GET of `path` (split into decoded `segs`) returns; undefined when the
 * path is not a discovery path.
 */
export function discoveryDocument(path: string, segs: string[]): unknown {
  const p = path.replace(/\/$/, '');
  if (p === '/version') return SERVER_VERSION;
  if (p === '/healthz' || p === '/livez' || p === '/readyz') return 'ok';
  if (p === '/api') {
    return {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
    };
  }
  if (p === '/apis') {
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: apiGroups().map((g) => {
        const gv = { groupVersion: `${g.name}/${g.version}`, version: g.version };
        return { name: g.name, versions: [gv], preferredVersion: gv };
      }),
    };
  }
  if (p === '/api/v1') return apiResourceList('', 'v1');
  if (segs[0] === 'apis' && segs.length === 2) {
    const g = apiGroups().find((x) => x.name === segs[1]);
    if (!g) return undefined;
    const gv = { groupVersion: `${g.name}/${g.version}`, version: g.version };
    return {
      kind: 'APIGroup',
      apiVersion: 'v1',
      name: g.name,
      versions: [gv],
      preferredVersion: gv,
    };
  }
  if (segs[0] === 'apis' && segs.length === 3 && resourcesOf(segs[1]!, segs[2]!).length > 0) {
    return apiResourceList(segs[1]!, segs[2]!);
  }
  if (p === '/openapi/v3') return openApiV3Root();
  if (segs[0] === 'openapi' && segs[1] === 'v3') {
    if (segs[2] === 'api' && segs[3] === 'v1' && segs.length === 4) return openApiV3Doc('', 'v1');
    if (segs[2] === 'apis' && segs.length === 5 && resourcesOf(segs[3]!, segs[4]!).length > 0) {
      return openApiV3Doc(segs[3]!, segs[4]!);
    }
  }
  return undefined;
}
