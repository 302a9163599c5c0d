/** The data directory or database cannot be used; the message names the path and what to do. */
export class StoreError extends Error {
  override readonly name = 'StoreError'
}
