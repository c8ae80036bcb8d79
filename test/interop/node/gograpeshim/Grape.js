'use strict'

// A drop-in for grenache-grape's Grape class that runs the Go grape
// (GO_GRAPE_BIN, a built bin/grape) as a child process with the same
// options, so the Node packages' own test suites can run against Go
// grapes unchanged. Events come from the child's `--events` JSON lines;
// announce/lookup/put/get go through its HTTP API, as a link's would.

const { spawn } = require('child_process')
const Events = require('events')
const http = require('http')
const readline = require('readline')

const noop = () => {}

// Children of this process, killed if it exits with grapes still running
// (a mocha test that never stopped its grapes).
const children = new Set()
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
})

// Ports a stopping grape of this process still holds: port -> promise of
// its exit. Node's stop releases its sockets before the callback; a child
// process releases them when it exits, which the next grape on the same
// ports (the suites reuse fixed ports from test to test, often without
// waiting for stop) must wait for.
const releasing = new Map()

class Grape extends Events {
  constructor (conf) {
    super()
    // Node's defaults (lib/Grape.js), so options map one to one.
    this.conf = {
      host: null,
      dht_maxTables: 5000,
      dht_maxValues: 5000,
      dht_port: 20001,
      dht_bootstrap: [],
      dht_concurrency: 24,
      dht_nodeLiveness: 5 * 60 * 1000,
      api_port: null,
      dht_peer_maxAge: 120000,
      check_maxPayloadSize: 8192,
      ...conf
    }
    this._active = false
    this._proc = null
  }

  // args maps Node's options onto bin/grape flags. dht_concurrency is not
  // passed: Node's Grape never hands it to the DHT either (k-rpc uses 16,
  // the Go default). host binds the API and, like Node's -b, self-stores.
  args () {
    const c = this.conf
    const a = [
      '--dp', String(c.dht_port),
      '--aph', String(c.api_port),
      '--bn', (c.dht_bootstrap || []).join(','),
      '--dpa', String(c.dht_peer_maxAge),
      '--dht_maxTables', String(c.dht_maxTables),
      '--dht_maxValues', String(c.dht_maxValues),
      '--dnl', String(c.dht_nodeLiveness),
      '--check_maxPayloadSize', String(c.check_maxPayloadSize),
      '--events', '--log-format', 'json', '--log-level', 'warn'
    ]
    if (c.host) a.push('-b', c.host)
    return a
  }

  start (cb) {
    cb = cb || noop
    if (this._active || this._proc) return process.nextTick(cb)
    if (!this.conf.api_port) {
      // Node binds the DHT and then fails the HTTP transport with this.
      return process.nextTick(cb, new Error('ERR_NO_PORT'))
    }
    const ports = [`udp:${this.conf.dht_port}`, `tcp:${this.conf.api_port}`]
    Promise.all(ports.map(p => releasing.get(p))).then(() => this._spawn(cb))
  }

  _spawn (cb) {
    const bin = process.env.GO_GRAPE_BIN
    if (!bin) return cb(new Error('gograpeshim: GO_GRAPE_BIN is not set'))
    const proc = spawn(bin, this.args(), { stdio: ['ignore', 'pipe', 'pipe'] })
    this._proc = proc
    children.add(proc)
    let stderr = ''
    let started = false
    proc.stderr.on('data', (d) => { if (stderr.length < 65536) stderr += d })
    const exited = new Promise((resolve) => proc.once('exit', resolve))
    this._exited = exited
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      let ev
      try { ev = JSON.parse(line) } catch (_) { return }
      if (ev.event === 'listening' && !started) {
        started = true
        this._active = true
        cb(null)
      }
      this._emit(ev)
    })
    proc.once('exit', (code, sig) => {
      children.delete(proc)
      if (this._proc === proc) {
        this._proc = null
        this._active = false
      }
      if (!started) {
        started = true
        cb(new Error(`gograpeshim: bin/grape exited ${code === null ? sig : code} before listening: ${stderr.trim()}`))
      }
    })
    proc.once('error', (err) => {
      if (!started) {
        started = true
        cb(err)
      }
    })
  }

  // _emit re-emits a Go event with the arguments Node's Grape gives it.
  _emit (ev) {
    switch (ev.event) {
      case 'announce': return this.emit('announce', ev.name)
      case 'peer': return this.emit('peer', ev.peer)
      case 'listening': case 'ready': case 'node': case 'warning':
        return this.emit(ev.event)
    }
  }

  stop (cb) {
    cb = cb || noop
    const proc = this._proc
    if (!proc) return process.nextTick(cb, null)
    const exited = this._exited
    const ports = [`udp:${this.conf.dht_port}`, `tcp:${this.conf.api_port}`]
    for (const p of ports) releasing.set(p, exited)
    exited.then(() => {
      for (const p of ports) if (releasing.get(p) === exited) releasing.delete(p)
      cb(null)
    })
    proc.kill('SIGTERM')
  }

  announce (val, port, cb) {
    cb = cb || noop
    if (!Number.isInteger(port)) return process.nextTick(cb, new Error('ERR_GRAPE_SERVICE_PORT'))
    this._call('announce', [val, port], isNotString, (err) => cb(err || null))
  }

  lookup (val, cb) { this._call('lookup', val, Array.isArray, cb) }
  put (opts, cb) { this._call('put', opts, isHash, cb || noop) }
  get (opts, cb) { this._call('get', opts, isNotString, cb) }

  // _call POSTs {data} to the child's API and answers as Node's methods do:
  // (null, result) or (Error(message)). A grape answers most errors with
  // status 200 and the message as a JSON string (Node's wire, which Go
  // keeps), so a 200 reply that does not have the method's result shape
  // (ok) is the error Node's in-process method would have called back with.
  _call (type, data, ok, cb) {
    if (!this._active) return process.nextTick(cb, new Error('ERR_GRAPE_NOT_STARTED'))
    const body = JSON.stringify({ rid: 'gograpeshim', data })
    const req = http.request({
      host: '127.0.0.1',
      port: this.conf.api_port,
      path: '/' + type,
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
    }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d) => { text += d })
      res.on('end', () => {
        let v = text
        try { v = JSON.parse(text) } catch (_) {}
        if (res.statusCode !== 200 || !ok(v)) return cb(new Error(typeof v === 'string' ? v : text))
        cb(null, v)
      })
    })
    req.on('error', (err) => cb(err))
    req.end(body)
  }
}

function isNotString (v) { return typeof v !== 'string' }
function isHash (v) { return typeof v === 'string' && /^[0-9a-f]{40}$/.test(v) }

module.exports = Grape
