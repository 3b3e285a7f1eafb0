#!/usr/bin/env node
// An independent Sigstore bundle verifier for the tests: sigstore-js (@sigstore/verify) given a
// trusted root, so mcpkg's verdicts can be checked against a second implementation.
//
//   node testing/sigstore_verify.mjs trusted_root.json bundle.json \
//       [--identity SAN --issuer ISSUER] [--artifact FILE]
//
// Exit 0 and one JSON line {"identity", "issuer"[, "payloadType"]} on success; exit 1 and the
// reason on stderr when the bundle does not verify; exit 2 on a usage error. --identity and
// --issuer are compared exactly (sigstore-js's own policy check is a regular-expression match).
// --artifact is required for message-signature bundles; for a DSSE bundle it must match the
// sha256 of one subject of the in-toto statement.
//
// The packages are looked up under $MCPKG_NODE_PREFIX (default: <repo>/.venv/node), installed with
//   npm install --prefix .venv/node @sigstore/verify@3 @sigstore/bundle@4 @sigstore/protobuf-specs
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const prefix = process.env.MCPKG_NODE_PREFIX ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '.venv', 'node');
const require = createRequire(join(prefix, 'package.json'));

function usage(message) {
  process.stderr.write(`${message}\nusage: sigstore_verify.mjs trusted_root.json bundle.json [--identity SAN --issuer ISSUER] [--artifact FILE]\n`);
  process.exit(2);
}

const positional = [];
const options = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i];
  if (['--identity', '--issuer', '--artifact'].includes(arg)) {
    if (i + 1 >= argv.length) usage(`${arg} needs a value`);
    options[arg.slice(2)] = argv[++i];
  } else if (arg.startsWith('--')) {
    usage(`unknown option ${arg}`);
  } else {
    positional.push(arg);
  }
}
if (positional.length !== 2) usage('expected two files');

let verify, bundleLib, specs;
try {
  verify = require('@sigstore/verify');
  bundleLib = require('@sigstore/bundle');
  specs = require('@sigstore/protobuf-specs');
} catch (err) {
  usage(`cannot load sigstore-js from ${prefix}: ${err.message}`);
}

function fail(reason) {
  process.stderr.write(`${reason}\n`);
  process.exit(1);
}

function describe(err) {
  const parts = [];
  for (let e = err; e; e = e.cause) parts.push(e.code ? `${e.code}: ${e.message}` : String(e.message ?? e));
  return parts.join(' <- ');
}

try {
  const trustedRoot = specs.TrustedRoot.fromJSON(JSON.parse(readFileSync(positional[0], 'utf8')));
  const bundle = bundleLib.bundleFromJSON(JSON.parse(readFileSync(positional[1], 'utf8')));
  const artifact = options.artifact === undefined ? undefined : readFileSync(options.artifact);
  const isDsse = bundle.content.$case === 'dsseEnvelope';
  if (!isDsse && artifact === undefined) usage('a message-signature bundle needs --artifact');

  const verifier = new verify.Verifier(verify.toTrustMaterial(trustedRoot));
  const signer = verifier.verify(verify.toSignedEntity(bundle, artifact));

  const identity = signer.identity?.subjectAlternativeName;
  const issuer = signer.identity?.extensions?.issuer;
  if (options.identity !== undefined && identity !== options.identity) {
    fail(`certificate identity is ${identity}, expected ${options.identity}`);
  }
  if (options.issuer !== undefined && issuer !== options.issuer) {
    fail(`certificate issuer is ${issuer}, expected ${options.issuer}`);
  }
  const result = { identity, issuer };
  if (isDsse) {
    const envelope = bundle.content.dsseEnvelope;
    result.payloadType = envelope.payloadType;
    if (artifact !== undefined) {
      const digest = createHash('sha256').update(artifact).digest('hex');
      const statement = JSON.parse(envelope.payload.toString('utf8'));
      const subjects = Array.isArray(statement.subject) ? statement.subject : [];
      if (!subjects.some((s) => s?.digest?.sha256 === digest)) fail(`no subject of the statement has sha256 ${digest}`);
    }
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (err) {
  fail(describe(err));
}
