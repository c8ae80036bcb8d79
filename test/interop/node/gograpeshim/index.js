'use strict'

// The shape of grenache-grape's index.js.
module.exports = {
  Grape: require('./Grape.js')
}
