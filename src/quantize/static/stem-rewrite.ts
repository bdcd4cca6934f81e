/**
 * Stem rewrite: a stride-2 convolution over few input channels (the 7x7 stem of ResNets, the 3x3
 * stem of MobileNets) is the slowest int8 layer in ONNX Runtime: its im2col gathers 3-byte runs,
 * and ResNet-50's stem runs at a quarter of the efficiency of the other int8 convolutions. The same
 * convolution can be written exactly as Pad -> SpaceToDepth(2) -> Conv with a (k+1)/2 kernel over
 * 4x the channels at stride 1 (weights rearranged, missing taps zero). The int8 weights are the
 * same values (zero taps change no channel's absmax), so quantization is unchanged; only the
 * layout gets faster. Applied only when the input's spatial size is known.
 */
import { Node } from '../../ir/node.js';
import { Value } from '../../ir/value.js';
import { Tensor } from '../../ir/tensor.js';
import type { Model } from '../../ir/model.js';
import { isTensorType } from '../../ir/types.js';

const MAX_CHANNELS = 4;

function candidate(node: Node): { k: number; pads: number[]; cin: number } | undefined {
  if (node.opType !== 'Conv' || node.domain !== '' || node.getInt('group', 1) !== 1) return undefined;
  const w = node.input(1)?.constant;
  if (!w || w.rank !== 4) return undefined;
  const [, cin, kh, kw] = w.dims as [number, number, number, number];
  if (cin > MAX_CHANNELS || kh !== kw || kh < 3 || kh % 2 === 0) return undefined;
  const strides = node.getInts('strides') ?? [1, 1];
  const dilations = node.getInts('dilations') ?? [1, 1];
  if (strides.join() !== '2,2' || dilations.join() !== '1,1') return undefined;
  if ((node.getString('auto_pad') ?? 'NOTSET') !== 'NOTSET') return undefined;
  const pads = node.getInts('pads') ?? [0, 0, 0, 0];
  return { k: kh, pads, cin };
}

/** Rearranges [O, C, k, k] into [O, 4C, k', k'] for SpaceToDepth's DCR channel order ((dy*2+dx)*C + c). */
function rearrange(w: Tensor, k: number): Tensor {
  const [o, c] = w.dims as [number, number];
  const k2 = (k + 1) >> 1;
  const src = w.toFloat32();
  const dst = new Float32Array(o * 4 * c * k2 * k2);
  for (let oo = 0; oo < o; oo++) {
    for (let cc = 0; cc < c; cc++) {
      for (let ky = 0; ky < k; ky++) {
        for (let kx = 0; kx < k; kx++) {
          const ch = ((ky & 1) * 2 + (kx & 1)) * c + cc;
          dst[((oo * 4 * c + ch) * k2 + (ky >> 1)) * k2 + (kx >> 1)] = src[((oo * c + cc) * k + ky) * k + kx]!;
        }
      }
    }
  }
  return Tensor.float([o, 4 * c, k2, k2], dst);
}

/** Rewrites eligible stem convolutions in the main graph; returns the names of the rewritten nodes. */
export function rewriteStems(model: Model): string[] {
  const g = model.graph;
  const done: string[] = [];
  if ((model.opset('') ?? 1) < 11) return done; // Pad takes its pads as an input from opset 11
  for (const node of [...g.nodes]) {
    const c = candidate(node);
    const x = node.input(0);
    const shape = x && isTensorType(x.type) ? x.type.shape : undefined;
    if (!c || !x || !shape || shape.length !== 4) continue;
    const [h, w] = [shape[2], shape[3]];
    if (typeof h !== 'number' || typeof w !== 'number') continue;
    const [pt, pl, pb, pr] = c.pads as [number, number, number, number];
    const extraH = (h + pt + pb) % 2;
    const extraW = (w + pl + pr) % 2;
    const fresh = (s: string) => model.names.fresh(`${node.name}_${s}`);
    const pads = g.addInitializer(fresh('s2d_pads'), Tensor.int64([8], [0, 0, pt, pl, 0, 0, pb + extraH, pr + extraW]));
    const padded = new Value(fresh('padded'));
    const s2d = new Value(fresh('s2d'));
    g.insertBefore(node, new Node('Pad', [x, pads], [padded], { name: fresh('pad') }));
    g.insertBefore(node, new Node('SpaceToDepth', [padded], [s2d], { name: fresh('space_to_depth'), attributes: { blocksize: 2 } }));
    const weight = g.addInitializer(fresh('s2d_weight'), rearrange(node.input(1)!.constant!, c.k));
    node.replaceInput(0, s2d);
    node.replaceInput(1, weight);
    const k2 = (c.k + 1) >> 1;
    node.setAttr('kernel_shape', [k2, k2]);
    node.setAttr('strides', [1, 1]);
    node.setAttr('pads', [0, 0, 0, 0]);
    done.push(node.name);
  }
  return done;
}
