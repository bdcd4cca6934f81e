/** The cross-suite summary of `npm run bench`: suites report metrics, the runner builds one table. */
import { describe, expect, it } from 'vitest';
import { summaryMetrics } from '../../bench/types.js';
import { gatherSummary, summaryTable } from '../../bench/summary.js';

describe('bench summary', () => {
  it('gathers summary metrics from every suite into rows and marks changes against the last run', () => {
    const quant = { tables: [], notes: [], metrics: { ...summaryMetrics('resnet_bn', 'int8-static', { accuracy_drop: 0.3, speedup: 2.1, size_ratio: 0.27, quantize_s: 1.5 }), 'other.metric': 5 } };
    const calib = { tables: [], notes: [], metrics: summaryMetrics('resnet_bn', 'entropy-1000', { calib_peak_mb: 412.4 }) };
    const rows = gatherSummary({ 'static-int8': quant, calibration: calib });
    expect(rows).toEqual([
      { suite: 'static-int8', model: 'resnet_bn', variant: 'int8-static', accuracy_drop: 0.3, speedup: 2.1, size_ratio: 0.27, quantize_s: 1.5 },
      { suite: 'calibration', model: 'resnet_bn', variant: 'entropy-1000', calib_peak_mb: 412.4 },
    ]);
    const table = summaryTable(rows, [{ suite: 'static-int8', model: 'resnet_bn', variant: 'int8-static', speedup: 1.8, size_ratio: 0.2701 }]);
    expect(table.columns).toEqual(['suite', 'model', 'variant', 'acc. drop (pt)', 'speedup', 'size ratio', 'quantize (s)', 'calib. peak (MB)']);
    expect(table.rows[0]).toEqual(['static-int8', 'resnet_bn', 'int8-static', '0.30', '2.10x (was 1.80x)', '0.27x', '1.50', '-']);
    expect(table.rows[1]).toEqual(['calibration', 'resnet_bn', 'entropy-1000', '-', '-', '-', '-', '412']);
  });

  it('keeps the key format parseable', () => {
    expect(() => summaryMetrics('resnet.bn', 'int8', { speedup: 1 })).toThrow(/may not contain '\.'/);
    expect(summaryMetrics('m', 'v', { speedup: NaN, size_ratio: 0.5 })).toEqual({ 'summary.m.v.size_ratio': 0.5 });
  });
});
