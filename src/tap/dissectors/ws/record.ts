/** The record of a ws entry (a member of entry/model.ts `L7Record`). */
import type { Body } from '../../../entry/model.ts';

export type WsOpcode = 'continuation' | 'text' | 'binary' | 'close' | 'ping' | 'pong' | string;

export interface WsRecord {
  kind: 'ws';
  /** Client→server message (`ws_request`) or server→client (`ws_response`). */
  fromClient: boolean;
  opcode: WsOpcode;
  /** Frames that made this message (fragmentation). */
  frames: number;
  masked: boolean;
  /** permessage-deflate (RSV1) was set and the payload was inflated. */
  compressed: boolean;
  /** Payload length on the wire (sum over frames, after unmasking, before inflation). */
  payloadLength: number;
  payload: Body;
  /** Close frames: status code and reason. */
  closeCode?: number;
  closeReason?: string;
  /** The path of the HTTP Upgrade request that opened this WebSocket. */
  upgradePath?: string;
}

declare module '../../../entry/model.ts' {
  interface L7Records {
    ws: WsRecord;
  }
}
