import { parentPort } from 'node:worker_threads'
import { answerCheck, type CheckRequest } from './verify-pool.ts'

/** A verify pool's thread: answers each request with the outcomes of its changes (see verify-pool.ts). */
parentPort!.on('message', (request: CheckRequest) => {
  const { response, transfer } = answerCheck(request)
  parentPort!.postMessage(response, transfer)
})
