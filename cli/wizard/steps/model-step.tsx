/** Step 1: a model path (Tab completes), loaded and inspected; its summary before going on. */
import { useState } from 'react';
import { Box, Text } from 'ink';
import { loadModel } from '../../../src/onnx/io.js';
import { inspectModel, type InspectReport } from '../../../src/inspect/inspect.js';
import { checkRuntimeSupport } from '../../../src/runtime/ort-support.js';
import type { Model } from '../../../src/ir/model.js';
import { TextInput } from '../ui/text-input.js';
import { Select } from '../ui/select.js';
import { ErrorLine, Frame, KEYS } from '../ui/frame.js';
import { color } from '../ui/color.js';
import { modelSummary } from '../model-summary.js';
import { message } from '../message.js';

export interface LoadedModel {
  path: string;
  model: Model;
  report: InspectReport;
}

export function ModelStep({ initial, onDone }: { initial?: string; onDone: (m: LoadedModel) => void }) {
  const [error, setError] = useState<string>();
  const [loaded, setLoaded] = useState<LoadedModel>();
  const submit = (path: string) => {
    if (!path) return setError('type the path of an .onnx model');
    try {
      const model = loadModel(path);
      checkRuntimeSupport(model, path);
      const report = inspectModel(model, path);
      setError(undefined);
      setLoaded({ path, model, report });
    } catch (err) {
      setError(message(err));
    }
  };
  if (loaded) {
    return (
      <Frame step={1} keys={KEYS.menu}>
        <Text bold>{loaded.path}</Text>
        {modelSummary(loaded.report).map((line) => <Text key={line} wrap="truncate-end">{`  ${line}`}</Text>)}
        <Box marginTop={1}>
          <Select items={[{ value: true, label: 'Continue with this model' }, { value: false, label: 'Choose another model' }]}
            onSelect={(ok) => (ok ? onDone(loaded) : setLoaded(undefined))} />
        </Box>
      </Frame>
    );
  }
  return (
    <Frame step={1} keys={KEYS.text}>
      <Text>Which ONNX model? <Text color={color('muted')}>(a path; Tab completes)</Text></Text>
      <TextInput initial={initial ?? ''} placeholder="model.onnx" paths onSubmit={submit} />
      <ErrorLine message={error} />
    </Frame>
  );
}
