'use strict'
// Fixture for test/interop/rpc_*_test.go: a Node PeerRPCClient (HTTP or WS transport) that
// runs a list of operations against <name>, looked up through <grape>, and prints one JSON
// line per operation: {"i", "op", "ms", "err", "res"}, then {"done": true}.
// Every operation carries an explicit timeout: grenache-nodejs-base 1.x never times out
// without one.
//
// With a <secure JSON> argument {"key", "cert", "ca"} (PEM file paths) the HTTP client is
// grenache-nodejs-http's `secure` one: HTTPS with that client certificate, trusting ca.
//
// usage: node rpc/client.js <grape url> <name> <http|ws> '<ops JSON>' [secure JSON]
//   ops: [{"op": "request"|"map", "payload": <any>, "compress": bool, "timeout": ms,
//          "repeat": N}]   (repeat runs the op N times concurrently; the line holds all results)

const Link = require('grenache-nodejs-link')

const fs = require('fs')
const [grape, name, kind, opsJSON, secureJSON] = process.argv.slice(2)
if (!grape || !name || !['http', 'ws'].includes(kind) || !opsJSON) {
  console.error("usage: client.js <grape> <name> <http|ws> '<ops JSON>'")
  process.exit(64)
}
const { PeerRPCClient } = require(kind === 'ws' ? 'grenache-nodejs-ws' : 'grenache-nodejs-http')
const ops = JSON.parse(opsJSON)

setTimeout(() => { console.error('client: overall timeout'); process.exit(2) }, 30000).unref()

const link = new Link({ grape })
link.start()
const conf = {}
if (secureJSON) {
  const f = JSON.parse(secureJSON)
  conf.secure = { key: fs.readFileSync(f.key), cert: fs.readFileSync(f.cert), ca: fs.readFileSync(f.ca) }
}
const peer = new PeerRPCClient(link, conf)
peer.init()

function once (op) {
  const opts = { timeout: op.timeout || 5000 }
  if (op.compress) opts.compress = true
  return new Promise(resolve => {
    peer[op.op](name, op.payload, opts, (err, res) => {
      resolve({ err: err ? err.message : null, res: res === undefined ? null : res })
    })
  })
}

async function main () {
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]
    const t0 = Date.now()
    let out
    if (op.repeat > 1) {
      const all = await Promise.all(Array.from({ length: op.repeat }, () => once(op)))
      out = { err: (all.find(r => r.err) || {}).err || null, res: all.map(r => r.res) }
    } else {
      out = await once(op)
    }
    console.log(JSON.stringify({ i, op: op.op, ms: Date.now() - t0, err: out.err, res: out.res }))
  }
  console.log(JSON.stringify({ done: true }))
  peer.stop()
  link.stop()
  process.exit(0)
}

main().catch(e => { console.error(e); process.exit(1) })
