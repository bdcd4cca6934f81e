/**
 * Starts the wizard in the terminal; loaded by `slimnet wizard` through a dynamic import, so the
 * scripted commands never load Ink or React. Resolves with the exit code.
 */
import { render } from 'ink';
import { App } from './app.js';

export async function startWizard(options: { model?: string } = {}): Promise<number> {
  let code = 0;
  const instance = render(
    <App {...(options.model ? { initialModel: options.model } : {})} onExit={(c) => { code = c; instance.unmount(); }} />,
    { exitOnCtrlC: false },
  );
  await instance.waitUntilExit();
  return code;
}
