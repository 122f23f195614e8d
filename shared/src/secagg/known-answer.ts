/**
 * PRG known answer, asserted in Node (vitest) and in the browser (Playwright), so both expand the same masks:
 * expandMask(seed = bytes 0..31, 8). Cross-checked once against Node's OpenSSL aes-256-ctr with a zero counter.
 */
export const PRG_KNOWN_ANSWER = {
  seed: Array.from({ length: 32 }, (_, i) => i),
  length: 8,
  words: [0xb60090f2, 0xd09f492a, 0x6a9af3a9, 0x80772edd, 0xae765df0, 0xe59fb94a, 0x319bf6a6, 0x3d36c248],
} as const;
