export { keepConnected, type KeepConnectedInit } from './keep-connected.ts'
export { createPeer, newPeerKey, peerIdOf, type FrameStream, type Peer, type PeerInit, type TopicValidator, type Verdict } from './peer.ts'
