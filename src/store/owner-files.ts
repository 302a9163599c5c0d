import { randomBytes } from 'node:crypto'
import { access, chmod, constants, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { exportAuthorKey, generateAuthorKey, importAuthorKey, type AuthorKey } from '../article/index.ts'
import { StoreError } from './errors.ts'

/** Creates the data directory if needed and checks that this process can write to it. */
export async function prepareDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
    const info = await stat(dataDir)
    if (!info.isDirectory()) throw new Error('it is not a directory')
    await access(dataDir, constants.R_OK | constants.W_OK | constants.X_OK)
  } catch (err) {
    throw new StoreError(`data directory ${dataDir} is not usable: ${reason(err)}`)
  }
}

/**
 * The owner's Ed25519 signing key, made on first start. Kept as PKCS#8 PEM with mode 0600: whoever reads
 * it can post as the owner.
 */
export async function loadOrCreateOwnerKey(dataDir: string): Promise<AuthorKey> {
  const path = join(dataDir, 'owner.key')
  const existing = await readIfExists(path)
  if (existing !== undefined) {
    await chmod(path, 0o600)
    try {
      return importAuthorKey(existing)
    } catch (err) {
      throw new StoreError(`${path}: ${reason(err)}; move it away to make a new identity`)
    }
  }
  const key = generateAuthorKey()
  await writeFile(path, exportAuthorKey(key), { mode: 0o600, flag: 'wx' })
  return key
}

/** The secret that logs the owner in to the web UI and authenticates API calls. Mode 0600. */
export async function loadOrCreateOwnerToken(dataDir: string): Promise<string> {
  const path = join(dataDir, 'owner.token')
  const existing = (await readIfExists(path))?.trim()
  if (existing !== undefined) {
    if (!/^[A-Za-z0-9_-]{32,}$/.test(existing)) throw new StoreError(`${path} does not hold a token; delete it to make a new one`)
    await chmod(path, 0o600)
    return existing
  }
  const token = randomBytes(24).toString('base64url')
  await writeFile(path, `${token}\n`, { mode: 0o600, flag: 'wx' })
  return token
}

/** A binary secret kept in the data directory with mode 0600 (the peer's libp2p key), made on first use. */
export async function loadOrCreateSecretFile(dataDir: string, name: string, make: () => Promise<Uint8Array>): Promise<Uint8Array> {
  const path = join(dataDir, name)
  try {
    const bytes = await readFile(path)
    await chmod(path, 0o600)
    return new Uint8Array(bytes)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new StoreError(`cannot read ${path}: ${reason(err)}`)
  }
  const bytes = await make()
  await writeFile(path, bytes, { mode: 0o600, flag: 'wx' })
  return bytes
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new StoreError(`cannot read ${path}: ${reason(err)}`)
  }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
