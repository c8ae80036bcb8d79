'use strict'
// Signs and stores a BEP44 mutable item with the pinned bittorrent-dht
// itself (its put() builds the signed bytes with encodeSigData and calls
// our sign function), then gets an item with bittorrent-dht's get(), which
// verifies with the same encodeSigData. Node's own ed25519 (crypto) signs
// and verifies, since grenache-grape ships no verifier.
//
// usage: node sign_put_get.js BOOTSTRAP SEED_HEX SALT SEQ VALUE GET_TARGET GET_SALT
// prints one JSON line: {signed, sig, k, target, acked, putErr, got, gotSeq, getErr}
const crypto = require('crypto')
const DHT = require('bittorrent-dht')

const [bootstrap, seedHex, salt, seq, value, getTarget, getSalt] = process.argv.slice(2)

// Raw ed25519 keys wrapped in their fixed DER prefixes (RFC 8410).
const priv = crypto.createPrivateKey({
  key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seedHex, 'hex')]),
  format: 'der',
  type: 'pkcs8'
})
const spki = crypto.createPublicKey(priv).export({ format: 'der', type: 'spki' })
const k = spki.subarray(spki.length - 32)
const pubKey = (raw) => crypto.createPublicKey({
  key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]),
  format: 'der',
  type: 'spki'
})
const verify = (sig, msg, raw) => crypto.verify(null, msg, pubKey(raw), sig)

const out = { k: k.toString('hex') }
const dht = new DHT({ bootstrap: [bootstrap], verify })
const finish = () => {
  console.log(JSON.stringify(out))
  dht.destroy()
}
dht.once('ready', () => {
  const opts = {
    k,
    seq: Number(seq),
    v: Buffer.from(value),
    sign: (buf) => {
      out.signed = buf.toString('hex')
      const sig = crypto.sign(null, buf, priv)
      out.sig = sig.toString('hex')
      return sig
    }
  }
  if (salt) opts.salt = Buffer.from(salt)
  dht.put(opts, (err, hash, n) => {
    if (err) out.putErr = err.message
    if (hash) out.target = hash.toString('hex')
    out.acked = n
    const gopts = getSalt ? { salt: Buffer.from(getSalt) } : {}
    dht.get(Buffer.from(getTarget, 'hex'), gopts, (err, res) => {
      if (err) out.getErr = err.message
      if (res) {
        out.got = res.v.toString()
        out.gotSeq = res.seq
      }
      finish()
    })
  })
})
