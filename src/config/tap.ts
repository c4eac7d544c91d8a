/** Typed views of the resolved config for the capture engine. */
import { hostname } from 'node:os';
import { KsError } from '../util/errors.ts';
import type { Limits } from '../util/limits.ts';
import { defaultLimits } from '../util/limits.ts';
import { getPath, type ConfigTree } from './load.ts';

export interface TapSettings {
  limits: Limits;
  portMapping: Record<string, number[]>;
  enabledDissectors: string[];
  nodeName: string;
}

export function tapSettings(cfg: ConfigTree, knownDissectors: readonly string[]): TapSettings {
  const limits = { ...defaultLimits, ...(getPath(cfg, 'tap.limits') as Partial<Limits>) };
  for (const [k, v] of Object.entries(limits)) {
    if (v <= 0)
      throw new KsError(
        'KS_ERR_CONFIG_TYPE',
        `config key \`tap.limits.${k}\` must be positive, got ${v}`,
      );
  }
  const enabled = getPath(cfg, 'tap.enabledDissectors') as string[];
  for (const id of enabled) {
    if (!knownDissectors.includes(id)) {
      throw new KsError(
        'KS_ERR_CONFIG_TYPE',
        `config key \`tap.enabledDissectors\` names an unknown dissector "${id}" (known: ${knownDissectors.join(', ')})`,
      );
    }
  }
  const portMapping = getPath(cfg, 'tap.portMapping') as Record<string, number[]>;
  for (const [id, ports] of Object.entries(portMapping)) {
    if (!knownDissectors.includes(id)) {
      throw new KsError(
        'KS_ERR_CONFIG_UNKNOWN_KEY',
        `unknown config key \`tap.portMapping.${id}\`: no dissector "${id}" (known: ${knownDissectors.join(', ')})`,
      );
    }
    for (const p of ports) {
      if (p < 1 || p > 65535)
        throw new KsError(
          'KS_ERR_CONFIG_TYPE',
          `config key \`tap.portMapping.${id}\` has an invalid port ${p}`,
        );
    }
  }
  const nodeName = (getPath(cfg, 'node.name') as string) || hostname();
  return { limits, portMapping, enabledDissectors: enabled, nodeName };
}
