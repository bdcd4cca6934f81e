/**
 * Per-layer bits and block size for weight-only quantization (`--layer-weights`), as GPTQModel's
 * dynamic rules, NNCF's ignored/ratio scopes and Neural Compressor's op-name configs let users keep
 * the sensitive layers (down projections, the LM head) in 8 bits and the rest in 4.
 *
 * A rule is a regular expression tested against the node name and the weight's name; the first
 * rule that matches either decides, and what it leaves out comes from --weights / --block-size.
 * CLI form: `REGEX=int8`, `REGEX=int4:64`, `REGEX=:128` (block size only), comma-separated.
 */
import { OptionError } from '../../errors.js';

export interface LayerWeightRule {
  /** Regular expression (JavaScript syntax, unanchored) tested against the node name and the weight initializer name. */
  match: string;
  /** 4 or 8 (default: --weights). */
  bits?: 4 | 8;
  /** Rows of K per scale, a power of two >= 16 (default: --block-size). */
  blockSize?: number;
}

export interface ResolvedLayerRule {
  rule: LayerWeightRule;
  re: RegExp;
  bits: 4 | 8;
  blockSize: number;
}

const FLAG = '--layer-weights';

/** A rule written back in the CLI form, for messages and reports. */
export function formatLayerRule(r: LayerWeightRule): string {
  return `${r.match}=${r.bits !== undefined ? `int${String(r.bits)}` : ''}${r.blockSize !== undefined ? `:${String(r.blockSize)}` : ''}`;
}

export function checkBlockSize(flag: string, blockSize: unknown): number {
  if (typeof blockSize !== 'number' || !Number.isInteger(blockSize) || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
    throw new OptionError(`${flag} ${String(blockSize)}: MatMulNBits needs a power of two >= 16 (e.g. 32, 64, 128)`);
  }
  return blockSize;
}

/**
 * Splits `a=int8,b{1,2}=int4:64` into rules. A piece without '=' belongs to the next one (a comma
 * inside the regular expression, as in {1,2}); the value is what follows the last '='.
 */
export function parseLayerWeights(items: readonly string[], flag = FLAG): LayerWeightRule[] {
  const pieces = items.join(',').split(',');
  const rules: LayerWeightRule[] = [];
  let pending = '';
  for (const piece of pieces) {
    const text = pending ? `${pending},${piece}` : piece;
    if (!text.includes('=')) {
      pending = text;
      continue;
    }
    pending = '';
    const at = text.lastIndexOf('=');
    const match = text.slice(0, at).trim();
    const value = text.slice(at + 1).trim();
    const m = /^(int4|int8)?(?::(\d+))?$/.exec(value);
    if (!match || !m || (!m[1] && !m[2])) {
      throw new OptionError(`${flag} '${text.trim()}': write REGEX=int4, REGEX=int8, REGEX=int8:128 or REGEX=:64 (bits int4/int8, then an optional block size), e.g. ${flag} 'down_proj=int8,lm_head=int8:128'`);
    }
    rules.push({ match, ...(m[1] ? { bits: m[1] === 'int8' ? 8 : 4 } : {}), ...(m[2] ? { blockSize: Number(m[2]) } : {}) } as LayerWeightRule);
  }
  if (pending.trim()) throw new OptionError(`${flag} '${pending.trim()}': a rule needs =int4, =int8 or =:BLOCK after its regular expression, e.g. ${flag} 'down_proj=int8'`);
  return rules;
}

/** Validates the rules and fills in the defaults. */
export function resolveLayerWeights(rules: readonly LayerWeightRule[] | undefined, bits: 4 | 8, blockSize: number): ResolvedLayerRule[] {
  if (rules === undefined) return [];
  if (!Array.isArray(rules)) throw new OptionError(`${FLAG}: give a list of { match, bits?, blockSize? } rules`);
  return rules.map((rule) => {
    const shown = typeof rule?.match === 'string' ? formatLayerRule(rule) : JSON.stringify(rule);
    if (typeof rule?.match !== 'string' || !rule.match) throw new OptionError(`${FLAG} ${shown}: each rule needs match, a regular expression over node and weight names`);
    if (rule.bits === undefined && rule.blockSize === undefined) throw new OptionError(`${FLAG} '${shown}': the rule changes nothing; give bits (int4/int8) and/or a block size, e.g. '${rule.match}=int8'`);
    let re: RegExp;
    try {
      re = new RegExp(rule.match);
    } catch (err) {
      throw new OptionError(`${FLAG} '${shown}': '${rule.match}' is not a regular expression (${(err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '')}); escape special characters with a backslash, e.g. 'lm_head\\.weight'`);
    }
    if (rule.bits !== undefined && rule.bits !== 4 && rule.bits !== 8) throw new OptionError(`${FLAG} '${shown}': ${String(rule.bits)} bits is not supported; use int4 or int8`);
    const block = rule.blockSize === undefined ? blockSize : checkBlockSize(`${FLAG} '${shown}': block size`, rule.blockSize);
    return { rule, re, bits: rule.bits ?? bits, blockSize: block };
  });
}

/** The first rule whose expression matches one of the names (node name, weight name). */
export function findLayerRule(rules: readonly ResolvedLayerRule[], names: readonly string[]): ResolvedLayerRule | undefined {
  return rules.find((r) => names.some((n) => n !== '' && r.re.test(n)));
}
