// PURE: what a release id (image tag) may be. It becomes an image tag, a label value and a folder
// and file name on the host (releases/<id>/, /etc/berth/<app>/releases/<id>.env), so it must be a
// valid Docker tag, which is also one safe path segment: no "/", no "..", no spaces or shell syntax.
import { ConfigError } from '../errors.ts';

/** Docker's tag grammar: a word character, then up to 127 word characters, "." or "-". */
export const RELEASE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const RELEASE_EXPECTED = 'a Docker image tag (letters, digits, "_", "." and "-", not starting with "." or "-", at most 128 characters)';

/**
 * Why `value` cannot be a release id, or undefined when it can. A deployed release id is
 * "<tag>-<10 hex of the config hash>", so `rollback --to` allows 139 characters.
 */
export function checkRelease(value: string, maxLength = 128): string | undefined {
  if (RELEASE_TAG.test(value.slice(0, 128)) && value.length <= maxLength && /^[A-Za-z0-9_.-]*$/.test(value)) return undefined;
  let why: string;
  if (value === '') why = 'it is empty';
  else if (value.length > maxLength) why = `it has ${value.length} characters`;
  else {
    const bad = [...value].find((c) => !/[A-Za-z0-9_.-]/.test(c));
    if (bad === '/' || value.includes('..')) why = `it would name a path outside the release folder${bad ? ' (contains "/")' : ''}`;
    else if (bad) why = `it contains ${JSON.stringify(bad)}`;
    else why = `it starts with ${JSON.stringify(value[0])}`;
  }
  return `expected ${RELEASE_EXPECTED}; ${why}`;
}

/**
 * Refuse a release id before anything uses it (a deploy writes releases/<id>/ on the host first).
 * `source` says where it came from, so the message names the flag or the key to fix.
 */
export function assertRelease(release: string, app: { file: string }, source: string): void {
  const problem = checkRelease(release);
  if (!problem) return;
  const where = source === 'flag' ? { file: 'command line', path: '--release' } : source === 'image tag' ? { file: app.file, path: 'image' } : { file: app.file, path: '' };
  throw new ConfigError([
    {
      ...where,
      expected: RELEASE_EXPECTED,
      found: `${JSON.stringify(release)} (release id from the ${source}; ${problem.slice(problem.indexOf('; ') + 2)})`,
      hint: source === 'flag' ? 'pass --release <tag>, e.g. --release v1.2.3' : 'pass --release <tag>',
    },
  ]);
}
