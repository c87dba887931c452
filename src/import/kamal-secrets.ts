// PURE reading of a Kamal `.kamal/secrets` file (a dotenv file Kamal evaluates with a shell). Only the
// SHAPE of each value is kept: a command becomes a command, a variable reference a variable name, and
// a literal is remembered as "literal" without its value, so no secret ever leaves this module.

export type KamalSecret =
  | { name: string; line: number; kind: 'command'; command: string }
  | { name: string; line: number; kind: 'variable'; variable: string }
  | { name: string; line: number; kind: 'literal' }
  | { name: string; line: number; kind: 'kamal-adapter'; command: string };

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

export function parseKamalSecrets(text: string): { secrets: KamalSecret[]; skipped: { line: number; reason: string }[] } {
  const secrets: KamalSecret[] = [];
  const skipped: { line: number; reason: string }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    if (!s || s.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(s);
    if (!m) return void skipped.push({ line, reason: 'not a NAME=value line' });
    const name = m[1]!;
    if (!ENV_NAME.test(name)) return void skipped.push({ line, reason: `${name} is not an UPPER_SNAKE_CASE name` });
    let value = m[2]!.trim();
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) value = value.slice(1, -1);
    const cmd = /^\$\((.*)\)$/s.exec(value);
    if (cmd) {
      const command = cmd[1]!.trim();
      // `kamal secrets fetch/extract` only work inside Kamal; their output format is Kamal's own.
      if (/^kamal\s+secrets\b/.test(command) || command.includes('${SECRETS}') || command.includes('$SECRETS')) {
        secrets.push({ name, line, kind: 'kamal-adapter', command });
      } else secrets.push({ name, line, kind: 'command', command });
      return;
    }
    const v = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(value);
    if (v) return void secrets.push({ name, line, kind: 'variable', variable: v[1]! });
    secrets.push({ name, line, kind: 'literal' });
  });
  return { secrets, skipped };
}
