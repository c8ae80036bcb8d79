'use strict'
// Fixture for test/interop/rpc_pubsub_test.go: a Node PeerSub that subscribes to <name>
// (looked up through <grape>) and prints {"connected": true}, then one {"msg": "<text>"} line
// per frame received. The caller must start it only once the channel is visible.
//
// usage: node rpc/sub.js <grape url> <name>

const Link = require('grenache-nodejs-link')
const { PeerSub } = require('grenache-nodejs-ws')

const [grape, name] = process.argv.slice(2)
if (!grape || !name) {
  console.error('usage: sub.js <grape> <name>')
  process.exit(64)
}

const link = new Link({ grape })
link.start()
const peer = new PeerSub(link, {})
peer.init()
peer.sub(name, { timeout: 10000 })
peer.on('connected', () => console.log(JSON.stringify({ connected: true })))
peer.on('disconnected', () => console.log(JSON.stringify({ disconnected: true })))
peer.on('message', msg => console.log(JSON.stringify({ msg: msg.toString() })))

const stop = () => { peer.stop(); link.stop(); process.exit(0) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
