// A metric module for CTC text recognizers such as PaddleOCR's (slimnet's --metric <module> form):
// character accuracy, 1 - character error rate, over all evaluated lines (edit distance summed over
// lines / reference characters summed). The output is [samples, time steps, classes] with class 0
// the CTC blank; it is decoded greedily (argmax per time step, repeats merged, blanks dropped) as
// PaddleOCR's CTCLabelDecode does. Spaces (the last class, as in PaddleOCR's dictionaries with
// use_space_char) are left out of both sides, as PaddleOCR's RecMetric does by default
// (ignore_space): a recognizer adding a space at a line's end is not misreading it. Labels:
// [samples, length] int class indices of each line's characters, padded with 0. A fraction, so
// drops are in points: 0.3 = 3 characters in 1,000.
export const metric = {
  name: 'char_accuracy',
  fraction: true,
  needsLabels: true,
  create() {
    let edits = 0;
    let chars = 0;
    return {
      update(outputs, batch) {
        const out = Object.values(outputs)[0];
        const [samples, steps, classes] = out.dims;
        const labels = batch.labels;
        const length = labels.dims[1] ?? 1;
        for (let s = 0; s < samples; s++) {
          const truth = [];
          for (let k = 0; k < length; k++) {
            const v = Number(labels.data[s * length + k]);
            if (v > 0 && v !== classes - 1) truth.push(v);
          }
          const read = decode(out.data, s * steps * classes, steps, classes).filter((c) => c !== classes - 1);
          edits += distance(read, truth);
          chars += truth.length;
        }
      },
      result: () => (chars ? 1 - edits / chars : NaN),
    };
  },
};

/** Greedy CTC: the argmax class of each time step, repeats merged, blanks (0) dropped. */
export function decode(probs, offset, steps, classes) {
  const text = [];
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    const row = offset + t * classes;
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[row + c] > probs[row + best]) best = c;
    if (best !== 0 && best !== previous) text.push(best);
    previous = best;
  }
  return text;
}

/** Levenshtein distance between two sequences of class indices (one row of the table at a time). */
function distance(a, b) {
  let row = Int32Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = new Int32Array(b.length + 1);
    next[0] = i;
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}
