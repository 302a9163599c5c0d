import {
  composeArticle,
  decodeArticle,
  isMessageId,
  parseGroupName,
  replyReferences,
  replySubject,
  type AuthorKey,
  type SignedArticle,
} from '../article/index.ts'
import { articleGroups, getArticle, getGroup, type Db } from '../store/index.ts'
import { canonicalChange } from './canonical-change.ts'
import { PostingError } from './errors.ts'
import type { Ingest } from './ingest.ts'

export interface OwnerIdentity {
  readonly key: AuthorKey
  displayName(): Promise<string>
}

export interface PosterComponents {
  db: Db
  ingest: Ingest
  owner: OwnerIdentity
  now?: () => number
}

export interface NewPost {
  readonly group: string
  /** Required for a new thread; a reply defaults to "Re: " and the parent's subject. */
  readonly subject?: string | undefined
  readonly body: string
  /** The Message-ID this replies to. */
  readonly parentId?: string | undefined
}

export interface Poster {
  /** Signs a post as the owner and hands it to ingest; resolves once it is durable. */
  post(input: NewPost): Promise<SignedArticle>
}

/** The reader side of posting: checks what a person asked for, then goes through the same ingest as peers' posts. */
export function createPoster({ db, ingest, owner, now = Date.now }: PosterComponents): Poster {
  return {
    async post({ group, subject, body, parentId }) {
      const groupName = parseGroupName(group)
      const known = await getGroup(db, groupName)
      if (!known?.subscribed) throw new PostingError('unknown-group', `this node does not carry the group ${groupName}`)

      let parent: SignedArticle | undefined
      if (parentId !== undefined) {
        const stored = isMessageId(parentId) ? await getArticle(db, parentId) : undefined
        if (!stored) throw new PostingError('unknown-parent', 'the article you reply to is not on this node')
        if (!(await articleGroups(db, stored.id)).includes(groupName)) {
          throw new PostingError('unknown-parent', `the article you reply to is not in ${groupName}`)
        }
        parent = decodeArticle(stored.bytes)
      }
      const wantedSubject = subject?.trim() ? subject : parent ? replySubject(parent.subject) : ''
      const article = composeArticle(
        {
          newsgroups: parent ? parent.newsgroups : [groupName],
          subject: wantedSubject,
          from: await owner.displayName(),
          body,
          references: parent ? replyReferences(parent) : [],
          date: now(),
        },
        owner.key,
      )
      const [result] = await ingest.ingestChanges([canonicalChange(article)])
      if (result?.status === 'accepted' || result?.status === 'duplicate') return article
      throw new PostingError('rejected', result?.status === 'rejected' || result?.status === 'ignored' ? result.reason : 'the post was not stored')
    },
  }
}
