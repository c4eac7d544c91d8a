/** The record of a dns entry (a member of entry/model.ts `L7Record`). */

export interface DnsQuestion {
  name: string;
  type: string;
  class: string;
}

export interface DnsAnswer {
  name: string;
  type: string;
  class: string;
  ttl: number;
  /** Presentation form of the record data (address, name, text…). */
  data: string;
}

export interface DnsMessage {
  id: number;
  opcode: string;
  flags: number;
  /** RCODE name (`NOERROR`, `NXDOMAIN`…) and number. */
  rcode: string;
  rcodeNumber: number;
  questions: DnsQuestion[];
  answers: DnsAnswer[];
  authorities: DnsAnswer[];
  additionals: DnsAnswer[];
  /** Bytes of the DNS message (without the TCP length prefix). */
  length: number;
  ts: number;
}

export interface DnsRecord {
  kind: 'dns';
  transport: 'udp' | 'tcp';
  request?: DnsMessage;
  response?: DnsMessage;
  /** Copies of the query (same ID and question) sent again before the response; absent when 0. */
  retransmissions?: number;
}

declare module '../../../entry/model.ts' {
  interface L7Records {
    dns: DnsRecord;
  }
}
