import { InvalidArticleError } from './errors.ts'
import { MAX_GROUP_NAME_CHARS } from './limits.ts'

export type GroupName = string & { readonly __brand: 'GroupName' }

// RFC 5536 §3.1.4 newsgroup-name, restricted to lower case (as Usenet practice is) and at least two components.
const GROUP_NAME = /^[a-z0-9+_-]+(\.[a-z0-9+_-]+)+$/

export function parseGroupName(value: string): GroupName {
  if (value.length > MAX_GROUP_NAME_CHARS) {
    throw new InvalidArticleError('bad-group', `group name is longer than ${MAX_GROUP_NAME_CHARS} characters`)
  }
  if (!GROUP_NAME.test(value)) {
    throw new InvalidArticleError(
      'bad-group',
      `"${value.slice(0, MAX_GROUP_NAME_CHARS)}" is not a group name: use lower-case dot-separated parts such as comp.lang.typescript`,
    )
  }
  return value as GroupName
}

export function isGroupName(value: string): value is GroupName {
  return value.length <= MAX_GROUP_NAME_CHARS && GROUP_NAME.test(value)
}
