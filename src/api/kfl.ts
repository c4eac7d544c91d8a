/**
 * KFL for the API servers: one compiler per server (catalogue + `tap.customMacros`), a small
 * cache so paging through one filter compiles it once, and the `KflInfo` echoed with answers.
 */
import { getPath, type ConfigTree } from '../config/load.ts';
import type { FieldDef } from '../entry/fields.ts';
import { buildCatalogue } from '../tap/dissectors/registry.ts';
import { compileKfl, selectionOf, validateMacros, type CompiledFilter } from '../query/index.ts';
import type { FieldsResponse, KflCheck, KflInfo } from './types.ts';
import { errorOf } from './errors.ts';

/** Compiled filters kept for reuse (by source text). */
export const KFL_CACHE_SIZE = 128;

export class KflCompiler {
  private readonly cache = new Map<string, CompiledFilter>();

  constructor(
    readonly catalogue: readonly FieldDef[],
    readonly macros: Readonly<Record<string, string>> = {},
  ) {
    const names = new Set(catalogue.map((f) => f.name));
    validateMacros(macros, (n) => names.has(n));
  }

  /** Every dissector's fields with the config's macros (`tap.customMacros`; checked here). */
  static fromConfig(config: ConfigTree): KflCompiler {
    const macros = (getPath(config, 'tap.customMacros') as Record<string, string>) ?? {};
    return new KflCompiler(buildCatalogue(), macros);
  }

  /** Compiles `q` (throws KflError with line:column when invalid). */
  compile(q: string): CompiledFilter {
    const hit = this.cache.get(q);
    if (hit !== undefined) {
      this.cache.delete(q);
      this.cache.set(q, hit);
      return hit;
    }
    const f = compileKfl(q, { catalogue: this.catalogue, macros: this.macros });
    // `now()` is fixed when a filter is compiled: such filters are compiled afresh each time.
    if (!/\bnow\s*\(/.test(f.kfl2)) {
      if (this.cache.size >= KFL_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(q, f);
    }
    return f;
  }

  /** `GET /api/kfl`: a bad filter is an answer here, not an error. */
  check(q: string): KflCheck {
    try {
      return { ok: true, ...kflInfo(this.compile(q)) };
    } catch (err) {
      const { status, body } = errorOf(err);
      if (status !== 400) throw err;
      return { ok: false, kfl: q, error: body.error };
    }
  }

  fields(): FieldsResponse {
    return {
      fields: this.catalogue.map((f) => ({
        name: f.name,
        type: f.type,
        doc: f.doc,
        ...(f.kinds ? { kinds: [...f.kinds] } : {}),
      })),
      macros: { ...this.macros },
    };
  }
}

export function kflInfo(f: CompiledFilter): KflInfo {
  const info: KflInfo = { kfl: f.source, kfl2: f.kfl2 };
  if (f.translation) {
    info.note = `older syntax translated: ${f.translation.from}  →  ${f.translation.to}`;
    if (f.translation.notes.length > 0) info.note += ` (${f.translation.notes.join('; ')})`;
  }
  return info;
}

/** The store selection of a filter (index hints; the predicate only where they don't decide). */
export { selectionOf };
