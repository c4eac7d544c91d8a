import type { Dissector } from '../types.ts';
import { wsFields } from './fields.ts';
import type { Handoff } from '../types.ts';
import { parseDeflateNegotiation } from './parse.ts';
import { createWsSession } from './session.ts';

export {
  createWsSession,
  parseDeflateNegotiation,
  type DeflateParams,
  type WsSessionOptions,
} from './session.ts';
import { wsView } from './view.ts';

/** permessage-deflate as the 101 accepted it, and the Upgrade request's path. */
function upgradeOptions(h: Handoff) {
  const target = h.target ?? '';
  const q = target.indexOf('?');
  return {
    deflate: parseDeflateNegotiation(h.responseHeader?.('sec-websocket-extensions')),
    upgradePath: q < 0 ? target : target.slice(0, q),
  };
}

export const wsDissector: Dissector = {
  id: 'ws',
  transports: ['tcp'],
  defaultPorts: [],
  fields: wsFields,
  /**
   * Always 'no': a WebSocket is entered through the HTTP Upgrade (the HTTP session hands the
   * connection over, `SessionContext.handoff('ws')`, after `101 Switching Protocols`). A frame stream first seen
   * mid-connection has no reliable signature — two header bytes and a masked payload — so
   * guessing would claim unrelated binary protocols.
   */
  detect: () => 'no',
  createSession: (ctx, from) => createWsSession(ctx, from && upgradeOptions(from)),
  view: wsView,
  enabledByDefault: true,
};
