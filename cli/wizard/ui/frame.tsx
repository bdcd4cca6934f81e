/** Every screen: a title line with the step, the body, and the keys that work here (fits 80x24). */
import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import { color } from './color.js';

export const STEP_TITLES = ['Model', 'Goal', 'Data', 'Review', 'Run', 'Result'] as const;

export function Frame({ step, children, keys }: { step: number; children: ReactNode; keys: string }) {
  return (
    <Box flexDirection="column" width={80}>
      <Text>
        <Text bold>slimnet wizard</Text>
        <Text color={color('muted')}>{`  step ${step}/${STEP_TITLES.length}: ${STEP_TITLES[step - 1]}`}</Text>
      </Text>
      <Box flexDirection="column" marginTop={1}>{children}</Box>
      <Box marginTop={1}><Text color={color('muted')}>{keys}</Text></Box>
    </Box>
  );
}

export const KEYS = {
  menu: 'Up/Down move, Enter choose, Esc back, Ctrl-C quit',
  text: 'Enter accept, Tab complete, Esc back, Ctrl-C quit',
} as const;

export function ErrorLine({ message }: { message: string | undefined }) {
  return message ? <Text color={color('error')} wrap="wrap">{`x ${message}`}</Text> : null;
}

export function Warning({ message }: { message: string }) {
  return <Text color={color('warn')} bold wrap="wrap">{`! ${message}`}</Text>;
}
