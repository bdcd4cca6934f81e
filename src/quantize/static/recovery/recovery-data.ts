/** What the recovery methods measured that the planner applies to every candidate (bias correction). */
export interface RecoveryData {
  /** Per input tensor, the mean of each channel (bias correction). */
  means?: ReadonlyMap<string, ArrayLike<number>>;
  /** Where the means come from: measured on the calibration data, or computed from BatchNorms. */
  meansFrom?: 'empirical' | 'analytic';
}
