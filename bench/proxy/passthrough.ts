// The physical limit of a proxy: a `node:http` server that pipes each request to the upstream and
// the upstream's response back, doing nothing else. Usage: passthrough.ts (UPSTREAM_PORT in env).
// Prints `{"port","pid"}` on its first line.
import { createServer, request } from 'node:http'

const upstreamPort = Number(process.env.UPSTREAM_PORT)
const server = createServer((req, res) => {
  const upstream = request(
    {
      host: '127.0.0.1',
      port: upstreamPort,
      method: req.method,
      path: req.url,
      headers: req.headers,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    },
  )
  req.pipe(upstream)
  res.once('close', () => upstream.destroy())
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number }
  console.log(JSON.stringify({ port: address.port, pid: process.pid }))
})
