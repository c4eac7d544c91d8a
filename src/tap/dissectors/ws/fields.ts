/** KFL fields of WebSocket message entries (names and types exactly as KFL2). */
import type { FieldDef } from '../../../entry/fields.ts';
import type { Entry } from '../../../entry/model.ts';
import type { WsRecord } from './record.ts';

/** `ws_request_payload_data` carries at most this many characters of the message text. */
export const WS_PAYLOAD_DATA_MAX_CHARS = 4096;

function ws(e: Entry): WsRecord | undefined {
  return e.record.kind === 'ws' ? e.record : undefined;
}

export const wsFields: readonly FieldDef[] = [
  {
    name: 'ws',
    type: 'bool',
    doc: 'The entry is a WebSocket message (one per message, control frames included).',
    get: (e) => (e.protocol === 'ws' ? true : undefined),
  },
  {
    name: 'ws_opcode',
    type: 'string',
    doc: 'Message opcode: text, binary, close, ping, pong (continuation when the start was not seen).',
    get: (e) => ws(e)?.opcode,
  },
  {
    name: 'ws_request',
    type: 'bool',
    doc: 'The message was sent by the client.',
    get: (e) => ws(e)?.fromClient,
  },
  {
    name: 'ws_response',
    type: 'bool',
    doc: 'The message was sent by the server.',
    get: (e) => {
      const r = ws(e);
      return r === undefined ? undefined : !r.fromClient;
    },
  },
  {
    name: 'ws_request_payload_data',
    type: 'string',
    doc: `Client message payload as text (inflated, UTF-8 only), first ${WS_PAYLOAD_DATA_MAX_CHARS} characters.`,
    get: (e) => {
      const r = ws(e);
      const text = r?.fromClient === true ? r.payload.text : undefined;
      return text !== undefined && text.length > WS_PAYLOAD_DATA_MAX_CHARS
        ? text.slice(0, WS_PAYLOAD_DATA_MAX_CHARS)
        : text;
    },
  },
  {
    name: 'ws_request_payload_length',
    type: 'int',
    doc: 'Payload bytes of a client message on the wire (sum over its frames).',
    get: (e) => {
      const r = ws(e);
      return r?.fromClient === true ? r.payloadLength : undefined;
    },
  },
  {
    name: 'ws_response_payload_length',
    type: 'int',
    doc: 'Payload bytes of a server message on the wire (sum over its frames).',
    get: (e) => {
      const r = ws(e);
      return r?.fromClient === false ? r.payloadLength : undefined;
    },
  },
];
