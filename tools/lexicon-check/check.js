#!/usr/bin/env node
// Validates records with the official ATProto lexicon validator
// (@atproto/lexicon, Lexicons.assertValidRecord), against the lexicon
// documents the library ships (lexicons/ at the repository root).
//
//   node check.js [--lexicons DIR]... FILE.jsonl
//       Every line is a record to check: {"nsid": …, "record": {…}} or a bare
//       record (its $type names the collection). Prints each invalid one;
//       exits 1 if any is invalid or if the file holds no record at all.
//   node check.js [--lexicons DIR]... --expect FILE.jsonl
//       Every line is a test case {"record": {…}, "nsid"?, "error"?,
//       "official"?}: the validator must accept the record when "error" is
//       absent, and otherwise fail with exactly that message. "official"
//       ("valid" or a message) overrides "error" where atdata's validator is
//       deliberately stricter than the official one. Exits 1 on any
//       disagreement.
//   In both modes a line {"lexicon": {…}} adds a lexicon document (test
//   lexicons), and a line starting with "//" is a comment.
//   FILE may be "-" for standard input.
'use strict';

const fs = require('fs');
const path = require('path');
let lexiconPackage;
try {
  lexiconPackage = require('@atproto/lexicon');
} catch (e) {
  console.error(`lexicon-check: @atproto/lexicon is not installed (${e.code || e.message}); ` +
    `run tools/lexicon-check/install.sh`);
  process.exit(2);
}
const { Lexicons, jsonToLex } = lexiconPackage;

function usage(msg) {
  if (msg) console.error(`lexicon-check: ${msg}`);
  console.error('usage: node check.js [--lexicons DIR]... [--expect] FILE.jsonl');
  process.exit(2);
}

function lexiconFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...lexiconFiles(p));
    else if (e.name.endsWith('.json')) out.push(p);
  }
  return out.sort();
}

const args = process.argv.slice(2);
const dirs = [];
let expect = false;
let file = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--lexicons') dirs.push(args[++i] ?? usage('--lexicons needs a directory'));
  else if (args[i] === '--expect') expect = true;
  else if (file === null) file = args[i];
  else usage(`unexpected argument ${args[i]}`);
}
if (file === null) usage('give a JSON-lines file');
if (dirs.length === 0) dirs.push(path.join(__dirname, '..', '..', 'lexicons'));

const lex = new Lexicons();
let docs = 0;
for (const dir of dirs) {
  for (const f of lexiconFiles(dir)) {
    lex.add(JSON.parse(fs.readFileSync(f, 'utf8')));
    docs++;
  }
}

// The official verdict on one record: null when valid, else the message.
function verdict(nsid, record) {
  try {
    lex.assertValidRecord(nsid, jsonToLex(record));
    return null;
  } catch (e) {
    return String(e.message);
  }
}

const text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
let checked = 0;
let bad = 0;
text.split('\n').forEach((line, i) => {
  const where = `${file}:${i + 1}`;
  line = line.trim();
  if (line === '' || line.startsWith('//')) return;
  let v;
  try {
    v = JSON.parse(line);
  } catch (e) {
    console.error(`${where}: not JSON: ${e.message}`);
    bad++;
    return;
  }
  if (v && typeof v === 'object' && 'lexicon' in v && typeof v.lexicon === 'object') {
    lex.add(v.lexicon);
    docs++;
    return;
  }
  const isCase = v && typeof v === 'object' && 'record' in v;
  const record = isCase ? v.record : v;
  const nsid = isCase && typeof v.nsid === 'string' ? v.nsid : record && record.$type;
  if (typeof nsid !== 'string') {
    console.error(`${where}: no collection (neither "nsid" nor a string $type)`);
    bad++;
    return;
  }
  checked++;
  const got = verdict(nsid, record);
  if (!expect) {
    if (got !== null) {
      console.error(`${where}: ${nsid} record is invalid: ${got}`);
      bad++;
    }
    return;
  }
  let want = v.error ?? null;
  if ('official' in v) want = v.official === 'valid' ? null : v.official;
  if (got !== want) {
    console.error(`${where}: ${nsid}: expected ${want === null ? 'valid' : JSON.stringify(want)}, ` +
      `the official validator says ${got === null ? 'valid' : JSON.stringify(got)}`);
    bad++;
  }
});

const version = require('@atproto/lexicon/package.json').version;
if (checked === 0) {
  console.error(`lexicon-check: ${file} holds no record to check`);
  process.exit(1);
}
console.log(`lexicon-check: @atproto/lexicon ${version}, ${docs} lexicon documents, ` +
  `${checked} records, ${bad} ${expect ? 'disagreements' : 'invalid'}`);
process.exit(bad === 0 ? 0 : 1);
