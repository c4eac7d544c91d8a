/**
 * The KFL view of an entry: what `-o json|jsonl`, the API and queries see.
 * - every catalogue field that applies, under its KFL name: flat names as top-level keys, dotted
 *   names as nested objects (`src.ip` → {"src":{"ip":…}});
 * - boolean flags only when true (a missing flag reads as false, as in KFL);
 * - `timestamp` as RFC 3339 UTC with µs;
 * - the full request/response detail merged under `request` / `response`.
 * This shape is a contract (docs/output.md): fields are added, never renamed.
 */
import type { FieldDef } from './fields.ts';
import type { Entry } from './model.ts';
import { isoMicros } from './time.ts';

type Obj = Record<string, unknown>;

interface CompiledField {
  def: FieldDef;
  path: string[];
  isTime: boolean;
  isBool: boolean;
}

function withIsoTs<T extends { ts: number }>(m: T): Obj {
  const { ts, ...rest } = m;
  return { ...rest, time: isoMicros(ts) };
}

/** Record detail merged into `request` / `response` of the view. */
function detail(e: Entry): { request?: Obj; response?: Obj } {
  const r = e.record;
  switch (r.kind) {
    case 'http':
      return {
        request: r.request ? withIsoTs(r.request) : undefined,
        response: r.response ? withIsoTs(r.response) : undefined,
      };
    case 'dns': {
      const request = r.request ? withIsoTs(r.request) : undefined;
      // Repeats of an unanswered query are folded into the call and counted here.
      if (request && r.retransmissions) request.retransmissions = r.retransmissions;
      return { request, response: r.response ? withIsoTs(r.response) : undefined };
    }
    case 'ws': {
      const { kind: _k, fromClient, ...msg } = r;
      return fromClient ? { request: msg } : { response: msg };
    }
    default:
      return {};
  }
}

export class ViewBuilder {
  private readonly fields: CompiledField[];
  /** Fields that can apply, per record kind (computed on first use of a kind). */
  private readonly byKind = new Map<string, CompiledField[]>();

  constructor(catalogue: readonly FieldDef[]) {
    this.fields = catalogue.map((def) => ({
      def,
      path: def.name.split('.'),
      isTime: def.type === 'timestamp',
      isBool: def.type === 'bool',
    }));
  }

  private fieldsFor(kind: string): CompiledField[] {
    let list = this.byKind.get(kind);
    if (!list) {
      list = this.fields.filter((f) => !f.def.kinds || f.def.kinds.includes(kind));
      this.byKind.set(kind, list);
    }
    return list;
  }

  build(e: Entry): Obj {
    const out: Obj = {};
    const d = detail(e);
    if (d.request) out.request = { ...d.request };
    if (d.response) out.response = { ...d.response };
    for (const f of this.fieldsFor(e.record.kind)) {
      let v = f.def.get(e);
      if (v === undefined || (f.isBool && v === false)) continue;
      if (f.isTime && typeof v === 'number') v = isoMicros(v);
      const p = f.path;
      if (p.length === 1) {
        out[p[0]!] = v;
        continue;
      }
      let cur = out;
      for (let i = 0; i < p.length - 1; i++) {
        const k = p[i]!;
        let next = cur[k];
        if (typeof next !== 'object' || next === null) {
          next = {};
          cur[k] = next;
        }
        cur = next as Obj;
      }
      cur[p[p.length - 1]!] = v;
    }
    if (e.error) out.error = e.error;
    return out;
  }
}
