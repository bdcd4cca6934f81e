/**
 * Weight and bias quantization over typed arrays: symmetric per-channel (or per-tensor) scales,
 * integer weights, and int32 biases whose scale is input scale x weight scale. Weight scales are
 * raised for channels whose bias would not fit in int32 (ONNX Runtime PR #22020 does the same).
 */
import { splitChannels as split } from '../ir/channels.js';
import { DataType } from '../ir/data-type.js';
import { Tensor } from '../ir/tensor.js';
import { quantRange, quantizeValue, roundHalfEven, type QuantType } from './scheme.js';

const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;
const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;
/** Biases are kept below 2^30 so that adding the accumulator cannot overflow either. */
const BIAS_LIMIT = 2 ** 30;

/** Largest |w| of each channel. */
export function channelAbsMax(values: Float32Array, dims: readonly number[], axis: number | null): Float64Array {
  const { outer, channels, inner } = split(dims, axis);
  const out = new Float64Array(channels);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      let m = out[c]!;
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) {
        const a = Math.abs(values[base + i]!);
        if (a > m) m = a;
      }
      out[c] = m;
    }
  }
  return out;
}

export interface WeightScales {
  scales: Float32Array;
  zeroPoints: Int32Array;
}

/** Symmetric scales per channel. uint8 weights are int8 shifted by 128 (zero point 128 everywhere). */
export function symmetricWeightScales(absMax: Float64Array, type: 'int8' | 'uint8', reduceRange: boolean): WeightScales {
  const [qmin, qmax] = quantRange('int8', { symmetric: true, reduceRange });
  const scales = new Float32Array(absMax.length);
  for (let c = 0; c < absMax.length; c++) {
    const s = Math.fround((2 * absMax[c]!) / (qmax - qmin));
    // An all-zero channel: any scale represents it exactly.
    scales[c] = s >= FLOAT32_MIN_NORMAL ? s : 1;
  }
  return { scales, zeroPoints: new Int32Array(absMax.length).fill(type === 'uint8' ? 128 : 0) };
}

/**
 * Weights already quantized, per float tensor: the placement search builds several candidates
 * from the same weights, most with the same scales (ResNet-50: 0.75 s of rounding per candidate).
 * Held as long as the float tensor is (the int8 copy is a quarter of its size).
 */
const quantized = new WeakMap<Tensor, { axis: number | null; type: 'int8' | 'uint8'; scales: Float32Array; zeroPoints: Int32Array; q: Tensor }[]>();

const sameArray = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/**
 * Integer weights for given scales (round half to even, saturating like QuantizeLinear). Their
 * data may be shared with an earlier call's: never modify it in place.
 */
export function quantizeWeight(t: Tensor, axis: number | null, ws: WeightScales, type: 'int8' | 'uint8'): Tensor {
  const done = quantized.get(t) ?? [];
  const hit = done.find((d) => d.axis === axis && d.type === type && sameArray(d.scales, ws.scales) && sameArray(d.zeroPoints, ws.zeroPoints));
  // A tensor of its own (an initializer takes its name), on the same integers.
  if (hit) return hit.q.reshaped([...hit.q.dims]);
  const q = roundWeight(t, axis, ws, type);
  // A few variants per tensor at most (scales raised for a bias, another encoding).
  quantized.set(t, [...done.slice(-3), { axis, type, scales: ws.scales.slice(), zeroPoints: ws.zeroPoints.slice(), q }]);
  return q;
}

/** Integer weights for given scales (round half to even, saturating like QuantizeLinear). */
function roundWeight(t: Tensor, axis: number | null, ws: WeightScales, type: 'int8' | 'uint8'): Tensor {
  const values = t.toFloat32();
  const { outer, channels, inner } = split(t.dims, axis);
  const [lo, hi] = type === 'int8' ? [-128, 127] : [0, 255];
  const out = type === 'int8' ? new Int8Array(values.length) : new Uint8Array(values.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = ws.scales[c]!;
      const zp = ws.zeroPoints[c]!;
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) out[base + i] = quantizeValue(values[base + i]!, s, zp, lo, hi);
    }
  }
  return Tensor.fromTyped(type === 'int8' ? DataType.INT8 : DataType.UINT8, [...t.dims], out);
}

/** The bias scale ORT expects: float32 product of the input scale and each weight scale. */
export function biasScales(inputScale: number, weightScales: Float32Array): Float32Array {
  const out = new Float32Array(weightScales.length);
  for (let c = 0; c < out.length; c++) out[c] = Math.fround(inputScale * weightScales[c]!);
  return out;
}

/**
 * Raises weight scales where the bias, divided by input scale x weight scale, would leave the
 * int32 range (or where that product underflows float32). Returns the channels changed.
 */
export function raiseScalesForBias(ws: WeightScales, bias: Float32Array, inputScale: number): number[] {
  const raised: number[] = [];
  const perChannel = ws.scales.length > 1;
  for (let c = 0; c < ws.scales.length; c++) {
    let absBias = 0;
    if (perChannel) absBias = Math.abs(bias[c] ?? 0);
    else for (let i = 0; i < bias.length; i++) absBias = Math.max(absBias, Math.abs(bias[i]!));
    const needed = Math.max(absBias / (inputScale * BIAS_LIMIT), FLOAT32_MIN_NORMAL * 1024 / inputScale);
    if (ws.scales[c]! < needed) {
      ws.scales[c] = Math.fround(needed * 1.0001);
      raised.push(c);
    }
  }
  return raised;
}

/** int32 bias = round(bias / scale[c]), clipped to int32 (the count of clipped values is returned). */
export function quantizeBias(bias: Tensor, scales: Float32Array): { tensor: Tensor; clipped: number } {
  const values = bias.toFloat32();
  const out = new Int32Array(values.length);
  let clipped = 0;
  const perChannel = scales.length > 1;
  for (let i = 0; i < values.length; i++) {
    const q = roundHalfEven(values[i]! / scales[perChannel ? i : 0]!);
    if (q > INT32_MAX || q < INT32_MIN) clipped++;
    out[i] = Math.max(INT32_MIN, Math.min(INT32_MAX, q));
  }
  return { tensor: Tensor.fromTyped(DataType.INT32, [...bias.dims], out), clipped };
}

/** Quantizes a constant operand per tensor with activation parameters (an Add's bias, a Mul's factor). */
export function quantizeConstant(t: Tensor, scale: number, zeroPoint: number, type: QuantType): Tensor {
  const values = t.toFloat32();
  const [lo, hi] = quantRange(type);
  const dt = { uint8: DataType.UINT8, int8: DataType.INT8, uint16: DataType.UINT16, int16: DataType.INT16 }[type];
  const out = type === 'uint8' ? new Uint8Array(values.length) : type === 'int8' ? new Int8Array(values.length) : type === 'uint16' ? new Uint16Array(values.length) : new Int16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = quantizeValue(values[i]!, scale, zeroPoint, lo, hi);
  return Tensor.fromTyped(dt, [...t.dims], out);
}
