// Verifies the example bank attestation (eddsa-rdfc-2022) with the W3C ecosystem's reference
// JavaScript implementation (Digital Bazaar's data-integrity + eddsa-rdfc-2022 suite), many times,
// and prints operations per second. The Rust side is `cargo bench --bench verify`; the two are
// compared by `scripts/bench-compare` (see docs/performance.md).
//
// No network: the document loader serves the contexts Corroborate ships (verifier/contexts/) and
// did:key documents derived locally, like the Rust verifier's `ShippedLoader` and `LocalResolver`.
//
// The credential is schemas/examples/residence-bank.json without its status entry, signed here
// with the demo bank key (seed 00…02) and the same `created` as the Rust bench. Ed25519 and
// RDFC-1.0 are deterministic, so the proof is byte for byte the one Rust makes; the proofValue is
// printed so that can be checked. `--credential FILE` verifies a given signed credential instead.
//
// Usage: node verify-rdfc.mjs [--rounds 15] [--iterations 200] [--credential FILE] [--json]

import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {performance} from 'node:perf_hooks';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import jsigs from 'jsonld-signatures';

const {purposes: {AssertionProofPurpose}} = jsigs;

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// The same URL → file table as verifier/src/context.rs (`SHIPPED`).
const SHIPPED = {
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
  'https://www.w3.org/ns/credentials/examples/v2': 'credentials-examples-v2.jsonld',
  'https://w3id.org/security/data-integrity/v2': 'data-integrity-v2.jsonld',
  'https://w3id.org/security/multikey/v1': 'multikey-v1.jsonld',
  'https://w3id.org/corroborate/v1': 'corroborate-v1.jsonld',
};
const contexts = new Map(Object.entries(SHIPPED).map(([url, file]) => [
  url,
  JSON.parse(readFileSync(join(repo, 'verifier', 'contexts', file), 'utf8')),
]));

// A did:key document for an Ed25519 Multikey, built from the DID alone.
function didKeyDocument(url) {
  const [did, fragment] = url.split('#');
  const publicKeyMultibase = did.slice('did:key:'.length);
  const id = `${did}#${publicKeyMultibase}`;
  const method = {
    '@context': 'https://w3id.org/security/multikey/v1',
    id,
    type: 'Multikey',
    controller: did,
    publicKeyMultibase,
  };
  if(fragment !== undefined) {
    if(fragment !== publicKeyMultibase) {
      throw new Error(`unknown verification method ${url}`);
    }
    return method;
  }
  return {
    '@context': 'https://www.w3.org/ns/did/v1',
    id: did,
    verificationMethod: [method],
    assertionMethod: [id],
    authentication: [id],
  };
}

async function documentLoader(url) {
  const context = contexts.get(url);
  if(context !== undefined) {
    return {contextUrl: null, documentUrl: url, document: context};
  }
  if(url.startsWith('did:key:z6Mk')) {
    return {contextUrl: null, documentUrl: url, document: didKeyDocument(url)};
  }
  throw new Error(`${url} is not shipped and is never fetched`);
}

const {values: args} = parseArgs({options: {
  rounds: {type: 'string', default: '15'},
  iterations: {type: 'string', default: '200'},
  credential: {type: 'string'},
  json: {type: 'boolean', default: false},
}});
const rounds = Number(args.rounds);
const iterations = Number(args.iterations);

async function signedExample() {
  const unsigned = JSON.parse(readFileSync(
    join(repo, 'schemas', 'examples', 'residence-bank.json'), 'utf8'));
  delete unsigned.credentialStatus;
  const seed = new Uint8Array(32);
  seed[31] = 2;
  const key = await Ed25519Multikey.generate({seed});
  const did = `did:key:${key.publicKeyMultibase}`;
  key.id = `${did}#${key.publicKeyMultibase}`;
  key.controller = did;
  const suite = new DataIntegrityProof({
    signer: key.signer(),
    cryptosuite: eddsaRdfc2022,
    date: '2025-02-28T12:00:00Z',
  });
  return jsigs.sign(unsigned, {suite, purpose: new AssertionProofPurpose(), documentLoader});
}

const credential = args.credential ?
  JSON.parse(readFileSync(args.credential, 'utf8')) : await signedExample();

async function verifyOnce() {
  // A fresh suite per verification, as a verifier serving requests would have: the suite caches
  // the last document's hash by object identity.
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
  const result = await jsigs.verify(credential, {
    suite, purpose: new AssertionProofPurpose(), documentLoader,
  });
  if(!result.verified) {
    throw result.error ?? new Error('not verified');
  }
}

// Raw Ed25519 in the same process, for a JavaScript-internal ratio (Node's crypto, OpenSSL).
async function rawEd25519() {
  const seed = new Uint8Array(32).fill(7);
  const key = await Ed25519Multikey.generate({seed});
  const data = new Uint8Array(32).fill(42);
  const signature = await key.signer().sign({data});
  const verifier = key.verifier();
  return async () => {
    if(!await verifier.verify({data, signature})) {
      throw new Error('raw signature does not verify');
    }
  };
}

async function measure(operation, count) {
  for(let i = 0; i < Math.max(10, count / 10); ++i) {
    await operation();
  }
  const rates = [];
  for(let round = 0; round < rounds; ++round) {
    const start = performance.now();
    for(let i = 0; i < count; ++i) {
      await operation();
    }
    rates.push(count / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)];
}

const rdfc = await measure(verifyOnce, iterations);
const raw = await measure(await rawEd25519(), iterations * 50);
const proofValue = [credential.proof].flat().at(-1).proofValue;
if(args.json) {
  console.log(JSON.stringify({
    implementation: 'digitalbazaar',
    proof_value: proofValue,
    rdfc_verify_ops_per_s: rdfc,
    raw_ed25519_ops_per_s: raw,
  }));
} else {
  console.log(`proofValue ${proofValue}`);
  console.log(`eddsa-rdfc-2022 verify: ${rdfc.toFixed(1)} ops/s (median of ${rounds} rounds of ${iterations})`);
  console.log(`raw Ed25519 verify (node crypto): ${raw.toFixed(0)} ops/s`);
  console.log(`ratio rdfc/raw within JavaScript: ${(rdfc / raw).toFixed(4)}`);
}
