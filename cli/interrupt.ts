/**
 * Ctrl-C (SIGINT) and SIGTERM: exit 130 (143), with nothing half-written and no native abort.
 *
 * ONNX Runtime runs on worker threads. Stopping a worker (worker.terminate(), or process.exit(),
 * which stops every worker) while it is inside onnxruntime-node makes the addon's next N-API call
 * fail with a C++ exception (Napi::Error) that nothing catches: "terminate called after throwing
 * an instance of 'Napi::Error'", abort, exit 134. So the interrupt first cancels every engine (no
 * new inference starts; the one in progress runs to its end, a few milliseconds to a few seconds),
 * waits until every worker is idle and stopped, and only then exits. Temporary output files are
 * removed by the exit hook of atomic-write.ts.
 *
 * If the workers are not idle within GRACE_MS, or a second Ctrl-C comes, the process removes its
 * temporary files and kills itself with the signal's default action: the kernel ends it without
 * unwinding through any native code, and a shell sees 130 (128 + SIGINT) all the same.
 */
import { Engine } from '../src/runtime/engine.js';
import { interruptRuntime } from '../src/runtime/interrupt.js';
import { removePendingTemps } from '../src/onnx/atomic-write.js';

/** How long the in-flight inference may take to end before the hard exit. */
const GRACE_MS = 20_000;

function hardExit(signal: NodeJS.Signals): never {
  removePendingTemps();
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  // The default action of SIGINT/SIGTERM ends the process before this line runs.
  process.exit(signal === 'SIGTERM' ? 143 : 130);
}

export function installInterruptHandler(): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) hardExit(signal);
    stopping = true;
    process.stderr.write(`\nslimnet: interrupted${signal === 'SIGTERM' ? ' (SIGTERM)' : ''}\n`);
    interruptRuntime();
    const code = signal === 'SIGTERM' ? 143 : 130;
    // Whatever the command returns from now on, the process ends with the signal's code.
    process.exitCode = code;
    setTimeout(() => hardExit(signal), GRACE_MS).unref();
    void Engine.closeAll().then(() => process.exit(code), () => process.exit(code));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  // bin/slimnet.js exits at once on a signal while the CLI loads; from here on, this handler decides.
  // Removed after adding ours: with no listener at all, Node would restore the default action.
  const early = (globalThis as { __slimnetEarlyInterrupt?: (signal: NodeJS.Signals) => void }).__slimnetEarlyInterrupt;
  if (early) {
    process.off('SIGINT', early);
    process.off('SIGTERM', early);
  }
}
