// Secret redaction: every known secret value is replaced before any text leaves Berth.

export const REDACTED = '[redacted]';

/** Lines of a multi-line secret (a PEM key) shorter than this are not redacted on their own. */
const MIN_LINE = 8;

/** The strings to hide for a set of secret values: each value, its JSON-escaped form, long lines of multi-line values. */
export function redactionNeedles(values: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (!v) continue;
    out.add(v);
    const json = JSON.stringify(v).slice(1, -1);
    if (json !== v) out.add(json);
    if (v.includes('\n')) for (const line of v.split(/\r?\n/)) if (line.trim().length >= MIN_LINE) out.add(line.trim());
  }
  // Longest first, so a value containing another is replaced whole.
  return [...out].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
}

/** Replace every occurrence of every secret value in `text` with [redacted]. */
export function redact(text: string, secretValues: Iterable<string>): string {
  let out = text;
  for (const needle of redactionNeedles(secretValues)) out = out.split(needle).join(REDACTED);
  return out;
}
