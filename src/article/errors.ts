/** Why an article was refused. Stable codes: logs, API errors and tests match on them. */
export type ArticleProblem =
  | 'too-large'
  | 'not-utf8'
  | 'malformed'
  | 'non-canonical'
  | 'bad-header'
  | 'bad-group'
  | 'bad-message-id'
  | 'bad-subject'
  | 'bad-from'
  | 'bad-date'
  | 'bad-body'
  | 'bad-key'
  | 'bad-signature'

/** An article (or a piece of one) that breaks the format or its limits. The message says what to fix. */
export class InvalidArticleError extends Error {
  override readonly name = 'InvalidArticleError'
  readonly problem: ArticleProblem

  constructor(problem: ArticleProblem, message: string) {
    super(message)
    this.problem = problem
  }
}
