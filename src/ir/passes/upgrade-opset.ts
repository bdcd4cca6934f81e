/**
 * Raises a model's default-domain opset to 10, the first with QLinearConv/QLinearMatMul. ONNX
 * Runtime's QDQ fusion writes those ONNX-domain ops even into an opset-9 model, which it then
 * rejects; upgrading first avoids that. Only ops whose schema changed between the model's opset and
 * 10 need work, and those changes are few (ONNX's operator changelog, versions 8 to 10):
 *
 * - Slice-10: starts/ends/axes move from attributes to inputs;
 * - TopK-10: k moves from an attribute to an input;
 * - Upsample-9: scales move from an attribute to an input; Upsample-10 is deprecated in favour of
 *   Resize-10, which has Upsample-9's exact semantics (ONNX's own version converter renames it);
 * - BatchNormalization-9: the `spatial` attribute is gone (only spatial=1 maps over);
 * - Scan-9: a different signature (no adapter: refused).
 *
 * Every other op in versions 7..10 only gained types or optional attributes with the old default.
 * A model older than opset 7 (legacy broadcast attributes) is refused. Nothing is ever converted
 * approximately: an op without an exact adapter stops the upgrade with an error naming it.
 */
import type { Graph } from '../graph.js';
import type { Model } from '../model.js';
import type { Node } from '../node.js';
import { Tensor } from '../tensor.js';
import { UnsupportedOpError } from '../../errors.js';

const TARGET = 10;

function int64Input(g: Graph, model: Model, base: string, values: number[]): import('../value.js').Value {
  return g.addInitializer(model.names.fresh(base), Tensor.int64([values.length], values));
}

function upgradeNode(node: Node, g: Graph, model: Model, from: number): void {
  if (node.domain !== '') return;
  const label = `${model.label()}: node ${node.label()}`;
  switch (node.opType) {
    case 'Slice': {
      const starts = node.getInts('starts');
      const ends = node.getInts('ends');
      if (!starts || !ends) throw new UnsupportedOpError(`${label} has no starts/ends attributes`);
      const axes = node.getInts('axes');
      node.truncateInputs(1);
      node.appendInput(int64Input(g, model, `${node.name}_starts`, starts));
      node.appendInput(int64Input(g, model, `${node.name}_ends`, ends));
      if (axes) node.appendInput(int64Input(g, model, `${node.name}_axes`, axes));
      for (const a of ['starts', 'ends', 'axes']) node.attributes.delete(a);
      return;
    }
    case 'TopK': {
      const k = node.getInt('k');
      if (k === undefined) throw new UnsupportedOpError(`${label} has no k attribute`);
      node.truncateInputs(1);
      node.appendInput(int64Input(g, model, `${node.name}_k`, [k]));
      node.attributes.delete('k');
      return;
    }
    case 'Upsample': {
      if (from < 9) {
        const scales = node.getFloats('scales');
        if (!scales) throw new UnsupportedOpError(`${label} has no scales attribute`);
        node.truncateInputs(1);
        node.appendInput(g.addInitializer(model.names.fresh(`${node.name}_scales`), Tensor.float([scales.length], scales)));
        node.attributes.delete('scales');
      }
      node.opType = 'Resize';
      return;
    }
    case 'BatchNormalization':
      if (from < 9 && node.getInt('spatial', 1) !== 1) throw new UnsupportedOpError(`${label} uses spatial=0, which BatchNormalization dropped in opset 9; slimnet cannot upgrade it exactly`);
      node.attributes.delete('spatial');
      return;
    case 'Scan':
      if (from < 9) throw new UnsupportedOpError(`${label}: Scan changed its signature in opset 9; slimnet cannot upgrade it`);
      return;
  }
}

/**
 * Upgrades the default-domain opset of `model` to 10 in place (all graphs). Returns false when the
 * model is already at 10 or above.
 */
export function upgradeOpsetTo10(model: Model): boolean {
  const from = model.opset('') ?? 1;
  if (from >= TARGET) return false;
  if (from < 7) {
    throw new UnsupportedOpError(`${model.label()} is opset ${from}; slimnet upgrades models from opset 7 on (older ones use legacy broadcasting). Re-export it at opset 13 or newer`);
  }
  for (const g of model.graph.allGraphs()) for (const node of [...g.nodes]) upgradeNode(node, g, model, from);
  model.opsetImports.set('', TARGET);
  return true;
}
