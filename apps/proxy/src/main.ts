#!/usr/bin/env node
// `unbroken-proxy`: read the configuration, start, drain on SIGTERM/SIGINT.
import { formatHelp, parseConfig } from './config'
import { ProxyError } from './errors'
import { startProxy } from './server'

const argv = process.argv.slice(2)
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(formatHelp())
  process.exit(0)
}

try {
  const proxy = await startProxy(parseConfig(argv, process.env))
  // One Ctrl-C reaches the proxy more than once: from the terminal (the whole process group) and
  // again from each launcher in between (pnpm forwards it to its script). Later signals join the
  // drain under way; with `once`, the second one killed the process mid-drain.
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    void proxy.shutdown().then(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
} catch (error) {
  // A bad option, or a port already taken: say why in one message, without a stack trace.
  console.error(error instanceof ProxyError ? error.message : `Could not start: ${error}`)
  process.exit(2)
}
