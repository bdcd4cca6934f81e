/**
 * ONNX Runtime's error messages, made readable and classified. ORT prefixes many of them with the
 * C++ source location and the full signature of the function that threw (400 characters of
 * `onnxruntime::Model::Model(onnx::ModelProto&&, const onnxruntime::PathString&, ...)`), and
 * reports a model it cannot run (an op it does not implement, an opset from the future) the same
 * way as a runtime failure. Here the noise is cut and each known case becomes the error class the
 * CLI maps to its documented exit code: unsupported op or version 4, invalid model 3, others 6.
 */
import { InvalidModelError, RuntimeError, UnsupportedOpError, type SlimnetError } from '../errors.js';

/** Removes `/onnxruntime_src/...cc:123 ret ns::Function(args...) ` prefixes, wherever they occur. */
export function stripOrtSourceLocations(message: string): string {
  let out = message;
  for (;;) {
    const m = /\/?[\w./-]*onnxruntime_src\/[^\s:]+:\d+\s+/.exec(out);
    if (!m) break;
    // The C++ signature that follows ends at the parenthesis closing its argument list.
    let i = m.index + m[0].length;
    const open = out.indexOf('(', i);
    let end = i;
    if (open >= 0 && open - i < 200) {
      let depth = 0;
      for (let j = open; j < out.length; j++) {
        if (out[j] === '(') depth++;
        else if (out[j] === ')' && --depth === 0) { end = j + 1; break; }
      }
      i = end;
      while (out[i] === ' ' || out.startsWith('const', i)) i += out[i] === ' ' ? 1 : 5;
    }
    out = out.slice(0, m.index) + out.slice(i);
  }
  return out.replace(/\[ONNXRuntimeError\] : \d+ : \w+ : /g, '').replace(/\s+/g, ' ').trim();
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
  const message = stripOrtSourceLocations(rawMessage);
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
  m = /Type Error: (.*)/.exec(message);
  if (m) return new InvalidModelError(`${label}: ${firstPart(m[1]!)}; the model's types do not match (re-export it)`);
  if (/External data path|This is an invalid model/.test(message)) return new InvalidModelError(`${label}: ${firstPart(message.replace(/^.*?This is an invalid model\.\s*/, 'invalid model: '))}`);
  return new RuntimeError(`${runtime} cannot load ${label}: ${firstPart(message)}`);
}
