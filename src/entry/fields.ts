import type { Entry } from './model.ts';

/** KFL value types (CEL types). */
export type FieldType =
  | 'string'
  | 'int'
  | 'bool'
  | 'bytes'
  | 'timestamp'
  | 'list<string>'
  | 'map<string,string>'
  | 'map<string,dyn>';

/**
 * One KFL field. The catalogue of all fields (common + every dissector's) drives the KFL
 * environment, the JSON view, autocomplete, MCP descriptions and docs/kfl.md.
 * `get` returns undefined when the field does not apply to this entry (the view omits it; KFL
 * then uses the type's default).
 */
export interface FieldDef {
  /** KFL name exactly as ../shared/KFL.md, e.g. `status_code`, `src.ip`, `request.headers`. */
  name: string;
  type: FieldType;
  doc: string;
  get(e: Entry): unknown;
  /**
   * Record kinds (`Entry.record.kind`) the field can apply to; absent: every kind. The registry
   * sets it to the dissector's id for dissector fields. Lets the view skip fields cheaply.
   */
  kinds?: readonly string[];
}
