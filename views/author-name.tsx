/** A claimed display name, always with the key fingerprint that says who really wrote it. */
export function AuthorName({ from, authorKey, fingerprint }: { from: string; authorKey: string; fingerprint: string }) {
  return (
    <a class="author" href={`/u/${authorKey}`} title={`Author key ${authorKey}`}>
      {from} <span class="fp">·{fingerprint}</span>
    </a>
  )
}
