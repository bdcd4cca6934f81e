/**
 * The examples at the end of each command's --help. They are real: they run as written from the
 * root of a clone (after `mkdir -p out`) on the committed fixtures, and test/cli/help-examples
 * runs every one of them, so they cannot rot.
 */
export const EXAMPLES_HEADING = 'Examples (from the root of a clone, after mkdir -p out; the fixtures ship with it):';

/** The text after a command's options (addHelpText('after', ...)); `more` follows the examples. */
export function examplesText(examples: readonly string[], more = ''): string {
  return `\n${EXAMPLES_HEADING}\n${examples.map((e) => `  ${e}`).join('\n')}\n${more}`;
}

/** The example command lines in a --help text, as printed: 'slimnet ...' without the indent. */
export function examplesIn(help: string): string[] {
  const start = help.indexOf(EXAMPLES_HEADING);
  if (start < 0) return [];
  const lines = help.slice(start + EXAMPLES_HEADING.length).split('\n').slice(1);
  const end = lines.findIndex((l) => !l.startsWith('  slimnet '));
  return (end < 0 ? lines : lines.slice(0, end)).map((l) => l.trim());
}
