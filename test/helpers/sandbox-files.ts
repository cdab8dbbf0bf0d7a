// Files the tests write inside the sandbox (its /tmp and /run are private tmpfs: not part of `changes()`).
import type { Sandbox } from './sandbox.js';

/** Writes each file (making its directory), failing with the command's error. */
export async function writeFiles(sandbox: Sandbox, files: Record<string, string>): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    const result = await sandbox.run(['sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1"', 'sh', file], { input: content });
    if (result.exitCode !== 0) throw new Error(`writing ${file}: ${result.stderr}`);
  }
}
