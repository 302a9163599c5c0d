export { keepConnected, type KeepConnectedInit } from './keep-connected.ts'
export { createPeer, newPeerKey, type FrameStream, type Peer, type PeerInit, type TopicValidator, type Verdict } from './peer.ts'
