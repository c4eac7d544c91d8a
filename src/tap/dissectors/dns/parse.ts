/**
 * DNS wire format → messages (RFC 1035 and successors). Pure: imports nothing from the project.
 *
 * Names, questions and record data are decoded by `dns-packet`. This module adds what a passive
 * dissector needs and the library does not do:
 * - it never throws: a malformed message yields an error and the part that could be read;
 * - records are framed by their RDLENGTH (the library advances by what each type's decoder
 *   consumed, which derails the rest of the message on a bad RDLENGTH); record data whose decoder
 *   disagrees with RDLENGTH falls back to the RFC 3597 generic form;
 * - record data in presentation form (`10.1.2.3`, `10 mail.example.test`…), never an object;
 * - the EDNS(0) extended RCODE;
 * - cheap plausibility checks for content-based detection (`assessDnsMessage`, `assessDnsTcp`).
 */
import dnsPacket from 'dns-packet';
import type {
  CaaData,
  DnskeyData,
  DsData,
  HInfoData,
  MxData,
  NaptrData,
  Nsec3Data,
  NsecData,
  RpData,
  RrsigData,
  SoaData,
  SrvData,
  SshfpData,
  TlsaData,
} from 'dns-packet';

// ------------------------------------------------------------------ dns-packet's part codecs

type PartDecoder<T> = ((buf: Buffer, offset: number) => T) & { bytes: number };
interface RawQuestion {
  name: string;
  type: string;
  class: string;
}
interface RawOption {
  code: number;
  type?: string | null;
  ip?: string;
  sourcePrefixLength?: number;
}
/**
 * dns-packet exports a codec per message part (`question`, `record(type)`…) besides the
 * whole-message API its typings declare; these are the two we use. `decode.bytes` is what the
 * last call consumed.
 */
interface PacketParts {
  question: { decode: PartDecoder<RawQuestion> };
  record(type: string): { decode: PartDecoder<unknown> };
}
const parts = dnsPacket as unknown as PacketParts;

// ------------------------------------------------------------------ wire model

export const DNS_HEADER_BYTES = 12;
/** The smallest question: root name (1 byte) + QTYPE + QCLASS. */
const MIN_QUESTION_BYTES = 5;
/** The smallest resource record: root name + TYPE, CLASS, TTL, RDLENGTH. */
const MIN_RECORD_BYTES = 11;
const QR = 0x8000;
const RD = 0x0100;
const Z = 0x0040;
const TYPE_OPT = 41;

export interface DnsHeader {
  id: number;
  /** The 16-bit flags word as on the wire (QR, OPCODE, AA, TC, RD, RA, Z, AD, CD, RCODE). */
  flags: number;
  response: boolean;
  opcode: number;
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

export interface WireQuestion {
  name: string;
  type: string;
  class: string;
}

export interface WireRecord {
  name: string;
  type: string;
  class: string;
  ttl: number;
  /** Presentation form of the record data. */
  data: string;
}

/** One message as read from the wire (the session adds the capture time). */
export interface WireMessage {
  id: number;
  opcode: string;
  flags: number;
  rcode: string;
  rcodeNumber: number;
  questions: WireQuestion[];
  answers: WireRecord[];
  authorities: WireRecord[];
  additionals: WireRecord[];
  length: number;
}

export type ParseResult =
  | {
      ok: true;
      message: WireMessage;
      /** bytes read; less than `length` with trailing bytes */ consumed: number;
    }
  /** `message` holds the header and whatever was read before the error (absent below 12 bytes). */
  | { ok: false; error: string; message?: WireMessage };

export function readHeader(buf: Buffer): DnsHeader | undefined {
  if (buf.length < DNS_HEADER_BYTES) return undefined;
  const flags = buf.readUInt16BE(2);
  return {
    id: buf.readUInt16BE(0),
    flags,
    response: (flags & QR) !== 0,
    opcode: (flags >> 11) & 0xf,
    rcode: flags & 0xf,
    qdcount: buf.readUInt16BE(4),
    ancount: buf.readUInt16BE(6),
    nscount: buf.readUInt16BE(8),
    arcount: buf.readUInt16BE(10),
  };
}

// ------------------------------------------------------------------ names of numbers

const OPCODES: Record<number, string> = {
  0: 'QUERY',
  1: 'IQUERY',
  2: 'STATUS',
  4: 'NOTIFY',
  5: 'UPDATE',
  6: 'DSO',
};
export const opcodeName = (n: number): string => OPCODES[n] ?? `OPCODE${n}`;

/** RCODEs (IANA), including the EDNS extended ones (> 15). */
const RCODES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
  11: 'DSOTYPENI',
  16: 'BADVERS',
  17: 'BADKEY',
  18: 'BADTIME',
  19: 'BADMODE',
  20: 'BADNAME',
  21: 'BADALG',
  22: 'BADTRUNC',
  23: 'BADCOOKIE',
};
export const rcodeName = (n: number): string => RCODES[n] ?? `RCODE${n}`;

/** Types dns-packet 5.x does not name; anything else unknown is `TYPE<n>` (RFC 3597). */
const EXTRA_TYPES: Record<number, string> = { 64: 'SVCB', 65: 'HTTPS', 256: 'URI' };
function typeName(libName: string): string {
  const m = /^UNKNOWN_(\d+)$/.exec(libName);
  if (!m) return libName;
  const n = Number(m[1]);
  return EXTRA_TYPES[n] ?? `TYPE${n}`;
}
function className(libName: string): string {
  const m = /^UNKNOWN_(\d+)$/.exec(libName);
  if (!m) return libName;
  return m[1] === '254' ? 'NONE' : `CLASS${m[1]}`;
}

// ------------------------------------------------------------------ presentation

const hex = (b: Buffer): string => b.toString('hex').toUpperCase();
/** Character-string text: control bytes as `\DDD` (RFC 1035 §5.1). */
const text = (s: string): string =>
  // eslint-disable-next-line no-control-regex
  s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\${c.charCodeAt(0).toString().padStart(3, '0')}`);
/** RFC 3597 generic form. */
const generic = (rdata: Buffer): string =>
  rdata.length ? `\\# ${rdata.length} ${hex(rdata)}` : '\\# 0';

/** Presentation form of decoded record data; undefined when the shape is not the expected one. */
function present(type: string, d: unknown): string | undefined {
  if (d === null || d === undefined) return undefined;
  switch (type) {
    case 'A':
    case 'AAAA':
    case 'CNAME':
    case 'DNAME':
    case 'NS':
    case 'PTR':
      return typeof d === 'string' ? d : undefined;
    case 'TXT':
      // Several character-strings are concatenated, as SPF and DKIM read them.
      return Array.isArray(d) ? d.map((s: Buffer) => text(s.toString('utf8'))).join('') : undefined;
    case 'MX': {
      const x = d as MxData;
      return `${x.preference ?? 0} ${x.exchange}`;
    }
    case 'SOA': {
      const x = d as SoaData;
      return `${x.mname} ${x.rname} ${x.serial} ${x.refresh} ${x.retry} ${x.expire} ${x.minimum}`;
    }
    case 'SRV': {
      const x = d as SrvData;
      return `${x.priority} ${x.weight} ${x.port} ${x.target}`;
    }
    case 'CAA': {
      const x = d as CaaData;
      return `${x.flags} ${x.tag} "${text(x.value)}"`;
    }
    case 'HINFO': {
      const x = d as HInfoData;
      return `"${text(x.cpu)}" "${text(x.os)}"`;
    }
    case 'NAPTR': {
      const x = d as NaptrData;
      return `${x.order} ${x.preference} "${text(x.flags)}" "${text(x.services)}" "${text(x.regexp)}" ${x.replacement}`;
    }
    case 'RP': {
      const x = d as RpData;
      return `${x.mbox} ${x.txt}`;
    }
    case 'DS': {
      const x = d as DsData;
      return `${x.keyTag} ${x.algorithm} ${x.digestType} ${hex(x.digest)}`;
    }
    case 'DNSKEY': {
      const x = d as DnskeyData;
      return `${x.flags} 3 ${x.algorithm} ${x.key.toString('base64')}`;
    }
    case 'RRSIG': {
      const x = d as RrsigData;
      return `${x.typeCovered} ${x.algorithm} ${x.labels} ${x.originalTTL} ${x.expiration} ${x.inception} ${x.keyTag} ${x.signersName} ${x.signature.toString('base64')}`;
    }
    case 'NSEC': {
      const x = d as NsecData;
      return `${x.nextDomain} ${x.rrtypes.join(' ')}`;
    }
    case 'NSEC3': {
      // Summary: the next hashed owner is shown in hex (presentation form uses base32hex).
      const x = d as Nsec3Data;
      return `${x.algorithm} ${x.flags} ${x.iterations} ${x.salt.length ? hex(x.salt) : '-'} ${hex(x.nextDomain)} ${x.rrtypes.join(' ')}`;
    }
    case 'SSHFP': {
      const x = d as SshfpData;
      return `${x.algorithm} ${x.hash} ${x.fingerprint}`;
    }
    case 'TLSA': {
      const x = d as TlsaData;
      return `${x.usage} ${x.selector} ${x.matchingType} ${hex(x.certificate)}`;
    }
    default:
      return undefined;
  }
}

/**
 * Decodes record data with dns-packet's codec for `libType`. `view` ends where the record ends, so
 * no decoder can read into the next record; `at` is the RDLENGTH position (where codecs start).
 */
function recordData(libType: string, view: Buffer, at: number, rdlength: number): string {
  const rdata = view.subarray(at + 2);
  try {
    const codec = parts.record(libType).decode;
    const decoded = codec(view, at);
    if (codec.bytes !== rdlength + 2) return generic(rdata);
    return present(typeName(libType), decoded) ?? generic(rdata);
  } catch {
    return generic(rdata);
  }
}

/** EDNS(0) OPT pseudo-record: CLASS is the UDP payload size, TTL holds ext-RCODE, version, DO. */
function optData(view: Buffer, fixed: number): { data: string; extendedRcode: number } {
  const extendedRcode = view[fixed] ?? 0;
  const version = view[fixed + 1] ?? 0;
  const dnssecOk = ((view.readUInt16BE(fixed + 2) >> 15) & 1) === 1;
  const udp = view.readUInt16BE(fixed - 2);
  let options: string;
  try {
    const opts = parts.record('OPT').decode(view, fixed + 4) as RawOption[];
    options = opts
      .map((o) =>
        o.code === 8 && o.ip !== undefined
          ? `CLIENT_SUBNET=${o.ip}/${o.sourcePrefixLength ?? 0}`
          : (o.type ?? `OPTION_${o.code}`),
      )
      .join(',');
  } catch {
    options = '?';
  }
  return {
    data: `version=${version} udp=${udp} do=${dnssecOk} options=[${options}]`,
    extendedRcode,
  };
}

interface ReadRecord {
  record: WireRecord;
  end: number;
  /** Set for an OPT record. */
  extendedRcode?: number;
}

function readRecord(buf: Buffer, off: number): ReadRecord {
  // A record starts like a question: owner name, TYPE, CLASS.
  const owner = parts.question.decode(buf, off);
  const fixed = off + parts.question.decode.bytes; // TTL
  if (fixed + 6 > buf.length) throw new Error('record header truncated');
  const rdlength = buf.readUInt16BE(fixed + 4);
  const end = fixed + 6 + rdlength;
  if (end > buf.length) {
    throw new Error(
      `record data truncated (RDLENGTH ${rdlength}, ${buf.length - fixed - 6} bytes left)`,
    );
  }
  const view = buf.subarray(0, end);
  if (buf.readUInt16BE(fixed - 4) === TYPE_OPT) {
    const opt = optData(view, fixed);
    return {
      record: { name: owner.name, type: 'OPT', class: '', ttl: 0, data: opt.data },
      end,
      extendedRcode: opt.extendedRcode,
    };
  }
  return {
    record: {
      name: owner.name,
      type: typeName(owner.type),
      class: className(owner.class),
      ttl: buf.readUInt32BE(fixed),
      data: recordData(owner.type, view, fixed + 4, rdlength),
    },
    end,
  };
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Parses one DNS message (no TCP length prefix). Never throws. */
export function parseDnsMessage(buf: Buffer): ParseResult {
  // Detection parses a flow's first datagram, then its session parses the same Buffer again:
  // the last answer is kept for that one object (results are never modified by callers).
  if (buf === lastParsed.buf) return lastParsed.result;
  const result = parse(buf);
  lastParsed.buf = buf;
  lastParsed.result = result;
  return result;
}

const lastParsed: { buf: Buffer | undefined; result: ParseResult } = {
  buf: undefined,
  result: { ok: false, error: '' },
};

function parse(buf: Buffer): ParseResult {
  const h = readHeader(buf);
  if (!h)
    return {
      ok: false,
      error: `${buf.length}-byte message is shorter than the 12-byte DNS header`,
    };
  const m: WireMessage = {
    id: h.id,
    opcode: opcodeName(h.opcode),
    flags: h.flags,
    rcode: rcodeName(h.rcode),
    rcodeNumber: h.rcode,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
    length: buf.length,
  };
  let off = DNS_HEADER_BYTES;
  let where = 'question 1';
  try {
    for (let i = 0; i < h.qdcount; i++) {
      where = `question ${i + 1}`;
      const q = parts.question.decode(buf, off);
      off += parts.question.decode.bytes;
      m.questions.push({ name: q.name, type: typeName(q.type), class: className(q.class) });
    }
    const sections: [string, number, WireRecord[]][] = [
      ['answer', h.ancount, m.answers],
      ['authority', h.nscount, m.authorities],
      ['additional', h.arcount, m.additionals],
    ];
    for (const [section, count, list] of sections) {
      for (let i = 0; i < count; i++) {
        where = `${section} record ${i + 1}`;
        const r = readRecord(buf, off);
        list.push(r.record);
        off = r.end;
        if (r.extendedRcode) {
          m.rcodeNumber = (r.extendedRcode << 4) | h.rcode;
          m.rcode = rcodeName(m.rcodeNumber);
        }
      }
    }
  } catch (e) {
    return {
      ok: false,
      error: `malformed DNS message: ${where} at byte ${off}: ${errText(e)}`,
      message: m,
    };
  }
  return { ok: true, message: m, consumed: off };
}

// ------------------------------------------------------------------ detection

/** What the bytes look like: a query, a response, not DNS, or too few bytes to tell. */
export type Assessment = 'query' | 'response' | 'no' | 'need-more';

/** Without a port hint, a message with more questions than this is not taken for DNS. */
const MAX_STRICT_QUESTIONS = 4;
/** Without a port hint, a query with more additional records than this (OPT, TSIG) is not DNS. */
const MAX_STRICT_QUERY_ADDITIONALS = 2;
/** QCLASS accepted without a port hint: IN, CH, HS, ANY. */
const STRICT_CLASSES = new Set([1, 3, 4, 255]);

/**
 * Strict check of the first question name without a port hint: uncompressed, printable ASCII
 * labels, at least two labels (single-label names are LLMNR's and NetBIOS's). Returns the offset
 * after the name, 'no', or 'need-more'.
 */
function strictName(buf: Buffer, off: number, complete: boolean): number | 'no' | 'need-more' {
  let labels = 0;
  let total = 0;
  for (;;) {
    const len = buf[off];
    if (len === undefined) return complete ? 'no' : 'need-more';
    if (len === 0) return labels >= 2 ? off + 1 : 'no';
    if (len > 63) return 'no'; // a compression pointer or a reserved label type
    total += len + 1;
    if (total > 254) return 'no';
    for (let i = off + 1; i <= off + len; i++) {
      const c = buf[i];
      if (c === undefined) return complete ? 'no' : 'need-more';
      if (c < 0x21 || c > 0x7e) return 'no';
    }
    labels++;
    off += len + 1;
  }
}

/**
 * Is `msg` (the first `msg.length` bytes of a `length`-byte message) plausibly DNS?
 *
 * With a port hint any message that parses is accepted. Without one (`strict`) only what a stub
 * resolver and its server exchange — the DNS seen on non-standard ports (dnsmasq, node-local
 * caches, sidecars) — is accepted, checked with invariants random payloads (QUIC, NTP, syslog…)
 * rarely keep: opcode QUERY with RD set (which also refuses mDNS and LLMNR, whose queries leave
 * that bit clear, RFC 6762 §18.6, RFC 4795 §2.1.1), ID not 0 (mDNS, RFC 6762 §18.1), Z clear,
 * 1-4 questions, a query with no answer or authority records, counts that fit the length, a
 * first question name of printable labels, a known class, and the whole message parsing exactly.
 */
export function assessDnsMessage(msg: Buffer, length: number, strict: boolean): Assessment {
  const minLength = DNS_HEADER_BYTES + (strict ? MIN_QUESTION_BYTES : 0);
  if (length < minLength) return 'no';
  const h = readHeader(msg);
  if (!h) return 'need-more';
  const records = h.ancount + h.nscount + h.arcount;
  if (DNS_HEADER_BYTES + h.qdcount * MIN_QUESTION_BYTES + records * MIN_RECORD_BYTES > length)
    return 'no';
  const complete = msg.length >= length;
  if (strict) {
    if (h.id === 0 || h.opcode !== 0 || (h.flags & RD) === 0 || (h.flags & Z) !== 0) return 'no';
    if (h.qdcount < 1 || h.qdcount > MAX_STRICT_QUESTIONS) return 'no';
    if (h.response ? h.rcode > 11 : h.rcode !== 0) return 'no';
    if (
      !h.response &&
      (h.ancount !== 0 || h.nscount !== 0 || h.arcount > MAX_STRICT_QUERY_ADDITIONALS)
    ) {
      return 'no';
    }
    const end = strictName(msg, DNS_HEADER_BYTES, complete);
    if (typeof end !== 'number') return end;
    if (end + 4 > msg.length) return complete ? 'no' : 'need-more';
    if (msg.readUInt16BE(end) === 0 || !STRICT_CLASSES.has(msg.readUInt16BE(end + 2))) return 'no';
  } else if (h.qdcount > 0 && !complete) {
    // Only part of the message: the first question must parse in what is there.
    try {
      parts.question.decode(msg, DNS_HEADER_BYTES);
    } catch {
      return 'need-more';
    }
  }
  if (complete) {
    const r = parseDnsMessage(length === msg.length ? msg : msg.subarray(0, length));
    if (!r.ok || (strict && r.consumed !== length)) return 'no';
  }
  return h.response ? 'response' : 'query';
}

/** DNS over TCP: each message has a 2-byte length prefix (RFC 1035 §4.2.2). */
export const TCP_PREFIX_BYTES = 2;

/**
 * Length of the TCP PDU (prefix + message) starting at `off`, or undefined when the prefix is not
 * all there yet.
 */
export function dnsTcpPduLength(buf: Buffer, off: number): number | undefined {
  return buf.length - off >= TCP_PREFIX_BYTES
    ? TCP_PREFIX_BYTES + buf.readUInt16BE(off)
    : undefined;
}

/** Assesses the first bytes of one direction of a TCP stream: length prefix, then the message. */
export function assessDnsTcp(stream: Buffer, strict: boolean): Assessment {
  const pdu = dnsTcpPduLength(stream, 0);
  if (pdu === undefined) return 'need-more';
  const verdict = assessDnsMessage(
    stream.subarray(TCP_PREFIX_BYTES, pdu),
    pdu - TCP_PREFIX_BYTES,
    strict,
  );
  if (verdict === 'no' || verdict === 'need-more' || !strict) return verdict;
  // Bytes after the first message must start another message (a prefix of at least a header).
  const next = dnsTcpPduLength(stream, pdu);
  return next === undefined || next - TCP_PREFIX_BYTES >= DNS_HEADER_BYTES ? verdict : 'no';
}
