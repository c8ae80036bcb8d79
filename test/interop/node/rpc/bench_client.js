'use strict'
// Benchmark client for scripts/bench-rpc.sh: a Node PeerRPCClient (grenache-nodejs-http)
// keeping <conc> requests in flight against <name> (looked up through <grape>, cached by the
// link) for <warmup> + <duration> ms, measuring the last <duration> ms. Prints one JSON line
// with the same fields as bench/rpc/driver: rps, p50_us, p99_us, errors, client_rss_kb.
//
// usage: node rpc/bench_client.js <grape url> <name> <conc> <duration ms> <warmup ms> '<payload JSON>' [server pid]
// With a server pid it also reports the server's CPU time per request (from /proc), as the Go
// driver does; its own CPU time per request always.

const Link = require('grenache-nodejs-link')
const { PeerRPCClient } = require('grenache-nodejs-http')

const fs = require('fs')
const [grape, name, concStr, durStr, warmStr, payloadJSON, serverPidStr] = process.argv.slice(2)
const serverPid = Number(serverPidStr || 0)

// procCPUus returns user+system CPU of pid in µs from /proc/<pid>/stat (USER_HZ = 100).
function procCPUus (pid) {
  if (!pid) return 0
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) * 10000
  } catch (e) { return 0 }
}
const selfCPUus = () => { const u = process.cpuUsage(); return u.user + u.system }
const conc = Number(concStr)
const dur = Number(durStr)
const warm = Number(warmStr)
if (!grape || !name || !conc || !dur || !payloadJSON) {
  console.error("usage: bench_client.js <grape> <name> <conc> <duration ms> <warmup ms> '<payload>'")
  process.exit(64)
}
const payload = JSON.parse(payloadJSON)

const link = new Link({ grape })
link.start()
const peer = new PeerRPCClient(link, {})
peer.init()

let measuring = false
let stopped = false
let errors = 0
let firstErr = null
const lat = [] // µs of completed requests in the measured window

function loop () {
  if (stopped) return
  const t0 = process.hrtime.bigint()
  peer.request(name, payload, { timeout: 10000 }, (err) => {
    if (measuring) {
      if (err) {
        errors++
        if (!firstErr) firstErr = err.message
      } else {
        lat.push(Number(process.hrtime.bigint() - t0) / 1000)
      }
    }
    // setImmediate keeps a failing peer from turning this into a synchronous recursion.
    setImmediate(loop)
  })
}

// One request first, so the lookup is cached and a connection is open before the clock runs.
peer.request(name, payload, { timeout: 10000 }, (err) => {
  if (err) console.error('bench_client: first request failed:', err.message)
  for (let i = 0; i < conc; i++) loop()
  setTimeout(measure, warm)
})

function measure () {
  measuring = true
  const start = process.hrtime.bigint()
  const srv0 = procCPUus(serverPid)
  const cli0 = selfCPUus()
  setTimeout(() => {
    measuring = false
    stopped = true
    const srvUs = procCPUus(serverPid) - srv0
    const cliUs = selfCPUus() - cli0
    const secs = Number(process.hrtime.bigint() - start) / 1e9
    lat.sort((a, b) => a - b)
    const q = p => lat.length ? Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]) : 0
    console.log(JSON.stringify({
      mode: 'node', conc, seconds: secs, requests: lat.length, errors, rps: lat.length / secs,
      p50_us: q(0.5), p99_us: q(0.99), client_rss_kb: Math.round(process.resourceUsage().maxRSS),
      server_cpu_us_per_req: serverPid && lat.length ? srvUs / lat.length : undefined,
      client_cpu_us_per_req: lat.length ? cliUs / lat.length : 0,
      first_error: firstErr || undefined
    }))
    peer.stop()
    link.stop()
    process.exit(0)
  }, dur)
}
