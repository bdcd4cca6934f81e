/** A real terminal for end-to-end tests: a detached tmux session of a given size, keys in, screens out. */
import { spawnSync } from 'node:child_process';

export function tmuxUnavailable(): string | undefined {
  const r = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? `tmux is not installed (${r.error?.message ?? r.stderr.trim()}); apt-get install tmux` : undefined;
}

export class Terminal {
  private readonly socket = `slimnet-test-${process.pid}-${Date.now()}`;

  /** Starts `command` (a shell line) in an 80x24 terminal, without CI in its environment. */
  constructor(command: string, cwd: string, env: Record<string, string> = {}) {
    const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    this.tmux(['new-session', '-d', '-s', 'main', '-x', '80', '-y', '24', '-c', cwd, 'env', '-u', 'CI', '-u', 'CONTINUOUS_INTEGRATION', ...vars, 'bash', '--norc', '--noprofile', '-c', command]);
  }

  private tmux(args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`);
    return r.stdout;
  }

  /** Named keys (Enter, Down, Tab, C-c) or, with literal, text typed as is. */
  keys(keys: string[], literal = false): void {
    this.tmux(['send-keys', '-t', 'main', ...(literal ? ['-l'] : []), ...keys]);
  }

  screen(): string {
    return this.tmux(['capture-pane', '-p', '-t', 'main']);
  }

  async waitFor(test: RegExp, timeoutMs = 60_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s = this.screen();
      if (test.test(s)) {
        await new Promise((r) => setTimeout(r, 300));
        return s;
      }
      if (Date.now() > end) throw new Error(`the terminal never showed ${test} within ${timeoutMs} ms; it shows:\n${s}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  close(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}
