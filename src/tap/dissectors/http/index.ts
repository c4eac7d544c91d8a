import type { DetectContext, Detection, Dissector } from '../types.ts';
import { httpFields } from './fields.ts';
import {
  findStartLine,
  lenientRequestLineAt,
  requestLineAt,
  simpleRequestAt,
  statusLineAt,
  type LineVerdict,
} from './parse.ts';
import { HttpSession } from './session.ts';
import { httpView } from './view.ts';

export { HttpSession } from './session.ts';

type LineTest = (buf: Buffer, off: number) => LineVerdict;

/** The verdict for a message start at the beginning of `buf` (blank lines skipped). */
function startsWith(buf: Buffer, test: LineTest, ended: boolean): LineVerdict {
  const v = test(buf, skipBlankLines(buf));
  return v === 'maybe' && ended ? 'no' : v;
}

/** A complete start line at the beginning of a later line (connection first seen mid-message). */
function laterLine(buf: Buffer, test: LineTest): boolean {
  for (let nl = buf.indexOf(0x0a); nl >= 0 && nl + 1 < buf.length; nl = buf.indexOf(0x0a, nl + 1)) {
    if (test(buf, nl + 1) === 'yes') return true;
  }
  return false;
}

/** A complete start line anywhere, e.g. right after the tail of a body (as the session resyncs). */
function anywhere(buf: Buffer, isRequest: boolean): boolean {
  return findStartLine(buf, 0, isRequest, true)?.complete === true;
}

/**
 * HTTP/1.x by content, in both directions: the client starts with a request line
 * (`TOKEN SP target SP HTTP/1.x`) or the server with a status line (`HTTP/1.x NNN`).
 * Requests on the server side or responses on the client side mean the endpoints were guessed
 * the wrong way round (`match-reversed`). A connection first seen in the middle of a body matches
 * when a start line begins a later line of the bytes seen so far; with a port hint also when it
 * directly follows the body's tail, and it keeps asking for more bytes (the pipeline bounds them
 * by maxDetectBytes) instead of giving up.
 *
 * A request line only a lenient server reads (odd whitespace, a broken or missing version, a
 * lower-case or unregistered method: `lenientRequestLineAt`) is not enough on its own: it waits
 * for the server, whose status line confirms. An HTTP/0.9 exchange has no status line: exactly
 * `GET /path` from the client, answered by bytes up to the close, matches only on an HTTP port
 * (port hint) once both directions have ended.
 */
export function detectHttp(client: Buffer, server: Buffer, ctx: DetectContext): Detection {
  if (ctx.transport !== 'tcp') return 'no';
  const cReq = startsWith(client, requestLineAt, ctx.clientEnded);
  const sRes = startsWith(server, statusLineAt, ctx.serverEnded);
  if (cReq === 'yes' || sRes === 'yes') return 'match';
  const cRes = startsWith(client, statusLineAt, ctx.clientEnded);
  const sReq = startsWith(server, requestLineAt, ctx.serverEnded);
  if (cRes === 'yes' || sReq === 'yes') return 'match-reversed';
  if (laterLine(client, requestLineAt) || laterLine(server, statusLineAt)) return 'match';
  if (laterLine(client, statusLineAt) || laterLine(server, requestLineAt)) return 'match-reversed';
  if (ctx.portHint) {
    // On an HTTP port, also accept a start line glued to the end of a body (keep-alive JSON).
    if (anywhere(client, true) || anywhere(server, false)) return 'match';
    if (anywhere(client, false) || anywhere(server, true)) return 'match-reversed';
  }
  const bothEnded = ctx.clientEnded && ctx.serverEnded;
  // Only computed when the strict tests failed: an odd request line waits for the server.
  const cOdd =
    client.length > 0 && cReq === 'no' && cRes === 'no'
      ? startsWith(client, lenientRequestLineAt, ctx.clientEnded)
      : 'no';
  if (
    cOdd === 'yes' &&
    ctx.portHint &&
    bothEnded &&
    server.length > 0 &&
    sRes === 'no' &&
    simpleRequestAt(client, skipBlankLines(client))
  )
    return 'match'; // HTTP/0.9: `GET /path`, a bare body, the close
  const garbled =
    (client.length > 0 && cReq === 'no' && cRes === 'no' && cOdd === 'no') ||
    (server.length > 0 && sRes === 'no' && sReq === 'no');
  if (garbled) return ctx.portHint && !bothEnded ? 'need-more' : 'no';
  return cReq === 'maybe' ||
    sRes === 'maybe' ||
    cRes === 'maybe' ||
    sReq === 'maybe' ||
    (cOdd !== 'no' && !ctx.serverEnded)
    ? 'need-more'
    : 'no';
}

function skipBlankLines(buf: Buffer): number {
  let off = 0;
  while (off < buf.length && (buf[off] === 0x0d || buf[off] === 0x0a)) off++;
  return off;
}

export const httpDissector: Dissector = {
  id: 'http',
  transports: ['tcp'],
  defaultPorts: [80, 3000, 5000, 8000, 8080, 8081, 8888],
  fields: httpFields,
  detect: detectHttp,
  createSession: (ctx) => new HttpSession(ctx),
  view: httpView,
  enabledByDefault: true,
};
