/** Step 4: every setting with its value and one line on why it is the default; run, or change the output. */
import { useState } from 'react';
import { Box, Text } from 'ink';
import { Select } from '../ui/select.js';
import { TextInput } from '../ui/text-input.js';
import { ErrorLine, Frame, KEYS, Warning } from '../ui/frame.js';
import { color } from '../ui/color.js';
import type { Plan } from '../plan.js';

const fit = (s: string, n: number) => (s.length <= n ? s.padEnd(n) : `...${s.slice(s.length - n + 3)}`);

export function ReviewStep({ plan, output, onRun, onOutput }: { plan: Plan; output: string; onRun: () => void; onOutput: (path: string) => void }) {
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<string>();
  return (
    <Frame step={4} keys={editing ? KEYS.text : KEYS.menu}>
      {plan.review.map((l) => (
        <Text key={l.setting} wrap="truncate-end">
          {fit(l.setting, 14)} <Text bold>{fit(l.value, 22)}</Text> <Text color={color('muted')}>{l.why}</Text>
        </Text>
      ))}
      {plan.warnings.map((w) => <Warning key={w} message={w} />)}
      <Box marginTop={1} flexDirection="column">
        {editing ? (
          <>
            <Text>Output path:</Text>
            <TextInput initial={output} paths onSubmit={(p) => {
              if (!/\.onnx$/i.test(p)) return setError(`the output must be an .onnx file (got '${p}')`);
              setError(undefined);
              setEditing(false);
              onOutput(p);
            }} />
          </>
        ) : (
          <Select items={[{ value: 'run', label: 'Run' }, { value: 'output', label: 'Change the output path' }]}
            onSelect={(v) => (v === 'run' ? onRun() : setEditing(true))} />
        )}
      </Box>
      <ErrorLine message={error} />
    </Frame>
  );
}
