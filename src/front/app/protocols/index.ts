/**
 * The dashboard's message view per protocol (the request/response tabs of an entry): one file per
 * protocol, one line here. Found by the entry's protocol; an entry of a protocol without a line
 * (a newer worker) gets the view whose message shape it has, else the generic table.
 */
import type { ComponentType } from 'react';
import { GenericMessage, type MessageProps, type Obj } from '../components/detail-kit.tsx';
import { DnsMessage } from './dns.tsx';
import { HttpMessage } from './http.tsx';
import { WsMessage } from './ws.tsx';

interface MessageView {
  view: ComponentType<MessageProps>;
  /** Whether a message of an unknown protocol has this one's shape. */
  looksLike(m: Obj): boolean;
}

const messageViews: Readonly<Record<string, MessageView>> = {
  dns: { view: DnsMessage, looksLike: (m) => Array.isArray(m.questions) },
  ws: { view: WsMessage, looksLike: (m) => m.opcode !== undefined },
  http: { view: HttpMessage, looksLike: (m) => m.headers !== undefined },
};

export function messageViewOf(protocol: string | undefined, m: Obj): ComponentType<MessageProps> {
  const own = protocol === undefined ? undefined : messageViews[protocol];
  if (own) return own.view;
  for (const v of Object.values(messageViews)) if (v.looksLike(m)) return v.view;
  return GenericMessage;
}
