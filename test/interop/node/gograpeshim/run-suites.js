'use strict'

// Runs each pinned package's own mocha suite twice, with Node grapes and
// with Go grapes (the shim, preloaded), and compares per test: a test that
// passes with Node and fails with Go is a regression unless it is listed,
// with its reason, in docs/protocol.md between the nodesuite-exceptions
// markers. Prints a JSON summary on stdout; exits 1 on a regression or a
// listed exception that names no test, 2 when a suite could not run.
//
//   GO_GRAPE_BIN=/path/to/grape node run-suites.js [protocol.md]
//
// The suites use fixed ports (20001.., 30001.., 40001..): run it alone on
// its loopback (test/nodesuite puts it in a network namespace of its own).

const { spawn } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')

const nodeDir = path.join(__dirname, '..')
const suites = ['grenache-grape', 'grenache-nodejs-link', 'grenache-nodejs-http']
const runTimeoutMs = 90 * 1000

// exceptions reads the table rows `| suite | full test title | reason |`
// between <!-- nodesuite-exceptions --> and <!-- /nodesuite-exceptions -->.
function exceptions (doc) {
  const text = fs.readFileSync(doc, 'utf8')
  const m = /<!-- nodesuite-exceptions -->([\s\S]*?)<!-- \/nodesuite-exceptions -->/.exec(text)
  if (!m) throw new Error(`${doc}: no <!-- nodesuite-exceptions --> section`)
  const out = []
  for (const line of m[1].split('\n')) {
    const cells = line.split('|').slice(1, -1).map(s => s.trim())
    if (cells.length !== 3 || cells[0] === 'suite' || /^-+$/.test(cells[0])) continue
    out.push({ suite: cells[0].replace(/`/g, ''), test: cells[1].replace(/`/g, ''), reason: cells[2] })
  }
  return out
}

// mocha runs one suite and resolves with its JSON report.
function mocha (pkg, withGo) {
  const out = path.join(os.tmpdir(), `nodesuite-${process.pid}-${pkg}-${withGo ? 'go' : 'node'}.json`)
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  if (withGo) env.NODE_OPTIONS = `--require ${path.join(__dirname, 'preload.js')}`
  const args = [path.join(nodeDir, 'node_modules', 'mocha', 'bin', 'mocha.js'),
    '--reporter', 'json', '--reporter-option', `output=${out}`, '--exit']
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { cwd: path.join(nodeDir, 'node_modules', pkg), env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    p.stderr.on('data', d => { if (stderr.length < 65536) stderr += d })
    const timer = setTimeout(() => p.kill('SIGKILL'), runTimeoutMs)
    p.on('exit', (code, sig) => {
      clearTimeout(timer)
      let report
      try {
        report = JSON.parse(fs.readFileSync(out, 'utf8'))
        fs.unlinkSync(out)
      } catch (err) {
        return reject(new Error(`${pkg} (${withGo ? 'Go' : 'Node'} grapes): mocha exited ${code === null ? sig : code} without a report: ${err.message}\n${stderr}`))
      }
      resolve({ report, ms: Date.now() - started })
    })
  })
}

// title names a test by its file and full title: the suites repeat titles
// across files (the secure and plain HTTP servers).
function title (pkg, t) {
  const file = t.file ? path.relative(path.join(nodeDir, 'node_modules', pkg), t.file) : '?'
  return `${file}: ${t.fullTitle}`
}

function tally (pkg, report) {
  const passed = new Set(report.passes.map(t => title(pkg, t)))
  const failed = new Map(report.failures.map(t => [title(pkg, t), (t.err && t.err.message) || '']))
  const all = new Set(report.tests.map(t => title(pkg, t)))
  for (const t of failed.keys()) all.add(t) // hook failures are not in tests
  return { passed, failed, all }
}

async function main () {
  if (!process.env.GO_GRAPE_BIN) throw new Error('GO_GRAPE_BIN must name a built bin/grape')
  const doc = process.argv[2] || path.join(nodeDir, '..', '..', '..', 'docs', 'protocol.md')
  const listed = exceptions(doc)
  const summary = { suites: [], ok: true }
  for (const pkg of suites) {
    const node = await mocha(pkg, false)
    const go = await mocha(pkg, true)
    const n = tally(pkg, node.report)
    const g = tally(pkg, go.report)
    const s = {
      suite: pkg,
      node: { passed: n.passed.size, tests: n.all.size, ms: node.ms },
      go: { passed: g.passed.size, tests: g.all.size, ms: go.ms },
      regressions: [],
      excepted: [],
      staleExceptions: [],
      unknownExceptions: [],
      nodeFailures: [...n.failed].map(([test, err]) => ({ test, err })),
      goFailures: [...g.failed].map(([test, err]) => ({ test, err }))
    }
    const mine = listed.filter(e => e.suite === pkg)
    for (const t of n.passed) {
      if (g.passed.has(t)) continue
      const ex = mine.find(e => e.test === t)
      if (ex) s.excepted.push({ test: t, reason: ex.reason, err: g.failed.get(t) || 'did not run' })
      else s.regressions.push({ test: t, err: g.failed.get(t) || 'did not run with Go grapes' })
    }
    for (const e of mine) {
      if (!n.all.has(e.test) && !g.all.has(e.test)) s.unknownExceptions.push(e.test)
      else if (g.passed.has(e.test)) s.staleExceptions.push(e.test)
    }
    if (s.regressions.length || s.unknownExceptions.length) summary.ok = false
    summary.suites.push(s)
  }
  for (const e of listed) {
    if (!suites.includes(e.suite)) {
      summary.ok = false
      summary.unknownSuites = (summary.unknownSuites || []).concat(e.suite)
    }
  }
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n')
  process.exitCode = summary.ok ? 0 : 1
}

main().catch(err => {
  process.stderr.write(`run-suites: ${err.stack || err}\n`)
  process.exitCode = 2
})
