/**
 * The MCP server: the tool registry (tools/registry.ts), the prompts and the instructions
 * (prompts.ts) over the official SDK's McpServer, served two ways:
 * - stdio (`kubeshark mcp`): one server for the process's life;
 * - Streamable HTTP at `/api/mcp` on the hub, **stateless**: every POST gets a fresh server and
 *   transport and the answer (an SSE stream of one message) ends with the request. Nothing is
 *   kept between requests, so it works through the front's proxy and a port-forward that drops
 *   and reconnects, survives hub restarts, and needs no session affinity. The tools have nothing
 *   to push later (no subscriptions), which is what sessions would be for. GET (a standalone
 *   notification stream) and DELETE (ending a session) are answered 405, as the spec allows.
 *
 * Tool failures (a bad filter, an unknown id, an unreachable hub) are MCP tool errors
 * (`isError: true`) with the API's message, code and KFL caret lines — never protocol errors.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type {
  CallToolResult,
  ServerNotification,
  ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { publicBaseOf } from '../api/origin.ts';
import type { NodeApi } from '../api/server.ts';
import { ROUTES } from '../api/types.ts';
import { isKsError } from '../util/errors.ts';
import { version } from '../util/version.ts';
import { inProcessContext, type ToolContext } from './context.ts';
import { PROMPTS, instructions } from './prompts.ts';
import { mcpTools } from './tools/registry.ts';
import type { CallInfo, McpTool } from './tools/tool.ts';

/** The hub's MCP endpoint. */
export const MCP_PATH = ROUTES.mcp;
/** Largest JSON-RPC request body the hub reads. */
export const MCP_MAX_REQUEST_BYTES = 1024 * 1024;

/** A thrown error as the tool error text: message, code, and the caret under a bad filter. */
export function toolErrorText(err: unknown): string {
  if (isKsError(err)) {
    const detail = err.detail();
    return `${err.message} [${err.code}]${detail ? `\n${detail}` : ''}`;
  }
  return `internal error: ${err instanceof Error ? err.message : String(err)} [KS_ERR_INTERNAL]`;
}

async function callTool(
  t: McpTool,
  args: Record<string, unknown>,
  ctx: ToolContext,
  call: CallInfo,
): Promise<CallToolResult> {
  try {
    const out = await t.run(args, ctx, call);
    return { content: [{ type: 'text', text: out.text }], structuredContent: out.data };
  } catch (err) {
    return { content: [{ type: 'text', text: toolErrorText(err) }], isError: true };
  }
}

type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * Progress lines become `notifications/progress` when the client asked for them (a
 * progressToken): a client that resets its timeout on progress waits out a long deploy.
 */
function callInfo(extra: ToolExtra): CallInfo {
  const token = extra._meta?.progressToken;
  let n = 0;
  return {
    progress(message) {
      if (token === undefined) return;
      void extra
        .sendNotification({
          method: 'notifications/progress',
          params: { progressToken: token, progress: ++n, message },
        })
        .catch(() => undefined);
    },
  };
}

/** An McpServer with every tool `ctx` offers, the prompts and the instructions. */
export function createMcpServer(ctx: ToolContext): McpServer {
  const tools = mcpTools(ctx);
  const server = new McpServer(
    { name: 'kubeshark', title: 'Kubeshark', version: version() },
    {
      capabilities: { tools: {}, prompts: {} },
      instructions: instructions({ downloads: !!ctx.downloads, destructive: !!ctx.lifecycle }),
    },
  );
  for (const t of tools) {
    server.registerTool(
      t.name,
      {
        title: t.title,
        description: t.description,
        inputSchema: t.inputSchema,
        annotations: {
          title: t.title,
          readOnlyHint: t.readOnly,
          destructiveHint: !t.readOnly,
          openWorldHint: false,
        },
      },
      (args: Record<string, unknown>, extra: ToolExtra) => callTool(t, args, ctx, callInfo(extra)),
    );
  }
  for (const p of PROMPTS) {
    server.registerPrompt(
      p.name,
      { title: p.title, description: p.description, argsSchema: p.args },
      (args: Record<string, unknown>) => ({
        description: p.description,
        messages: [
          {
            role: 'user' as const,
            content: { type: 'text' as const, text: p.text(stringArgs(args)) },
          },
        ],
      }),
    );
  }
  return server;
}

function stringArgs(args: Record<string, unknown> | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(args ?? {})) out[k] = v === undefined ? undefined : String(v);
  return out;
}

/** `kubeshark mcp`: serves `ctx` on stdin/stdout until stdin closes. */
export async function runStdioServer(ctx: ToolContext): Promise<void> {
  const server = createMcpServer(ctx);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
}

function jsonRpcError(res: ServerResponse, status: number, message: string, allow?: string): void {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...(allow ? { allow } : {}),
  });
  res.end(body);
}

/**
 * The base URL the agent used to reach us, as the request gate checked it (src/api/origin.ts):
 * the Host, or a trusted proxy's X-Forwarded-Host/-Proto (the front's), never an unchecked one.
 */
function publicBase(req: IncomingMessage): string {
  return publicBaseOf(req);
}

/**
 * Answers `/api/mcp` for a hub whose API is `api` (stateless Streamable HTTP, see above): the
 * hub's raw route of the route table (src/api/routes.ts). Tools call the API in process.
 * `download_file` is not offered here: it would write on the hub.
 */
export function handleMcpHttp(api: NodeApi, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'POST') {
    jsonRpcError(
      res,
      405,
      'this MCP endpoint is stateless: POST JSON-RPC requests (no GET stream, no sessions)',
      'POST',
    );
    return;
  }
  void (async () => {
    const body = await readBody(req, MCP_MAX_REQUEST_BYTES);
    if (body === undefined) {
      jsonRpcError(res, 413, `request body over ${MCP_MAX_REQUEST_BYTES} bytes`);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      const text = JSON.stringify({
        jsonrpc: '2.0',
        error: { code: -32700, message: 'Parse error: the body is not JSON' },
        id: null,
      });
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(text);
      return;
    }
    const server = createMcpServer(inProcessContext(api, publicBase(req)));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, parsed);
  })().catch((err: unknown) => {
    if (!res.headersSent) jsonRpcError(res, 500, toolErrorText(err));
    else res.destroy();
  });
}

/** The body, or undefined past `max` bytes. */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) return undefined;
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}
