/** Driving an Ink app rendered by ink-testing-library: keys, and waiting for a frame. */
export const KEY = { enter: '\r', down: '\x1B[B', up: '\x1B[A', esc: '\x1B', tab: '\t', ctrlC: '\x03', ctrlU: '\x15' } as const;

/** Ink prints nothing interactive when CI is set: the wizard tests run as on a developer's terminal. */
export function unsetCi(): void {
  for (const k of Object.keys(process.env)) if (k === 'CI' || k === 'CONTINUOUS_INTEGRATION' || k.startsWith('CI_')) delete process.env[k];
}

/** Resolves with the frame once `test` matches it; fails with the last frame after `timeoutMs`. */
export async function waitFor(lastFrame: () => string | undefined, test: RegExp, timeoutMs = 20_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const frame = lastFrame() ?? '';
    if (test.test(frame)) {
      // Keys reach only the components mounted by then: let the new screen subscribe first.
      await new Promise((r) => setTimeout(r, 150));
      return frame;
    }
    if (Date.now() > end) throw new Error(`no frame matched ${test} within ${timeoutMs} ms; the last one:\n${frame}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A frame's text with line wraps undone (Ink wraps long lines at the terminal width). */
export const unwrap = (frame: string) => frame.replace(/\n\s*/g, ' ');
