/** Colours for Ink's <Text color>: none at all when NO_COLOR is set (https://no-color.org). */
export type Tone = 'accent' | 'ok' | 'warn' | 'error' | 'muted';

const TONES: Record<Tone, string> = { accent: 'cyan', ok: 'green', warn: 'yellow', error: 'red', muted: 'gray' };

export function color(tone: Tone): string | undefined {
  const v = process.env['NO_COLOR'];
  return v !== undefined && v !== '' ? undefined : TONES[tone];
}
