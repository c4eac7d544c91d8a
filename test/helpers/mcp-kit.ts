/**
 * Shared by test/mcp*.test.ts: the MCP contract read from ../shared/MCP.md (its tool table and
 * prompt list, parsed — never a copy), an SDK client over stdio to `kubeshark mcp`, and the tool
 * call helpers.
 */
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { cli } from './cli.ts';
import { shared } from './shared.ts';

export const root = new URL('../..', import.meta.url).pathname;

export interface ContractRow {
  tools: string[];
  /** Parameter name → optional (`?` in the table). */
  params: Map<string, boolean>;
  does: string;
}

/** The tool table and prompts of MCP.md (callers declare `needsShared()`). */
export function readContract(): { rows: ContractRow[]; prompts: string[] } {
  const text = readFileSync(shared('MCP.md'), 'utf8');
  const rows: ContractRow[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
    const [toolCell, paramCell, does] = cells as [string, string, string];
    const tools = [...toolCell.matchAll(/`([a-z0-9_]+)`/g)].map((m) => m[1]!);
    // Values in parentheses (defaults, enums) are not parameter names.
    let p = paramCell;
    for (let prev = ''; prev !== p;) {
      prev = p;
      p = p.replace(/\([^()]*\)/g, '');
    }
    const params = new Map<string, boolean>();
    for (const m of p.matchAll(/`([a-z0-9_]+)(\?)?(\[\]|\{\})?(\?)?`/g)) {
      params.set(m[1]!, m[2] === '?' || m[4] === '?');
    }
    rows.push({ tools, params, does });
  }
  const pm = /Prompts:([\s\S]*?)\n\n|Prompts:([\s\S]*)$/.exec(text);
  const prompts = [...(pm?.[1] ?? pm?.[2] ?? '').matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!);
  return { rows, prompts };
}

/** Tools that need snapshots or cloud storage (not in this build: never listed). */
export function isSnapshotTool(name: string): boolean {
  return /snapshot|cloud/.test(name);
}

export interface McpProcess {
  client: Client;
  stderr(): string;
  close(): Promise<void>;
}

/** `kubeshark mcp …args` as a child process, connected with the SDK's stdio client. */
export async function startMcp(
  args: string[],
  env: Record<string, string> = {},
): Promise<McpProcess> {
  let err = '';
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...cli, 'mcp', ...args],
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: env.HOME ?? root, ...env },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: 'kubeshark-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => err, close: () => client.close() };
}

export interface Called {
  text: string;
  data: Record<string, unknown>;
  isError: boolean;
  raw: CallToolResult;
}

export async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<Called> {
  const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = r.content
    .filter((c): c is { type: 'text'; text: string } => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
  return {
    text,
    data: (r.structuredContent ?? {}) as Record<string, unknown>,
    isError: r.isError === true,
    raw: r,
  };
}

/** A call that must succeed. */
export async function ok(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<Called> {
  const r = await call(client, name, args);
  assert.equal(r.isError, false, `${name} ${JSON.stringify(args)} failed: ${r.text}`);
  assert.ok(r.text.length > 0, `${name}: empty text`);
  return r;
}

/** A call that must be a tool error (never a protocol failure) whose text matches `re`. */
export async function fails(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  re: RegExp,
): Promise<Called> {
  const r = await call(client, name, args);
  assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} should fail: ${r.text}`);
  assert.match(r.text, re);
  return r;
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `${url}: ${res.status}`);
  return (await res.json()) as T;
}

/** The API's µs → the tools' ms. */
export const ms = (us: number): number => Math.floor(us / 1000);
