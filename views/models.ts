/** What the views are given: plain data, already read from the store and decoded by the web layer. */

export interface PageContext {
  /** The CSP nonce of this response: every script and every htmx element carries it. */
  readonly nonce: string
  /** Whether the request comes from the node's owner (posting and settings are theirs alone). */
  readonly owner: boolean
}

export interface GroupRow {
  readonly name: string
  readonly description: string
  readonly postCount: number
  readonly lastPostAt: number | null
}

export interface ThreadRow {
  readonly rootHex: string
  readonly subject: string
  readonly from: string
  readonly authorKey: string
  readonly fingerprint: string
  readonly replies: number
  readonly lastPostAt: number
}

export interface ArticleItem {
  readonly hex: string
  readonly subject: string
  readonly from: string
  readonly authorKey: string
  readonly fingerprint: string
  readonly date: number
  readonly body: string
}

/** An article with its replies, for the thread tree. */
export interface ArticleNode {
  readonly article: ArticleItem
  readonly replies: readonly ArticleNode[]
}

export interface AuthorPost {
  readonly hex: string
  readonly subject: string
  readonly date: number
}
