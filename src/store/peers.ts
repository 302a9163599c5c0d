import type { Db } from './schema.ts'

/** At most this many remembered peers; the least recently connected go first. */
const MAX_PEERS = 200

export async function rememberPeer(db: Db, address: string, peerId: string, at: number): Promise<void> {
  await db
    .insertInto('peers')
    .values({ address, peer_id: peerId, last_connected_at: at })
    .onConflict((oc) => oc.column('address').doUpdateSet({ peer_id: peerId, last_connected_at: at }))
    .execute()
  const stale = await db.selectFrom('peers').select('address').orderBy('last_connected_at', 'desc').offset(MAX_PEERS).limit(1000).execute()
  if (stale.length > 0)
    await db
      .deleteFrom('peers')
      .where(
        'address',
        'in',
        stale.map((r) => r.address),
      )
      .execute()
}

export async function knownPeers(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('peers').select('address').orderBy('last_connected_at', 'desc').execute()
  return rows.map((r) => r.address)
}

export async function forgetPeer(db: Db, address: string): Promise<void> {
  await db.deleteFrom('peers').where('address', '=', address).execute()
}
