/**
 * A strict little HTML reader for the markup our JSX views produce (quoted attributes, explicit closing tags),
 * so tests can ask where an element sits instead of matching strings. A closing tag that matches no open
 * element throws: broken nesting in a page is a failure too.
 */
export interface El {
  readonly tag: string
  readonly attrs: Readonly<Record<string, string>>
  readonly children: (El | string)[]
  readonly parent: El | undefined
}

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'])
const RAW_TEXT = new Set(['script', 'style'])
const TOKEN =
  /<!--[\s\S]*?-->|<!DOCTYPE[^>]*>|<\/([a-zA-Z][\w:.-]*)\s*>|<([a-zA-Z][\w:.-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*(\/?)>/gi
const ATTR = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|nbsp);/gi, (_, e: string) => {
    const lower = e.toLowerCase()
    if (lower.startsWith('#x')) return String.fromCodePoint(Number.parseInt(lower.slice(2), 16))
    if (lower.startsWith('#')) return String.fromCodePoint(Number(lower.slice(1)))
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' }[lower] ?? ''
  })
}

function parseAttrs(source: string): Record<string, string> {
  const attrs: Record<string, string> = {}
  for (const m of source.matchAll(ATTR)) attrs[m[1]!.toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '')
  return attrs
}

export function parseHtml(html: string): El {
  const root: El = { tag: '#root', attrs: {}, children: [], parent: undefined }
  let current = root
  let at = 0
  TOKEN.lastIndex = 0
  for (let m = TOKEN.exec(html); m !== null; m = TOKEN.exec(html)) {
    if (m.index > at) current.children.push(decodeEntities(html.slice(at, m.index)))
    at = TOKEN.lastIndex
    const [whole, closing, opening, attrSource, selfClosing] = m
    if (whole.startsWith('<!')) continue
    if (closing !== undefined) {
      const tag = closing.toLowerCase()
      if (current.tag !== tag) throw new Error(`</${tag}> closes <${current.tag}> at offset ${m.index}`)
      current = current.parent!
      continue
    }
    const tag = opening!.toLowerCase()
    const el: El = { tag, attrs: parseAttrs(attrSource ?? ''), children: [], parent: current }
    current.children.push(el)
    if (VOID.has(tag) || selfClosing === '/') continue
    if (RAW_TEXT.has(tag)) {
      const end = html.toLowerCase().indexOf(`</${tag}`, at)
      if (end < 0) throw new Error(`<${tag}> is never closed`)
      if (end > at) el.children.push(html.slice(at, end))
      const close = html.indexOf('>', end)
      at = close + 1
      TOKEN.lastIndex = at
      continue
    }
    current = el
  }
  if (at < html.length) current.children.push(decodeEntities(html.slice(at)))
  if (current !== root) throw new Error(`<${current.tag}> is never closed`)
  return root
}

export function elements(root: El): El[] {
  const out: El[] = []
  const walk = (el: El) => {
    for (const child of el.children) {
      if (typeof child === 'string') continue
      out.push(child)
      walk(child)
    }
  }
  walk(root)
  return out
}

export function findAll(root: El, match: (el: El) => boolean): El[] {
  return elements(root).filter(match)
}

export function byId(root: El, id: string): El | undefined {
  return elements(root).find((el) => el.attrs.id === id)
}

export function hasClass(el: El, name: string): boolean {
  return (el.attrs.class ?? '').split(/\s+/).includes(name)
}

export function textOf(el: El): string {
  return el.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('')
}

/** The nearest enclosing element that matches, not counting `el` itself. */
export function closest(el: El, match: (el: El) => boolean): El | undefined {
  for (let p = el.parent; p; p = p.parent) if (match(p)) return p
  return undefined
}

export function contains(outer: El, inner: El): boolean {
  for (let p: El | undefined = inner; p; p = p.parent) if (p === outer) return true
  return false
}
