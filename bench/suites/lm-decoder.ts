/**
 * A Llama-shaped decoder at language-model scale (fixtures/generated/lm-large: 1.1B parameters,
 * 4.4 GB of external data, built by `sh fixtures/lm/build.sh large`): weight-only int4 through the
 * CLI in a child process (peak RSS, seconds, sizes with external data), then generation with the
 * KV cache in onnxruntime-node, float32 vs int4, 1 intra-op thread, rounds interleaved: prefill
 * time, decode tokens/s, next-token agreement on forced tokens. Skipped (with a note) when the
 * fixture has not been built: it is too large to build on demand.
 * SLIMNET_LM_DIR picks another decoder directory (e.g. fixtures/generated/lm-large-2);
 * SLIMNET_LM_ALGORITHMS=rtn,gptq,awq adds GPTQ and AWQ (calibrated on 32 random prompts of 64 tokens).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../src/onnx/io.js';
import { modelSizeBytes } from '../../src/eval/hash.js';
import { runDecoder, nextTokenAgreement, promptDataset, type DecoderRun } from '../lib/decoder.js';
import { encodeNpz } from '../../src/calibrate/data/npz.js';
import { runNodeMeasured } from '../lib/peak-rss.js';
import type { Session } from '../../src/runtime/types.js';
import type { BenchReport, BenchSuite } from '../types.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MB = 1024 * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
/** Algorithms to quantize with (SLIMNET_LM_ALGORITHMS=rtn,gptq,awq; default rtn: GPTQ and AWQ take tens of minutes at 1.1B). */
const ALGORITHMS = (process.env.SLIMNET_LM_ALGORITHMS ?? 'rtn').split(',').map((a) => a.trim()).filter(Boolean);

export const suite: BenchSuite = {
  name: 'lm-decoder',
  description: 'weight-only int4 of a 1.1B Llama-shaped decoder: peak RSS, size, decode tokens/s float32 vs int4 (KV cache)',
  async run({ engine, quick, log }): Promise<BenchReport> {
    const dir = process.env.SLIMNET_LM_DIR ?? join(ROOT, 'fixtures', 'generated', 'lm-large');
    const input = join(dir, 'model.onnx');
    if (!existsSync(input)) return { tables: [], metrics: {}, notes: [`skipped: ${input} is missing; build it with sh fixtures/lm/build.sh large (about 10 min, 4.4 GB)`] };
    const out = mkdtempSync(join(tmpdir(), 'slimnet-lm-bench-'));
    try {
      const floatModel = loadModel(input);
      // The fixture script writes the shapes next to the model.
      const config = join(dir, 'config.json');
      const vocab = existsSync(config) ? (JSON.parse(readFileSync(config, 'utf8')) as { config: { vocab: number } }).config.vocab : 32000;
      const floatBytes = modelSizeBytes(floatModel, input);
      // GPTQ and AWQ calibrate on random prompts (the weights are random too): 32 x 64 tokens, empty cache.
      const calib = join(out, 'calib.npz');
      const prompts = promptDataset(floatModel, vocab, 32, 64, 1);
      writeFileSync(calib, encodeNpz(Object.fromEntries(prompts.inputNames.map((n) => [n, prompts.array(n)]))));
      const quantized: { algorithm: string; path: string; seconds: number; peakMb: number | undefined; bytes: number; note: string }[] = [];
      for (const algorithm of ALGORITHMS) {
        const path = join(out, `${algorithm}.onnx`);
        log(`quantizing with ${algorithm.toUpperCase()} (CLI child process, weight-only int4 block 32)`);
        const r = runNodeMeasured([join(ROOT, 'bin', 'slimnet.js'), 'quantize', input, '-o', path, '--mode', 'weight-only', '--weights', 'int4', '--block-size', '32', '--algorithm', algorithm, ...(algorithm === 'rtn' ? [] : ['--calib', calib]), '--json'], { SLIMNET_FROM_SOURCE: '1' });
        if (r.code !== 0) throw new Error(`quantize (${algorithm}) failed: ${r.stderr}`);
        const report = JSON.parse(r.stdout) as { output: { bytes: number }; summary: { notes?: string[] } };
        quantized.push({ algorithm, path, seconds: r.seconds, peakMb: r.peakMb, bytes: report.output.bytes, note: (report.summary.notes ?? []).find((n) => /layer by layer/.test(n)) ?? '' });
      }
      log('generating with the KV cache, float32 and int4 interleaved (1 intra-op thread)');
      const session = { intraOpThreads: 1, interOpThreads: 1 };
      const sessions: Session[] = [await engine.createSession(input, session)];
      const prompt = Array.from({ length: 16 }, (_, i) => (i * 7919 + 13) % vocab);
      const steps = quick ? 4 : 16;
      const forced = Array.from({ length: steps }, (_, i) => (i * 104729 + 7) % vocab);
      const runs: DecoderRun[][] = [[]];
      const rounds = quick ? 1 : 3;
      try {
        for (const q of quantized) { sessions.push(await engine.createSession(q.path, session)); runs.push([]); }
        for (let round = 0; round < rounds; round++) {
          // Alternating the order each round, so no model always runs on a warm cache.
          const order = sessions.map((_, i) => i);
          if (round % 2) order.reverse();
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
      const ref = runs[0]![0]!.logits;
      const compare = (got: Float32Array) => {
        let e = 0, r2 = 0;
        for (let i = 0; i < ref.length; i++) { e += (ref[i]! - got[i]!) ** 2; r2 += ref[i]! ** 2; }
        return { agreement: nextTokenAgreement(ref, got, logitsVocab), logitError: Math.sqrt(e / r2) };
      };
      const tps = summary.map((s) => 1000 / s.decodeMs);
      const metrics: Record<string, number> = { 'lm-large.fp32_decode_tps': tps[0]! };
      const rows: (string | number)[][] = [['float32', '-', '-', floatBytes / MB, 1, summary[0]!.prefillMs, summary[0]!.decodeMs, tps[0]!, 1, '-', '-']];
      const notes: string[] = [];
      quantized.forEach((q, k) => {
        const i = k + 1;
        const { agreement, logitError } = compare(runs[i]![0]!.logits);
        rows.push([`int4 b32 ${q.algorithm.toUpperCase()} (acc 4)`, q.seconds, q.peakMb ?? NaN, q.bytes / MB, q.bytes / floatBytes, summary[i]!.prefillMs, summary[i]!.decodeMs, tps[i]!, tps[i]! / tps[0]!, logitError, agreement]);
        // RTN keeps the metric names the summary has always had.
        const key = q.algorithm === 'rtn' ? 'lm-large.int4' : `lm-large.int4-${q.algorithm}`;
        Object.assign(metrics, {
          [`${key}.quantize_s`]: q.seconds, [`${key}.quantize_peak_mb`]: q.peakMb ?? NaN, [`${key}.size_ratio`]: q.bytes / floatBytes,
          [`${key}.speedup`]: tps[i]! / tps[0]!, [`${key}.next_token_agreement`]: agreement, [`${key}.logit_rel_error`]: logitError,
        });
        if (q.algorithm === 'rtn') metrics['lm-large.int4_decode_tps'] = tps[i]!;
        if (q.note) notes.push(`${q.algorithm.toUpperCase()}: ${q.note}`);
      });
      notes.push(`input counted with its external data: ${(floatBytes / MB).toFixed(1)} MB; quantize seconds and peak RSS are the CLI child process's`);
      notes.push(`logit error and next-token agreement against float32 over the prompt and the forced tokens (random weights give nearly flat logits over ${vocab} tokens, so the argmax is fragile: a sanity check, not an accuracy figure)`);
      return {
        tables: [{
          title: `decoder ${dir.split('/').pop()}: prompt ${prompt.length}, ${steps} decode steps x ${rounds} rounds, 1 thread`,
          columns: ['model', 'quantize s', 'peak MB', 'MB', 'size ratio', 'prefill ms', 'decode ms/token', 'tokens/s', 'speed-up', 'logit error', 'agreement'],
          rows,
        }],
        metrics,
        notes,
      };
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
};
