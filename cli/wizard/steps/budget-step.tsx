/** Step 3 (goal 'budget'): how much accuracy the user accepts to lose. */
import { useState } from 'react';
import { Text } from 'ink';
import { TextInput } from '../ui/text-input.js';
import { ErrorLine, Frame, KEYS } from '../ui/frame.js';

export function BudgetStep({ initial, onDone }: { initial: number; onDone: (maxDrop: number) => void }) {
  const [error, setError] = useState<string>();
  const submit = (text: string) => {
    const n = Number(text);
    if (text === '' || !Number.isFinite(n) || n < 0) return setError(`the budget must be a number >= 0 (got '${text}')`);
    onDone(n);
  };
  return (
    <Frame step={3} keys={KEYS.text}>
      <Text wrap="wrap">Largest accuracy drop to accept: top-1 points when the evaluation data has labels, else % of outputs that disagree with the float model.</Text>
      <TextInput initial={String(initial)} onSubmit={submit} />
      <ErrorLine message={error} />
    </Frame>
  );
}
