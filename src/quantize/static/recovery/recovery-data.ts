/** What the recovery methods measured that the planner applies to every candidate (bias correction). */
export interface RecoveryData {
  /** Per input tensor, the mean of each channel (bias correction). */
  means?: ReadonlyMap<string, ArrayLike<number>>;
}
