/**
 * Kubernetes `$(VAR)` expansion of container env values, command and args, and the image-name
 * parsing the kubelet does before it looks an image up.
 */

/**
 * Expands `$(NAME)` references as the kubelet does (k8s.io/kubernetes third_party expansion):
 * `$$` is an escaped `$` (so `$$(A)` yields the literal `$(A)`), an undefined name stays as the
 * literal `$(NAME)`, an unterminated `$(` and a `$` before any other character are kept as is.
 */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      i++;
      continue;
    }
    const next = input[i + 1]!;
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += '$(';
        i += 2;
        continue;
      }
      const name = input.slice(i + 2, close);
      out += lookup(name) ?? `$(${name})`;
      i = close + 1;
    } else {
      out += `$${next}`;
      i += 2;
    }
  }
  return out;
}

/**
 * The repository part of an image reference: without `@digest` and without `:tag` (a colon after
 * the last slash; a colon before it belongs to a registry host:port).
 */
export function imageRepository(image: string): string {
  let ref = image;
  const at = ref.indexOf('@');
  if (at >= 0) ref = ref.slice(0, at);
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) ref = ref.slice(0, colon);
  return ref;
}
