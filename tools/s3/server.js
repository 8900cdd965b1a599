#!/usr/bin/env node
// Runs @20minutes/s3rver on 127.0.0.1 for atdata-cpp's tests/storage suite.
//   node server.js <run-dir> [bucket]
// Stores objects under <run-dir>/data, creates <bucket> (default atdata-test),
// gives the only account a fresh random key pair (the package's built-in
// S3RVER/S3RVER pair is revoked, so nothing else signs), and writes
//   <run-dir>/url         http://127.0.0.1:<port> (written last: readiness)
//   <run-dir>/access_key  <run-dir>/secret_key  <run-dir>/bucket
// Runs until SIGTERM/SIGINT.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const S3rver = require('@20minutes/s3rver');
const AWSAccount = require('@20minutes/s3rver/lib/models/account');

const run = process.argv[2];
const bucket = process.argv[3] || 'atdata-test';
if (!run) {
  console.error('usage: server.js <run-dir> [bucket]');
  process.exit(2);
}
fs.mkdirSync(path.join(run, 'data'), { recursive: true });

const accessKey = 'AKIA' + crypto.randomBytes(8).toString('hex').toUpperCase();
const secretKey = crypto.randomBytes(30).toString('base64');
AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
AWSAccount.DUMMY_ACCOUNT.createKeyPair(accessKey, secretKey);

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: path.join(run, 'data'),
  configureBuckets: [{ name: bucket }],
});

server.run((err, address) => {
  if (err) {
    console.error('s3rver failed to start:', err);
    process.exit(1);
  }
  const write = (name, value) => {
    const tmp = path.join(run, name + '.tmp');
    fs.writeFileSync(tmp, value + '\n', { mode: 0o600 });
    fs.renameSync(tmp, path.join(run, name));
  };
  write('access_key', accessKey);
  write('secret_key', secretKey);
  write('bucket', bucket);
  write('url', `http://127.0.0.1:${address.port}`);
  console.log(`s3rver on http://127.0.0.1:${address.port}, bucket ${bucket}`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
