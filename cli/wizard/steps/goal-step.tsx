/** Step 2: what the user wants: speed within an accuracy budget, the smallest file, one mode, or pruning. */
import { Text } from 'ink';
import { Select } from '../ui/select.js';
import { Frame, KEYS } from '../ui/frame.js';
import { GOALS, type Goal } from '../choices.js';

export function GoalStep({ onDone }: { onDone: (goal: Goal) => void }) {
  return (
    <Frame step={2} keys={KEYS.menu}>
      <Text>What should the result be?</Text>
      <Select items={GOALS} onSelect={onDone} />
    </Frame>
  );
}
