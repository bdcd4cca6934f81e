/**
 * ONNX Runtime's error messages, made readable and classified. ORT prefixes many of them with the
 * C++ source location and the full signature of the function that threw (400 characters of
 * `onnxruntime::Model::Model(onnx::ModelProto&&, const onnxruntime::PathString&, ...)`), and
 * reports a model it cannot run (an op it does not implement, an opset from the future) the same
 * way as a runtime failure. Here the noise is cut and each known case becomes the error class the
 * CLI maps to its documented exit code: unsupported op or version 4, invalid model 3, others 6.
 */
import { InvalidModelError, RuntimeError, UnsupportedOpError, type SlimnetError } from '../errors.js';

/** Index just past the parenthesis that closes the one opening at `open`, or -1. */
function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === '(') depth++;
    else if (text[j] === ')' && --depth === 0) return j + 1;
  }
  return -1;
}

/**
 * Removes ORT_WHERE prefixes, `file.cc:123 <function> `, wherever they occur: the function is a
 * full C++ signature (`void ns::F(const std::string&, int) const`) in builds with pretty function
 * names, a bare name (`Compute`) otherwise. Also drops C++ template clauses `[with T = ...]`.
 */
export function stripOrtSourceLocations(message: string): string {
  let out = message;
  const location = /(?:\/?[\w.-]+\/)*[\w.-]+\.(?:cc|cpp|h|hpp):\d+\s+/g;
  for (let m = location.exec(out); m; m = location.exec(out)) {
    let i = m.index + m[0].length;
    const space = out.indexOf(' ', i);
    const open = out.indexOf('(', i);
    if (open >= 0 && (space < 0 || open < space || /^[\w:<>,*&\s]+$/.test(out.slice(i, open)))) {
      // A signature: up to the parenthesis closing its argument list, and a trailing const.
      const end = closingParen(out, open);
      if (end > 0 && end - i < 600) i = end;
      while (out[i] === ' ') i++;
      if (out.startsWith('const ', i)) i += 6;
    } else if (space > i && /^\w+$/.test(out.slice(i, space)) && /^[A-Z]/.test(out.slice(i, space))) {
      // A bare function name (ORT's release builds): one capitalized word.
      i = space + 1;
    }
    out = out.slice(0, m.index) + out.slice(i);
    location.lastIndex = m.index;
  }
  out = out.replace(/\s*\[with [^\[\]]*(?:\[[^\[\]]*\][^\[\]]*)*\]/g, '');
  return out.replace(/\[ONNXRuntimeError\] : \d+ : \w+ : /g, '').replace(/\s+/g, ' ').trim();
}

/**
 * A failed inference as one line: "node 'fc2' (MatMul) failed: dimension mismatch" instead of
 * ORT's "Non-zero status code returned while running MatMul node. Name:'fc2' Status Message: ...".
 */
export function runErrorMessage(rawMessage: string): string {
  const message = stripOrtSourceLocations(rawMessage);
  const m = /Non-zero status code returned while running (\S+) node\. Name:'([^']*)' Status Message:\s*(.*)$/.exec(message);
  return m ? `node '${m[2]}' (${m[1]}) failed: ${m[3]}` : message;
}

/** The first sentence or clause of a long ORT message, for one-line errors. */
function firstPart(message: string, max = 300): string {
  return message.length <= max ? message : `${message.slice(0, max - 3)}...`;
}

/**
 * The error for a model ONNX Runtime refused to load. `label` names the model; `runtime` names the
 * package ("ONNX Runtime", "onnxruntime-web's wasm backend").
 */
export function sessionLoadError(label: string, runtime: string, rawMessage: string): SlimnetError {
  const message = stripOrtSourceLocations(rawMessage).replace(/Load model from \S+ failed:\s*/g, '');
  let m = /Unsupported model IR version: (\d+), max supported IR version: (\d+)/.exec(message);
  if (m) return new UnsupportedOpError(`${label}: IR version ${m[1]} is newer than ${runtime} reads (up to ${m[2]}); re-export the model with an older ONNX version`);
  m = /Opset (\d+) is under development/.exec(message);
  if (m) {
    const official = /Current official support for domain ([\w.]*) is till opset (\d+)/.exec(message);
    const domain = official?.[1] ? ` of domain ${official[1]}` : '';
    return new UnsupportedOpError(`${label}: opset ${m[1]}${domain} is newer than ${runtime} supports${official ? ` (up to ${official[2]})` : ''}; re-export the model with an older opset`);
  }
  m = /No Op registered for (\S+) with domain_version of (\d+)/.exec(message);
  if (m) {
    const node = /In Node, \("([^"]*)"/.exec(message)?.[1];
    return new UnsupportedOpError(`${label}: node ${node ? `'${node}' ` : ''}uses op ${m[1]}, which opset ${m[2]} does not define and ${runtime} does not implement; replace it or export with another opset`);
  }
  m = /Could not find an implementation for (\S+?)\((\d+)\) node with name '([^']*)'/.exec(message);
  if (m) return new UnsupportedOpError(`${label}: ${runtime} has no kernel for op ${m[1]} (opset ${m[2]}) of node '${m[3]}' with these input types; change the types or the op`);
  m = /([\w.]+:\w+)\(-?\d+\) is not a registered function\/op/.exec(message);
  if (m) return new UnsupportedOpError(`${label}: op ${m[1]} is not registered in ${runtime} (a custom op needs its library); replace it`);
  m = /No opset import for domain '([^']*)'/.exec(message);
  if (m) return new InvalidModelError(`${label}: a node uses the domain '${m[1]}', which the model does not import (opset_import); the model is malformed`);
  m = /Node \(([^)]*)\) Op \(([^)]*)\) \[(?:Shape|Type)InferenceError\]\s*(.*)$/.exec(message);
  if (m) return new InvalidModelError(`${label}: node '${m[1]}' (${m[2]}): ${firstPart(m[3]!.replace(/\.$/, ''))}; the model's shapes or types do not fit together (re-export it)`);
  m = /Invalid tensor data type (\d+)/.exec(message);
  if (m) return new InvalidModelError(`${label}: a value has the invalid data type ${m[1]}; the model is malformed`);
  m = /Type Error: (.*)/.exec(message);
  if (m) return new InvalidModelError(`${label}: ${firstPart(m[1]!)}; the model's types do not match (re-export it)`);
  // What ONNX Runtime says about a model's structure when it loads it: the model is malformed.
  if (/External data path|This is an invalid model|Missing opset|has no data attributes|INVALID_GRAPH|INVALID_PROTOBUF|Protobuf parsing failed/.test(message)) {
    return new InvalidModelError(`${label}: ${firstPart(message.replace(/^\w+: /, '').replace(/^.*?This is an invalid model\.\s*/, 'invalid model: '))}`);
  }
  return new RuntimeError(`${runtime} cannot load ${label}: ${firstPart(message)}`);
}
