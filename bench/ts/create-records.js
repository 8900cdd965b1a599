#!/usr/bin/env node
// create-records.js ENV_JSON [N]
// The reference number for bench/xrpc_records: N sequential createRecord calls
// with the official TypeScript client (@atproto/api), one call per record, on
// the loopback PDS described by ENV_JSON (tools/pds/ctest-fixture.sh writes it).
// A fresh account per run keeps repos of equal size across clients.
// Prints one JSON line: {client, mode, n, seconds, records_per_s}.
'use strict'

const fs = require('node:fs')
const { AtpAgent } = require('@atproto/api')

async function main() {
  const [envPath, nArg] = process.argv.slice(2)
  if (!envPath) {
    console.error('usage: create-records.js ENV_JSON [N]')
    process.exit(2)
  }
  const env = JSON.parse(fs.readFileSync(envPath, 'utf8'))
  const n = parseInt(nArg || '2000', 10)
  const agent = new AtpAgent({ service: env.pds_url })
  const name = `bts${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`
  await agent.createAccount({ handle: `${name}.test`, email: `${name}@example.com`, password: 'bench-pass' })
  const did = agent.session.did
  const collection = 'ac.foundation.dataset.record'
  // warm-up: connection and repo creation are not what we measure
  for (let i = 0; i < 10; i++) {
    await agent.com.atproto.repo.createRecord({
      repo: did, collection, validate: false,
      record: { $type: collection, name: `warm-${i}`, i },
    })
  }
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    await agent.com.atproto.repo.createRecord({
      repo: did, collection, validate: false,
      record: { $type: collection, name: `rec-${i}`, i },
    })
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  console.log(JSON.stringify({
    client: '@atproto/api 0.19.19', mode: 'sequential createRecord', n, seconds: +seconds.toFixed(3),
    records_per_s: +(n / seconds).toFixed(1),
  }))
}

main().catch((err) => {
  console.error('create-records:', err.message || err)
  process.exit(1)
})
