#!/usr/bin/env node
// pds-start.js - atdata-cpp's loopback ATProto peer: the official @atproto/pds
// plus an in-memory did:plc directory (@did-plc/server, Database.mock()) in ONE
// node process, bound to loopback only. Used by tools/pds/ctest-fixture.sh
// (CTest fixture for tests/pds) and tools/pds/start-dev.sh (demo).
//
// Every PDS_* variable understood by @atproto/pds (see
// node_modules/@atproto/pds/dist/config/env.js) can be set in the
// environment; the ones below just get test-friendly defaults.
//
// Extra variables understood by this script:
//   BIND_HOST        interface to listen on             (default 127.0.0.1)
//   PDS_PORT         PDS port; 0 = pick a free one      (default 2583)
//   PLC_PORT         port of the in-process PLC server; 0 = pick a free one
//                    (default 2582). If PDS_DID_PLC_URL is set, no PLC
//                    server is started.
//   READY_FILE       also write the PDS_READY JSON to this file (atomically)
//   MAX_LIFETIME_SECONDS  shut down after this long (a CTest fixture whose
//                    cleanup never ran must not leave a PDS behind)
//   KEEP_DATA=1      keep the scratch data directory on exit
//   EXIT_ON_STDIN_EOF=1  shut down when stdin closes (so a test harness that
//                    spawns this with a pipe cannot leak it when it dies)
//   PLC_LEGACY_DIDDOC=1  serve DID documents exactly as @did-plc/server 0.0.1
//                    does (EcdsaSecp256k1VerificationKey2019, uncompressed
//                    key). Default: rewrite them to the current plc.directory
//                    form (type "Multikey", compressed did:key multibase).
//
// When both servers listen, ONE line of JSON starting with "PDS_READY " is
// printed to stdout. SIGINT/SIGTERM shut everything down cleanly.
'use strict'

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const crypto = require('node:crypto')
const net = require('node:net')
const pds = require('@atproto/pds')
const plc = require('@did-plc/server')

const HOST = process.env.BIND_HOST || '127.0.0.1'

// Make an express app's listen(port) bind to HOST only. Call before start():
// PDS.start() and PlcServer.start() call app.listen(port) without a host,
// which would bind every interface. (The xrpc server has already wrapped
// app.listen to hook websocket upgrades; we wrap that wrapper, so the
// firehose keeps working.)
function bindToHost(app) {
  const listen = app.listen
  app.listen = (port, ...rest) => listen.call(app, port, HOST, ...rest)
}

// ---- DID documents in today's plc.directory format ----------------------
// @did-plc/server 0.0.1 (the only published version, also used by
// @atproto/dev-env) renders the atproto key as
//   {type: EcdsaSecp256k1VerificationKey2019, publicKeyMultibase: z<base58 of
//    the 65-byte uncompressed point>, id: "#atproto"}
// while plc.directory today serves
//   {type: Multikey, publicKeyMultibase: z<base58 of 0xe7 0x01 + 33-byte
//    compressed point>, id: "<did>#atproto"} plus the multikey/v1 context.
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
function b58decode(str) {
  let n = 0n
  for (const c of str) {
    const v = B58.indexOf(c)
    if (v < 0) throw new Error('bad base58')
    n = n * 58n + BigInt(v)
  }
  const bytes = []
  while (n > 0n) { bytes.unshift(Number(n % 256n)); n /= 256n }
  for (const c of str) { if (c !== '1') break; bytes.unshift(0) }
  return Uint8Array.from(bytes)
}
function b58encode(bytes) {
  let n = 0n
  for (const b of bytes) n = n * 256n + BigInt(b)
  let out = ''
  while (n > 0n) { out = B58[Number(n % 58n)] + out; n /= 58n }
  for (const b of bytes) { if (b !== 0) break; out = '1' + out }
  return out
}
const LEGACY_TYPES = {
  EcdsaSecp256k1VerificationKey2019: [0xe7, 0x01], // multicodec secp256k1-pub
  EcdsaSecp256r1VerificationKey2019: [0x80, 0x24], // multicodec p256-pub
}
function toMultikeyDoc(doc) {
  const vms = (doc.verificationMethod || []).map((vm) => {
    const prefix = LEGACY_TYPES[vm.type]
    if (!prefix || typeof vm.publicKeyMultibase !== 'string' || !vm.publicKeyMultibase.startsWith('z')) return vm
    const raw = b58decode(vm.publicKeyMultibase.slice(1))
    let compressed = raw
    if (raw.length === 65 && raw[0] === 0x04) {
      compressed = new Uint8Array(33)
      compressed[0] = raw[64] & 1 ? 0x03 : 0x02
      compressed.set(raw.subarray(1, 33), 1)
    } else if (raw.length !== 33) {
      return vm
    }
    return {
      id: vm.id && vm.id.startsWith('#') ? `${doc.id}${vm.id}` : vm.id,
      type: 'Multikey',
      controller: vm.controller,
      publicKeyMultibase: 'z' + b58encode(Uint8Array.from([...prefix, ...compressed])),
    }
  })
  return {
    '@context': [
      'https://www.w3.org/ns/did/v1',
      'https://w3id.org/security/multikey/v1',
      'https://w3id.org/security/suites/secp256k1-2019/v1',
    ],
    ...doc,
    verificationMethod: vms,
  }
}
function serveMultikeyDidDocs(app) {
  // GET /:did does res.type('application/did+ld+json').send(JSON.stringify(doc))
  const send = app.response.send
  // (the path may arrive URL-encoded: @atproto/identity requests /did%3Aplc%3A...)
  const isDidPath = (p) => { try { return /^\/did:plc:[a-z2-7]+$/.test(decodeURIComponent(p)) } catch { return false } }
  app.response.send = function (body) {
    if (this.req && this.req.method === 'GET' && isDidPath(this.req.path) &&
        typeof body === 'string' && /did\+ld\+json/.test(String(this.get('Content-Type')))) {
      try {
        const { '@context': _ctx, ...doc } = JSON.parse(body)
        body = JSON.stringify(toMultikeyDoc(doc))
      } catch (err) {
        console.error('DID doc rewrite failed, serving original', err)
      }
    }
    return send.call(this, body)
  }
}

const def = (name, value) => {
  if (process.env[name] === undefined || process.env[name] === '') {
    process.env[name] = String(value)
  }
}

// Ask the kernel for a free loopback port. The port is released before the
// server binds it, so a racing process could grab it in between; the fixture
// retries the whole boot when that happens (EADDRINUSE exits with code 98).
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, HOST, () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}
async function portFromEnv(name, dflt) {
  const raw = process.env[name]
  const v = raw === undefined || raw === '' ? dflt : parseInt(raw, 10)
  if (!Number.isInteger(v) || v < 0 || v > 65535) throw new Error(`${name}: not a port: ${raw}`)
  return v === 0 ? freePort() : v
}

async function main() {
  const t0 = Date.now()

  // ---- 1. PLC directory (in memory, forgets everything on exit) ----------
  let plcServer = null
  if (!process.env.PDS_DID_PLC_URL) {
    const plcPort = await portFromEnv('PLC_PORT', 2582)
    plcServer = plc.PlcServer.create({ db: plc.Database.mock(), port: plcPort })
    bindToHost(plcServer.app)
    if (process.env.PLC_LEGACY_DIDDOC !== '1') serveMultikeyDidDocs(plcServer.app)
    await plcServer.start()
    // A host NAME, not an IP: @atproto/pds >= 0.5 resolves DIDs through a
    // "safe fetch" that refuses IP-literal hosts ("Invalid hostname").
    // localhost comes from /etc/hosts, so this is not a DNS query.
    process.env.PDS_DID_PLC_URL = `http://localhost:${plcPort}`
  }

  // ---- 2. PDS configuration -----------------------------------------------
  let tmpDir = null
  if (!process.env.PDS_DATA_DIRECTORY) {
    // a fresh directory each boot: the PLC above is in memory, so accounts
    // from an earlier run would point at DIDs that no longer exist.
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-test-'))
    process.env.PDS_DATA_DIRECTORY = tmpDir
  }
  fs.mkdirSync(process.env.PDS_DATA_DIRECTORY, { recursive: true })
  def('PDS_BLOBSTORE_DISK_LOCATION', path.join(process.env.PDS_DATA_DIRECTORY, 'blocks'))
  def('PDS_HOSTNAME', 'localhost') // => public URL http://localhost:PORT, handles *.test
  process.env.PDS_PORT = String(await portFromEnv('PDS_PORT', 2583))
  def('PDS_DEV_MODE', 'true')
  def('PDS_INVITE_REQUIRED', 'false')
  // createSession/refreshSession then carry the didDoc, as on bsky.social, so
  // clients exercise "switch to the PDS named in the DID document".
  def('PDS_ENABLE_DID_DOC_WITH_SESSION', 'true')
  def('PDS_JWT_SECRET', 'test-jwt-secret')
  def('PDS_ADMIN_PASSWORD', 'admin-pass')
  // secp256k1 private key = 32 random bytes (hex)
  def('PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX', crypto.randomBytes(32).toString('hex'))
  // The PDS default is 5 MiB; datasets published as blobs carry whole shards,
  // so the harness accepts 64 MiB (tests upload 20 MB).
  def('PDS_BLOB_UPLOAD_LIMIT', 64 * 1024 * 1024)
  // Not set on purpose (so nothing ever leaves the machine):
  //   PDS_CRAWLERS (requestCrawl to relays), PDS_BSKY_APP_VIEW_URL,
  //   PDS_MOD_SERVICE_URL, PDS_EMAIL_SMTP_URL. Rate limits are OFF unless
  //   PDS_RATE_LIMITS_ENABLED=true.

  const env = pds.readEnv()
  const cfg = pds.envToCfg(env)
  const secrets = pds.envToSecrets(env)

  // ---- 3. PDS ---------------------------------------------------------------
  const server = await pds.PDS.create(cfg, secrets)
  bindToHost(server.app)
  await server.start()

  const info = {
    pdsUrl: `http://${HOST}:${cfg.service.port}`,
    publicUrl: cfg.service.publicUrl,
    plcUrl: process.env.PDS_DID_PLC_URL,
    serviceDid: cfg.service.did,
    handleDomains: cfg.identity.serviceHandleDomains,
    adminPassword: secrets.adminPassword,
    // test-only HS256 key: lets tests mint expired access tokens
    jwtSecret: process.env.PDS_JWT_SECRET,
    dataDirectory: process.env.PDS_DATA_DIRECTORY,
    blobUploadLimit: cfg.service.blobUploadLimit,
    pid: process.pid,
    bootMs: Date.now() - t0, // after the (slow) require()s
    sinceProcessStartMs: Math.round(process.uptime() * 1000),
  }
  if (process.env.READY_FILE) {
    const tmp = process.env.READY_FILE + '.tmp'
    fs.writeFileSync(tmp, JSON.stringify(info, null, 2) + '\n')
    fs.renameSync(tmp, process.env.READY_FILE)
  }
  process.stdout.write('PDS_READY ' + JSON.stringify(info) + '\n')

  let stopping = false
  const shutdown = async (sig) => {
    if (stopping) return
    stopping = true
    try {
      await server.destroy()
      if (plcServer) await plcServer.destroy()
    } catch (err) {
      console.error('shutdown error', err)
    }
    if (tmpDir && process.env.KEEP_DATA !== '1') {
      fs.rmSync(tmpDir, { recursive: true, force: true })
    }
    process.stdout.write(`PDS_STOPPED ${sig}\n`)
    process.exit(0)
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  const maxLife = parseInt(process.env.MAX_LIFETIME_SECONDS || '0', 10)
  if (maxLife > 0) setTimeout(() => shutdown('max-lifetime'), maxLife * 1000).unref()
  if (process.env.EXIT_ON_STDIN_EOF === '1') {
    process.stdin.on('end', () => shutdown('stdin-eof'))
    process.stdin.resume()
  }
}

main().catch((err) => {
  console.error('PDS failed to start:', err)
  process.exit(err && err.code === 'EADDRINUSE' ? 98 : 1)
})
