/** The cross-suite summary of `npm run bench`: suites report metrics, the runner builds one table. */
import { describe, expect, it } from 'vitest';
import { summaryMetrics } from '../../bench/types.js';
import { gatherSummary, summaryTable } from '../../bench/summary.js';

describe('bench summary', () => {
  it('gathers summary metrics from every suite into rows and marks changes against the last run', () => {
    const quant = { tables: [], notes: [], metrics: { ...summaryMetrics('resnet_bn', 'int8-static', { accuracy_drop: 0.3, speedup: 2.1, size_ratio: 0.27, quantize_s: 1.5 }), 'other.metric': 5 } };
    const calib = { tables: [], notes: [], metrics: summaryMetrics('resnet_bn', 'entropy-1000', { calib_peak_mb: 412.4 }) };
    // Keys a suite already writes, without the helper: '<subject>.<field or alias>'.
    const plain = { tables: [], notes: [], metrics: { 'vit_tiny.top1_drop_points': 0.4, 'vit_tiny.speedup': 1.2, 'activations.int8_vs_uint8': 1.3, 'x.speedup': NaN } };
    const rows = gatherSummary({ 'static-int8': quant, calibration: calib, plain });
    expect(rows).toEqual([
      { suite: 'static-int8', model: 'resnet_bn', variant: 'int8-static', accuracy_drop: 0.3, speedup: 2.1, size_ratio: 0.27, quantize_s: 1.5 },
      { suite: 'calibration', model: 'resnet_bn', variant: 'entropy-1000', calib_peak_mb: 412.4 },
      { suite: 'plain', model: 'vit_tiny', variant: '-', accuracy_drop: 0.4, speedup: 1.2 },
    ]);
    const table = summaryTable(rows, [{ suite: 'static-int8', model: 'resnet_bn', variant: 'int8-static', speedup: 1.8, size_ratio: 0.2701 }]);
    expect(table.columns).toEqual(['suite', 'model', 'variant', 'acc. drop (pt)', 'speedup', 'size ratio', 'quantize (s)', 'calib. peak (MB)']);
    expect(table.rows[0]).toEqual(['static-int8', 'resnet_bn', 'int8-static', '0.30', '2.10x (was 1.80x)', '0.27x', '1.50', '-']);
    expect(table.rows[1]).toEqual(['calibration', 'resnet_bn', 'entropy-1000', '-', '-', '-', '-', '412']);
  });

  it('keeps the key format parseable', () => {
    expect(() => summaryMetrics('resnet.bn', 'int8', { speedup: 1 })).toThrow(/may not contain '\.'/);
    expect(summaryMetrics('m', 'v', { speedup: NaN, size_ratio: 0.5 })).toEqual({ 'm.v.size_ratio': 0.5 });
  });
});
