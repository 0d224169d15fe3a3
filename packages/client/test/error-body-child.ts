// Run in a child process by stream-error-body.test.ts: reads one stream that fails with an HTTP
// error, and prints the error and how far the process's peak RSS rose meanwhile, in MB.
import { createEventStream } from '@unbroken/client'

const [url] = process.argv.slice(2)
if (!url) throw new Error('usage: error-body-child.ts <url>')
const peakMb = () => process.resourceUsage().maxRSS / 1024
const before = peakMb()
createEventStream(url, {
  shouldRetry: () => false,
  onError: ({ code, status, body }) => {
    const peakRiseMb = Math.round(peakMb() - before)
    console.log(JSON.stringify({ code, status, bodyLength: body?.length, peakRiseMb }))
  },
})
