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
  const stop = () => void proxy.shutdown().then(() => process.exit(0))
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
} catch (error) {
  // A bad option, or a port already taken: say why in one message, without a stack trace.
  console.error(error instanceof ProxyError ? error.message : `Could not start: ${error}`)
  process.exit(2)
}
