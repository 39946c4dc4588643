// jstat ships no type declarations; this covers the functions moebench uses.
declare module 'jstat' {
  const jstat: { jStat: { studentt: { inv(p: number, degreesOfFreedom: number): number; cdf(t: number, degreesOfFreedom: number): number } } };
  export default jstat;
}
