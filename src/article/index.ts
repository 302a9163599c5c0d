export type { Article, ArticleRecord, SignedArticle } from './article.ts'
export { parentOf, threadRootOf } from './article.ts'
export { formatArticleDate, parseArticleDate, utcDay } from './date.ts'
export { checkArticle, decodeArticle, encodeArticle, sameBytes, signingInput, signingInputOf, SIGNING_CONTEXT } from './encoding.ts'
export { InvalidArticleError, type ArticleProblem } from './errors.ts'
export { isGroupName, parseGroupName, type GroupName } from './group-name.ts'
export { authorKeyFromSeed, exportAuthorKey, generateAuthorKey, importAuthorKey, type AuthorKey } from './keys.ts'
export * from './limits.ts'
export { isMessageId, messageIdFromHex, messageIdHex, messageIdOf, parseMessageId, type MessageId } from './message-id.ts'
export {
  composeArticle,
  hasValidSignature,
  keyFingerprint,
  openArticle,
  parseDisplayName,
  replyReferences,
  replySubject,
  signArticle,
  type Draft,
} from './signing.ts'
export { MAX_DESCRIPTION_CHARS, openGroupDescriptor, parseDescription, signGroupDescriptor, type GroupDescriptor } from './group-descriptor.ts'
