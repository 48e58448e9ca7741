// A flow file as a graph: one node per step, edges labelled by what leads
// along them (categories, DTMF result, yes/no, silence), laid out by dagre.
import dagre from '@dagrejs/dagre'

export const SERVICES = {
  S0000: { name: '듣기 (listen)', color: '#2563eb' },
  S0001: { name: '종료 (hang up)', color: '#6b7280' },
  S0002: { name: '계속 (continue)', color: '#0d9488' },
  S0003: { name: '예/아니오 (yes/no)', color: '#d97706' },
  S1000: { name: 'DTMF', color: '#7c3aed' },
  S2000: { name: '상담원 연결 (transfer)', color: '#dc2626' },
}

const W = 210, H = 70

// edgesOf lists [to, label, kind] for one step of spec.
function edgesOf(spec, id, step) {
  const out = []
  const many = (list, label) => (list || []).forEach((to, i) => out.push([to, `${label} ${i + 1}`, 'fallback']))
  switch (step.service) {
    case 'S0000': {
      const r = (spec.routers || {})[step.router]
      if (r) {
        ;(r.routes || []).forEach((route) => out.push([route.to, (route.when || []).join(', '), 'route']))
        if (r.otherwise) out.push([r.otherwise, '그 외 (otherwise)', 'fallback'])
        if (r.unavailable) out.push([r.unavailable, '분류 불가 (unavailable)', 'fallback'])
      }
      break
    }
    case 'S0002':
      if (step.next) out.push([step.next, 'next', 'route'])
      break
    case 'S0003':
      if (step.yes) out.push([step.yes, '예 (yes)', 'route'])
      if (step.no) out.push([step.no, '아니오 (no)', 'route'])
      many(step.onInvalid, 'invalid')
      break
    case 'S1000':
      if (step.next) out.push([step.next, '올바른 입력 (valid)', 'route'])
      many(step.onInvalid, 'invalid')
      break
  }
  many(step.onSilence, '무응답')
  return out
}

// build turns a parsed flow spec into React Flow nodes and edges.
// problemSteps: step id → problem count; active: the simulator's step.
export function build(spec, { selected, problemSteps = {}, active } = {}) {
  const steps = (spec && typeof spec.steps === 'object' && spec.steps) || {}
  const nodes = [], edges = [], missing = new Set()
  const g = new dagre.graphlib.Graph()
  g.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 56, edgesep: 8 })
  g.setDefaultEdgeLabel(() => ({}))
  const add = (id, data, type = 'step') => {
    nodes.push({ id, type, data, position: { x: 0, y: 0 } })
    g.setNode(id, { width: W, height: H })
  }
  add('⟨start⟩', { label: '통화 시작 (call start)' }, 'pseudo')
  for (const [id, step] of Object.entries(steps)) {
    if (!step || typeof step !== 'object') continue
    add(id, { id, step, selected: id === selected, problems: problemSteps[id] || 0, active: id === active })
  }
  let n = 0
  const link = (from, to, label, kind) => {
    if (typeof to !== 'string' || !to) return
    if (!steps[to]) {
      const m = '⟨missing⟩' + to
      if (!missing.has(m)) {
        missing.add(m)
        add(m, { label: `없는 단계: ${to}` }, 'missing')
      }
      to = m
    }
    edges.push({ id: `e${n++}`, source: from, target: to, label, data: { kind },
      className: `edge-${kind}`, labelStyle: { fontSize: 11 }, labelBgPadding: [4, 2] })
    g.setEdge(from, to)
  }
  link('⟨start⟩', spec && spec.start, 'start', 'route')
  for (const [id, step] of Object.entries(steps)) {
    if (!step || typeof step !== 'object') continue
    for (const [to, label, kind] of edgesOf(spec, id, step)) link(id, to, label, kind)
  }
  if (spec && (spec.onSilence || spec.onSilenceEnd)) {
    add('⟨silence⟩', { label: '무응답 (silence)' }, 'pseudo')
    ;(spec.onSilence || []).forEach((to, i) => link('⟨silence⟩', to, `${i + 1}번째`, 'fallback'))
    link('⟨silence⟩', spec.onSilenceEnd, '무응답종료', 'fallback')
  }
  dagre.layout(g)
  for (const node of nodes) {
    const p = g.node(node.id)
    node.position = { x: p.x - W / 2, y: p.y - H / 2 }
  }
  return { nodes, edges }
}

export const BUILTIN_VARS = ['phone', 'name', 'category1', 'category2', 'category3', 'answer']

// unknownVars lists the ${variables} of a prompt that the flow does not define.
export function unknownVars(prompt, spec) {
  const captures = Object.values((spec && spec.steps) || {}).map((s) => s && s.dtmf && s.dtmf.capture).filter(Boolean)
  const known = new Set([...BUILTIN_VARS, ...captures])
  return [...String(prompt || '').matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]).filter((v) => !known.has(v))
}
