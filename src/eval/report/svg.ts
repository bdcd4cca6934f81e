/**
 * Inline SVG charts for the HTML report: no scripts, no CDN. Every chart has a viewBox and scales to
 * the page width, so nothing scrolls sideways; long labels are shortened, with the full text in a
 * tooltip (<title>).
 */

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Keeps the end of long names (the distinctive part of '/blocks/blocks.3/conv2/Conv'). */
export function shorten(s: string, max: number): string {
  return s.length <= max ? s : `…${s.slice(s.length - max + 1)}`;
}

export interface Bar {
  label: string;
  value: number;
  /** Text shown at the bar's end (default: the value). */
  text?: string;
  color: string;
  tooltip?: string;
}

/** Chart geometry: total width, label column, room for the value text, label length. */
export interface Layout { width: number; label: number; value: number; chars: number }
export const WIDE: Layout = { width: 720, label: 250, value: 90, chars: 34 };
/** For phones: drawn 1:1 at about 360 px, so its 12 px text stays 12 px. */
export const NARROW: Layout = { width: 360, label: 120, value: 62, chars: 16 };
/** Small multiples side by side. */
export const COMPACT: Layout = { width: 340, label: 80, value: 75, chars: 10 };
const ROW_H = 22;

/** Both a wide and a narrow drawing; CSS shows the one that fits the screen. */
export function responsive(draw: (layout: Layout) => string): string {
  return `<div class="wide-only">${draw(WIDE)}</div><div class="narrow-only">${draw(NARROW)}</div>`;
}

/** Horizontal bars from 0 (values below 0 are drawn as a sliver). */
export function barChart(bars: Bar[], options: { max?: number; title: string; axis?: string; layout?: Layout }): string {
  const max = options.max ?? Math.max(1e-12, ...bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)));
  const L = options.layout ?? WIDE;
  const W = L.width;
  const LABEL_W = L.label;
  const plotW = W - LABEL_W - L.value;
  const h = bars.length * ROW_H + (options.axis ? 30 : 10);
  const rows = bars.map((b, i) => {
    const y = i * ROW_H + 6;
    const v = Number.isFinite(b.value) ? b.value : max;
    const len = Math.max(2, (Math.max(0, v) / max) * plotW);
    return `<g><title>${esc(b.tooltip ?? `${b.label}: ${b.text ?? b.value}`)}</title>`
      + `<text x="${LABEL_W - 8}" y="${y + 14}" text-anchor="end" class="lbl">${esc(shorten(b.label, L.chars))}</text>`
      + `<rect x="${LABEL_W}" y="${y + 2}" width="${len.toFixed(1)}" height="${ROW_H - 6}" rx="2" fill="${b.color}"/>`
      + `<text x="${(LABEL_W + len + 6).toFixed(1)}" y="${y + 14}" class="val">${esc(b.text ?? String(b.value))}</text></g>`;
  });
  const axis = options.axis ? `<text x="${LABEL_W}" y="${h - 6}" class="axis">${esc(options.axis)}</text>` : '';
  return `<svg viewBox="0 0 ${W} ${h}" width="100%" style="max-width:${Math.round(W * 1.25)}px" role="img" aria-label="${esc(options.title)}">${rows.join('')}${axis}</svg>`;
}

export interface RangeRow {
  label: string;
  /** What the quantizer can represent. */
  representable: { min: number; max: number };
  /** What the float values spanned. */
  observed: { min: number; max: number };
  /** Values within this distance of the representable range round into it (half a step): not clipped. */
  tolerance: number;
  tooltip?: string;
}

/**
 * One row per quantizer, each on its own scale (ranges differ by orders of magnitude between
 * layers): grey = representable range, blue = observed values inside it, red = observed values
 * outside it (clipped). The legend belongs in the surrounding page (RANGE_LEGEND).
 */
export function rangePlot(rows: RangeRow[], title: string, layout: Layout = WIDE): string {
  const W = layout.width;
  const LABEL_W = layout.label;
  const plotW = W - LABEL_W - (layout === WIDE ? 150 : 92);
  const h = rows.length * ROW_H + 10;
  const body = rows.map((r, i) => {
    const y = i * ROW_H + 6;
    const extent = Math.max(Math.abs(r.representable.min), Math.abs(r.representable.max), Math.abs(r.observed.min), Math.abs(r.observed.max), 1e-12);
    const x = (v: number) => LABEL_W + ((v / extent + 1) / 2) * plotW;
    const rep = `<rect x="${x(r.representable.min).toFixed(1)}" y="${y + 1}" width="${Math.max(1, x(r.representable.max) - x(r.representable.min)).toFixed(1)}" height="${ROW_H - 4}" fill="#d5dae1"/>`;
    const inLo = Math.max(r.observed.min, r.representable.min);
    const inHi = Math.min(r.observed.max, r.representable.max);
    const seg = (a: number, b: number, color: string) => (b > a ? `<rect x="${x(a).toFixed(1)}" y="${y + 6}" width="${Math.max(1, x(b) - x(a)).toFixed(1)}" height="${ROW_H - 14}" fill="${color}"/>` : '');
    const lo = r.representable.min - r.tolerance;
    const hi = r.representable.max + r.tolerance;
    const obs = seg(inLo, inHi, '#3b73b9') + seg(r.observed.min, Math.min(r.observed.max, lo), '#d64541') + seg(Math.max(r.observed.min, hi), r.observed.max, '#d64541');
    const zero = `<line x1="${x(0).toFixed(1)}" x2="${x(0).toFixed(1)}" y1="${y}" y2="${y + ROW_H - 2}" stroke="#8a94a3" stroke-width="1"/>`;
    const clipped = r.observed.min < r.representable.min - r.tolerance || r.observed.max > r.representable.max + r.tolerance;
    return `<g><title>${esc(r.tooltip ?? r.label)}</title>`
      + `<text x="${LABEL_W - 8}" y="${y + 14}" text-anchor="end" class="lbl">${esc(shorten(r.label, layout.chars))}</text>${rep}${obs}${zero}`
      + `<text x="${LABEL_W + plotW + 8}" y="${y + 14}" class="val${clipped ? ' bad' : ''}">±${fmtExtent(extent)}${clipped ? (layout === WIDE ? ' clipped' : ' clip') : ''}</text></g>`;
  });
  return `<svg viewBox="0 0 ${W} ${h}" width="100%" style="max-width:${Math.round(W * 1.25)}px" role="img" aria-label="${esc(title)}">${body.join('')}</svg>`;
}

export const RANGE_LEGEND = 'Grey: the range the quantizer represents; blue: values observed inside it; red: values observed outside it (clipped). Each row has its own scale, ± its extent.';

function fmtExtent(v: number): string {
  return v >= 100 || v < 0.01 ? v.toExponential(1) : v.toPrecision(3);
}

/** Green when good, amber, red when bad, for an SQNR in dB. */
export function sqnrColor(dbValue: number): string {
  if (!Number.isFinite(dbValue) || dbValue >= 30) return '#3f9b6b';
  if (dbValue >= 20) return '#e0a030';
  return '#d64541';
}

export interface ScatterPoint {
  x: number;
  y: number;
  label: string;
  color: string;
  /** Drawn larger, ringed and labelled (the chosen variant). */
  marked?: boolean;
  tooltip?: string;
}

/**
 * Points on two linear axes (a Pareto plot: speed against accuracy drop), with an optional
 * horizontal threshold line (the budget). Axis labels say which way is better.
 */
export function scatterPlot(points: ScatterPoint[], o: { title: string; xLabel: string; yLabel: string; hLine?: { y: number; label: string }; layout?: Layout }): string {
  const L = o.layout ?? WIDE;
  const W = L.width;
  const H = Math.round(W * 0.55);
  const m = { left: 56, right: 16, top: 14, bottom: 40 };
  const finite = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const ys = [...finite.map((p) => p.y), ...(o.hLine ? [o.hLine.y] : []), 0];
  const xs = finite.map((p) => p.x);
  const pad = (lo: number, hi: number) => (hi - lo || Math.abs(hi) || 1) * 0.08;
  const [x0, x1] = [Math.min(...xs, 1), Math.max(...xs, 1)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const X = (v: number) => m.left + ((v - (x0 - pad(x0, x1))) / (x1 - x0 + 2 * pad(x0, x1))) * (W - m.left - m.right);
  const Y = (v: number) => m.top + (1 - (v - (y0 - pad(y0, y1))) / (y1 - y0 + 2 * pad(y0, y1))) * (H - m.top - m.bottom);
  const grid = [x0, (x0 + x1) / 2, x1].map((v) => `<line x1="${X(v).toFixed(1)}" x2="${X(v).toFixed(1)}" y1="${m.top}" y2="${H - m.bottom}" stroke="#eef1f4"/><text x="${X(v).toFixed(1)}" y="${H - m.bottom + 14}" text-anchor="middle" class="axis">${v.toFixed(2)}</text>`)
    .concat([y0, (y0 + y1) / 2, y1].map((v) => `<line x1="${m.left}" x2="${W - m.right}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#eef1f4"/><text x="${m.left - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end" class="axis">${Number(v.toPrecision(3))}</text>`));
  const line = o.hLine ? `<line x1="${m.left}" x2="${W - m.right}" y1="${Y(o.hLine.y).toFixed(1)}" y2="${Y(o.hLine.y).toFixed(1)}" stroke="#c0392b" stroke-dasharray="5 4"/><text x="${W - m.right - 4}" y="${(Y(o.hLine.y) - 5).toFixed(1)}" text-anchor="end" class="val bad">${esc(o.hLine.label)}</text>` : '';
  // The chosen point's label sits on the side with room, below the budget line's label.
  const markLabel = (p: ScatterPoint) => {
    const right = X(p.x) > (m.left + W - m.right) / 2;
    return `<text x="${(X(p.x) + (right ? -10 : 10)).toFixed(1)}" y="${(Y(p.y) + 20).toFixed(1)}" text-anchor="${right ? 'end' : 'start'}" class="lbl">${esc(shorten(p.label, L.chars))}</text>`;
  };
  const dots = finite.map((p) => `<g><title>${esc(p.tooltip ?? p.label)}</title><circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="${p.marked ? 7 : 4.5}" fill="${p.color}"${p.marked ? ' stroke="#1d2733" stroke-width="2"' : ''}/>${p.marked ? markLabel(p) : ''}</g>`);
  const axes = `<text x="${((m.left + W - m.right) / 2).toFixed(0)}" y="${H - 6}" text-anchor="middle" class="axis">${esc(o.xLabel)}</text>`
    + `<text transform="translate(12 ${((m.top + H - m.bottom) / 2).toFixed(0)}) rotate(-90)" text-anchor="middle" class="axis">${esc(o.yLabel)}</text>`;
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" style="max-width:${Math.round(W * 1.25)}px" role="img" aria-label="${esc(o.title)}">${grid.join('')}${line}${dots.join('')}${axes}</svg>`;
}
