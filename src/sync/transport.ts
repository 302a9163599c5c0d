/** A request/response exchange of length-prefixed frames on a stream. */
export interface FrameStream {
  read(): Promise<Uint8Array>
  write(frame: Uint8Array): Promise<void>
  /** Several frames in one write: one network message for a batch instead of one per frame. */
  writeFrames(frames: readonly Uint8Array[]): Promise<void>
  close(): Promise<void>
}

/** What stream protocols need from the network (src/node's Peer has it). */
export interface StreamTransport {
  handle(protocol: string, handler: (stream: FrameStream, from: string) => Promise<void>): Promise<void>
  open(peerId: string, protocol: string, options?: { signal?: AbortSignal }): Promise<FrameStream>
}
