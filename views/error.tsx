import { Layout } from './layout.tsx'

export function ErrorPage({ status, message }: { status: number; message: string }) {
  return (
    <Layout title={`Error ${status}`}>
      <h1>{status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'That did not work'}</h1>
      <p class="error" role="alert">
        {message}
      </p>
      <p>
        <a href="/">Back to the groups</a>
      </p>
    </Layout>
  )
}

/** The error alone, for htmx to put next to the form that caused it. */
export function ErrorText({ message }: { message: string }) {
  return <>{message}</>
}
