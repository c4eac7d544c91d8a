/**
 * What the request-handling files of the simulated API server share: the server state they read
 * and write (SimState), the resource route of a request, Status error bodies, and body reading.
 * Imports no other server file, so handler, patch, validation and discovery never import each
 * other through it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import type { ResourceDef } from './resources.ts';
import type { KObj, StatusError, Store } from './store.ts';
import { ApiError } from './store.ts';
import type { DenyRule } from './authz.ts';
import type { ProcessKubelet } from './kubelet.ts';

/** Largest request body accepted (the real server's limit is 3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Allocates Service cluster IPs (10.96.x.y, not routable). */
export interface ClusterIpAllocator {
  next(): string;
}

/** The server state request handlers use; SimApiServer owns it and ends what is open on close. */
export interface SimState {
  readonly store: Store;
  readonly deny: DenyRule[];
  readonly kubelet?: ProcessKubelet;
  readonly clusterIps: ClusterIpAllocator;
  readonly bookmarkIntervalMs: number;
  readonly namespaceFinalizeMs: number;
  /** Streaming responses (watches, followed logs), ended by close(). */
  readonly openWatches: Set<ServerResponse>;
  /** Pending namespace finalizations, cleared by close(). */
  readonly timers: Set<NodeJS.Timeout>;
  /** Upgraded (port-forward) connections, which server.close() does not end by itself. */
  readonly upgraded: Set<Duplex>;
}

/** A resource path: `/api/v1/namespaces/<ns>/pods/<name>/<sub>` and its cluster-scoped forms. */
export interface Route {
  res: ResourceDef;
  ns?: string;
  name?: string;
  sub?: string;
}

/** One request to a resource path, as handle() passes it on (URL already routed and parsed). */
export interface ResourceCall {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  r: Route;
  q: URLSearchParams;
}

/** The real server's answer to a path it does not serve. */
export const NO_SUCH_PATH: StatusError = {
  code: 404,
  reason: 'NotFound',
  message: 'the server could not find the requested resource',
};

export function statusBody(s: StatusError): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: s.message,
    reason: s.reason,
    ...(s.details ? { details: s.details } : {}),
    code: s.code,
  };
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  res.end(text);
}

export function sendStatus(res: ServerResponse, s: StatusError): void {
  sendJson(res, s.code, statusBody(s));
}

export function badRequest(message: string): ApiError {
  return new ApiError({ code: 400, reason: 'BadRequest', message });
}

export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readRaw(req)).toString('utf8');
}

export async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    const b = c as Buffer;
    size += b.length;
    if (size > MAX_BODY_BYTES) {
      throw new ApiError({
        code: 413,
        reason: 'RequestEntityTooLarge',
        message: 'request is too large',
      });
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** The media type of a request body, without parameters. */
export function contentType(req: IncomingMessage, fallback = ''): string {
  return (req.headers['content-type'] ?? fallback).split(';')[0]!.trim();
}

/**
 * Request bodies must be JSON or YAML. Protobuf (which typed client-go clients try first) gets 415,
 * as from a server without protobuf support; client-go then retries with JSON.
 */
export function bodyIsYaml(req: IncomingMessage): boolean {
  const ctype = contentType(req, 'application/json');
  if (ctype === 'application/json' || ctype === '') return false;
  if (ctype === 'application/yaml') return true;
  throw new ApiError({
    code: 415,
    reason: 'UnsupportedMediaType',
    message: `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
  });
}

export function parseObject(text: string, yaml = false): KObj {
  let v: unknown;
  try {
    v = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw badRequest(`the body of the request was in an unknown format: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw badRequest('body must be an object');
  const o = v as KObj;
  if (o.metadata === undefined || o.metadata === null) o.metadata = { name: '' };
  if (typeof o.metadata.name !== 'string') o.metadata.name = '';
  return o;
}

/** A JSON or YAML request body as an object (see bodyIsYaml). */
export async function readObject(req: IncomingMessage): Promise<KObj> {
  return parseObject(await readBody(req), bodyIsYaml(req));
}
