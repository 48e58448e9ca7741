import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { ReactFlow, Background, Controls, Handle, Position } from '@xyflow/react'
import YAML from 'yaml'
import { api } from './api.js'
import { build, SERVICES, unknownVars } from './graph.js'
import { Inspector } from './Inspector.jsx'
import { Simulator } from './Simulator.jsx'
import { YAMLEditor } from './YAMLEditor.jsx'

function StepNode({ data }) {
  const svc = SERVICES[data.step.service] || { name: data.step.service || '?', color: '#111827' }
  const cls = ['node', data.selected && 'selected', data.problems && 'has-problems', data.active && 'active'].filter(Boolean).join(' ')
  return (
    <div className={cls} style={{ borderColor: svc.color }} data-step={data.id}>
      <Handle type="target" position={Position.Top} />
      <div className="node-head" style={{ background: svc.color }}>
        <span>{data.id}</span><span>{data.step.service}</span>
      </div>
      <div className="node-prompt">{String(data.step.prompt || '')}</div>
      {data.problems > 0 && <div className="node-badge">{data.problems}</div>}
      <Handle type="source" position={Position.Bottom} />
    </div>
  )
}

function PseudoNode({ data, type }) {
  return (
    <div className={'pseudo ' + type}>
      <Handle type="target" position={Position.Top} />
      {data.label}
      <Handle type="source" position={Position.Bottom} />
    </div>
  )
}

const nodeTypes = { step: StepNode, pseudo: PseudoNode, missing: PseudoNode }

export function App() {
  const [token, setToken] = useState(() => localStorage.getItem('studio-token') || '')
  const client = useMemo(() => api(token), [token])
  const [tenants, setTenants] = useState([])
  const [tenantId, setTenantId] = useState('')
  const [draft, setDraft] = useState(null) // { baseVersion, files }
  const [flowFile, setFlowFile] = useState('')
  const [yamlFile, setYamlFile] = useState('') // the YAML view's file; '' follows the flow
  const [selected, setSelected] = useState('')
  const [problems, setProblems] = useState([])
  const [tab, setTab] = useState('inspect')
  const [message, setMessage] = useState(null) // { kind, text }
  const [diff, setDiff] = useState(null)
  const [versions, setVersions] = useState([])
  const [note, setNote] = useState('')
  const [active, setActive] = useState('')

  const fail = (e) => setMessage({ kind: 'error', text: e.message })

  const loadTenants = useCallback(() => {
    if (!token) return
    client.tenants().then((ts) => {
      setTenants(ts)
      if (ts.length && !ts.some((t) => t.id === tenantId)) setTenantId(ts[0].id)
    }, fail)
  }, [client, token, tenantId])
  useEffect(() => { setMessage(null); loadTenants() }, [token])

  const loadDraft = useCallback((id) => {
    if (!id) return
    client.draft(id).then((d) => {
      setDraft(d)
      const flows = Object.keys(d.files).filter((f) => f.startsWith('flows/')).sort()
      setFlowFile((cur) => (flows.includes(cur) ? cur : flows[0] || ''))
      setSelected('')
      setDiff(null)
    }, fail)
  }, [client])
  useEffect(() => loadDraft(tenantId), [tenantId, loadDraft])

  // Validate the draft on every change, with the server's own loader.
  const seq = useRef(0)
  useEffect(() => {
    if (!draft) return
    const n = ++seq.current
    const timer = setTimeout(() => {
      client.validate(tenantId, { baseVersion: draft.baseVersion, files: draft.files }).then((v) => {
        if (n === seq.current) setProblems(v.problems)
      }, fail)
    }, 300)
    return () => clearTimeout(timer)
  }, [draft, client, tenantId])

  const text = (draft && draft.files[flowFile]) || ''
  const doc = useMemo(() => YAML.parseDocument(text), [text])
  const spec = useMemo(() => (doc.errors.length ? null : doc.toJS()), [doc])
  const lastGood = useRef(null)
  if (spec) lastGood.current = spec
  const shown = spec || lastGood.current

  const problemSteps = useMemo(() => {
    const m = {}
    const steps = (shown && shown.steps) || {}
    for (const p of problems) {
      if (p.file !== flowFile || !p.step) continue
      // A router's problem is shown on the steps that listen through it.
      const ids = steps[p.step] ? [p.step] : Object.keys(steps).filter((id) => steps[id] && steps[id].router === p.step)
      for (const id of ids) m[id] = (m[id] || 0) + 1
    }
    return m
  }, [problems, flowFile, shown])
  const graph = useMemo(() => build(shown, { selected, problemSteps, active }), [shown, selected, problemSteps, active])

  const setFile = (file, content) => setDraft((d) => ({ ...d, files: { ...d.files, [file]: content } }))
  // edit applies a change to the flow's YAML document, keeping its comments.
  const edit = (fn) => {
    const d = YAML.parseDocument(text)
    if (d.errors.length) return fail(new Error('fix the YAML first: ' + d.errors[0].message))
    fn(d)
    setFile(flowFile, d.toString({ lineWidth: 0 }))
  }

  const publish = () => {
    client.publish(tenantId, draft, note).then((r) => {
      setMessage({ kind: 'ok', text: r.changed ? `게시됨 (published): version ${r.version}` : `변경 없음 (nothing to publish): version ${r.version}` })
      setNote('')
      loadDraft(tenantId)
      loadTenants()
      if (tab === 'versions') showVersions()
    }, (e) => {
      if (e.problems.length) setProblems(e.problems)
      setMessage({ kind: 'error', text: e.message, stale: e.status === 409 })
    })
  }
  const showDiff = () => {
    setTab('diff')
    client.diff(tenantId, draft).then(setDiff, fail)
  }
  const showVersions = () => {
    setTab('versions')
    client.versions(tenantId).then(setVersions, fail)
  }
  const rollback = (v) => {
    client.rollback(tenantId, v, draft.baseVersion).then((r) => {
      setMessage({ kind: 'ok', text: `version ${v}(으)로 되돌림 (rolled back): now version ${r.version}` })
      loadDraft(tenantId)
      client.versions(tenantId).then(setVersions, fail)
    }, fail)
  }

  // pin opens the step a problem is about (for a router, a step using it).
  const pin = (p) => {
    if (!p.file.startsWith('flows/')) { setYamlFile(p.file); setTab('yaml'); return }
    setFlowFile(p.file)
    const steps = (shown && shown.steps) || {}
    const id = steps[p.step] ? p.step : Object.keys(steps).find((s) => steps[s] && steps[s].router === p.step)
    if (id) { setSelected(id); setTab('inspect') }
  }

  const tenant = tenants.find((t) => t.id === tenantId)
  const flows = draft ? Object.keys(draft.files).filter((f) => f.startsWith('flows/')).sort() : []
  const step = shown && shown.steps && selected ? shown.steps[selected] : null

  return (
    <div className="app">
      <header>
        <h1>routebot 시나리오 스튜디오</h1>
        <form onSubmit={(e) => { e.preventDefault(); const v = e.target.elements.token.value; setToken(v); localStorage.setItem('studio-token', v) }}>
          <label>author token <input type="password" defaultValue={token} id="token" name="token" /></label>
          <button id="signin">열기 (Open)</button>
        </form>
        <select id="tenant" value={tenantId} onChange={(e) => setTenantId(e.target.value)}>
          {tenants.map((t) => <option key={t.id} value={t.id}>{t.name || t.id} ({t.id})</option>)}
        </select>
        <select id="flow" value={flowFile} onChange={(e) => { setFlowFile(e.target.value); setYamlFile(''); setSelected('') }}>
          {flows.map((f) => <option key={f} value={f}>{f.slice(6, -5)}</option>)}
        </select>
        {draft && <span className="version">draft of version {draft.baseVersion}{tenant && tenant.version !== draft.baseVersion ? ` (stored: ${tenant.version})` : ''}</span>}
        <span className="spacer" />
        <input id="note" placeholder="변경 메모 (note)" value={note} onChange={(e) => setNote(e.target.value)} />
        <button id="publish" disabled={!draft || problems.length > 0} onClick={publish}
          title={problems.length ? 'fix the problems first' : 'publish a new version'}>게시 (Publish)</button>
      </header>
      {message && <div id="message" className={'message ' + message.kind} onClick={() => setMessage(null)}>{message.text}
        {message.stale && <button id="reload" onClick={() => loadDraft(tenantId)}>게시된 버전 다시 불러오기 (reload the published version; your edits are dropped)</button>}</div>}
      <main>
        <section className="graph">
          <div className="legend">
            {Object.entries(SERVICES).map(([code, s]) => <span key={code}><i style={{ background: s.color }} />{code} {s.name}</span>)}
          </div>
          {doc.errors.length > 0 && <div className="yaml-error">YAML: {doc.errors[0].message}</div>}
          {shown && <ReactFlow key={tenantId + flowFile} nodes={graph.nodes} edges={graph.edges} nodeTypes={nodeTypes} fitView fitViewOptions={{ padding: 0.03 }} minZoom={0.1}
            nodesDraggable={false} onPaneClick={() => setSelected('')} onNodeClick={(_, n) => n.type === 'step' && (setSelected(n.id), setTab('inspect'))}
            proOptions={{ hideAttribution: true }}>
            <Background />
            <Controls showInteractive={false} />
          </ReactFlow>}
        </section>
        <aside>
          <nav>
            {[['inspect', '단계 (Step)'], ['yaml', 'YAML'], ['problems', `문제 (Problems) ${problems.length}`], ['diff', '비교 (Diff)'], ['simulate', '시뮬레이터'], ['versions', '버전 (Versions)']].map(([k, label]) =>
              <button key={k} id={'tab-' + k} className={tab === k ? 'on' : ''}
                onClick={() => (k === 'diff' ? showDiff() : k === 'versions' ? showVersions() : setTab(k))}>{label}</button>)}
          </nav>
          <div className="panel">
            {tab === 'inspect' && (step
              ? <Inspector id={selected} step={step} spec={shown} edit={edit} remove={() => { edit((d) => d.deleteIn(['steps', selected])); setSelected('') }} close={() => setSelected('')} problems={problems.filter((p) => p.file === flowFile && p.step && (p.step === selected || p.step === step.router))} unknown={unknownVars(step.prompt, shown)} />
              : <>
                <p className="hint">그래프에서 단계를 선택하세요. (Click a step in the graph to edit it.)</p>
                <form id="add-step" className="add-step" onSubmit={(e) => {
                  e.preventDefault()
                  const f = e.target.elements, id = f.stepId.value.trim()
                  if (!id) return
                  if (shown && shown.steps && shown.steps[id]) return fail(new Error(`step ${id} exists already`))
                  edit((d) => d.setIn(['steps', id], d.createNode({ service: f.service.value, prompt: '새 안내 문구입니다.' })))
                  setSelected(id)
                }}>
                  <h3>새 단계 (new step)</h3>
                  <input name="stepId" placeholder="step id" />
                  <select name="service">{Object.entries(SERVICES).map(([c, sv]) => <option key={c} value={c}>{c} {sv.name}</option>)}</select>
                  <button>추가 (Add)</button>
                  <p className="hint">A new step is unreachable until a route, next, yes/no or policy leads to it.</p>
                </form>
              </>)}
            {tab === 'yaml' && <>
              <select value={yamlFile || flowFile} onChange={(e) => setYamlFile(e.target.value === flowFile ? '' : e.target.value)}>
                {draft && Object.keys(draft.files).sort().map((f) => <option key={f}>{f}</option>)}
              </select>
              <YAMLEditor key={tenantId + (yamlFile || flowFile)} value={draft ? draft.files[yamlFile || flowFile] || '' : ''}
                onChange={(v) => setFile(yamlFile || flowFile, v)} />
            </>}
            {tab === 'problems' && (problems.length === 0
              ? <p id="no-problems" className="ok">문제 없음: 게시할 수 있습니다. (No problems: ready to publish.)</p>
              : <ul id="problems" className="problems">{problems.map((p, i) =>
                <li key={i} onClick={() => pin(p)}>
                  <code>{p.file}{p.line ? ':' + p.line : ''}</code> {p.step && <b>{p.step}</b>} {p.message}
                </li>)}</ul>)}
            {tab === 'diff' && (diff == null ? <p>…</p> : diff.files.length === 0
              ? <p>게시된 version {diff.version}과 같습니다. (Same as the published version.)</p>
              : diff.files.map((f) => <div key={f.path}><h3>{f.path} ({f.status})</h3>
                <pre id="diff" className="diff">{(f.unified || '').split('\n').map((l, i) =>
                  <div key={i} className={l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : ''}>{l}</div>)}</pre></div>))}
            {tab === 'simulate' && draft && <Simulator client={client} tenantId={tenantId} draft={draft}
              scenario={flowFile.slice(6, -5)} onStep={setActive} />}
            {tab === 'versions' && <ul id="versions" className="versions">{versions.map((v) =>
              <li key={v.version}><b>version {v.version}</b> {v.current && <em>(current)</em>} {v.at && !v.at.startsWith('0001') && new Date(v.at).toLocaleString()} {v.author} {v.note}
                {!v.current && <button className="rollback" data-version={v.version} onClick={() => rollback(v.version)}>되돌리기 (Roll back)</button>}</li>)}</ul>}
          </div>
        </aside>
      </main>
    </div>
  )
}
