// The studio API (functions/studio), relative to the page at /studio/.
export class APIError extends Error {
  constructor(status, body) {
    super(body.error || `HTTP ${status}`)
    this.status = status
    this.problems = body.problems || []
  }
}

export function api(token) {
  const call = async (method, path, body) => {
    const resp = await fetch('api/' + path, {
      method,
      headers: { Authorization: 'Bearer ' + token, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    })
    const data = await resp.json().catch(() => ({}))
    if (!resp.ok) throw new APIError(resp.status, data)
    return data
  }
  const t = (id) => 'tenants/' + encodeURIComponent(id)
  return {
    tenants: () => call('GET', 'tenants'),
    draft: (id) => call('GET', t(id) + '/draft'),
    validate: (id, d) => call('POST', t(id) + '/validate', d),
    diff: (id, d) => call('POST', t(id) + '/diff', d),
    simulate: (id, sim) => call('POST', t(id) + '/simulate', sim),
    publish: (id, draft, note) => call('POST', t(id) + '/publish', { draft, note }),
    versions: (id) => call('GET', t(id) + '/versions'),
    rollback: (id, version, baseVersion) => call('POST', t(id) + '/rollback', { version, baseVersion }),
  }
}
