import { decodeArticle, keyFingerprint, messageIdHex } from '../article/index.ts'
import type { GroupSummary, StoredArticle, ThreadSummary } from '../store/index.ts'
import type { SyncProgress } from '../sync/index.ts'
import type { SyncRow } from '../../views/sync-status.tsx'
import type { ArticleItem, ArticleNode, GroupRow, ThreadRow } from '../../views/models.ts'

export function groupRow(g: GroupSummary): GroupRow {
  return { name: g.name, description: g.description, postCount: g.post_count, lastPostAt: g.last_post_at }
}

export function threadRow(t: ThreadSummary): ThreadRow {
  return {
    rootHex: t.root_id.slice(1, 65),
    subject: t.subject,
    from: t.from_name,
    authorKey: t.author_key,
    fingerprint: keyFingerprint(t.author_key),
    replies: t.post_count - 1,
    lastPostAt: t.last_post_at,
  }
}

export function articleItem(stored: StoredArticle): ArticleItem {
  const a = decodeArticle(stored.bytes)
  return {
    hex: messageIdHex(a.id),
    subject: a.subject,
    from: a.from,
    authorKey: a.authorKey,
    fingerprint: keyFingerprint(a.authorKey),
    date: a.date,
    body: a.body,
  }
}

/**
 * Arranges a thread's articles as a tree by their parent (the last References entry). An article whose
 * parent is not here yet hangs under the root, or at the top if the root is missing too.
 */
export function threadTree(articles: readonly StoredArticle[]): ArticleNode[] {
  const nodes = new Map<string, { article: ArticleItem; replies: ArticleNode[]; date: number }>()
  for (const stored of articles) nodes.set(stored.id, { article: articleItem(stored), replies: [], date: stored.date })
  const top: ArticleNode[] = []
  for (const stored of articles) {
    const node = nodes.get(stored.id)!
    const parent = (stored.parent_id && nodes.get(stored.parent_id)) || (stored.root_id !== stored.id ? nodes.get(stored.root_id) : undefined)
    if (parent) parent.replies.push(node)
    else top.push(node)
  }
  return top
}

export function syncRow(p: SyncProgress, now = Date.now()): SyncRow {
  const seconds = Math.max(0.001, ((p.finishedAt ?? now) - p.startedAt) / 1000)
  const rate = p.postsStored / seconds
  const left = p.postsWanted - p.postsStored
  return {
    group: p.group,
    peer: p.peer,
    state: p.state,
    daysToCheck: p.daysToCheck,
    daysChecked: p.daysChecked,
    postsWanted: p.postsWanted,
    postsStored: p.postsStored,
    rate,
    secondsLeft: rate > 0 && left > 0 ? left / rate : undefined,
    finishedAt: p.finishedAt,
    error: p.error,
  }
}
