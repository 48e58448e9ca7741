import { useEffect, useState } from 'react'
import { SERVICES } from './graph.js'

// Simulator plays a call against the draft: the whole call is sent again on
// every turn (the server keeps nothing), and each answer shows its
// ServiceCode, prompt and the step it went to.
export function Simulator({ client, tenantId, draft, scenario, onStep }) {
  const [customer, setCustomer] = useState('01012345678')
  const [turns, setTurns] = useState([])
  const [result, setResult] = useState(null)
  const [error, setError] = useState('')
  const [utterance, setUtterance] = useState('')
  const [keys, setKeys] = useState('')

  const run = (next) => {
    client.simulate(tenantId, { draft, scenario, customer, turns: next }).then((r) => {
      setTurns(next)
      setResult(r)
      setError('')
      const answers = r.answers || []
      onStep(answers.length ? answers[answers.length - 1].scenarioCode : '')
    }, (e) => setError(e.message))
  }
  useEffect(() => { run([]) }, [scenario, tenantId])
  const send = (kind, text = '') => run([...turns, { kind, text }])
  const answers = (result && result.answers) || []
  const last = answers[answers.length - 1]
  const ended = last && ['S0001', 'S2000'].includes(last.serviceCode)

  return (
    <div className="simulator">
      <div className="row">
        <label>발신번호 (Customer) <input value={customer} onChange={(e) => setCustomer(e.target.value)} /></label>
        <button id="sim-restart" onClick={() => { setKeys(''); run([]) }}>새 통화 (new call)</button>
      </div>
      {error && <p className="warn">{error}</p>}
      {result && result.problems && <p className="warn">초안에 문제가 있습니다 (the draft has problems): {result.problems.length}</p>}
      <ol id="sim-log" className="sim-log">
        {answers.map((a) => (
          <li key={a.turn} className={a.transCode === '200' ? '' : 'failed'}>
            {a.turn > 0 && <div className="caller"><span className="who">고객</span> {a.kind === 'silence' ? '(무응답)' : a.kind === 'silenceEnd' ? '(무응답종료)' : a.input}</div>}
            <div className="bot">
              <span className="svc" style={{ background: (SERVICES[a.serviceCode] || {}).color }}>{a.serviceCode || a.transCode}</span>
              <b className="to">{a.scenarioCode}</b>
              {a.category && <span className="cat"> [{a.category}]</span>}
              {a.transferNumber && <span className="transfer"> → {a.transferNumber}</span>}
              {a.dtmfLength > 0 && <span className="cat"> (DTMF {a.dtmfLength}{a.dtmfEndChar})</span>}
              {a.degraded && <span className="warn"> degraded</span>}
              <div className="sim-prompt">{a.prompt || a.message}</div>
            </div>
          </li>))}
      </ol>
      {ended ? <p className="hint">통화가 끝났습니다 (the call has left the bot).</p> : <>
        <form className="row" onSubmit={(e) => { e.preventDefault(); if (utterance) { send('say', utterance); setUtterance('') } }}>
          <input id="sim-say" placeholder="고객 발화 (what the caller says)" value={utterance} onChange={(e) => setUtterance(e.target.value)} />
          <button id="sim-say-send">말하기 (Say)</button>
        </form>
        <div className="row">
          <button id="sim-yes" onClick={() => send('answer', '네')}>네 (yes)</button>
          <button id="sim-no" onClick={() => send('answer', '아니요')}>아니요 (no)</button>
          <button id="sim-silence" onClick={() => send('silence')}>무응답 (silence)</button>
          <button onClick={() => send('silenceEnd')}>무응답종료</button>
        </div>
        <div className="pad">
          {['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'].map((k) =>
            <button key={k} data-key={k} onClick={() => setKeys(keys + k)}>{k}</button>)}
          <output id="sim-keys">{keys}</output>
          <button id="sim-keys-send" disabled={!keys} onClick={() => { send('dtmf', keys); setKeys('') }}>누르기 (Send keys)</button>
        </div>
      </>}
    </div>
  )
}
