#!/usr/bin/env node
// The reference for bench_discovery replay: the same recorded frames through
// the official TypeScript packages (@atproto/common's DAG-CBOR decoder,
// @atproto/repo's verifyProofs: CAR, block CIDs, the commit signature with
// @atproto/crypto, the tree proof of every op; what @atproto/sync's firehose
// does per commit), in memory, without a socket or a database: a lower bound
// of the TypeScript SDK's cost for the work the C++ subscriber does.
//   node bench/discovery_reference.js FRAMES DIDS.json N [--no-verify]
// Run from tools/pds (its node_modules holds the packages). One JSON line.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const mods = path.join(__dirname, '..', 'tools', 'pds', 'node_modules')
const { cborDecodeMulti, cborDecode } = require(path.join(mods, '@atproto/common'))
const { verifyProofs, readCar } = require(path.join(mods, '@atproto/repo'))

async function main() {
  const [framesPath, didsPath, nArg, ...rest] = process.argv.slice(2)
  const verify = !rest.includes('--no-verify')
  const total = Number(nArg)
  const buf = fs.readFileSync(framesPath)
  const frames = []
  for (let at = 0; at + 4 <= buf.length; ) {
    const n = buf.readUInt32LE(at)
    frames.push(buf.subarray(at + 4, at + 4 + n))
    at += 4 + n
  }
  const keys = {}
  for (const [did, doc] of Object.entries(JSON.parse(fs.readFileSync(didsPath, 'utf8')))) {
    const d = doc.didDoc ?? doc
    keys[did] = 'did:key:' + d.verificationMethod[0].publicKeyMultibase
  }
  const wanted = (c) => c.startsWith('ac.foundation.dataset.') || c.startsWith('science.alt.dataset.')
  const commits = frames.filter((f) => cborDecodeMulti(f)[0].t === '#commit')
  let events = 0
  let changes = 0
  const t0 = process.hrtime.bigint()
  while (events < total) {
    for (const f of commits) {
      if (events >= total) break
      const [, body] = cborDecodeMulti(f)
      events++
      if (!body.ops.some((op) => wanted(op.path.split('/')[0]))) continue
      const claims = body.ops
        .filter((op) => wanted(op.path.split('/')[0]))
        .map((op) => {
          const [collection, rkey] = op.path.split('/')
          return { collection, rkey, cid: op.cid ?? null }
        })
      if (verify) {
        const r = await verifyProofs(body.blocks, claims, body.repo, keys[body.repo])
        if (r.unverified.length) throw new Error('unverified op in seq ' + body.seq)
      }
      const car = await readCar(body.blocks)
      for (const c of claims) {
        if (c.cid) {
          cborDecode(car.blocks.get(c.cid))
          changes++
        }
      }
    }
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  console.log(
    JSON.stringify({
      bench: 'discovery_reference_typescript',
      verify,
      events,
      record_changes: changes,
      seconds: secs,
      events_per_s: events / secs,
    }),
  )
}
main().catch((e) => {
  console.error(e)
  process.exit(1)
})
