/**
 * How data samples map onto a model's inputs: which inputs the model needs, and for each one
 * whether samples are stacked into batches (and along which axis) or fed one at a time.
 */
import type { Model } from '../../ir/model.js';
import type { Dim } from '../../ir/types.js';
import { formatShape } from '../../ir/types.js';
import { ortType } from '../../runtime/tensor-data.js';
import type { OrtType } from '../../runtime/types.js';
import { DataError, InvalidModelError } from '../../errors.js';

/** A model input as data must provide it. */
export interface InputSpec {
  name: string;
  type: OrtType;
  /** undefined when the model does not declare the rank. */
  shape: Dim[] | undefined;
}

/** How one input's samples become feeds. */
export interface InputLayout {
  spec: InputSpec;
  /**
   * 'stack': the model has a batch axis (`axis`) that samples lack; samples are stacked along it.
   * 'single': a sample already has the model input's full shape; it is fed on its own (batch 1).
   */
  mode: 'stack' | 'single';
  axis: number;
  /** Batch size the model fixes on `axis` (usually 1); undefined when the axis is symbolic. */
  fixedBatch?: number;
  /** Shape of one sample, without the sample axis. */
  sampleDims: number[];
  /** The data's samples carry the batch axis already, with size 1 (a [1, C, H, W] file): it is dropped. */
  squeeze?: boolean;
}

/** The inputs a caller must feed: graph inputs that are not initializers (IR < 4 lists both). */
export function modelInputs(model: Model): InputSpec[] {
  return model.graph.inputs
    .filter((v) => !v.isInitializer)
    .map((v) => {
      const elem = v.elemType;
      let type: OrtType;
      try {
        type = elem === undefined ? 'float32' : ortType(elem);
      } catch {
        throw new DataError(`${model.label()}: input '${v.name}' has a type ONNX Runtime's Node API cannot feed`);
      }
      if (v.shape?.includes(0)) {
        throw new InvalidModelError(`${model.label()}: input '${v.name}' is declared ${formatShape(v.shape)}: an axis of size 0 holds no values, so no sample fits it; export the model with a symbolic or positive size there`);
      }
      return { name: v.name, type, shape: v.shape ? [...v.shape] : undefined };
    });
}

function fits(data: readonly number[], shape: readonly Dim[]): boolean {
  return data.length === shape.length && shape.every((d, i) => typeof d !== 'number' || d === data[i]);
}

const isBatchable = (d: Dim) => typeof d !== 'number' || d >= 1;

function describeSample(spec: InputSpec): string {
  const shape = spec.shape;
  if (!shape) return 'any shape';
  const batch = shape.findIndex((d) => typeof d !== 'number');
  const axis = batch >= 0 ? batch : 0;
  return `samples of ${formatShape([...shape.slice(0, axis), ...shape.slice(axis + 1)])} (model input ${formatShape(shape)})`;
}

/**
 * Matches the shape of one sample (without the sample axis) against a model input. `source` and
 * the messages name the file and the input, and what the model expects.
 */
export function layoutFor(spec: InputSpec, sampleDims: readonly number[], source: string): InputLayout {
  const dims = [...sampleDims];
  const shape = spec.shape;
  // Rank unknown: the usual convention (a leading batch axis of 1) is the best guess.
  if (!shape) return { spec, mode: 'stack', axis: 0, fixedBatch: 1, sampleDims: dims };
  if (dims.length === shape.length - 1) {
    // A symbolic axis is the batch axis (the leading one first: [batch, ...], else e.g. LSTM's
    // [seq, batch, features]); failing that, a fixed leading axis (a model exported with batch 1).
    const symbolic = shape.map((d, i) => (typeof d !== 'number' ? i : -1)).filter((i) => i >= 0);
    for (const axis of [...symbolic, ...(typeof shape[0] === 'number' ? [0] : [])]) {
      const d = shape[axis]!;
      if (!isBatchable(d)) continue;
      if (fits(dims, [...shape.slice(0, axis), ...shape.slice(axis + 1)])) {
        const layout: InputLayout = { spec, mode: 'stack', axis, sampleDims: dims };
        if (typeof d === 'number') layout.fixedBatch = d;
        return layout;
      }
    }
  }
  if (fits(dims, shape)) {
    // A sample that already has the batch axis, of size 1 (input_0.pb files, feeds for one run): stack it.
    const symbolic = shape.findIndex((d) => typeof d !== 'number');
    const axis = symbolic >= 0 ? symbolic : shape[0] === 1 ? 0 : -1;
    if (axis >= 0 && dims[axis] === 1) {
      const layout: InputLayout = { spec, mode: 'stack', axis, sampleDims: [...dims.slice(0, axis), ...dims.slice(axis + 1)], squeeze: true };
      if (typeof shape[axis] === 'number') layout.fixedBatch = shape[axis] as number;
      return layout;
    }
    return { spec, mode: 'single', axis: 0, sampleDims: dims };
  }
  throw new DataError(
    `${source}: input '${spec.name}' expects ${describeSample(spec)}, but the data has samples of ${formatShape(dims)}` +
      ' (the first axis of each array counts samples; reshape the data to match the model input)',
  );
}

/**
 * Checks the element type; float64 (numpy's default) is narrowed to float32, and float32/float64
 * data for a float16 input (models converted with float16 I/O) to float16, each with a note.
 */
export function checkType(spec: InputSpec, type: OrtType, source: string, notes: string[]): 'same' | 'float64-to-float32' | 'to-float16' {
  if (type === spec.type) return 'same';
  if (type === 'float64' && spec.type === 'float32') {
    notes.push(`${source}: input '${spec.name}' is float64 in the data; converted to float32 for the model`);
    return 'float64-to-float32';
  }
  if ((type === 'float64' || type === 'float32') && spec.type === 'float16') {
    notes.push(`${source}: input '${spec.name}' is ${type} in the data; rounded to float16 for the model`);
    return 'to-float16';
  }
  throw new DataError(`${source}: input '${spec.name}' must be ${spec.type}, but the data has ${type} (convert it, e.g. numpy's a.astype(np.${spec.type === 'bool' ? 'bool_' : spec.type}))`);
}

/** The batch size all inputs allow: 1 when any input is fed singly or fixes 1, else the fixed size, else `wanted`. */
export function batchSizeFor(layouts: readonly InputLayout[], wanted: number, source: string): number {
  if (layouts.some((l) => l.mode === 'single')) return 1;
  const fixed = [...new Set(layouts.map((l) => l.fixedBatch).filter((b): b is number => b !== undefined))];
  if (fixed.length > 1) {
    throw new DataError(`${source}: the model's inputs fix different batch sizes (${layouts.filter((l) => l.fixedBatch !== undefined).map((l) => `${l.spec.name}: ${l.fixedBatch}`).join(', ')}); slimnet cannot batch them together`);
  }
  return fixed[0] ?? wanted;
}
