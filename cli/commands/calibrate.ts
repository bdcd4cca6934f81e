import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { jsonLimitBytes, readDataFile } from '../../src/calibrate/data/read-file.js';
import type { Command as CommanderCommand } from 'commander';
import { loadModel } from '../../src/onnx/io.js';
import { calibrate } from '../../src/calibrate/calibrate.js';
import { saveRanges, rangesDocument } from '../../src/calibrate/store.js';
import { formatCalibration } from '../../src/calibrate/report.js';
import { defaultCalibrationTensors } from '../../src/calibrate/stats/tensors.js';
import { RANGE_METHODS } from '../../src/calibrate/ranges/estimate.js';
import type { ImagePreprocess } from '../../src/calibrate/data/images.js';
import type { QuantTarget, RangeMethod } from '../../src/calibrate/types.js';
import { OptionError } from '../../src/errors.js';
import { examplesText } from '../examples.js';
import { action } from '../run-command.js';
import { note, print, printJson, QUIET_HELP, VERBOSE_HELP } from '../output.js';
import { terminalProgress } from '../progress.js';
import { checkOutputs, type InputPath } from '../outputs.js';
import { refuseConflicts, type FlagRule } from '../conflicts.js';
import { modelFiles } from '../../src/eval/hash.js';
import { checkRuntimeSupport } from '../../src/runtime/ort-support.js';

interface CalibrateFlags {
  calib: string;
  output?: string;
  method: string;
  percentile?: string;
  movingAverage?: boolean;
  target: string;
  symmetric?: boolean;
  calibSize?: string;
  seed?: string;
  batchSize?: string;
  tensors: string;
  preprocess?: string;
  threads?: string;
  json?: boolean;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const RULES: FlagRule[] = [
  { given: ['percentile'], when: (o) => o.method !== 'percentile', message: '--percentile only applies to --method percentile; add --method percentile or drop --percentile' },
  { given: ['movingAverage'], when: (o) => o.method !== 'minmax', message: '--moving-average only applies to --method minmax' },
  { given: ['seed'], when: (o) => o.calibSize === undefined, message: '--seed chooses the subset of --calib-size; without --calib-size every sample is used' },
  { given: ['preprocess'], when: (o) => typeof o.calib === 'string' && !isDirectory(o.calib), message: '--preprocess applies to a directory of images; --calib is a file' },
];

function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new OptionError(`${flag}: expected a positive integer (got '${v}')`);
  return n;
}

/** --preprocess: a preset name, inline JSON, or a JSON file. */
function preprocessFlag(v: string | undefined): ImagePreprocess | string | undefined {
  if (v === undefined) return undefined;
  const text = v.trim().startsWith('{') ? v : existsSync(v) ? readDataFile(v, jsonLimitBytes()).toString('utf8') : undefined;
  if (text === undefined) return v;
  try {
    return JSON.parse(text) as ImagePreprocess;
  } catch (err) {
    throw new OptionError(`--preprocess: not valid JSON (${(err as Error).message})`);
  }
}

export function registerCalibrate(program: Command): void {
  program
    .command('calibrate')
    .description('run data through a model and choose a quantization range for each activation; save them as ranges.json')
    .argument('<model>', 'ONNX model file')
    .requiredOption('--calib <path>', 'calibration data: .npz/.npy/.json/.jsonl file, or a directory of .npy/.npz files, images or ONNX test data')
    .option('-o, --output <file>', 'write the ranges here (ranges.json) for slimnet quantize --ranges')
    .option('--method <method>', `how ranges are chosen: ${RANGE_METHODS.join(', ')}`, 'minmax')
    .option('--percentile <p>', 'for --method percentile: keep this percentage of values (default 99.999)')
    .option('--moving-average', 'for --method minmax: average the per-batch min/max instead of the extremes')
    .option('--target <type>', 'integer type the ranges are for: uint8, int8, uint16, int16', 'uint8')
    .option('--symmetric', 'symmetric ranges (zero point 0)')
    .option('--calib-size <n>', 'use a fixed subset of n samples')
    .option('--seed <n>', 'seed of that subset', '0')
    .option('--batch-size <n>', 'samples per inference for models with a dynamic batch axis (default 16)')
    .option('--tensors <which>', "'all' (every float activation: what slimnet quantize --ranges may ask for), 'quantizable' (fewer tensors, so ONNX Runtime keeps more fusions: faster), or comma-separated names", 'all')
    .option('--preprocess <spec>', "images: a preset (imagenet, unit, raw), JSON steps ({\"resize\":256,\"crop\":[224,224],\"mean\":[...],\"std\":[...]}) or a JSON file")
    .option('--threads <n>', 'ONNX Runtime intra-op threads')
    .option('--json', 'print the result as JSON (schema slimnet.ranges/1)')
    .option('-q, --quiet', QUIET_HELP)
    .option('-v, --verbose', VERBOSE_HELP)
    .addHelpText('after', examplesText([
      'slimnet calibrate fixtures/models/resnet_bn.onnx --calib fixtures/data/fmnist_calib.npz --calib-size 32 -o out/resnet.ranges.json',
      'slimnet calibrate fixtures/models/mobilenet_dw.onnx --calib fixtures/data/fmnist_calib.npz --calib-size 32 --method percentile --percentile 99.99 --json',
    ]))
    .action(action(async (modelPath: string, flags: CalibrateFlags, command: CommanderCommand) => {
      refuseConflicts(command, RULES);
      if (!RANGE_METHODS.includes(flags.method as RangeMethod)) throw new OptionError(`--method: must be one of ${RANGE_METHODS.join(', ')} (got '${flags.method}')`);
      if (!['uint8', 'int8', 'uint16', 'int16'].includes(flags.target)) throw new OptionError(`--target: must be uint8, int8, uint16 or int16 (got '${flags.target}')`);
      const percentile = flags.percentile === undefined ? undefined : Number(flags.percentile);
      if (percentile !== undefined && !(percentile > 0 && percentile <= 100)) throw new OptionError(`--percentile: must be in (0, 100] (got '${flags.percentile}')`);
      const model = loadModel(modelPath);
      checkRuntimeSupport(model, modelPath);
      if (flags.output) {
        const inputs: InputPath[] = [
          ...modelFiles(model, modelPath).map((path, i) => ({ what: i === 0 ? 'the model' : "the model's external data", path })),
          { what: 'the calibration data (--calib)', path: flags.calib },
        ];
        if (flags.preprocess && existsSync(flags.preprocess)) inputs.push({ what: 'the --preprocess file', path: flags.preprocess });
        checkOutputs([{ flag: '-o', path: flags.output }], inputs);
      }
      const tensors = flags.tensors === 'all' || flags.tensors === 'quantizable' ? defaultCalibrationTensors(model, flags.tensors) : flags.tensors.split(',').map((s) => s.trim()).filter(Boolean);
      const threads = positiveInt('--threads', flags.threads);
      const limit = positiveInt('--calib-size', flags.calibSize);
      const batchSize = positiveInt('--batch-size', flags.batchSize);
      const seed = Number(flags.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new OptionError(`--seed: expected a non-negative integer (got '${flags.seed}')`);
      const preprocess = preprocessFlag(flags.preprocess);
      const target: QuantTarget = { type: flags.target as QuantTarget['type'], symmetric: !!flags.symmetric };
      const result = await calibrate(model, flags.calib, {
        method: flags.method as RangeMethod, target, tensors, seed,
        ...(percentile !== undefined ? { percentile } : {}),
        ...(flags.movingAverage ? { movingAverage: true } : {}),
        ...(limit !== undefined ? { limit } : {}),
        ...(batchSize !== undefined ? { batchSize } : {}),
        ...(threads !== undefined ? { session: { intraOpThreads: threads } } : {}),
        ...(preprocess !== undefined ? { data: { preprocess } } : {}),
        onProgress: terminalProgress(),
      });
      if (flags.output) saveRanges(result, flags.output, { modelSource: modelPath });
      if (flags.json) printJson(rangesDocument(result, modelPath));
      else {
        print(formatCalibration(result));
        if (flags.output) print(`\nRanges written to ${flags.output}`);
        else note('(no -o given: ranges not saved)');
      }
    }));
}
