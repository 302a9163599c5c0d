import { crypto_sign_verify_detached } from 'sodium-native'

const SIGNATURE_BYTES = 64
const PUBLIC_KEY_BYTES = 32

/**
 * Checks an Ed25519 signature with libsodium rather than node:crypto: every post from outside pays this
 * check, and libsodium's costs about half of OpenSSL's here (`npm run bench:verify`). Signing stays with
 * node:crypto; the two make and accept the same signatures. libsodium also refuses small-order and
 * non-canonical public keys and R values, which no honest signer produces, so such a post is simply invalid.
 */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES || publicKey.length !== PUBLIC_KEY_BYTES) return false
  return crypto_sign_verify_detached(signature, message, publicKey)
}
