/** benchmark(): rows per model and provider, honest about missing providers, and this CPU's int8 flags. */
import { describe, expect, it } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { benchmark } from '../../src/eval/benchmark.js';
import { detectHardware } from '../../src/target/hardware.js';
import { syntheticFeeds } from '../../src/eval/bench-feeds.js';
import { explainProviderFailure } from '../../src/runtime/providers.js';
import { loadModel } from '../../src/onnx/io.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/data-type.js';
import { tensorType } from '../../src/ir/types.js';
import { FIXTURES, SYNTHETIC, THIRD_PARTY, TRAINED } from '../helpers.js';

describe('benchmark', () => {
  it('times every model on every available provider and reports the others with how to install them', async () => {
    const a = join(TRAINED, 'resnet_bn.onnx');
    const b = join(TRAINED, 'mobilenet_dw.onnx');
    const r = await benchmark([a, b], { providers: ['cpu', 'cuda'], runs: 5, warmup: 2, batch: 2, data: new NpzDataset(join(FIXTURES, 'data', 'fmnist_test.npz')) });
    expect(r.rows.map((x) => `${x.model.split('/').pop()}:${x.provider}:${x.available}`)).toEqual([
      'resnet_bn.onnx:cpu:true', 'mobilenet_dw.onnx:cpu:true', 'resnet_bn.onnx:cuda:false', 'mobilenet_dw.onnx:cuda:false',
    ]);
    const [ra, rb, ca] = r.rows;
    expect(ra!.latency!.runs).toBe(5);
    expect(ra!.speedup).toBe(1);
    expect(rb!.speedup).toBeCloseTo(ra!.latency!.medianMs / rb!.latency!.medianMs, 12);
    expect(rb!.throughput).toBeCloseTo((2 * 1000) / rb!.latency!.medianMs, 9);
    expect(ra!.sizeBytes).toBe(statSync(a).size);
    expect(rb!.sizeRatio).toBeCloseTo(statSync(b).size / statSync(a).size, 12);
    // Peak memory comes from a separate process per model: above what the runtime alone takes.
    expect(ra!.peakRssBytes).toBeGreaterThan(ra!.modelMemoryBytes!);
    expect(ra!.modelMemoryBytes).toBeGreaterThan(0);
    expect(ca!.latency).toBeUndefined();
    expect(ca!.reason).toMatch(/CUDA: .*ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
    expect(r.hardware.ortVersion).toBe('1.30.0');
  });

  it('reports this CPU\'s int8-relevant flags as /proc/cpuinfo lists them', () => {
    const hw = detectHardware();
    let cpuinfo = '';
    try { cpuinfo = readFileSync('/proc/cpuinfo', 'utf8'); } catch { return; }
    const flags = new Set((/^(flags|Features)\s*:\s*(.*)$/m.exec(cpuinfo)?.[2] ?? '').split(/\s+/));
    for (const f of ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'amx_int8', 'asimddp']) expect(hw.int8Flags.includes(f)).toBe(flags.has(f));
    expect(hw.hasVnni).toBe(flags.has('avx512_vnni') || flags.has('avx_vnni') || flags.has('asimddp') || flags.has('amx_int8'));
  });

  it('synthesizes inputs from declared shapes and asks for data when it cannot', () => {
    const feeds = syntheticFeeds(loadModel(join(SYNTHETIC, 'conv_block.onnx')), 3);
    expect(feeds.input!.dims).toEqual([3, 3, 16, 16]);
    const values = feeds.input!.data as Float32Array;
    expect(Math.min(...values)).toBeGreaterThanOrEqual(-1);
    expect(new Set(values).size).toBeGreaterThan(700);
    expect(syntheticFeeds(loadModel(join(SYNTHETIC, 'lstm.onnx')), 2).sequence!.dims).toEqual([6, 2, 8]);
    expect(() => syntheticFeeds(loadModel(THIRD_PARTY.ocrRec()), 1)).toThrow(/input 'x' has a symbolic dimension 'p2o.DynamicDimension.1' besides the batch; give sample data with --data/);
  });

  it('counts the samples a model fixed to batch 1 really ran in its throughput, and says so', async () => {
    const b = new GraphBuilder({ opset: 17 });
    b.output(b.op('Relu', [b.input('x', DataType.FLOAT, [1, 64])], {}, { outputNames: ['y'] }), tensorType(DataType.FLOAT, [1, 64]));
    const r = await benchmark([b.model], { runs: 5, warmup: 1, batch: 4, memory: false });
    const row = r.rows[0]!;
    expect(row.throughput).toBeCloseTo(1000 / row.latency!.medianMs, 9);
    expect(r.notes.join('\n')).toMatch(/takes batches of 1 sample; it was timed on that, not on 4/);
  });

  it('explains a provider that is installed but cannot start, in one line with the way out', () => {
    const ort = 'ONNX Runtime cannot load m.onnx: webgpu: /onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 lambda adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters';
    expect(explainProviderFailure('webgpu', ort)).toMatch(/^WebGPU found no GPU adapter.*apt-get install libvulkan1 mesa-vulkan-drivers/);
    expect(explainProviderFailure('dml', 'x.cc:12 Foo was false. Device removed')).toBe('dml failed to start: Device removed');
  });

  it('rejects bad options with the flag name', async () => {
    await expect(benchmark([join(TRAINED, 'resnet_bn.onnx')], { providers: ['tpu' as never] })).rejects.toThrow(/--ep: unknown execution provider 'tpu'/);
    await expect(benchmark([join(TRAINED, 'resnet_bn.onnx')], { runs: 0 })).rejects.toThrow(/--runs must be a positive integer/);
  });
});
