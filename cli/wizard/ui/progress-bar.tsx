/** A progress bar in plain characters (readable without colour), with the count and the time left. */
import { Text } from 'ink';
import { color } from './color.js';

export function ProgressBar({ done, total, eta, width = 30 }: { done: number; total?: number; eta?: number; width?: number }) {
  if (total === undefined || total <= 0) return <Text color={color('muted')}>{done > 0 ? `${done} done` : 'working...'}</Text>;
  const filled = Math.max(0, Math.min(width, Math.round((done / total) * width)));
  const left = eta !== undefined && eta > 0 ? `, ${formatSeconds(eta)} left` : '';
  return (
    <Text>
      <Text color={color('accent')}>{'#'.repeat(filled)}</Text>
      <Text color={color('muted')}>{'.'.repeat(width - filled)}</Text>
      {` ${done}/${total}${left}`}
    </Text>
  );
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s`;
}
