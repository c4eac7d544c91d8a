/**
 * Cluster lifecycle: start_kubeshark (`tap`) and stop_kubeshark (`clean`); offered only with
 * `--allow-destructive` (registry.ts).
 */
import { z } from 'zod';
import { KsError } from '../../util/errors.ts';
import { tool } from './tool.ts';

export const startKubeshark = tool({
  name: 'start_kubeshark',
  title: 'Deploy Kubeshark',
  description: 'Runs `kubeshark tap`: deploys Kubeshark into the cluster (changes the cluster).',
  readOnly: false,
  inputSchema: {
    namespaces: z.string().optional().describe('comma-separated namespaces to tap (default all)'),
    pod_regex: z.string().optional().describe('pod name regular expression to tap'),
    release_namespace: z.string().optional().describe('namespace to install into'),
  },
  async run(args, ctx, call) {
    if (!ctx.lifecycle)
      throw new KsError('KS_ERR_USAGE', 'start_kubeshark needs --allow-destructive');
    const text = await ctx.lifecycle.start({
      namespaces: args.namespaces
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      podRegex: args.pod_regex,
      releaseNamespace: args.release_namespace,
      progress: (line) => call.progress(line),
    });
    return { text, data: { started: true } };
  },
});

export const stopKubeshark = tool({
  name: 'stop_kubeshark',
  title: 'Remove Kubeshark',
  description: 'Runs `kubeshark clean`: removes Kubeshark from the cluster (changes the cluster).',
  readOnly: false,
  inputSchema: {
    release_namespace: z.string().optional().describe('namespace it is installed in'),
  },
  async run(args, ctx, call) {
    if (!ctx.lifecycle)
      throw new KsError('KS_ERR_USAGE', 'stop_kubeshark needs --allow-destructive');
    const text = await ctx.lifecycle.stop({
      releaseNamespace: args.release_namespace,
      progress: (line) => call.progress(line),
    });
    return { text, data: { stopped: true } };
  },
});
