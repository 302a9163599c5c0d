import { createPublicKey, sign, verify } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { authorKeyFromSeed } from '../../src/article/index.ts'
import { verifyEd25519 } from '../../src/article/ed25519.ts'
import { publicKeyBytes } from '../../src/article/keys.ts'

/** A key pair as authors have them: the node:crypto private key, and the raw public key posts carry. */
function keyPair(seed: Uint8Array) {
  const key = authorKeyFromSeed(seed)
  return { privateKey: key.privateKey, raw: publicKeyBytes(key.publicKey) }
}

/** Whether node:crypto (OpenSSL) accepts the signature, for comparison. */
function opensslAccepts(signature: Uint8Array, message: Uint8Array, raw: Uint8Array): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' })
    return verify(null, message, key, signature)
  } catch {
    return false
  }
}

describe('Ed25519 verification', () => {
  it('accepts every signature node:crypto makes, over any message', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 2048 }), (seed, message) => {
        const { privateKey, raw } = keyPair(seed)
        expect(verifyEd25519(sign(null, message, privateKey), message, raw)).toBe(true)
      }),
      { numRuns: 200 },
    )
  })

  it('refuses a signature once one bit of the signature, the message or the key is flipped, as node:crypto does', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        fc.constantFrom('signature', 'message', 'key'),
        fc.nat(),
        (seed, message, part, position) => {
          const { privateKey, raw } = keyPair(seed)
          const parts = { signature: Buffer.from(sign(null, message, privateKey)), message: Buffer.from(message), key: Buffer.from(raw) }
          const target = parts[part]
          const bit = position % (target.length * 8)
          target[bit >> 3]! ^= 1 << (bit & 7)
          expect(verifyEd25519(parts.signature, parts.message, parts.key)).toBe(false)
          expect(opensslAccepts(parts.signature, parts.message, parts.key)).toBe(false)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('refuses signatures and keys of the wrong size instead of throwing', () => {
    const { privateKey, raw } = keyPair(new Uint8Array(32).fill(3))
    const message = Buffer.from('hello')
    const signature = sign(null, message, privateKey)
    expect(verifyEd25519(signature.subarray(0, 63), message, raw)).toBe(false)
    expect(verifyEd25519(signature, message, raw.subarray(0, 31))).toBe(false)
    expect(verifyEd25519(Buffer.concat([signature, Buffer.alloc(1)]), message, raw)).toBe(false)
  })

  it('checks signatures and messages held in views of larger buffers', () => {
    const { privateKey, raw } = keyPair(new Uint8Array(32).fill(9))
    const message = Buffer.from('a post from the network')
    const pool = Buffer.concat([Buffer.from('junk'), sign(null, message, privateKey), message, raw, Buffer.from('tail')])
    const signature = pool.subarray(4, 68)
    expect(verifyEd25519(signature, pool.subarray(68, 68 + message.length), pool.subarray(68 + message.length, 100 + message.length))).toBe(true)
  })

  it('refuses the identity key with a "signature" that fits every message, as node:crypto does', () => {
    // The neutral point as key and R, with S = 0, satisfies the verification equation for any message:
    // accepting it would let anyone post as that key. libsodium refuses small-order keys.
    const identity = Buffer.concat([Buffer.from([1]), Buffer.alloc(31)])
    const signature = Buffer.concat([identity, Buffer.alloc(32)])
    const message = Buffer.from('anything at all')
    expect(opensslAccepts(signature, message, identity)).toBe(false)
    expect(verifyEd25519(signature, message, identity)).toBe(false)
  })
})
