// How the proxy suite stamps tokens: `|<index>@<µs>;` appended to the token's text. Digits, `|`, `@`
// and `;` survive every framing on the way (OpenAI chunks, protocol v1 deltas, merged deltas) as they
// are, so the reader finds them in the raw bytes of any path.

/** Now, in µs on CLOCK_MONOTONIC: the same clock in every process of the host. */
export const nowUs = (): number => Number(process.hrtime.bigint() / 1000n)

export const stampOf = (index: number, us: number): string => `|${index}@${us};`

/** Matches one stamp; group 1 is the token index, group 2 the write time in µs. */
export const STAMP = /\|(\d+)@(\d+);/g
