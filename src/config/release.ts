// PURE: what a release id (image tag) may be. It becomes an image tag, a label value and a folder
// and file name on the host (releases/<id>/, /etc/berth/<app>/releases/<id>.env), so it must be a
// valid Docker tag, which is also one safe path segment: no "/", no "..", no spaces or shell syntax.

/** Docker's tag grammar: a word character, then up to 127 word characters, "." or "-". */
export const RELEASE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const RELEASE_EXPECTED = 'a Docker image tag (letters, digits, "_", "." and "-", not starting with "." or "-", at most 128 characters)';

/** Why `value` cannot be a release id, or undefined when it can. */
export function checkRelease(value: string): string | undefined {
  if (RELEASE_TAG.test(value)) return undefined;
  let why: string;
  if (value === '') why = 'it is empty';
  else if (value.length > 128) why = `it has ${value.length} characters`;
  else {
    const bad = [...value].find((c) => !/[A-Za-z0-9_.-]/.test(c));
    if (bad === '/' || value.includes('..')) why = `it would name a path outside the release folder${bad ? ' (contains "/")' : ''}`;
    else if (bad) why = `it contains ${JSON.stringify(bad)}`;
    else why = `it starts with ${JSON.stringify(value[0])}`;
  }
  return `expected ${RELEASE_EXPECTED}; ${why}`;
}
