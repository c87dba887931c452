// A small line diff (LCS) for showing what a plan changes in compose/ (PURE).

export type DiffOp = { op: ' ' | '-' | '+'; line: string };

export function diffLines(before: string, after: string): DiffOp[] {
  const a = before.split('\n');
  const b = after.split('\n');
  const n = a.length;
  const m = b.length;
  // lcs[i][j] = length of the LCS of a[i..] and b[j..]
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: DiffOp[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: ' ', line: a[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push({ op: '-', line: a[i++]! });
    else out.push({ op: '+', line: b[j++]! });
  }
  while (i < n) out.push({ op: '-', line: a[i++]! });
  while (j < m) out.push({ op: '+', line: b[j++]! });
  return out;
}

/**
 * Changed lines with `context` lines around them; hunks separated by "@@ line N @@" markers
 * (N = line in the new file). At most `maxLines` lines; the rest is summarised.
 */
export function formatDiff(before: string, after: string, context = 2, maxLines = 60): string[] {
  const ops = diffLines(before, after);
  const keep = new Array<boolean>(ops.length).fill(false);
  ops.forEach((o, k) => {
    if (o.op === ' ') return;
    for (let x = Math.max(0, k - context); x <= Math.min(ops.length - 1, k + context); x++) keep[x] = true;
  });
  const out: string[] = [];
  let newLine = 0;
  let prevKept = false;
  ops.forEach((o, k) => {
    if (o.op !== '-') newLine++;
    if (!keep[k]) {
      prevKept = false;
      return;
    }
    if (!prevKept) out.push(`@@ line ${o.op === '-' ? newLine + 1 : newLine} @@`);
    out.push(`${o.op} ${o.line}`.trimEnd());
    prevKept = true;
  });
  if (out.length > maxLines) {
    const changed = ops.filter((o) => o.op !== ' ').length;
    return [...out.slice(0, maxLines), `… (${out.length - maxLines} more diff lines; ${changed} lines changed in all)`];
  }
  return out;
}
