// Run in a child process by stream-lifetime.test.ts: reads one stream, with nothing else in the
// process to keep Node alive, and prints what it received when Node exits.
import { createEventStream } from '@unbroken/client'

const [url, mode] = process.argv.slice(2)
if (!url) throw new Error('usage: lifetime-child.ts <url> <callbacks|iterate>')
const received: string[] = []
process.on('exit', () => console.log(JSON.stringify(received)))
const stream = createEventStream(url, {
  onEvent: (event) => {
    if (mode === 'callbacks') received.push(event.data)
  },
})
if (mode === 'iterate') for await (const event of stream) received.push(event.data)
