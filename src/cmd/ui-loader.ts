/**
 * Loads the terminal UI (src/ui) on demand: only commands that draw pay for React, Ink and yoga.
 *
 * Ink 6 and yoga use top-level await, which the CommonJS main bundle cannot hold, so the build
 * makes src/ui/index.ts a separate ESM bundle (`ui.mjs`): a SEA asset inside the executable, a
 * file beside `dist/kubeshark.cjs` otherwise. A SEA's main script has no dynamic-import hook of
 * its own, so the bundle is imported from a `data:` URL through a `vm.Script` that uses the
 * default ESM loader. In development (tsx) the TypeScript sources are imported directly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAsset, isSea } from 'node:sea';
import vm from 'node:vm';
import type * as Ui from '../ui/index.ts';

/** The build sets this to the bundle's asset/file name; undefined when running from sources. */
declare const __KUBESHARK_UI_ASSET__: string | undefined;

export type UiModule = typeof Ui;

let loading: Promise<UiModule> | undefined;

export function loadUi(): Promise<UiModule> {
  loading ??= load();
  return loading;
}

async function load(): Promise<UiModule> {
  if (typeof __KUBESHARK_UI_ASSET__ !== 'string') {
    // A variable specifier: the bundler must not pull the UI into the CommonJS bundle.
    const sources = '../ui/index.ts';
    return (await import(sources)) as UiModule;
  }
  const code = isSea()
    ? getAsset(__KUBESHARK_UI_ASSET__, 'utf8')
    : readFileSync(join(__dirname, __KUBESHARK_UI_ASSET__), 'utf8');
  return (await esmImport(
    'data:text/javascript;base64,' + Buffer.from(code).toString('base64'),
  )) as UiModule;
}

/** `import()` with Node's default ESM loader, callable from a SEA's CommonJS main script. */
function esmImport(url: string): Promise<unknown> {
  // USE_MAIN_CONTEXT_DEFAULT_LOADER is marked experimental in Node 20; its one-time warning
  // (emitted when the import starts) would land in the middle of the table: hold it back.
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (text.includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) return;
    (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    const importer = new vm.Script('(url) => import(url)', {
      filename: 'kubeshark-ui-loader.js',
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    }).runInThisContext() as (u: string) => Promise<unknown>;
    return importer(url);
  } finally {
    process.emitWarning = emit;
  }
}
