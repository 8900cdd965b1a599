#!/usr/bin/env node
// firehose-verify.js FRAMES_DIR DIDS_JSON [--seconds S]
// The TypeScript reference number for verifying #commit frames the way
// @atproto/sync's Firehose does for the live firehose, minus the WebSocket:
//   1. Frame.fromBytes (@atproto/xrpc-server), the body typed with $type and
//      checked against the subscribeRepos lexicon (isValidRepoEvent), as
//      xrpc-server's Subscription and the Firehose's `validate` do;
//   2. parseCommitAuthenticated (@atproto/sync), which Firehose.parseEvt calls
//      for every #commit: resolves the repo's signing key through an
//      IdResolver, runs @atproto/repo's verifyProofs (readCarWithRoot with
//      per-block CID checks, commit DID, commit signature, MST lookup of every
//      op's path: inclusion for create/update, absence for delete), keeps only
//      the ops whose CID the proof confirmed, then reads and decodes each
//      record from the CAR.
// The IdResolver is @atproto/identity's own, with its DID cache, whose did:plc
// method is replaced by a lookup in DIDS_JSON (no network); each commit still
// goes through the cache and extracts the key from the DID document.
//
// parseCommitAuthenticated returns before any check when a commit has no ops,
// so sets "small"/"large" hold the commits with ops (what the Firehose
// verifies); "small-all" adds the zero-op commits, verified with the same
// verifyProofs call with no claims (DID, signature, CIDs).
// A commit counts as a failure when it throws or when fewer ops come back
// verified than the frame carries; the failure count must be 0.
// Sanity lines (must say "rejected"): a frame whose commit signature has one
// byte flipped (commit block re-encoded, CID and CAR root recomputed, so only
// the signature is wrong), the same frame with the byte flipped in place (CID
// mismatch), and a valid frame checked against the other account's key.
// Prints JSON lines:
//   {"impl":"ts","bench":"verify","set":…,"commits":N,"seconds":…,"commits_per_s":…,"failures":0}
'use strict'

const fs = require('node:fs')
const path = require('node:path')
const { Frame } = require('@atproto/xrpc-server')
const { IdResolver, MemoryCache, ensureAtprotoKey } = require('@atproto/identity')
const { parseCommitAuthenticated } = require('@atproto/sync')
const { isValidRepoEvent } = require('@atproto/sync/dist/firehose/lexicons')
// The @atproto/repo that @atproto/sync itself resolves (it may be nested).
const syncRepo = require(require.resolve('@atproto/repo', { paths: [path.dirname(require.resolve('@atproto/sync'))] }))
const { encode, decode, decodeAll, cidForLex } = require('@atproto/lex-cbor')

const LARGE = new Set(['frame-013.bin', 'frame-014.bin'])
const METHOD = 'com.atproto.sync.subscribeRepos'

function parseArgs(argv) {
  const args = { pos: [], seconds: 3 }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seconds') args.seconds = Number(argv[++i])
    else args.pos.push(argv[i])
  }
  if (args.pos.length !== 2 || !(args.seconds > 0)) {
    console.error('usage: firehose-verify.js FRAMES_DIR DIDS_JSON [--seconds S]')
    process.exit(2)
  }
  return { dir: args.pos[0], didsPath: args.pos[1], seconds: args.seconds }
}

function makeResolver(dids) {
  const resolver = new IdResolver({ didCache: new MemoryCache(24 * 3600e3, 48 * 3600e3) })
  resolver.did.methods.set('plc', {
    resolveNoCheck: async (did) => (dids[did] ? dids[did].didDoc : null),
  })
  return resolver
}

// What xrpc-server's Subscription and the Firehose's validate() do with a frame.
function frameToEvent(bytes) {
  const frame = Frame.fromBytes(bytes)
  if (!frame.isMessage()) throw new Error('not a message frame')
  const t = frame.header.t
  const typed = { ...frame.body, $type: t.startsWith('#') ? METHOD + t : t }
  return isValidRepoEvent(typed)
}

// Returns null when the commit verified, else why it did not.
async function verifyFrame(resolver, bytes) {
  let evt
  try {
    evt = frameToEvent(bytes)
    if (evt.ops.length === 0) {
      // The Firehose skips these; same check as verifyProofs with no claims.
      const key = await resolver.did.resolveAtprotoKey(evt.repo)
      await syncRepo.verifyProofs(evt.blocks, [], evt.repo, key)
      return null
    }
    const out = await parseCommitAuthenticated(resolver, evt)
    if (out.length !== evt.ops.length) return `${evt.ops.length - out.length} of ${evt.ops.length} ops unverified`
    return null
  } catch (err) {
    return err.message || String(err)
  }
}

function loadCommits(dir) {
  const names = fs.readdirSync(dir).filter((n) => /^frame-\d+\.bin$/.test(n)).sort()
  const commits = []
  for (const name of names) {
    const bytes = new Uint8Array(fs.readFileSync(path.join(dir, name)))
    const frame = Frame.fromBytes(bytes)
    if (!frame.isMessage() || frame.header.t !== '#commit') continue
    commits.push({ name, bytes, ops: frame.body.ops.length, large: LARGE.has(name) })
  }
  return commits
}

async function run(resolver, name, frames, seconds) {
  let failures = 0
  for (const f of frames) {
    const why = await verifyFrame(resolver, f.bytes)
    if (why !== null) {
      console.error(`verify failed: ${f.name}: ${why}`)
      failures++
    }
  }
  const warmEnd = performance.now() + 1000
  while (performance.now() < warmEnd) {
    for (const f of frames) await verifyFrame(resolver, f.bytes)
  }
  let commits = 0
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  let t = t0
  while (t < end) {
    for (const f of frames) {
      if ((await verifyFrame(resolver, f.bytes)) !== null) failures++
    }
    commits += frames.length
    t = performance.now()
  }
  const secs = (t - t0) / 1000
  console.log(JSON.stringify({
    impl: 'ts',
    bench: 'verify',
    set: name,
    commits,
    seconds: Number(secs.toFixed(3)),
    commits_per_s: Number((commits / secs).toFixed(1)),
    failures,
  }))
  return failures
}

// --- tampering for the sanity lines -----------------------------------------

function varint(n) {
  const out = []
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return Uint8Array.from(out)
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

function writeCar(root, blocks) {
  const header = encode({ version: 1, roots: [root] })
  const parts = [varint(header.length), header]
  for (const [cid, bytes] of blocks) {
    parts.push(varint(cid.bytes.length + bytes.length), cid.bytes, bytes)
  }
  return concat(parts)
}

// Flip one signature byte, re-encode the commit block with its new CID, and
// rebuild CAR and frame around it: every CID is right, only the signature is not.
async function tamperSignatureResigned(bytes) {
  const [header, body] = [...decodeAll(bytes)]
  const car = await syncRepo.readCarWithRoot(body.blocks)
  const commit = decode(car.blocks.get(car.root))
  const sig = Uint8Array.from(commit.sig)
  sig[7] ^= 0x01
  const newCommit = { ...commit, sig }
  const newBlock = encode(newCommit)
  const newCid = await cidForLex(newCommit)
  const blocks = [[newCid, newBlock]]
  for (const [cid, b] of car.blocks) if (!cid.equals(car.root)) blocks.push([cid, b])
  const newBody = { ...body, commit: newCid, blocks: writeCar(newCid, blocks) }
  return concat([encode(header), encode(newBody)])
}

// Flip the same kind of byte where it sits in the frame: the commit block's
// CID no longer matches its bytes.
async function tamperSignatureInPlace(bytes) {
  const body = [...decodeAll(bytes)][1]
  const car = await syncRepo.readCarWithRoot(body.blocks)
  const sig = decode(car.blocks.get(car.root)).sig
  const out = Uint8Array.from(bytes)
  const at = Buffer.from(out).indexOf(Buffer.from(sig))
  if (at < 0) throw new Error('signature bytes not found in frame')
  out[at + 7] ^= 0x01
  return out
}

async function sanity(resolver, label, bytes) {
  const why = await verifyFrame(resolver, bytes)
  console.log(JSON.stringify({ impl: 'ts', sanity: label, result: why === null ? 'ACCEPTED' : 'rejected', error: why }))
  return why !== null
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  const dids = JSON.parse(fs.readFileSync(args.didsPath, 'utf8'))
  for (const [did, d] of Object.entries(dids)) {
    const key = ensureAtprotoKey(d.didDoc)
    if (key !== d.signingKeyDidKey) throw new Error(`${did}: DID document key ${key} != signingKeyDidKey ${d.signingKeyDidKey}`)
  }
  const resolver = makeResolver(dids)
  const commits = loadCommits(args.dir)
  const small = commits.filter((c) => !c.large && c.ops > 0)
  const smallAll = commits.filter((c) => !c.large)
  const large = commits.filter((c) => c.large)
  console.log(JSON.stringify({
    impl: 'ts', node: process.version,
    commits_with_ops_small: small.length, commits_small_all: smallAll.length, commits_large: large.length,
    ops_small: small.reduce((a, c) => a + c.ops, 0),
  }))

  let failures = 0
  failures += await run(resolver, 'small', small, args.seconds)
  failures += await run(resolver, 'small-all', smallAll, args.seconds)
  failures += await run(resolver, 'large', large, args.seconds)

  const victim = commits.find((c) => c.name === 'frame-011.bin') || small[0]
  let ok = true
  ok = (await sanity(resolver, `${victim.name} signature byte flipped, commit re-encoded (CIDs valid)`, await tamperSignatureResigned(victim.bytes))) && ok
  ok = (await sanity(resolver, `${victim.name} signature byte flipped in place (commit CID mismatch)`, await tamperSignatureInPlace(victim.bytes))) && ok
  const other = Object.keys(dids).find((d) => d !== Frame.fromBytes(victim.bytes).body.repo)
  const wrongKey = makeResolver(Object.fromEntries(Object.keys(dids).map((d) => [d, { didDoc: { ...dids[other].didDoc, id: d } }])))
  ok = (await sanity(wrongKey, `${victim.name} checked against the other account's key`, victim.bytes)) && ok

  if (failures !== 0 || !ok) {
    console.error(`FAILED: ${failures} verification failures, tamper checks ${ok ? 'ok' : 'NOT rejected'}`)
    process.exit(1)
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
