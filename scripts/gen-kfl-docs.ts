/**
 * Writes docs/kfl.md from the field catalogue (common fields + every dissector's), so the
 * documentation can never drift from what entries carry. `--check` exits 1 when it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { commonFields } from '../src/entry/common-fields.ts';
import { dissectors } from '../src/tap/dissectors/registry.ts';
import type { FieldDef } from '../src/entry/fields.ts';

const out = new URL('../docs/kfl.md', import.meta.url).pathname;

function table(fields: readonly FieldDef[]): string {
  const rows = fields.map((f) => `| \`${f.name}\` | ${f.type} | ${f.doc.replace(/\|/g, '\\|')} |`);
  return ['| field | type | meaning |', '|---|---|---|', ...rows].join('\n');
}

export function render(): string {
  const parts = [
    '# KFL fields',
    '',
    'Generated from the field catalogue by `scripts/gen-kfl-docs.ts` — do not edit by hand.',
    'Names follow KFL2 (../shared/KFL.md); the JSON output (docs/output.md) uses the same names.',
    "A field that does not apply to an entry is absent from its JSON and reads as its type's",
    'default in a filter (`""`, `0`, `false`, `[]`, `{}`).',
    '',
    '## Every entry',
    '',
    table(commonFields),
  ];
  for (const d of dissectors) {
    parts.push(
      '',
      `## \`${d.id}\` (${d.transports.join(', ')}; default ports: ${d.defaultPorts.join(', ') || 'none — reached by detection or upgrade'})`,
      '',
      table(d.fields),
    );
  }
  return parts.join('\n') + '\n';
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const text = render();
  if (process.argv.includes('--check')) {
    if (readFileSync(out, 'utf8') !== text) {
      console.error('docs/kfl.md is stale: run node --import tsx scripts/gen-kfl-docs.ts');
      process.exit(1);
    }
  } else {
    writeFileSync(out, text);
  }
}
