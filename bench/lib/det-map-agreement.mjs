// A metric module for PaddleOCR's text detector (slimnet's --metric <module> form): the share of
// probability-map pixels on the same side of the 0.3 text threshold as the labels, which the
// benchmark makes from the float model's own map (pseudo-labels: 1 where it says text), over all
// evaluated pages. A fraction, so drops are in points: 0.3 = 3 pixels in 1,000 changing side.
export const metric = {
  name: 'det_map_agreement',
  fraction: true,
  needsLabels: true,
  create() {
    let same = 0;
    let pixels = 0;
    return {
      update(outputs, batch) {
        const map = Object.values(outputs)[0];
        const labels = batch.labels.data;
        for (let i = 0; i < map.data.length; i++) if ((map.data[i] > 0.3) === (labels[i] === 1)) same++;
        pixels += map.data.length;
      },
      result: () => (pixels ? same / pixels : NaN),
    };
  },
};
