/** The typed view of `tap.redaction.*` (src/config/schema.ts) for createRedactor. */
import { getPath, type ConfigTree } from '../config/load.ts';
import type { RedactionConfig } from './redact.ts';

export function redactionConfig(cfg: ConfigTree): RedactionConfig {
  return {
    enabled: getPath(cfg, 'tap.redaction.enabled') as boolean,
    headers: getPath(cfg, 'tap.redaction.headers') as string[],
    bodyFields: getPath(cfg, 'tap.redaction.bodyFields') as string[],
    names: getPath(cfg, 'tap.redaction.names') as string[],
    patterns: getPath(cfg, 'tap.redaction.patterns') as boolean,
  };
}
