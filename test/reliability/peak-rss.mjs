// Test instrumentation, loaded with `node --import`: reports the process's peak resident memory
// (VmHWM) on fd 3 when it exits, so the reliability suite can bound what a hostile input costs.
import { readFileSync, writeSync } from 'node:fs';

process.on('exit', () => {
  let bytes = process.resourceUsage().maxRSS * 1024;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) bytes = Number(m[1]) * 1024;
  } catch {
    // not Linux: maxRSS
  }
  try {
    writeSync(3, `peakRssBytes=${bytes}\n`);
  } catch {
    // fd 3 not open: not run by the suite
  }
});
