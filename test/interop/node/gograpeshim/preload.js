'use strict'

// node --require preload.js: every require of grenache-grape's Grape
// (require('grenache-grape'), require('./../'), require('./../lib/Grape'))
// from the suites resolves to the shim instead, so the suites run unchanged
// against Go grapes. The rest of grenache-grape (lib/utils) stays real.
const Module = require('module')
const path = require('path')

const shim = {
  'index.js': path.join(__dirname, 'index.js'),
  'Grape.js': path.join(__dirname, 'Grape.js')
}
const target = /[/\\]grenache-grape[/\\](index\.js|lib[/\\]Grape\.js)$/

const resolve = Module._resolveFilename
Module._resolveFilename = function (request, parent, ...rest) {
  const file = resolve.call(this, request, parent, ...rest)
  const m = target.exec(file)
  if (!m) return file
  return m[1] === 'index.js' ? shim['index.js'] : shim['Grape.js']
}
