/**
 * PATCH requests of the simulated API server: the patch flavour by Content-Type (JSON patch, merge
 * patch, strategic merge patch, from patch.ts) and server-side apply, simplified.
 */
import type { ServerResponse } from 'node:http';
import type { KObj } from './store.ts';
import { ApiError, notFound } from './store.ts';
import type { Json } from './patch.ts';
import { PatchError, jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';
import type { ResourceCall, Route, SimState } from './http.ts';
import { badRequest, contentType, parseObject, readBody, sendJson } from './http.ts';
import { applyCreateDefaults, validate } from './validation.ts';

/**
 * Server-side apply (`application/apply-patch+yaml`), simplified: create if missing, else
 * strategic-merge the applied configuration. No field ownership, so fieldManager/force do nothing.
 */
function serverSideApply(
  st: SimState,
  res: ServerResponse,
  r: Route,
  cur: KObj | undefined,
  text: string,
): void {
  const rd = r.res;
  const applied = parseObject(text, true);
  applied.metadata.name ||= r.name!;
  validate(rd, r.ns, applied);
  if (!cur) {
    applyCreateDefaults(rd, applied, st.clusterIps);
    return sendJson(res, 201, st.store.create(rd, applied));
  }
  const merged = strategicMergePatch(
    cur as unknown as Json,
    applied as unknown as Json,
  ) as unknown as KObj;
  merged.metadata.resourceVersion = cur.metadata.resourceVersion;
  return sendJson(res, 200, st.store.update(rd, merged, r.sub === 'status'));
}

/** The patched object; a failed JSON-patch `test` (or a malformed patch) is 422 Invalid. */
function patched(ctype: string, cur: KObj, patchDoc: unknown): KObj {
  try {
    if (ctype === 'application/json-patch+json')
      return jsonPatch(cur as unknown as Json, patchDoc) as unknown as KObj;
    if (ctype === 'application/merge-patch+json')
      return mergePatch(cur as unknown as Json, patchDoc as Json) as unknown as KObj;
    if (ctype === 'application/strategic-merge-patch+json')
      return strategicMergePatch(cur as unknown as Json, patchDoc as Json) as unknown as KObj;
  } catch (e) {
    if (e instanceof PatchError) {
      throw new ApiError({ code: 422, reason: 'Invalid', message: e.message });
    }
    throw e;
  }
  throw new ApiError({
    code: 415,
    reason: 'UnsupportedMediaType',
    message: `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
  });
}

/** PATCH of a named object (`r.name` set), or of its status with `r.sub === 'status'`. */
export async function servePatch(st: SimState, { req, res, r }: ResourceCall): Promise<void> {
  const { res: rd, ns, sub } = r;
  const name = r.name!;
  const ctype = contentType(req);
  const text = await readBody(req);
  const cur = st.store.get(rd, ns, name);
  if (ctype === 'application/apply-patch+yaml') return serverSideApply(st, res, r, cur, text);
  if (!cur) throw notFound(rd, name);
  let patchDoc: unknown;
  try {
    patchDoc = JSON.parse(text);
  } catch (e) {
    throw badRequest(`error decoding patch: ${(e as Error).message}`);
  }
  const obj = patched(ctype, cur, patchDoc);
  if (obj.metadata.name !== name) throw badRequest('metadata.name cannot be changed by a patch');
  validate(rd, ns, obj);
  // A patch carries a resourceVersion precondition only if the patch itself sets one.
  const patchRv = (patchDoc as { metadata?: { resourceVersion?: string } } | null)?.metadata
    ?.resourceVersion;
  obj.metadata.resourceVersion =
    ctype === 'application/json-patch+json'
      ? obj.metadata.resourceVersion
      : (patchRv ?? cur.metadata.resourceVersion);
  return sendJson(res, 200, st.store.update(rd, obj, sub === 'status'));
}
