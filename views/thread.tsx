import { AuthorName } from './author-name.tsx'
import { usePage } from './context.ts'
import { displayDate, isoDate } from './format.ts'
import { Layout } from './layout.tsx'
import { LiveUpdates } from './live.tsx'
import type { ArticleItem, ArticleNode } from './models.ts'

/** The body as lines, quoted lines ("> …") marked so they can be told apart from the reply. */
function Body({ text }: { text: string }) {
  return (
    <div class="body">
      {text.split('\n').map((line) => (
        <p class={line.startsWith('>') ? 'line quote' : 'line'}>{line === '' ? '\u00a0' : line}</p>
      ))}
    </div>
  )
}

export function ArticleView({ article, showSubject }: { article: ArticleItem; showSubject: boolean }) {
  return (
    <article class="article" id={`a-${article.hex}`}>
      <header>
        {showSubject && <h2 class="subject">{article.subject}</h2>}
        <AuthorName from={article.from} authorKey={article.authorKey} fingerprint={article.fingerprint} /> ·{' '}
        <a class="permalink" href={`/a/${article.hex}`}>
          <time datetime={isoDate(article.date)}>{displayDate(article.date)}</time>
        </a>
      </header>
      <Body text={article.body} />
    </article>
  )
}

/**
 * The reply form under an article. Without JavaScript it posts and the server redirects back to the thread;
 * with htmx the response replaces this form with a fresh one and appends the new reply in place.
 */
export function ReplyForm({ group, rootHex, parentHex, error }: { group: string; rootHex: string; parentHex: string; error?: string | undefined }) {
  const { nonce } = usePage()
  const action = `/g/${group}/t/${rootHex}/replies`
  return (
    // hx-morph-skip: a live refresh of the tree must not close a form someone is typing in.
    <details class="reply" id={`reply-${parentHex}`} open={error !== undefined} hx-morph-skip="" hx-nonce={nonce}>
      <summary>Reply</summary>
      <form
        method="post"
        action={action}
        hx-post={action}
        hx-target={`#reply-${parentHex}`}
        hx-swap="outerHTML"
        {...{ 'hx-status:4xx': `target:#reply-error-${parentHex} swap:innerHTML` }}
        hx-nonce={nonce}
      >
        <input type="hidden" name="parent" value={parentHex} />
        <label>
          Your reply
          <textarea name="body" required rows={5} />
        </label>
        <p class="error" id={`reply-error-${parentHex}`} role="alert">
          {error}
        </p>
        <button type="submit">Post reply</button>
      </form>
    </details>
  )
}

/** One article with its replies below it, recursively; a reply inserted later lands in its <ul>. */
export function ArticleBranch({ node, group, rootHex, rootSubject }: { node: ArticleNode; group: string; rootHex: string; rootSubject: string }) {
  const { owner } = usePage()
  const { article } = node
  const showSubject = article.subject !== rootSubject && article.subject !== `Re: ${rootSubject}`
  return (
    <li class="branch">
      <ArticleView article={article} showSubject={showSubject} />
      {owner && <ReplyForm group={group} rootHex={rootHex} parentHex={article.hex} />}
      <ul class="replies" id={`replies-${article.hex}`}>
        {node.replies.map((child) => (
          <ArticleBranch node={child} group={group} rootHex={rootHex} rootSubject={rootSubject} />
        ))}
      </ul>
    </li>
  )
}

/** What a successful htmx reply returns: a fresh form in place of the used one, and the reply in its place. */
export function ReplyPosted({
  group,
  rootHex,
  parentHex,
  reply,
  rootSubject,
}: {
  group: string
  rootHex: string
  parentHex: string
  reply: ArticleNode
  rootSubject: string
}) {
  const { nonce } = usePage()
  return (
    <>
      <ReplyForm group={group} rootHex={rootHex} parentHex={parentHex} />
      <hx-partial hx-target={`#replies-${parentHex}`} hx-swap="beforeend" hx-nonce={nonce}>
        <ArticleBranch node={reply} group={group} rootHex={rootHex} rootSubject={rootSubject} />
      </hx-partial>
    </>
  )
}

/** The tree's branches alone: what a live refresh of the thread fetches. */
export function ThreadBranches({ group, rootHex, subject, roots }: { group: string; rootHex: string; subject: string; roots: readonly ArticleNode[] }) {
  return (
    <>
      {roots.map((node) => (
        <ArticleBranch node={node} group={group} rootHex={rootHex} rootSubject={subject} />
      ))}
    </>
  )
}

export function ThreadPage({ group, rootHex, subject, roots }: { group: string; rootHex: string; subject: string; roots: readonly ArticleNode[] }) {
  const { nonce } = usePage()
  return (
    <Layout
      title={subject}
      crumbs={[
        { href: `/g/${group}`, label: group },
        { href: `/g/${group}/t/${rootHex}`, label: 'thread' },
      ]}
    >
      <h1>{subject}</h1>
      <LiveUpdates url={`/events?group=${group}&root=${rootHex}`} />
      <ul class="tree" id="tree" hx-get={`/g/${group}/t/${rootHex}`} hx-trigger="posted from:#live" hx-swap="innerMorph" hx-nonce={nonce}>
        <ThreadBranches group={group} rootHex={rootHex} subject={subject} roots={roots} />
      </ul>
    </Layout>
  )
}
