#!/usr/bin/env node
// firehose-decode.js FRAMES_DIR [--seconds S]
// The TypeScript reference number for decoding com.atproto.sync.subscribeRepos
// frames: per frame, @atproto/xrpc-server's Frame.fromBytes (header + body),
// then for #commit/#sync bodies @atproto/repo's readCarWithRoot(body.blocks)
// (which checks each block's CID against the sha-256 of its bytes) and
// @atproto/lex-cbor's decode of every block.
// Two sets, measured separately: "small" (every frame-NNN.bin but 013 and 014)
// and "large" (frame-013.bin, frame-014.bin). Each set: 1 s warm-up, then
// whole passes over the set until S seconds (default 3) have gone by.
// Prints one JSON line per set:
//   {"impl":"ts","set":…,"frames":N,"seconds":…,"frames_per_s":…,"mb_per_s":…}
// where N counts frames decoded in the timed part and MB is 1e6 bytes of
// frame input.
'use strict'

const fs = require('node:fs')
const path = require('node:path')
const { Frame } = require('@atproto/xrpc-server')
const { readCarWithRoot } = require('@atproto/repo')
const { decode } = require('@atproto/lex-cbor')

const LARGE = new Set(['frame-013.bin', 'frame-014.bin'])

function parseArgs(argv) {
  const args = { dir: null, seconds: 3 }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seconds') args.seconds = Number(argv[++i])
    else if (args.dir === null) args.dir = argv[i]
    else throw new Error(`unexpected argument: ${argv[i]}`)
  }
  if (!args.dir || !(args.seconds > 0)) {
    console.error('usage: firehose-decode.js FRAMES_DIR [--seconds S]')
    process.exit(2)
  }
  return args
}

function loadSets(dir) {
  const names = fs.readdirSync(dir).filter((n) => /^frame-\d+\.bin$/.test(n)).sort()
  const sets = { small: [], large: [] }
  for (const n of names) {
    const bytes = new Uint8Array(fs.readFileSync(path.join(dir, n)))
    sets[LARGE.has(n) ? 'large' : 'small'].push(bytes)
  }
  if (sets.small.length !== 22 || sets.large.length !== 2) {
    throw new Error(`expected 22 small and 2 large frames in ${dir}, found ${sets.small.length} and ${sets.large.length}`)
  }
  return sets
}

// Returns how many blocks were decoded, so the work cannot be optimised away
// and so a pass can be checked against the expected count.
async function decodeFrame(bytes) {
  const frame = Frame.fromBytes(bytes)
  if (!frame.isMessage()) throw new Error('not a message frame')
  const t = frame.header.t
  if (t !== '#commit' && t !== '#sync') return 0
  const car = await readCarWithRoot(frame.body.blocks)
  let n = 0
  // values(), not entries(): entries() re-parses every CID from its string key
  for (const blockBytes of car.blocks.values()) {
    decode(blockBytes)
    n++
  }
  return n
}

async function pass(set) {
  let blocks = 0
  for (const bytes of set) blocks += await decodeFrame(bytes)
  return blocks
}

async function run(name, set, seconds) {
  const setBytes = set.reduce((a, b) => a + b.byteLength, 0)
  const expectBlocks = await pass(set)
  const warmEnd = performance.now() + 1000
  while (performance.now() < warmEnd) await pass(set)

  let passes = 0
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  let t = t0
  while (t < end) {
    if ((await pass(set)) !== expectBlocks) throw new Error('block count changed between passes')
    passes++
    t = performance.now()
  }
  const secs = (t - t0) / 1000
  const frames = passes * set.length
  console.log(JSON.stringify({
    impl: 'ts',
    set: name,
    frames,
    seconds: Number(secs.toFixed(3)),
    frames_per_s: Number((frames / secs).toFixed(1)),
    mb_per_s: Number(((passes * setBytes) / 1e6 / secs).toFixed(2)),
  }))
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  const sets = loadSets(args.dir)
  await run('small', sets.small, args.seconds)
  await run('large', sets.large, args.seconds)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
