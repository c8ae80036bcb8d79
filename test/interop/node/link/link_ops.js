'use strict'
// Fixture for the Go interop tests (test/interop/link_node_test.go): drives
// grenache-nodejs-link against two grapes (Go or Node) and prints one JSON
// line per operation: {"op", "ms", "err", "res"}.
//
// usage: node link/link_ops.js <grapeA url> <grapeB url> <name> <port>
// announce/put go through grape A, lookup/get through grape B.

const { promisify } = require('util')
const Link = require('grenache-nodejs-link')

const [grapeA, grapeB, name, portStr] = process.argv.slice(2)
const port = Number(portStr)
if (!grapeA || !grapeB || !name || !port) {
  console.error('usage: link_ops.js <grapeA> <grapeB> <name> <port>')
  process.exit(64)
}

// The whole run must finish well inside the Go test's timeout.
setTimeout(() => { console.error('link_ops: overall timeout'); process.exit(2) }, 20000).unref()

const a = new Link({ grape: grapeA })
const b = new Link({ grape: grapeB })
a.start()
b.start()

async function step (op, fn) {
  const t0 = Date.now()
  let err = null
  let res = null
  try {
    res = await fn()
  } catch (e) {
    err = e.message
  }
  console.log(JSON.stringify({ op, ms: Date.now() - t0, err, res: res === undefined ? null : res }))
  return res
}

async function main () {
  await step('announce', () => promisify(a.announce.bind(a))(name, port, {}))
  await step('lookup', () => promisify(b.lookup.bind(b))(name, {}))
  const v = 'value from node link ' + name
  const hash = await step('put', () => promisify(a.put.bind(a))({ v }))
  await step('get', () => promisify(b.get.bind(b))(hash))
  await step('lookup_unknown', () => promisify(b.lookup.bind(b))('never-announced-by-link', {}))
  await step('get_unknown', () => promisify(b.get.bind(b))('00'.repeat(19) + '01'))

  // startAnnouncing with the 1 s interval most services use: the first
  // announce is immediate, so a lookup of a never-looked-up name through a
  // fresh link sees it on the first try.
  const name2 = name + '-repeat'
  a.startAnnouncing(name2, port + 1, { interval: 1000 })
  await step('start_announcing_lookup', async () => {
    const c = new Link({ grape: grapeB }).start()
    try {
      for (let i = 0; i < 40; i++) {
        const res = await promisify(c.lookup.bind(c))(name2, {}).catch(() => null)
        if (res) return res
        c.cache.lookup.clear() // do not wait out the 10 s empty-lookup cache
        await new Promise(resolve => setTimeout(resolve, 100))
      }
      throw new Error('not visible within 4 s')
    } finally {
      c.stop()
    }
  })
  a.stopAnnouncing(name2, port + 1)
  console.log(JSON.stringify({ op: 'done' }))
}

main().then(() => {
  a.stop()
  b.stop()
  process.exit(0)
}, (e) => {
  console.error(e)
  process.exit(1)
})
