/**
 * How close each placement candidate stays to the float model, so that the placement search never
 * buys speed with accuracy: candidates differ (on PaddleOCR's detector, 'full' gave 9.5 dB output
 * SQNR where 'compute' gave 12.8), and only those within MAX_SQNR_LOSS_DB of the most accurate
 * one, or at ACCURATE_DB or better, may win on speed. Measured on the calibration sample the
 * timing uses, over every float output (src/tune/output-fidelity.ts).
 */

/** A candidate may be this much less accurate than the best one (3 dB: twice the noise power). */
export const MAX_SQNR_LOSS_DB = 3;
/**
 * ... or reach this output SQNR (3% RMS error: the Fashion-MNIST ResNet loses no top-1 point
 * with 'full' at 37 dB where 'compute' gives 41 dB).
 */
export const ACCURATE_DB = 30;

/** Whether a candidate at `sqnrDb` may compete on speed when the best candidate reaches `bestDb`. */
export const accurateEnough = (sqnrDb: number, bestDb: number): boolean => sqnrDb >= Math.min(bestDb - MAX_SQNR_LOSS_DB, ACCURATE_DB);
