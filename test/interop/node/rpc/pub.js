'use strict'
// Fixture for test/interop/rpc_pubsub_test.go: a Node PeerPub on <port> that announces the
// channel <name> every second through <grape> and publishes the text frame
// {"n": i, "from": "node"} every <interval> ms. Prints {"ready": true} once listening.
//
// usage: node rpc/pub.js <grape url> <name> <port> <interval ms>

const Link = require('grenache-nodejs-link')
const { PeerPub } = require('grenache-nodejs-ws')

const [grape, name, portStr, intervalStr] = process.argv.slice(2)
const port = Number(portStr)
const interval = Number(intervalStr || 100)
if (!grape || !name || !port) {
  console.error('usage: pub.js <grape> <name> <port> <interval ms>')
  process.exit(64)
}

const link = new Link({ grape })
link.start()
const peer = new PeerPub(link, {})
peer.init()
const service = peer.transport('server')
service.listen(port)
link.startAnnouncing(name, service.port, { interval: 1000 })

let n = 0
setInterval(() => { service.pub(JSON.stringify({ n: n++, from: 'node' })) }, interval)
console.log(JSON.stringify({ ready: true, port: service.port }))

const stop = () => { peer.stop(); link.stop(); process.exit(0) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
