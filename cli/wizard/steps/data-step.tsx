/**
 * Step 3: calibration or evaluation data. A file or directory is opened and checked against the
 * model before going on; random data is offered with a warning that accuracy is then unknown.
 */
import { useState } from 'react';
import { Box, Text } from 'ink';
import { openDataset, type DataSource } from '../../../src/calibrate/data/open.js';
import type { Model } from '../../../src/ir/model.js';
import { TextInput } from '../ui/text-input.js';
import { Select, type Item } from '../ui/select.js';
import { ErrorLine, Frame, KEYS, Warning } from '../ui/frame.js';
import { color } from '../ui/color.js';
import type { DataChoice } from '../choices.js';
import { randomData } from '../random-data.js';
import { message } from '../message.js';
import type { ImagePreprocess } from '../../../src/calibrate/data/images.js';
import { isImageDir } from '../preprocess.js';
import { PreprocessPrompt } from './preprocess-prompt.js';

export type DataPurpose = 'calibration' | 'pruning' | 'evaluation';

const QUESTION: Record<DataPurpose, string> = {
  calibration: 'Calibration data: samples the int8 ranges are measured on (a few hundred).',
  pruning: 'Calibration data: the activations pruning weighs weights by, and refits layers on (a few hundred samples).',
  evaluation: 'Evaluation data: accuracy against the float model (top-1 with labels).',
};

const FORMATS = '.npz/.npy/.json named after the inputs, or a directory of images or test data';

export function DataStep({ purpose, model, required, onDone }: {
  purpose: DataPurpose; model: Model; required: boolean; onDone: (choice: DataChoice, source: DataSource | undefined) => void;
}) {
  const [asking, setAsking] = useState<'kind' | 'path' | 'random' | 'preprocess'>('kind');
  const [imageDir, setImageDir] = useState<string>();
  const [error, setError] = useState<string>();
  const [checking, setChecking] = useState(false);
  const items: Item<DataChoice['kind']>[] = [
    { value: 'file', label: 'A data file or directory', hint: FORMATS },
    { value: 'random', label: 'Random data', hint: 'runs everything, but the accuracy is then unknown' },
  ];
  if (!required) items.push({ value: 'none', label: 'No data', hint: purpose === 'evaluation' ? 'the result shows size and speed only' : purpose === 'pruning' ? 'channels scored by weight norms, no refit' : 'skip' });

  const pick = (kind: DataChoice['kind']) => {
    setError(undefined);
    if (kind === 'none') return onDone({ kind: 'none' }, undefined);
    if (kind === 'file') return setAsking('path');
    try {
      randomData(model, 1);
      setAsking('random');
    } catch (err) {
      setError(message(err));
    }
  };
  /** Opening checks names, shapes and types against the model before any inference. */
  const open = (path: string, preprocess?: ImagePreprocess) => {
    setChecking(true);
    openDataset(path, model, preprocess ? { preprocess } : {}).then(
      // With preprocessing, the opened dataset is the source: a path alone would be read with the defaults.
      (ds) => { setChecking(false); onDone({ kind: 'file', path, ...(preprocess ? { preprocess } : {}) }, preprocess ? ds : path); },
      (err: unknown) => { setChecking(false); setError(message(err)); setAsking('path'); },
    );
  };
  const submit = (path: string) => {
    if (!path) return setError('type the path of the data');
    setError(undefined);
    if (isImageDir(path)) {
      setImageDir(path);
      return setAsking('preprocess');
    }
    open(path);
  };

  return (
    <Frame step={3} keys={asking === 'path' ? KEYS.text : KEYS.menu}>
      <Text wrap="wrap">{QUESTION[purpose]}</Text>
      <Box marginTop={1} flexDirection="column">
        {asking === 'kind' ? <Select items={items} onSelect={pick} /> : null}
        {asking === 'path' ? (
          <>
            <Text color={color('muted')}>{FORMATS}</Text>
            <TextInput placeholder="data.npz" paths onSubmit={submit} active={!checking} />
            {checking ? <Text color={color('muted')}>checking the data against the model...</Text> : null}
          </>
        ) : null}
        {asking === 'preprocess' && !checking ? <PreprocessPrompt onDone={(p) => open(imageDir!, p)} /> : null}
        {asking === 'preprocess' && checking ? <Text color={color('muted')}>reading the images...</Text> : null}
        {asking === 'random' ? (
          <>
            <Warning message={`Random data: every step runs, but the accuracy of the result is unknown${purpose === 'calibration' ? ' and the int8 ranges fit noise, not your inputs' : purpose === 'pruning' ? ' and what is kept is chosen on noise, not your inputs' : ''}.`} />
            <Select items={[{ value: true, label: 'Use random data anyway' }, { value: false, label: 'Choose a data file instead' }]}
              onSelect={(ok) => (ok ? onDone({ kind: 'random' }, randomData(model)) : setAsking('path'))} />
          </>
        ) : null}
      </Box>
      <ErrorLine message={error} />
    </Frame>
  );
}
