/**
 * A content hash of a model (sha256): the graph structure as encoded protobuf, with every tensor's
 * bytes hashed as they stream past instead of being copied into one buffer, so models with external
 * data and models over 2 GB hash without being materialized. The same IR always gives the same hash;
 * ranges.json records it so that ranges are never applied to a model they were not computed for.
 */
import { createHash } from 'node:crypto';
import type { Model } from '../ir/model.js';
import { encodeModel } from './encode.js';

export function modelHash(model: Model): string {
  const tensors = createHash('sha256');
  let index = 0;
  const structure = encodeModel(model, {
    external(t) {
      const bytes = t.bytes();
      tensors.update(bytes);
      // A stand-in location that depends only on the order and size of the tensors.
      return { location: 'hashed', offset: index++, length: bytes.byteLength };
    },
  });
  return createHash('sha256').update(structure).update(tensors.digest()).digest('hex');
}
