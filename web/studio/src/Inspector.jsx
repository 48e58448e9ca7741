import { SERVICES } from './graph.js'

// Inspector edits one step (and, for a listening step, its router) in the
// flow's YAML document through edit(fn), which keeps comments and layout.
export function Inspector({ id, step, spec, edit, remove, close, problems, unknown }) {
  const set = (path, value) => edit((d) => {
    if (value === '' || value == null || (Array.isArray(value) && value.length === 0)) d.deleteIn(path)
    else d.setIn(path, value)
  })
  const field = (key, label, props = {}) => (
    <label>{label}
      <input name={key} list="step-ids" defaultValue={step[key] ?? ''} key={id + key + String(step[key])} {...props}
        onBlur={(e) => e.target.value !== String(step[key] ?? '') && set(['steps', id, key], props.type === 'number' ? Number(e.target.value) || '' : e.target.value)} />
    </label>
  )
  // list edits a list of step names, written comma-separated.
  const list = (key, label) => (
    <label>{label}
      <input name={key} defaultValue={(step[key] || []).join(', ')} key={id + key + (step[key] || []).join()}
        onBlur={(e) => {
          const v = e.target.value.split(',').map((x) => x.trim()).filter(Boolean)
          if (v.join() !== (step[key] || []).join()) set(['steps', id, key], v)
        }} />
    </label>
  )
  const routerName = step.router
  const router = routerName && spec.routers ? spec.routers[routerName] : null
  const dtmf = step.dtmf || {}
  return (
    <div className="inspector">
      <datalist id="step-ids">{Object.keys(spec.steps || {}).map((s) => <option key={s} value={s} />)}</datalist>
      <h2>{id} <button id="close-step" className="delete" title="close" onClick={close}>×</button><button id="delete-step" className="delete" title="delete this step" onClick={remove}>삭제 (Delete)</button></h2>
      <label>ServiceCode
        <select value={step.service || ''} onChange={(e) => set(['steps', id, 'service'], e.target.value)}>
          {Object.entries(SERVICES).map(([c, s]) => <option key={c} value={c}>{c} {s.name}</option>)}
        </select>
      </label>
      <label>안내 문구 (prompt)
        <textarea id="prompt" defaultValue={step.prompt || ''} key={id + 'prompt' + step.prompt}
          onBlur={(e) => e.target.value !== step.prompt && set(['steps', id, 'prompt'], e.target.value)} />
      </label>
      {unknown.length > 0 && <p className="warn">알 수 없는 변수 (unknown variables): {unknown.map((v) => '${' + v + '}').join(' ')}</p>}
      {['S0000', 'S0003', 'S1000'].includes(step.service) && field('timeout', 'timeout (s)', { type: 'number', list: undefined,
        placeholder: 'flow default: ' + ((spec.defaults || {})[step.service === 'S1000' ? 'dtmfTimeout' : 'listenTimeout'] || (step.service === 'S1000' ? 10 : 7)) })}
      {step.service === 'S0000' && <>
        {field('router', 'router', { list: undefined })}
        {router && <fieldset><legend>router {routerName}</legend>
          {(router.routes || []).map((r, i) => (
            <div className="route" key={i}>
              <input className="when" defaultValue={(r.when || []).join(', ')} key={'w' + i + (r.when || []).join()}
                onBlur={(e) => {
                  const v = e.target.value.split(',').map((x) => x.trim()).filter(Boolean)
                  if (v.join() !== (r.when || []).join()) set(['routers', routerName, 'routes', i, 'when'], v)
                }} />
              <span>→</span>
              <input className="to" list="step-ids" defaultValue={r.to || ''} key={'t' + i + r.to}
                onBlur={(e) => e.target.value !== r.to && set(['routers', routerName, 'routes', i, 'to'], e.target.value)} />
            </div>))}
          <button onClick={() => edit((d) => d.addIn(['routers', routerName, 'routes'], { when: ['상담원연결'], to: id }))}>+ route</button>
          {['otherwise', 'unavailable'].map((k) => <label key={k}>{k}
            <input list="step-ids" defaultValue={router[k] || ''} key={k + router[k]}
              onBlur={(e) => e.target.value !== (router[k] || '') && set(['routers', routerName, k], e.target.value)} /></label>)}
        </fieldset>}
      </>}
      {(step.service === 'S0002' || step.service === 'S1000') && field('next', 'next')}
      {step.service === 'S0003' && <>{field('yes', '예 (yes) →')}{field('no', '아니오 (no) →')}</>}
      {step.service === 'S1000' && <fieldset><legend>DTMF</legend>
        {[['length', 'number'], ['endChar', 'text'], ['pattern', 'text'], ['capture', 'text']].map(([k, type]) =>
          <label key={k}>{k}<input type={type} defaultValue={dtmf[k] ?? ''} key={k + String(dtmf[k])}
            onBlur={(e) => e.target.value !== String(dtmf[k] ?? '') && set(['steps', id, 'dtmf', k], type === 'number' ? Number(e.target.value) || '' : e.target.value)} /></label>)}
        <label><input type="checkbox" checked={!!dtmf.sensitive} onChange={(e) => set(['steps', id, 'dtmf', 'sensitive'], e.target.checked || '')} /> sensitive (never logged)</label>
      </fieldset>}
      {step.service === 'S2000' && field('transfer', '연결 대상 (queue or number)', { list: undefined })}
      {['S0003', 'S1000'].includes(step.service) && list('onInvalid', '잘못된 입력 (onInvalid: 1st, 2nd, … the last repeats)')}
      {['S0000', 'S0003', 'S1000'].includes(step.service) && list('onSilence', '무응답 (onSilence, overrides the flow’s)')}
      {problems.length > 0 && <ul className="problems">{problems.map((p, i) => <li key={i}><code>{p.line ? 'line ' + p.line : ''}</code> {p.message}</li>)}</ul>}
    </div>
  )
}
