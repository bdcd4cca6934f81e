/**
 * A Llama-shaped decoder at language-model scale (fixtures/generated/lm-large: 1.1B parameters,
 * 4.4 GB of external data, built by `sh fixtures/lm/build.sh large`): weight-only int4 through the
 * CLI in a child process (peak RSS, seconds, sizes with external data), then generation with the
 * KV cache in onnxruntime-node, float32 vs int4, 1 intra-op thread, rounds interleaved: prefill
 * time, decode tokens/s, next-token agreement on forced tokens. Skipped (with a note) when the
 * fixture has not been built: it is too large to build on demand.
 * SLIMNET_LM_DIR picks another decoder directory (e.g. fixtures/generated/lm-large-2).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../src/onnx/io.js';
import { modelSizeBytes } from '../../src/eval/hash.js';
import { runDecoder, nextTokenAgreement, type DecoderRun } from '../lib/decoder.js';
import { runNodeMeasured } from '../lib/peak-rss.js';
import type { Session } from '../../src/runtime/types.js';
import type { BenchReport, BenchSuite } from '../types.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MB = 1024 * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export const suite: BenchSuite = {
  name: 'lm-decoder',
  description: 'weight-only int4 of a 1.1B Llama-shaped decoder: peak RSS, size, decode tokens/s float32 vs int4 (KV cache)',
  async run({ engine, quick, log }): Promise<BenchReport> {
    const dir = process.env.SLIMNET_LM_DIR ?? join(ROOT, 'fixtures', 'generated', 'lm-large');
    const input = join(dir, 'model.onnx');
    if (!existsSync(input)) return { tables: [], metrics: {}, notes: [`skipped: ${input} is missing; build it with sh fixtures/lm/build.sh large (about 10 min, 4.4 GB)`] };
    const out = mkdtempSync(join(tmpdir(), 'slimnet-lm-bench-'));
    try {
      const q4 = join(out, 'q4.onnx');
      log('quantizing (CLI child process, weight-only int4 block 32)');
      const r = runNodeMeasured([join(ROOT, 'bin', 'slimnet.js'), 'quantize', input, '-o', q4, '--mode', 'weight-only', '--weights', 'int4', '--block-size', '32', '--json'], { SLIMNET_FROM_SOURCE: '1' });
      if (r.code !== 0) throw new Error(`quantize failed: ${r.stderr}`);
      const report = JSON.parse(r.stdout) as { input: { bytes: number }; output: { bytes: number } };
      const floatBytes = modelSizeBytes(loadModel(input), input);
      log('generating with the KV cache, float32 and int4 interleaved (1 intra-op thread)');
      const session = { intraOpThreads: 1, interOpThreads: 1 };
      const sessions: Session[] = [await engine.createSession(input, session), await engine.createSession(q4, session)];
      const prompt = Array.from({ length: 16 }, (_, i) => (i * 7919 + 13) % 32000);
      const steps = quick ? 4 : 16;
      const forced = Array.from({ length: steps }, (_, i) => (i * 104729 + 7) % 32000);
      const runs: DecoderRun[][] = [[], []];
      const rounds = quick ? 1 : 3;
      try {
        for (let round = 0; round < rounds; round++) {
          // Alternating the order each round, so neither model always runs on a warm cache.
          const order = round % 2 ? [1, 0] : [0, 1];
          for (const i of order) runs[i]!.push(await runDecoder(sessions[i]!, prompt, steps, forced));
        }
      } finally {
        for (const s of sessions) await s.release();
      }
      const summary = runs.map((rs) => ({
        prefillMs: median(rs.map((x) => x.prefillMs)),
        decodeMs: median(rs.flatMap((x) => x.decodeMs)),
      }));
      const logitsVocab = runs[0]![0]!.logits.length / (prompt.length + steps);
      const [ref, got] = [runs[0]![0]!.logits, runs[1]![0]!.logits];
      const agreement = nextTokenAgreement(ref, got, logitsVocab);
      let e = 0, r2 = 0;
      for (let i = 0; i < ref.length; i++) { e += (ref[i]! - got[i]!) ** 2; r2 += ref[i]! ** 2; }
      const logitError = Math.sqrt(e / r2);
      const tps = summary.map((s) => 1000 / s.decodeMs);
      return {
        tables: [{
          title: `decoder ${dir.split('/').pop()}: prompt ${prompt.length}, ${steps} decode steps x ${rounds} rounds, 1 thread`,
          columns: ['model', 'MB', 'size ratio', 'prefill ms', 'decode ms/token', 'tokens/s', 'speed-up'],
          rows: [
            ['float32', floatBytes / MB, 1, summary[0]!.prefillMs, summary[0]!.decodeMs, tps[0]!, 1],
            ['int4 b32 (acc 4)', report.output.bytes / MB, report.output.bytes / floatBytes, summary[1]!.prefillMs, summary[1]!.decodeMs, tps[1]!, tps[1]! / tps[0]!],
          ],
        }],
        metrics: {
          'lm-large.int4.quantize_s': r.seconds,
          'lm-large.int4.quantize_peak_mb': r.peakMb ?? NaN,
          'lm-large.int4.size_ratio': report.output.bytes / floatBytes,
          'lm-large.int4.speedup': tps[1]! / tps[0]!,
          'lm-large.fp32_decode_tps': tps[0]!,
          'lm-large.int4_decode_tps': tps[1]!,
          'lm-large.int4.next_token_agreement': agreement,
          'lm-large.int4.logit_rel_error': logitError,
        },
        notes: [
          `quantize: ${r.seconds.toFixed(1)} s, peak RSS ${r.peakMb?.toFixed(0) ?? '?'} MB (CLI child process), input counted with its external data: ${(report.input.bytes / MB).toFixed(1)} MB`,
          `float32 vs int4 over ${prompt.length + steps} positions: logit relative error ${logitError.toFixed(3)}, next-token agreement ${agreement.toFixed(3)} (random weights give nearly flat logits over 32000 tokens, so the argmax is fragile: a sanity check, not an accuracy figure)`,
        ],
      };
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
};
