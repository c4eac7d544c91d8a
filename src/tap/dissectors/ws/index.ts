import type { Dissector } from '../types.ts';
import { wsFields } from './fields.ts';
import { createWsSession } from './session.ts';

export {
  createWsSession,
  parseDeflateNegotiation,
  type DeflateParams,
  type WsSessionOptions,
} from './session.ts';

export const wsDissector: Dissector = {
  id: 'ws',
  transports: ['tcp'],
  defaultPorts: [],
  fields: wsFields,
  /**
   * Always 'no': a WebSocket is entered through the HTTP Upgrade (the HTTP session hands the
   * connection to `createWsSession` after `101 Switching Protocols`). A frame stream first seen
   * mid-connection has no reliable signature — two header bytes and a masked payload — so
   * guessing would claim unrelated binary protocols.
   */
  detect: () => 'no',
  createSession: (ctx) => createWsSession(ctx),
};
