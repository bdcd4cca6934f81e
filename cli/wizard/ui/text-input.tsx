/**
 * One line of text: type, Backspace, Enter submits; with `paths`, Tab completes file names.
 * Input that arrives in one piece (a paste, or keys sent faster than they are read, as tmux does)
 * is taken character by character, so a Tab or Enter inside it still completes or submits.
 */
import { useRef, useState } from 'react';
import { Box, Text, useInput } from 'ink';
import { color } from './color.js';
import { completePath } from './complete.js';

export function TextInput({ initial = '', placeholder, paths = false, onSubmit, active = true }: {
  initial?: string; placeholder?: string; paths?: boolean; onSubmit: (value: string) => void; active?: boolean;
}) {
  const value = useRef(initial);
  const [shown, setShown] = useState(initial);
  const [matches, setMatches] = useState<string[]>([]);
  const set = (v: string, m: string[] = []) => {
    value.current = v;
    setShown(v);
    setMatches(m);
  };
  const complete = () => {
    if (!paths) return;
    const c = completePath(value.current);
    set(c.value, c.matches);
  };
  useInput((input, key) => {
    if (key.return) return onSubmit(value.current.trim());
    if (key.tab) return complete();
    if (key.backspace || key.delete) return set(value.current.slice(0, -1));
    if (key.ctrl && input === 'u') return set('');
    if (key.ctrl || key.meta || key.escape || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return;
    for (const ch of input) {
      if (ch === '\t') complete();
      else if (ch === '\r' || ch === '\n') return onSubmit(value.current.trim());
      else if (ch === '\x7f' || ch === '\b') set(value.current.slice(0, -1));
      else if (ch >= ' ') set(value.current + ch);
    }
  }, { isActive: active });
  return (
    <Box flexDirection="column">
      <Text>
        <Text color={color('accent')}>{'> '}</Text>
        {shown || <Text color={color('muted')}>{placeholder ?? ''}</Text>}
        <Text inverse> </Text>
      </Text>
      {matches.length ? <Text color={color('muted')} wrap="truncate-end">{matches.slice(0, 8).join('  ')}{matches.length > 8 ? `  (+${matches.length - 8})` : ''}</Text> : null}
    </Box>
  );
}
