/**
 * Why ONNX Runtime would not fuse a DQ -> op -> Q group: the CPU EP's fusion rules
 * (qdq_selectors.cc, checked on 1.30; docs/research/ort-quantization-facts.md section 1) applied to
 * the written graph. Used to explain unfused groups in the speed check.
 */
import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import { dataTypeName, DataType } from '../../ir/data-type.js';
import { opSupport } from '../../ops/op-support.js';
import { decodedConstant } from '../../ir/decoded-constant.js';

const isDq = (n: Node | null | undefined) => n?.opType === 'DequantizeLinear';
const isQ = (n: Node | null | undefined) => n?.opType === 'QuantizeLinear';

function quantType(v: Value | null | undefined): DataType | undefined {
  return v?.constant?.dataType;
}

function scaleValues(v: Value | null | undefined): Float32Array | undefined {
  return decodedConstant(v)?.toFloat32();
}

function biasScaleMismatch(node: Node): string | undefined {
  const x = node.input(0)?.producer;
  const w = node.input(1)?.producer;
  const b = node.input(2)?.producer;
  if (!isDq(x) || !isDq(w) || !isDq(b)) return undefined;
  const xs = scaleValues(x!.input(1))?.[0];
  const ws = scaleValues(w!.input(1));
  const bs = scaleValues(b!.input(1));
  if (xs === undefined || !ws || !bs) return undefined;
  for (let c = 0; c < bs.length; c++) {
    const expect = Math.fround(xs * ws[ws.length > 1 ? c : 0]!);
    if (Math.abs(bs[c]! - expect) > 1e-3 * Math.abs(expect)) return `bias scale ${bs[c]} differs from input scale x weight scale ${expect} (channel ${c})`;
  }
  if (quantType(b!.input(0)) !== DataType.INT32) return 'the bias is not int32';
  return undefined;
}

/** The reason ORT's CPU EP keeps this group in float, or undefined when the rules say it fuses. */
export function lintQdqGroup(node: Node, options: { activations: string }): string | undefined {
  if (options.activations === 'uint16' || options.activations === 'int16') {
    return 'ONNX Runtime has no 16-bit integer kernels on CPU: the op runs in float between Q/DQ (expected with 16-bit activations)';
  }
  const sup = opSupport(node.opType, node.domain);
  if (!sup?.ort) return `ONNX Runtime has no int8 kernel for ${node.opType}`;
  const inputs = node.inputs.map((v, i) => ({ v, i })).filter((x): x is { v: Value; i: number } => x.v !== null);
  const out = node.output(0);
  const consumers = out.uses.map((u) => u.node);
  const floatOutput = sup.ort.floatOutputKernel !== undefined && !consumers.some(isQ);
  for (const { v, i } of inputs) {
    if (node.opType === 'Clip' && i > 0) continue;
    // A float constant bias is quantized by ORT itself when the output is quantized (WeightBiasQuantization).
    if (i === sup.bias && v.constant && !floatOutput) continue;
    if (!isDq(v.producer)) return `input ${i} ('${v.name}') does not come from a DequantizeLinear`;
  }
  if (!floatOutput) {
    if (out.isGraphOutput) return `its output '${out.name}' is a graph output (ORT fuses only when a QuantizeLinear is the sole reader)`;
    if (!consumers.every(isQ) || consumers.length !== 1) return `its output is read by ${consumers.length} node(s), not by exactly one QuantizeLinear`;
  }
  const inType = quantType(node.input(0)?.producer?.input(2));
  const outQ = consumers.find(isQ);
  const outType = outQ ? quantType(outQ.input(2)) : undefined;
  if (sup.ort.sameType && inType !== undefined && outType !== undefined && inType !== outType) {
    return `input is ${dataTypeName(inType)} but output is ${dataTypeName(outType)} (ORT needs the same 8-bit type)`;
  }
  if (inType === DataType.INT8) {
    const fanOut = 'ORT converts int8 activations to uint8 only for single-reader Q/DQ pairs on x86';
    const q = node.input(0)?.producer?.input(0)?.producer;
    if (isQ(q) && q!.output(0).uses.length > 1) return `its int8 input is read by several nodes: ${fanOut}`;
    if (outQ && outQ.output(0).uses.length > 1) return `its int8 output is read by several nodes: ${fanOut}`;
  }
  if (node.opType === 'Conv' || node.opType === 'Gemm') return biasScaleMismatch(node);
  return undefined;
}
