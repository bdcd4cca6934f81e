/**
 * Reports from a real evaluation (a trained CNN, its int8 version with one bad range): the JSON
 * schema's fields, text and Markdown, and the HTML page opened in headless Chromium, which must
 * render without horizontal scrolling at desktop and phone widths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { compareModels } from '../../src/eval/compare-models.js';
import { formatEvalHtml } from '../../src/eval/report/html.js';
import { formatEvalMarkdown } from '../../src/eval/report/markdown.js';
import { formatEvalText } from '../../src/eval/report/text.js';
import type { EvalReport } from '../../src/eval/report/eval-report.js';
import { Engine } from '../../src/runtime/engine.js';
import { NpzDataset } from '../../src/calibrate/data/npz-dataset.js';
import { loadModel } from '../../src/onnx/io.js';
import { makeQdqPair } from '../../fixtures/qdq/hand-qdq.js';
import { withBadRange } from '../../fixtures/qdq/bad-range.js';
import { FIXTURES, TRAINED } from '../helpers.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = process.env.SLIMNET_ARTIFACTS ?? join(tmpdir(), 'slimnet-artifacts');
const engine = new Engine();
let report: EvalReport;
let culprit: string;

beforeAll(async () => {
  const calib = new NpzDataset(join(FIXTURES, 'data', 'fmnist_calib.npz'));
  const source = loadModel(join(TRAINED, 'resnet_bn.onnx'));
  const clean = await makeQdqPair(engine, source, calib, { foldRelus: true });
  culprit = '/blocks/blocks.2/conv2/Conv';
  report = await compareModels(clean.float, withBadRange(clean.qdq, culprit, 0.25), new NpzDataset(join(FIXTURES, 'data', 'fmnist_test.npz')), {
    engine, limit: 500, layers: { sensitivity: 'both' }, speed: { runs: 5, warmup: 2 }, gates: { maxDrop: '1%', failIf: 'sqnr < 10 or agreement < 0.9' },
  });
});
afterAll(() => engine.close());

describe('evaluation report', () => {
  it('has the documented JSON fields', () => {
    const j = JSON.parse(JSON.stringify(report));
    expect(j.schema).toBe('slimnet.eval/1');
    expect(j.reference.top1).toBeGreaterThan(0.9);
    expect(typeof j.candidate.top1).toBe('number');
    expect(j.drop).toBeCloseTo((j.reference.top1 - j.candidate.top1) * 100, 9);
    expect(j.agreement).toBe(j.outputs.logits.agreement);
    expect(j.sqnr).toBe(j.outputs.logits.sqnr);
    expect(j.data.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(j.reference.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(j.candidate.sha256).not.toBe(j.reference.sha256);
    expect(j.speed.speedup).toBeCloseTo(j.speed.reference.medianMs / j.speed.candidate.medianMs, 9);
    expect(j.sizeRatio).toBeLessThan(0.4);
    expect(j.layers.ranking[0]).toBe(culprit);
    expect(j.gates.map((g: { gate: string }) => g.gate)).toEqual(['--max-drop 1%', '--fail-if "sqnr < 10 or agreement < 0.9"']);
    expect(j.passed).toBe(j.gates.every((g: { passed: boolean }) => g.passed));
    expect(j.hardware.int8Flags).toBeInstanceOf(Array);
  });

  it('prints a terminal table and Markdown naming the layer to blame', () => {
    const text = formatEvalText(report);
    expect(text).toMatch(/^classification on 'logits', 500 samples/);
    expect(text).toMatch(/top1\s+\d+\.\d\d%\s+\d+\.\d\d%\s+[-+±]\d+\.\d\d pt/);
    expect(text).toMatch(/latency \(median\)/);
    expect(text).toContain(`1   ${culprit}`);
    const md = formatEvalMarkdown(report);
    expect(md).toMatch(/\| top1 \| \d+\.\d\d% \| \d+\.\d\d% \|/);
    expect(md).toContain(`| 1 | \`${culprit}\` |`);
  });

  it('renders a self-contained HTML page', () => {
    const html = formatEvalHtml(report);
    expect(html).not.toMatch(/<script|https?:\/\/|<link /);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(6);
    expect(html).toContain(culprit);
  });

  // CI installs Debian's chromium (.ci/run); elsewhere the page is still checked above.
  if (!existsSync(CHROMIUM)) console.warn(`skipping the browser check of the HTML report: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  it.skipIf(!existsSync(CHROMIUM))('shows the HTML page in headless Chromium without sideways scrolling or network requests', async () => {
    const html = formatEvalHtml(report);
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, 'eval-report.html');
    writeFileSync(file, html);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      for (const width of [1280, 390]) {
        const page = await browser.newPage({ viewport: { width, height: 900 } });
        const requests: string[] = [];
        page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
        await page.goto(`file://${file}`);
        const m = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
          svgs: document.querySelectorAll('svg').length,
          text: document.body.innerText,
          dom: document.body.textContent ?? "",
        }));
        expect(m.scrollWidth).toBeLessThanOrEqual(m.innerWidth);
        expect(m.svgs).toBeGreaterThanOrEqual(6);
        expect(m.text).toContain('Layers to blame');
        expect(m.dom).toContain(culprit);
        expect(requests).toEqual([]);
        const shot = join(ARTIFACTS, `eval-report-${width}.png`);
        await page.screenshot({ path: shot, fullPage: true });
        expect(statSync(shot).size).toBeGreaterThan(20_000);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });
});
