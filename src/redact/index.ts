/** Redaction before storage: see redact.ts. */
export { createRedactor, REDACTED, type RedactionConfig, type Redactor } from './redact.ts';
export { redactionConfig } from './config.ts';
export { redactJsonText, MAX_JSON_DEPTH, type JsonRedaction } from './json.ts';
