/** A change from outside that is not the canonical change of a valid article. */
export class InvalidChangeError extends Error {
  override readonly name = 'InvalidChangeError'
  readonly problem = 'bad-change'
}

/** A local post that cannot be made: the message says why, in words for the person posting. */
export class PostingError extends Error {
  override readonly name = 'PostingError'
  readonly problem: 'unknown-group' | 'unknown-parent' | 'rejected'

  constructor(problem: PostingError['problem'], message: string) {
    super(message)
    this.problem = problem
  }
}

/** The seed files are missing or malformed. */
export class SeedError extends Error {
  override readonly name = 'SeedError'
}
