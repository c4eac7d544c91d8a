/**
 * The one explicit list of dissectors, in detection order. Registration is never an import side
 * effect. The KFL field catalogue is assembled from here (common fields + each dissector's).
 */
import type { FieldDef } from '../../entry/fields.ts';
import { commonFields } from '../../entry/common-fields.ts';
import type { Dissector } from './types.ts';
import { httpDissector } from './http/index.ts';
import { wsDissector } from './ws/index.ts';
import { dnsDissector } from './dns/index.ts';

export const dissectors: readonly Dissector[] = [httpDissector, wsDissector, dnsDissector];

export function dissectorById(id: string): Dissector | undefined {
  return dissectors.find((d) => d.id === id);
}

/**
 * Common fields, then each dissector's. A name declared by several dissectors (e.g.
 * `status_code`: HTTP status, DNS RCODE) must have one type; its getters are tried in order and
 * the first value that applies wins.
 */
export function buildCatalogue(list: readonly Dissector[] = dissectors): FieldDef[] {
  const byName = new Map<string, FieldDef>();
  const all = [
    ...commonFields,
    ...list.flatMap((d) => d.fields.map((f) => (f.kinds ? f : { ...f, kinds: [d.id] }))),
  ];
  for (const f of all) {
    const prev = byName.get(f.name);
    if (!prev) {
      byName.set(f.name, f);
      continue;
    }
    if (prev.type !== f.type) {
      throw new Error(`KFL field ${f.name} declared as ${prev.type} and ${f.type}`);
    }
    const [a, b] = [prev.get, f.get];
    const kinds = prev.kinds && f.kinds ? [...new Set([...prev.kinds, ...f.kinds])] : undefined;
    byName.set(f.name, { ...prev, kinds, get: (e) => a(e) ?? b(e) });
  }
  return [...byName.values()];
}
