/** A vertical menu: arrow keys (or j/k) move, Enter picks. Keyboard only. */
import { useState } from 'react';
import { Box, Text, useInput } from 'ink';
import { color } from './color.js';

export interface Item<T> {
  value: T;
  label: string;
  hint?: string;
}

export function Select<T>({ items, onSelect, active = true }: { items: Item<T>[]; onSelect: (value: T) => void; active?: boolean }) {
  const [index, setIndex] = useState(0);
  useInput((input, key) => {
    if (key.upArrow || input === 'k') setIndex((i) => (i + items.length - 1) % items.length);
    else if (key.downArrow || input === 'j') setIndex((i) => (i + 1) % items.length);
    else if (key.return) onSelect(items[index]!.value);
  }, { isActive: active });
  return (
    <Box flexDirection="column">
      {items.map((item, i) => (
        <Box key={item.label} flexDirection="column">
          <Text color={i === index ? color('accent') : undefined} bold={i === index}>{i === index ? '> ' : '  '}{item.label}</Text>
          {item.hint && i === index ? <Text color={color('muted')}>{'    '}{item.hint}</Text> : null}
        </Box>
      ))}
    </Box>
  );
}
