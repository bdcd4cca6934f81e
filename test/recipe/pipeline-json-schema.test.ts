/**
 * docs/schemas/slimnet.pipeline-1.schema.json is what src/recipe/pipeline/json-schema.ts derives
 * from the parser's key table, and it accepts and refuses what the parser accepts and refuses.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import AjvModule from 'ajv';
import { FIXTURES, ROOT } from '../helpers.js';
import { pipelineJsonSchema } from '../../src/recipe/pipeline/json-schema.js';
import { parsePipeline } from '../../src/recipe/pipeline/parse.js';

const Ajv = (AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule;
const file = join(ROOT, 'docs', 'schemas', 'slimnet.pipeline-1.schema.json');
const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(JSON.parse(readFileSync(file, 'utf8')));

function parserAccepts(text: string): boolean {
  try {
    parsePipeline(text, 'p.yaml');
    return true;
  } catch {
    return false;
  }
}

describe('pipeline JSON Schema', () => {
  it('the committed file is the one derived from the key table (regenerate it when a key changes)', () => {
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(pipelineJsonSchema());
  });

  it('agrees with the parser on the fixture pipeline and on broken copies of it', () => {
    const text = readFileSync(join(FIXTURES, 'pipelines', 'prune-quantize.yaml'), 'utf8');
    const cases: [string, string][] = [
      ['as committed', text],
      ['sparsity as a percentage', text.replace('sparsity: 0.3', 'sparsity: "30%"')],
      ['unknown step key', text.replace('sparsity: 0.3', 'sparsity: 0.3, sparsty: 0.3')],
      ['sparsity out of range', text.replace('sparsity: 0.3', 'sparsity: 3')],
      ['runs not an integer', text.replace('runs: 10, warmup', 'runs: ten, warmup')],
      ['mode not a mode', text.replace('mode: dynamic', 'mode: int3')],
      ['output missing', text.replace(', output: ../../out/vit.pruned.onnx', '')],
      ['unknown step', text.replace('- bench:', '- benchmark:')],
      ['unknown top-level key', `${text}\nextra: 1\n`],
      ['no steps', 'model: m.onnx\nsteps: []\n'],
    ];
    for (const [what, t] of cases) {
      const ok = validate(parseYaml(t));
      expect(ok, `${what}: ${JSON.stringify(validate.errors?.slice(0, 2))}`).toBe(parserAccepts(t));
      expect(ok).toBe(what === 'as committed' || what === 'sparsity as a percentage');
    }
  });
});
