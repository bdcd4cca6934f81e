/** Recognizing what a file is from its first bytes, to name a wrong file for what it is. */

/** Text: no NUL byte and only printable characters or whitespace in the first kilobyte (UTF-8 allowed). */
export function looksLikeText(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 1024);
  if (head.length === 0) return false;
  for (const b of head) {
    if (b === 0 || b === 127 || (b < 32 && b !== 9 && b !== 10 && b !== 13)) return false;
  }
  return true;
}

/** 'a JSON file' or 'a text file', for text bytes. */
export function textKind(bytes: Uint8Array): string {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 32 || bytes[i] === 9 || bytes[i] === 10 || bytes[i] === 13)) i++;
  return bytes[i] === 0x7b || bytes[i] === 0x5b ? 'a JSON file' : 'a text file';
}
