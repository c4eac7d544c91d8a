/**
 * The one MCP tool registry (../shared/MCP.md is the contract: names and parameters as
 * Kubeshark's published skills call them). `ALL_TOOLS` lists every tool explicitly, in the order
 * tools/list shows them; defining a tool registers nothing. `mcpTools()` is what both transports
 * serve (stdio `kubeshark mcp`, the hub's `/api/mcp`). Tools answer from the hub's HTTP API
 * through `ctx.api()`.
 *
 * Not listed in this build: the snapshot, snapshot-dissection and cloud-storage tools (no
 * snapshots on the hub yet); `snapshot_id` / `db` parameters say so when given.
 */
import type { ToolContext } from '../context.ts';
import { dataBoundaries, l7Boundaries } from './boundaries.ts';
import { getApiCall, listApiCalls } from './calls.ts';
import { downloadFile, getFileUrl } from './files.ts';
import { listIps, listWorkloads } from './identities.ts';
import { l4Summary, listL4Flows } from './l4.ts';
import { startKubeshark, stopKubeshark } from './lifecycle.ts';
import { getApiStats } from './stats.ts';
import { checkStatus } from './status.ts';
import type { McpTool } from './tool.ts';

/** Every tool this build has, in the order MCP.md lists them. */
export const ALL_TOOLS: readonly McpTool[] = [
  checkStatus,
  startKubeshark,
  stopKubeshark,
  listApiCalls,
  getApiCall,
  getApiStats,
  l7Boundaries,
  listL4Flows,
  l4Summary,
  listWorkloads,
  listIps,
  dataBoundaries,
  getFileUrl,
  downloadFile,
];

/**
 * The tools offered in `ctx`: start/stop only with a lifecycle (`--allow-destructive`, never in
 * URL or hub mode), download_file only where files land on the agent's machine (stdio).
 */
export function mcpTools(ctx: Pick<ToolContext, 'lifecycle' | 'downloads'>): McpTool[] {
  return ALL_TOOLS.filter((t) => {
    if (t.name === 'start_kubeshark' || t.name === 'stop_kubeshark') return !!ctx.lifecycle;
    if (t.name === 'download_file') return !!ctx.downloads;
    return true;
  });
}
