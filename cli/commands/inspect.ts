import type { Command } from 'commander';
import { loadModel } from '../../src/onnx/io.js';
import { inspectModel, formatInspectReport } from '../../src/inspect/inspect.js';
import { examplesText } from '../examples.js';
import { action } from '../run-command.js';
import { print, printJson } from '../output.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show what a model is made of: opsets, inputs/outputs, ops, parameters, candidates for quantization and pruning')
    .argument('<model>', 'ONNX model file')
    .option('--json', 'print the report as JSON (schema slimnet.inspect/1)')
    .addHelpText('after', examplesText([
      'slimnet inspect fixtures/models/resnet_bn.onnx',
      'slimnet inspect fixtures/models/vit_tiny.onnx --json',
    ]))
    .action(action((modelPath: string, opts: { json?: boolean }) => {
      const model = loadModel(modelPath);
      const report = inspectModel(model, modelPath);
      if (opts.json) printJson(report);
      else print(formatInspectReport(report));
    }));
}
