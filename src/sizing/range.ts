/** A figure known as a number or as a low–high range. */
export interface Range {
  low: number;
  high: number;
}
