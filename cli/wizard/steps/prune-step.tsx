/** Step 2b (goal prune): the method, then how much to remove; the default sparsity follows the method. */
import { useState } from 'react';
import { Text } from 'ink';
import type { PruneMethod } from '../../../src/prune/options.js';
import { Select } from '../ui/select.js';
import { TextInput } from '../ui/text-input.js';
import { ErrorLine, Frame, KEYS } from '../ui/frame.js';
import { color } from '../ui/color.js';
import { DEFAULT_SPARSITY, PRUNE_CHOICES, type PruneChoice } from '../choices.js';

/** '0.3' or '30%' -> 0.3; undefined when it is not a fraction in [0, 1). */
export function parseSparsity(text: string): number | undefined {
  const t = text.trim();
  const n = t.endsWith('%') ? Number(t.slice(0, -1)) / 100 : Number(t);
  return t !== '' && Number.isFinite(n) && n >= 0 && n < 1 ? n : undefined;
}

export function PruneStep({ onDone }: { onDone: (p: PruneChoice) => void }) {
  const [method, setMethod] = useState<PruneMethod>();
  const [error, setError] = useState<string>();
  if (!method) {
    return (
      <Frame step={2} keys={KEYS.menu}>
        <Text>How should the model be pruned?</Text>
        <Select items={PRUNE_CHOICES} onSelect={setMethod} />
      </Frame>
    );
  }
  const submit = (text: string) => {
    const s = parseSparsity(text);
    if (s === undefined) return setError(`the sparsity must be a fraction in [0, 1) such as 0.3, or 30% (got '${text}')`);
    onDone({ method, sparsity: s });
  };
  return (
    <Frame step={2} keys={KEYS.text}>
      <Text wrap="wrap">{method === 'channel' ? 'Share of the channels to remove from each group (0.3 or 30%):' : 'Share of the weights to zero in each layer (0.5 or 50%):'}</Text>
      <TextInput initial={String(DEFAULT_SPARSITY[method])} onSubmit={submit} />
      <Text color={color('muted')}>The first and last weighted layers stay dense.</Text>
      <ErrorLine message={error} />
    </Frame>
  );
}
