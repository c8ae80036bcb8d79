'use strict'
// Fixture for test/interop/rpc_*_test.go: a Node PeerRPCServer (HTTP or WS transport) that
// announces <name> on <port> every second through <grape> and answers:
//   "hello"                 -> "world"
//   {"fail": "MSG"}         -> error MSG (an Error object, as Node handlers must pass)
//   {"sleep_ms": N, ...}    -> the payload, after N ms
//   anything else           -> the payload (echo), with {"key": <key>} when asked {"want_key": true}
// It prints {"ready": true, "port": N} once listening, then one {"req": ...} line per request.
//
// With a <secure JSON> argument {"key", "cert", "ca"} (PEM file paths) the HTTP server is
// grenache-nodejs-http's `secure` one: HTTPS that requires a client certificate signed by ca.
//
// usage: node rpc/server.js <grape url> <name> <port> [http|ws] [secure JSON]

const Link = require('grenache-nodejs-link')

const fs = require('fs')
const [grape, name, portStr, kind = 'http', secureJSON] = process.argv.slice(2)
const port = Number(portStr)
if (!grape || !name || !port || !['http', 'ws'].includes(kind)) {
  console.error('usage: server.js <grape> <name> <port> [http|ws]')
  process.exit(64)
}
const { PeerRPCServer } = require(kind === 'ws' ? 'grenache-nodejs-ws' : 'grenache-nodejs-http')

const link = new Link({ grape })
link.start()
const conf = { timeout: 300000 }
if (secureJSON) {
  const f = JSON.parse(secureJSON)
  conf.secure = {
    key: fs.readFileSync(f.key),
    cert: fs.readFileSync(f.cert),
    ca: fs.readFileSync(f.ca),
    requestCert: true,
    rejectUnauthorized: true
  }
}
const peer = new PeerRPCServer(link, conf)
peer.init()
const service = peer.transport('server')
service.listen(port)
link.startAnnouncing(name, service.port, { interval: 1000 })

service.on('request', (rid, key, payload, handler) => {
  console.log(JSON.stringify({ req: { rid, key, payload: payload === undefined ? null : payload } }))
  if (payload === 'hello') return handler.reply(null, 'world')
  if (payload && typeof payload === 'object' && payload.fail) {
    return handler.reply(new Error(typeof payload.fail === 'string' ? payload.fail : 'ERR_SOMETHING_FAILED'))
  }
  const reply = () => handler.reply(null, payload && payload.want_key ? { key, payload } : payload)
  if (payload && typeof payload === 'object' && Number.isInteger(payload.sleep_ms)) {
    return setTimeout(reply, payload.sleep_ms)
  }
  reply()
})

console.log(JSON.stringify({ ready: true, port: service.port, kind, secure: !!conf.secure }))

const stop = () => {
  link.stopAnnouncing(name, service.port)
  peer.stop()
  link.stop()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
