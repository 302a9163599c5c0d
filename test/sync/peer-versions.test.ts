import { describe, expect, it } from 'vitest'
import { OLDER_VERSION_MS, PeerVersions } from '../../src/sync/peer-versions.ts'
import { FRAME_VERSION, OLDEST_FRAME_VERSION } from '../../src/sync/sync-frames.ts'

describe('the sync version each neighbour is asked in', () => {
  it('is the newest, one lower for a while after the neighbour refused it, then the newest again', () => {
    let now = 1_000_000
    const versions = new PeerVersions(() => now)
    expect(versions.versionFor('a')).toBe(FRAME_VERSION)
    expect(versions.refused('a', FRAME_VERSION)).toBe(FRAME_VERSION - 1)
    expect(versions.versionFor('a')).toBe(FRAME_VERSION - 1)
    // Another neighbour is not affected.
    expect(versions.versionFor('b')).toBe(FRAME_VERSION)
    now += OLDER_VERSION_MS - 1
    expect(versions.versionFor('a')).toBe(FRAME_VERSION - 1)
    now += 1
    expect(versions.versionFor('a')).toBe(FRAME_VERSION)
  })

  it('goes down one version a refusal, and no lower than the oldest', () => {
    const versions = new PeerVersions()
    let version = FRAME_VERSION
    const tried = [version]
    for (let next = versions.refused('a', version); next !== undefined; next = versions.refused('a', version)) {
      version = next
      tried.push(version)
    }
    expect(tried).toEqual(Array.from({ length: FRAME_VERSION - OLDEST_FRAME_VERSION + 1 }, (_, i) => FRAME_VERSION - i))
    expect(versions.versionFor('a')).toBe(OLDEST_FRAME_VERSION)
  })
})
