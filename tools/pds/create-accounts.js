#!/usr/bin/env node
// create-accounts.js READY_JSON ENV_JSON [name...]
// Creates one account per name (handle <name>.test, password <name>-pass) on the
// PDS described by READY_JSON (written by pds-start.js) and writes everything a
// test needs to ENV_JSON. Uses only loopback URLs from READY_JSON.
'use strict'

const fs = require('node:fs')

async function xrpc(base, nsid, body) {
  const res = await fetch(`${base}/xrpc/${nsid}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${nsid} -> HTTP ${res.status}: ${text}`)
  return JSON.parse(text)
}

async function waitHealthy(base, deadlineMs) {
  for (;;) {
    try {
      const res = await fetch(`${base}/xrpc/_health`)
      if (res.ok) return
    } catch (_) {
      // not listening yet
    }
    if (Date.now() > deadlineMs) throw new Error(`${base}/xrpc/_health did not answer 200`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function main() {
  const [readyPath, envPath, ...names] = process.argv.slice(2)
  if (!readyPath || !envPath) {
    console.error('usage: create-accounts.js READY_JSON ENV_JSON [name...]')
    process.exit(2)
  }
  const ready = JSON.parse(fs.readFileSync(readyPath, 'utf8'))
  await waitHealthy(ready.pdsUrl, Date.now() + 60000)
  const accounts = {}
  for (const name of names.length ? names : ['alice', 'bob']) {
    const handle = `${name}.test`
    const password = `${name}-pass`
    const r = await xrpc(ready.pdsUrl, 'com.atproto.server.createAccount', {
      handle,
      email: `${name}@example.com`,
      password,
    })
    accounts[name] = { handle: r.handle, did: r.did, password, email: `${name}@example.com` }
  }
  const env = {
    pds_url: ready.pdsUrl, // http://127.0.0.1:PORT (what the server binds)
    public_url: ready.publicUrl, // http://localhost:PORT (what DID docs name)
    plc_url: ready.plcUrl, // http://localhost:PORT
    service_did: ready.serviceDid,
    admin_password: ready.adminPassword,
    jwt_secret: ready.jwtSecret,
    blob_upload_limit: ready.blobUploadLimit,
    pid: ready.pid,
    accounts,
  }
  const tmp = envPath + '.tmp'
  fs.writeFileSync(tmp, JSON.stringify(env, null, 2) + '\n')
  fs.renameSync(tmp, envPath)
}

main().catch((err) => {
  console.error('create-accounts:', err.message || err)
  process.exit(1)
})
