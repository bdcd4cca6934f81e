/**
 * The pipeline file's JSON Schema (docs/schemas/slimnet.pipeline-1.schema.json), derived from the
 * one key table in schema.ts so it cannot say something the parser does not: editors with a YAML
 * language server can complete and check pipeline files with it. The parser stays the authority
 * (it also names the line of a problem); test/recipe checks the committed file equals this.
 */
import { PIPELINE_SCHEMA, STEP_KEYS, STEP_KINDS, type Kind, type KeySpec } from './schema.js';

type JsonSchema = Record<string, unknown>;

const PERCENT = '^\\d+(\\.\\d+)?%$';
const nonEmpty: JsonSchema = { type: 'string', minLength: 1 };
const list: JsonSchema = { oneOf: [{ ...nonEmpty, description: 'comma-separated' }, { type: 'array', minItems: 1, items: nonEmpty }] };

function kindSchema(kind: Kind): JsonSchema {
  if (typeof kind === 'object') return { enum: [...kind.enum] };
  switch (kind) {
    case 'string':
    case 'path': return nonEmpty;
    case 'number': return { type: 'number' };
    case 'integer': return { type: 'integer', minimum: 1 };
    case 'boolean': return { type: 'boolean' };
    case 'fraction': return { oneOf: [{ type: 'number', minimum: 0, exclusiveMaximum: 1 }, { type: 'string', pattern: PERCENT }] };
    case 'drop': return { oneOf: [{ type: 'number' }, { type: 'string', pattern: PERCENT }] };
    case 'strings':
    case 'paths': return list;
  }
}

function stepSchema(specs: Record<string, KeySpec>): JsonSchema {
  const required = Object.entries(specs).filter(([, s]) => s.required).map(([k]) => k);
  const properties = Object.fromEntries(Object.entries(specs).map(([k, s]) => [k, { ...kindSchema(s.kind), description: s.help }]));
  return { type: 'object', ...(required.length ? { required } : {}), properties, additionalProperties: false };
}

export function pipelineJsonSchema(): JsonSchema {
  const specs = STEP_KEYS as Record<string, Record<string, KeySpec>>;
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `${PIPELINE_SCHEMA.replace('/', '-')}.schema.json`,
    title: 'slimnet run: pipeline file (YAML or JSON); paths are relative to the file',
    type: 'object',
    required: ['model', 'steps'],
    properties: {
      schema: { const: PIPELINE_SCHEMA },
      model: { ...nonEmpty, description: 'the ONNX model the first step reads' },
      'save-recipe': { ...nonEmpty, description: 'one recipe of every prune and quantize step, and its lock beside it' },
      steps: {
        type: 'array',
        minItems: 1,
        items: { oneOf: STEP_KINDS.map((k) => ({ type: 'object', required: [k], properties: { [k]: stepSchema(specs[k]!) }, additionalProperties: false })) },
      },
    },
    additionalProperties: false,
  };
}
