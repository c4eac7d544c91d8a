/**
 * What an MCP tool is: a plain object — name, description, zod input shape, `run` — and
 * `tool()`, which defines one with its argument type inferred from its shape. Tools answer with
 * compact text for the agent plus the same facts as structured content; errors are thrown
 * (KsError / ApiError) and become MCP tool errors in ../server.ts, with the KFL caret when the
 * filter was wrong.
 */
import type { z } from 'zod';
import type { ToolContext } from '../context.ts';

export interface ToolOutput {
  /** What the agent reads. */
  text: string;
  /** The same facts as JSON (MCP structuredContent). */
  data: Record<string, unknown>;
}

/** About the call in progress: progress lines for a long tool (keeps the client's timer alive). */
export interface CallInfo {
  progress(message: string): void;
}

/** A call without a client to tell (tests, internal use). */
export const QUIET_CALL: CallInfo = { progress: () => undefined };

export interface McpTool {
  name: string;
  title: string;
  description: string;
  inputSchema: z.ZodRawShape;
  /** Read-only tools never change the deployment (MCP annotation). */
  readOnly: boolean;
  run(args: Record<string, unknown>, ctx: ToolContext, call?: CallInfo): Promise<ToolOutput>;
}

/** Defines a tool with its argument type inferred from the shape. */
export function tool<S extends z.ZodRawShape>(t: {
  name: string;
  title: string;
  description: string;
  inputSchema: S;
  readOnly?: boolean;
  run(args: z.infer<z.ZodObject<S>>, ctx: ToolContext, call: CallInfo): Promise<ToolOutput>;
}): McpTool {
  return {
    ...t,
    readOnly: t.readOnly ?? true,
    run: (args, ctx, call) => t.run(args as z.infer<z.ZodObject<S>>, ctx, call ?? QUIET_CALL),
  };
}
