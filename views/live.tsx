import { usePage } from './context.ts'

/**
 * Opens the page's event stream. Each `posted` event is re-dispatched on this element, where the live
 * region listens (`hx-trigger="posted from:#live"`) and fetches its fresh content.
 */
export function LiveUpdates({ url }: { url: string }) {
  const { nonce } = usePage()
  return <div id="live" hidden {...{ 'hx-sse:connect': url }} hx-nonce={nonce} />
}
