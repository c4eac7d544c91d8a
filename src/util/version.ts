/** Version and build info; the build injects them (esbuild `define`), dev reads package.json. */
import { readFileSync } from 'node:fs';

declare const __KUBESHARK_VERSION__: string | undefined;
declare const __KUBESHARK_COMMIT__: string | undefined;

let devVersion: string | undefined;

export function version(): string {
  if (typeof __KUBESHARK_VERSION__ === 'string') return __KUBESHARK_VERSION__;
  // Read once: health answers and stream hellos ask for it on every call.
  devVersion ??= (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;
  return devVersion;
}

export function commit(): string {
  return typeof __KUBESHARK_COMMIT__ === 'string' ? __KUBESHARK_COMMIT__ : 'dev';
}
