/**
 * The load-check processes (src/runtime/memory-probe-child.mjs) running under this test process,
 * directly or through a spawned CLI, on Linux (/proc): tests send them a real SIGSEGV, as a native
 * crash of ONNX Runtime would end them.
 */
import { readdirSync, readFileSync } from 'node:fs';

function parentOf(pid: string): string | undefined {
  try {
    return /^\d+ \(.*\) \S (\d+)/s.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
  } catch {
    return undefined; // gone meanwhile
  }
}

export function checkProcesses(): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let cmd = '';
    try { cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8'); } catch { continue; }
    if (!cmd.includes('memory-probe-child')) continue;
    for (let p: string | undefined = parentOf(d); p && p !== '0' && p !== '1'; p = parentOf(p)) {
      if (p === String(process.pid)) { pids.push(Number(d)); break; }
    }
  }
  return pids;
}

/** Sends SIGSEGV to every check process under this one until the returned function is called. */
export function crashCheckProcesses(): () => void {
  const killer = setInterval(() => { for (const pid of checkProcesses()) process.kill(pid, 'SIGSEGV'); }, 20);
  return () => clearInterval(killer);
}
