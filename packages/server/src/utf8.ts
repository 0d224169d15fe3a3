// Scratch space for counting: TextEncoder.encodeInto is native (about 9× a charCodeAt loop on LLM
// chunks) and exists in every runtime. Text longer than this is counted by the loop instead, so
// the scratch never grows past 48 KiB for a rare multi-MB event.
const SCRATCH_CHARS = 16 * 1024
const encoder = new TextEncoder()
let scratch: Uint8Array | undefined

/** UTF-8 length of `text` without allocating per call, so byte limits hold in any runtime. */
export function utf8Length(text: string): number {
  if (text.length <= SCRATCH_CHARS) {
    // Each UTF-16 unit encodes to at most 3 bytes (a surrogate pair, two units, to 4).
    scratch ??= new Uint8Array(SCRATCH_CHARS * 3)
    return encoder.encodeInto(text, scratch).written
  }
  let bytes = 0
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i += 1
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
}
