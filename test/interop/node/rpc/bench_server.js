'use strict'
// Benchmark peer for scripts/bench-rpc.sh: a Node PeerRPCServer (grenache-nodejs-http) that
// announces <name> on <port> through <grape> every second and echoes every payload, with no
// logging on the request path. Prints {"ready": true} once listening.
//
// usage: node rpc/bench_server.js <grape url> <name> <port>

const Link = require('grenache-nodejs-link')
const { PeerRPCServer } = require('grenache-nodejs-http')

const [grape, name, portStr] = process.argv.slice(2)
const port = Number(portStr)
if (!grape || !name || !port) {
  console.error('usage: bench_server.js <grape> <name> <port>')
  process.exit(64)
}
const link = new Link({ grape })
link.start()
const peer = new PeerRPCServer(link, { timeout: 300000 })
peer.init()
const service = peer.transport('server')
service.listen(port)
link.startAnnouncing(name, service.port, { interval: 1000 })
service.on('request', (rid, key, payload, handler) => handler.reply(null, payload))
console.log(JSON.stringify({ ready: true, port: service.port }))
const stop = () => { peer.stop(); link.stop(); process.exit(0) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
