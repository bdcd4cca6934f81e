/**
 * A vertical menu: arrow keys (or j/k) move, Enter picks. Keyboard only. Keys that arrive
 * together (Down then Enter in one read) come in the same tick, so the position is kept in a ref
 * that each key reads, not in the state of the last render.
 */
import { useRef, useState } from 'react';
import { Box, Text, useInput } from 'ink';
import { color } from './color.js';

export interface Item<T> {
  value: T;
  label: string;
  hint?: string;
}

export function Select<T>({ items, onSelect, active = true }: { items: Item<T>[]; onSelect: (value: T) => void; active?: boolean }) {
  const position = useRef(0);
  const [index, setIndex] = useState(0);
  const move = (to: number) => {
    position.current = (to + items.length) % items.length;
    setIndex(position.current);
  };
  useInput((input, key) => {
    if (key.upArrow || input === 'k') move(position.current - 1);
    else if (key.downArrow || input === 'j') move(position.current + 1);
    else if (key.return) onSelect(items[position.current]!.value);
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
