'use strict'
// Fixture for test/interop/rpc_stream_test.go, built from grenache-nodejs-http's
// examples/rpc_client_stream.js: a Node PeerRPCClient that streams to <name>, looked up through
// <grape>, with the example's headers (_a, _ar {foo: 'bar'}, content-type).
//
//   example      writes 'hello' and never ends the upload, exactly as the example does, and
//                prints the first reply chunk: {"reply": "..."}.
//   sha256 N     streams N bytes of a fixed pattern with _a: sha256, ends the upload, and
//                prints {"reply": "...", "sha256": "<hex of what it sent>", "bytes": N}.
//
// usage: node rpc/stream_client.js <grape url> <name> example|sha256 [N]

const crypto = require('crypto')
const Link = require('grenache-nodejs-link')
const { PeerRPCClient } = require('grenache-nodejs-http')
const { PassThrough } = require('stream')

const [grape, name, mode, nStr] = process.argv.slice(2)
if (!grape || !name || !['example', 'sha256'].includes(mode)) {
  console.error('usage: stream_client.js <grape> <name> example|sha256 [N]')
  process.exit(64)
}
setTimeout(() => { console.error('stream_client: overall timeout'); process.exit(2) }, 30000).unref()

const link = new Link({ grape })
link.start()
const peer = new PeerRPCClient(link, {})
peer.init()

const req = peer.stream(name, {
  headers: {
    _a: mode === 'example' ? 'uploadNewPublicStream' : 'sha256',
    _ar: { foo: 'bar' },
    'content-type': 'application/pdf'
  },
  timeout: 10000
})
req.on('error', (err) => { console.error('stream error:', err.message); process.exit(1) })

const writable = new PassThrough()
const chunks = []
if (mode === 'example') {
  writable.write('hello')
  writable.pipe(req)
  req.on('data', (d) => {
    console.log(JSON.stringify({ reply: d.toString() }))
    process.exit(0)
  })
} else {
  const n = Number(nStr)
  const block = Buffer.alloc(65536)
  for (let i = 0; i < block.length; i++) block[i] = (i * 7) & 0xff
  const h = crypto.createHash('sha256')
  let left = n
  writable.pipe(req)
  const pump = () => {
    while (left > 0) {
      const c = block.subarray(0, Math.min(left, block.length))
      left -= c.length
      h.update(c)
      if (!writable.write(c)) return writable.once('drain', pump)
    }
    writable.end()
  }
  pump()
  req.on('data', (d) => chunks.push(d))
  req.on('end', () => {
    console.log(JSON.stringify({ reply: Buffer.concat(chunks).toString(), sha256: h.digest('hex'), bytes: n }))
    process.exit(0)
  })
}
