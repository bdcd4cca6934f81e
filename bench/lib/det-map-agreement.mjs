// A metric module for PaddleOCR's text detector (slimnet's --metric <module> form): the share of
// probability-map pixels on the same side of the 0.3 text threshold as the labels, which the
// benchmark makes from the float model's own map (pseudo-labels: 1 where it says text).
export default function det_map_agreement(outputs, batch) {
  const map = Object.values(outputs)[0];
  const labels = batch.labels.data;
  const per = map.data.length / batch.count;
  const scores = [];
  for (let s = 0; s < batch.count; s++) {
    let same = 0;
    for (let i = 0; i < per; i++) if ((map.data[s * per + i] > 0.3) === (labels[s * per + i] === 1)) same++;
    scores.push(same / per);
  }
  return scores;
}
