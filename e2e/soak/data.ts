/** The soak's event `i`: numbered, with multi-byte text, so a gap, a repeat or a broken character shows. */
export function soakData(i: number): string {
  return `${i} tökën ✓ 日本 😀`
}
