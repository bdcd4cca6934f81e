/** Counting a model's float weights and their zeros (before/after figures of the summary). */
import type { Model } from '../ir/model.js';
import { dataTypeInfo } from '../ir/data-type.js';

export function countParams(model: Model): { total: number; nonzero: number } {
  let total = 0;
  let nonzero = 0;
  for (const g of model.graph.allGraphs()) {
    const tensors = [...g.initializers.values()].map((v) => v.constValue!);
    for (const n of g.nodes) if (n.opType === 'Constant' && n.domain === '') { const t = n.outputs[0]?.constant; if (t) tensors.push(t); }
    for (const t of tensors) {
      if (t.isString || !dataTypeInfo(t.dataType).isFloat || t.size < 2) continue;
      total += t.size;
      const d = t.toFloat32();
      for (let i = 0; i < d.length; i++) if (d[i] !== 0) nonzero++;
    }
  }
  return { total, nonzero };
}

/** The hardware note: what exploits the zeros or the smaller shapes. */
export function hardwareNote(method: string, nm?: { n: number; m: number }): string {
  if (method === 'channel') return 'channel pruning makes the tensors smaller, which every runtime, ONNX Runtime included, can run faster; on very small models, channel counts off ONNX Runtime\'s 8- or 16-channel blocks can cost more than the MACs saved: the measured speed is in the report';
  if (nm && nm.n === 2 && nm.m === 4) {
    return '2:4 is the pattern NVIDIA sparse tensor cores (Ampere and newer GPUs) execute at up to twice the math rate, through TensorRT with sparsity enabled; ONNX Runtime\'s CPU kernels (and its CUDA EP without TensorRT) run it as dense math: no faster here';
  }
  if (nm) return `${nm.n}:${nm.m} is not a pattern mainstream hardware accelerates (NVIDIA sparse tensor cores take 2:4); ONNX Runtime runs it as dense math: smaller when compressed, no faster`;
  return 'unstructured zeros do not make ONNX Runtime\'s kernels faster (they compute densely); the zeros compress, so the file shrinks when zipped, and sparse-aware engines can skip them';
}
