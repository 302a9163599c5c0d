// The one function of sodium-native we use (its package ships no types; @types/sodium-native is for v2).
declare module 'sodium-native' {
  /** True when `signature` is `publicKey`'s Ed25519 signature of `message`. Throws on a wrong-sized signature or key. */
  export function crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
}
