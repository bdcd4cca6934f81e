/**
 * Step 6: the result against the float model (size, accuracy, speed), the layers that cost most,
 * where the file is, the equivalent command line, and saving the recipe (with its lock).
 */
import { useState } from 'react';
import { Box, Text } from 'ink';
import { kib as formatBytes } from '../../../src/quantize/report.js';
import type { RunResult } from '../execute.js';
import { makePlan } from '../plan.js';
import type { WizardChoices } from '../choices.js';
import type { Model } from '../../../src/ir/model.js';
import { Select } from '../ui/select.js';
import { ErrorLine, Frame, KEYS, Warning } from '../ui/frame.js';
import { color } from '../ui/color.js';
import { message } from '../message.js';

const col = (cells: string[]) => `${cells[0]!.padEnd(14)}${cells[1]!.padStart(12)}${cells[2]!.padStart(12)}   ${cells[3]}`;

function tableRows(r: RunResult): string[] {
  const rows = [col(['', 'float32', 'result', '']), col(['size', formatBytes(r.inputBytes), formatBytes(r.outputBytes), `${(r.outputBytes / r.inputBytes).toFixed(2)}x`])];
  const a = r.accuracy;
  if (a) {
    const pct = (x: number) => (a.metric === 'top1' || a.metric === 'top5' || a.metric === 'agreement' ? `${(x * 100).toFixed(2)} %` : x.toPrecision(4));
    rows.push(col([a.metric, pct(a.reference), pct(a.candidate), `${Math.abs(a.drop) < 0.005 ? '' : a.drop > 0 ? '-' : '+'}${Math.abs(a.drop).toFixed(2)}${a.metric === 'top1' ? ' points' : ''}${a.unknown ? ' (random data)' : ''}`]));
  }
  if (r.latency) rows.push(col(['latency p50', `${r.latency.referenceMs.toFixed(2)} ms`, `${r.latency.candidateMs.toFixed(2)} ms`, r.latency.speedup >= 1 ? `${r.latency.speedup.toFixed(2)}x faster` : `${(1 / r.latency.speedup).toFixed(2)}x slower`]));
  return rows;
}

export function recipePath(output: string): string {
  return output.replace(/\.onnx$/i, '') + '.recipe.json';
}

export function ResultStep({ result, choices, model, onQuit }: { result: RunResult; choices: WizardChoices; model: Model; onQuit: () => void }) {
  const [saved, setSaved] = useState<string>();
  const [error, setError] = useState<string>();
  const plan = makePlan(choices, model, saved ? { recipe: saved } : {});
  const recipe = recipePath(choices.output);
  const items = result.saveRecipe && !saved ? [{ value: 'save', label: `Save the recipe to ${recipe}`, hint: 'slimnet run it with --model and -o: the same bytes, no search again' }, { value: 'quit', label: 'Quit' }] : [{ value: 'quit', label: 'Quit' }];
  return (
    <Frame step={6} keys={KEYS.menu}>
      {tableRows(result).map((row, i) => <Text key={row} bold={i === 0}>{row}</Text>)}
      {result.accuracy?.unknown || !result.accuracy ? <Warning message={result.accuracy ? 'Accuracy unknown: measured on random data.' : 'Accuracy not measured: no evaluation data.'} /> : null}
      <Text wrap="truncate-end">{`${result.done}${result.costly.length ? '; the ones that matter:' : ''}`}</Text>
      {result.costly.slice(0, 3).map((c) => <Text key={c} color={color('muted')} wrap="truncate-end">{`  ${c}`}</Text>)}
      <Text wrap="truncate-end">Written: <Text bold>{result.output}</Text></Text>
      {saved ? <Text wrap="truncate-end">Recipe: <Text bold>{saved}</Text></Text> : null}
      <Box marginTop={1} flexDirection="column">
        <Text>Same from the CLI:</Text>
        <Text color={color('accent')} wrap="wrap">{`  ${plan.command}`}</Text>
        {plan.commandNote ? <Text color={color('muted')} wrap="wrap">{`  (${plan.commandNote})`}</Text> : null}
      </Box>
      <Box marginTop={1}>
        <Select key={items.length} items={items} onSelect={(v) => {
          if (v === 'quit') return onQuit();
          try {
            result.saveRecipe!(recipe);
            setSaved(recipe);
          } catch (err) {
            setError(message(err));
          }
        }} />
      </Box>
      <ErrorLine message={error} />
    </Frame>
  );
}
