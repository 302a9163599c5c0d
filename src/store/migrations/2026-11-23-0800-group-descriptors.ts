import type { Kysely } from 'kysely'

/** The signed announcement of a group, passed on to neighbours so they learn of it. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('groups').addColumn('descriptor', 'blob').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('groups').dropColumn('descriptor').execute()
}
