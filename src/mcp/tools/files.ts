/** Hub-relative files (e.g. an exported PCAP): get_file_url and download_file. */
import { z } from 'zod';
import { KsError } from '../../util/errors.ts';
import { download, downloadTarget, fileUrl, hubPath } from '../files.ts';
import { bytes } from '../format.ts';
import { tool } from './tool.ts';

export const getFileUrl = tool({
  name: 'get_file_url',
  title: 'URL of a hub file',
  description:
    'The URL of a hub-relative file (e.g. a path another tool returned, or an API answer such as /api/entries?q=dns&view=full) that can be fetched over HTTP.',
  inputSchema: {
    path: z.string().describe('hub-relative path, under /api/'),
  },
  async run(args, ctx) {
    const url = fileUrl(await ctx.fileBase(), args.path);
    return {
      text: `${url}\n(fetch it with HTTP GET${ctx.downloads ? ', or download_file to save it locally' : ''})`,
      data: { path: hubPath(args.path), url },
    };
  },
});

export const downloadFile = tool({
  name: 'download_file',
  title: 'Download a hub file',
  description:
    'Saves a hub-relative file (see get_file_url) on this machine inside the download directory and returns the local path. Files over the size cap are refused.',
  inputSchema: {
    path: z.string().describe('hub-relative path, under /api/'),
    dest: z
      .string()
      .optional()
      .describe(
        'file name (or relative path) inside the download directory; default the last path segment',
      ),
  },
  async run(args, ctx) {
    const policy = ctx.downloads;
    if (!policy) throw new KsError('KS_ERR_USAGE', 'download_file is not offered here');
    const target = downloadTarget(policy.dir, args.path, args.dest, policy.strict);
    const url = fileUrl(await ctx.fileBase(), args.path);
    const d = await download(url, target, policy.maxBytes);
    return {
      text: `Saved ${url} to ${d.path} (${bytes(d.bytes)}${d.contentType ? `, ${d.contentType}` : ''}).`,
      data: { url, path: d.path, bytes: d.bytes, content_type: d.contentType },
    };
  },
});
