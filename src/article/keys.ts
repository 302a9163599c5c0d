import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { InvalidArticleError } from './errors.ts'

// DER prefixes that wrap a raw 32-byte Ed25519 key as PKCS#8 (RFC 8410 §7) and SubjectPublicKeyInfo (§4).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

/** An author's signing key and the public key other nodes know them by. */
export interface AuthorKey {
  readonly privateKey: KeyObject
  /** base64url of the raw 32-byte public key: the Author-Key header. */
  readonly publicKey: string
}

export function generateAuthorKey(): AuthorKey {
  return authorKeyFrom(generateKeyPairSync('ed25519').privateKey)
}

/** A deterministic key from a 32-byte seed (the demo authors in seeds/ use this). */
export function authorKeyFromSeed(seed: Uint8Array): AuthorKey {
  if (seed.length !== 32) throw new InvalidArticleError('bad-key', 'an Ed25519 seed is 32 bytes')
  return authorKeyFrom(createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }))
}

/** Reads a PKCS#8 PEM private key, as `exportAuthorKey` writes it. */
export function importAuthorKey(pem: string): AuthorKey {
  let key: KeyObject
  try {
    key = createPrivateKey({ key: pem, format: 'pem' })
  } catch {
    throw new InvalidArticleError('bad-key', 'the key file does not hold a PEM private key')
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new InvalidArticleError('bad-key', 'the key file does not hold an Ed25519 key')
  return authorKeyFrom(key)
}

export function exportAuthorKey(key: AuthorKey): string {
  return key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
}

function authorKeyFrom(privateKey: KeyObject): AuthorKey {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  return { privateKey, publicKey: spki.subarray(SPKI_PREFIX.length).toString('base64url') }
}

/** The raw 32 bytes of an Author-Key (base64url). */
export function publicKeyBytes(authorKey: string): Buffer {
  const raw = Buffer.from(authorKey, 'base64url')
  if (raw.length !== 32) throw new InvalidArticleError('bad-key', 'Author-Key is not a 32-byte Ed25519 public key')
  return raw
}
