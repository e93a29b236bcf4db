/**
 * A 52-bit hash of an object path, indexed instead of the path itself: exact-match lookups need
 * only the hash to find candidates (then compare the text), and the index stays small and cheap
 * to insert into. Two FNV-1a passes with different offsets; collisions only cost a text compare.
 */
export function pathHash(s: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x050c5d1f;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x01000193);
  }
  return (h1 >>> 0) * 0x100000 + ((h2 >>> 0) & 0xfffff);
}
