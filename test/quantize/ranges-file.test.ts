/** Quantizing from a ranges.json recorded by `slimnet calibrate` on the original model. */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadModel } from '../../src/onnx/io.js';
import { Engine } from '../../src/runtime/engine.js';
import { calibrate } from '../../src/calibrate/calibrate.js';
import { saveRanges } from '../../src/calibrate/store.js';
import { quantize } from '../../src/quantize/quantize.js';
import { FIXTURES, TRAINED } from '../helpers.js';

const engine = new Engine({ intraOpThreads: 1 });
const TMP = mkdtempSync(join(tmpdir(), 'slimnet-ranges-'));
afterAll(async () => {
  await engine.close();
  rmSync(TMP, { recursive: true, force: true });
});

describe('quantize --ranges', () => {
  it('fills tensors renamed by pre-processing (Gathers fused into a Split) from the tensors they move', async () => {
    const model = loadModel(join(TRAINED, 'vit_tiny.onnx'));
    const result = await calibrate(model, join(FIXTURES, 'data', 'fmnist_calib.npz'), { limit: 64, engine });
    const path = join(TMP, 'vit.ranges.json');
    saveRanges(result, path);
    const q = await quantize(model, { ranges: path, engine });
    // Quantized nodes, or (when int8 was measured no faster) int8-stored weights.
    expect(q.summary.quantized.length + q.plan.stored.length).toBeGreaterThan(0);
    expect(q.plan.notes.join('\n')).toMatch(/had no recorded range; each takes the range of the tensor it is moved from/);
    // Without calibration data the placement is still timed, on a synthetic input.
    expect(q.speedCheck?.latency?.quantizedMs).toBeGreaterThan(0);
  });
});
