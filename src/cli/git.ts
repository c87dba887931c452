// The short commit of a folder's git checkout (plan and deploy render the same files from it).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export async function gitShortHead(root: string): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)('git', ['rev-parse', '--short', 'HEAD'], { cwd: root });
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}
