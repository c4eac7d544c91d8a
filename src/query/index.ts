/** KFL2 query engine: compile a filter once, evaluate it per entry. See docs/kfl-language.md. */
export {
  compileKfl,
  translateToKfl2,
  type CompileOptions,
  type CompiledFilter,
  type FilterCounters,
  type Translation,
} from './compile.ts';
export { KflError, isKflError, type KflErrorCode } from './errors.ts';
export { validateMacros } from './macros.ts';
export { translateRe2, Re2Error } from './re2.ts';
export { indexHints, selectionOf, type IndexHints, type Selection } from './hints.ts';
