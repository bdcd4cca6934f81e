/** Single TensorProto files (ONNX test data: test_data_set_0/input_0.pb). */
import type { Tensor } from '../ir/tensor.js';
import { DataError } from '../errors.js';
import { onnxTypes, type TensorMsg } from './schema.js';
import { decodeTensor } from './decode-tensor.js';
import { encodeTensor } from './encode.js';

export function decodeTensorFile(bytes: Uint8Array, source: string): Tensor {
  let msg: TensorMsg;
  try {
    msg = onnxTypes().TensorProto.decode(bytes) as unknown as TensorMsg;
  } catch (err) {
    throw new DataError(`${source}: not a TensorProto file (${(err as Error).message})`);
  }
  try {
    return decodeTensor(msg, { source });
  } catch (err) {
    throw new DataError(`${source}: ${(err as Error).message}`);
  }
}

export function encodeTensorFile(t: Tensor): Uint8Array {
  return onnxTypes().TensorProto.encode(encodeTensor(t) as never).finish();
}
