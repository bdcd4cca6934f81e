/**
 * Step 3, for a directory of images: how its pixels become the model's input. A preset, or the
 * size, mean/std and layout asked one at a time (the rest as openDataset defaults: RGB, the
 * model's own size and layout).
 */
import { useState } from 'react';
import { Text } from 'ink';
import { PREPROCESS_PRESETS, type ImagePreprocess } from '../../../src/calibrate/data/images.js';
import { Select } from '../ui/select.js';
import { TextInput } from '../ui/text-input.js';
import { ErrorLine } from '../ui/frame.js';
import { color } from '../ui/color.js';
import { parseMeanStd, parseSize } from '../preprocess.js';

type Asking = 'preset' | 'size' | 'meanStd' | 'layout';

const PRESETS = [
  { value: 'unit', label: 'Pixels in [0, 1]', hint: 'the model\'s input size; the usual default' },
  { value: 'imagenet', label: 'ImageNet', hint: 'resize 256, crop 224, torchvision mean/std' },
  { value: 'raw', label: 'Raw pixels 0..255', hint: 'no scaling' },
  { value: 'custom', label: 'Custom', hint: 'size, mean/std and layout' },
];

export function PreprocessPrompt({ onDone }: { onDone: (p: ImagePreprocess) => void }) {
  const [asking, setAsking] = useState<Asking>('preset');
  const [steps, setSteps] = useState<ImagePreprocess>({ scale: 1 / 255 });
  const [error, setError] = useState<string>();
  const answer = <T extends object>(parsed: T | string, next: Asking) => {
    if (typeof parsed === 'string') return setError(parsed);
    setError(undefined);
    setSteps((s) => ({ ...s, ...parsed }));
    setAsking(next);
  };
  return (
    <>
      <Text wrap="wrap">A directory of images: how should pixels become the model&apos;s input?</Text>
      {asking === 'preset' ? <Select items={PRESETS} onSelect={(v) => (v === 'custom' ? setAsking('size') : onDone(PREPROCESS_PRESETS[v]!))} /> : null}
      {asking === 'size' ? (
        <>
          <Text color={color('muted')}>Size: CROP (224), or RESIZE/CROP (256/224); empty: the model&apos;s size</Text>
          <TextInput key="size" onSubmit={(t) => answer(parseSize(t), 'meanStd')} />
        </>
      ) : null}
      {asking === 'meanStd' ? (
        <>
          <Text color={color('muted')}>Mean / std after scaling to [0, 1] (0.5 / 0.5); empty: none</Text>
          <TextInput key="meanStd" onSubmit={(t) => answer(parseMeanStd(t), 'layout')} />
        </>
      ) : null}
      {asking === 'layout' ? (
        <Select items={[
          { value: 'auto', label: 'Layout: the model\'s', hint: 'where its axis of 1 or 3 channels is' },
          { value: 'NCHW', label: 'NCHW', hint: 'channels first (PyTorch)' },
          { value: 'NHWC', label: 'NHWC', hint: 'channels last (TensorFlow)' },
        ]} onSelect={(v) => onDone(v === 'auto' ? steps : { ...steps, layout: v as 'NCHW' | 'NHWC' })} />
      ) : null}
      <ErrorLine message={error} />
    </>
  );
}
