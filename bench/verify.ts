/**
 * Ed25519 verification of real ~1 KB posts on one thread: libsodium (what the node uses, src/article/ed25519.ts)
 * beside node:crypto (OpenSSL) on the same signatures. Every post from outside pays one check, so this sets
 * the floor of ingest and mirroring.
 *
 *   npm run bench:verify [-- --posts 5000 --runs 5]
 */
import { createPublicKey, verify } from 'node:crypto'
import { parseArgs } from 'node:util'
import { signingInput } from '../src/article/index.ts'
import { verifyEd25519 } from '../src/article/ed25519.ts'
import { publicKeyBytes } from '../src/article/keys.ts'
import { makeCorpus, median } from './lib.ts'

const { values } = parseArgs({ options: { posts: { type: 'string', default: '5000' }, runs: { type: 'string', default: '5' } } })
const POSTS = Number(values.posts)
const RUNS = Number(values.runs)

const articles = makeCorpus({ group: 'bench.verify', posts: POSTS, days: 30 })
const checks = articles.map((a) => ({
  message: signingInput(a),
  signature: Buffer.from(a.signature, 'base64url'),
  raw: publicKeyBytes(a.authorKey),
  keyObject: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: a.authorKey }, format: 'jwk' }),
}))

function perSecond(check: (c: (typeof checks)[number]) => boolean): number {
  const t0 = performance.now()
  for (const c of checks) if (!check(c)) throw new Error('a valid signature was refused')
  return (POSTS / (performance.now() - t0)) * 1000
}

const sodium: number[] = []
const openssl: number[] = []
for (let run = 0; run < RUNS; run++) {
  sodium.push(perSecond((c) => verifyEd25519(c.signature, c.message, c.raw)))
  openssl.push(perSecond((c) => verify(null, c.message, c.keyObject, c.signature)))
}
const s = median(sodium)
const o = median(openssl)
console.log(`Ed25519 verify of ${POSTS} posts on one thread, medians of ${RUNS} runs:`)
console.log(`| libsodium (the node) | ${s.toFixed(0)}/s (${(1e6 / s).toFixed(0)} µs) |`)
console.log(`| node:crypto (OpenSSL), key objects cached | ${o.toFixed(0)}/s (${(1e6 / o).toFixed(0)} µs) |`)
console.log(`libsodium / node:crypto: ${(s / o).toFixed(2)}×`)
