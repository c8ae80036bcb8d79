'use strict'
// Fixture for test/interop/rpc_stream_test.go, built from grenache-nodejs-http's
// examples/rpc_server_stream.js: a Node PeerRPCServer with disableBuffered: true that announces
// <name> on <port> through <grape>. For every request it hashes the streamed body and, at its
// end, replies with handler.reply(rid, null, {sha256, bytes, action, args, isStream, key,
// contentType}). It prints {"ready": true, "port": N} once listening.
//
// usage: node rpc/stream_server.js <grape url> <name> <port>

const crypto = require('crypto')
const Link = require('grenache-nodejs-link')
const { PeerRPCServer } = require('grenache-nodejs-http')

const [grape, name, portStr] = process.argv.slice(2)
const port = Number(portStr)
if (!grape || !name || !port) {
  console.error('usage: stream_server.js <grape> <name> <port>')
  process.exit(64)
}

const link = new Link({ grape })
link.start()
const peer = new PeerRPCServer(link, { timeout: 300000, disableBuffered: true })
peer.init()
const service = peer.transport('server')
service.listen(port)
link.startAnnouncing(name, service.port, { interval: 1000 })

service.on('stream', (req, res, meta, handler) => {
  const [rid, key] = meta.infoHeaders || []
  const h = crypto.createHash('sha256')
  let bytes = 0
  req.on('data', (d) => { h.update(d); bytes += d.length })
  req.on('end', () => {
    handler.reply(rid, null, {
      sha256: h.digest('hex'),
      bytes,
      action: meta.action,
      args: meta.args,
      isStream: meta.isStream,
      key,
      contentType: req.headers['content-type'] || null
    })
  })
})

console.log(JSON.stringify({ ready: true, port: service.port }))

const stop = () => {
  link.stopAnnouncing(name, service.port)
  peer.stop()
  link.stop()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
