import { useEffect, useRef, useState } from 'react'

// YAMLEditor is CodeMirror with YAML support, loaded when first shown so
// the graph opens without it. Edits flow out through onChange; a value
// changed elsewhere (the inspector) replaces the document.
export function YAMLEditor({ value, onChange }) {
  const host = useRef(null)
  const view = useRef(null)
  const latest = useRef(onChange)
  latest.current = onChange
  const [failed, setFailed] = useState('')

  useEffect(() => {
    let cancelled = false
    Promise.all([import('codemirror'), import('@codemirror/lang-yaml')]).then(([cm, lang]) => {
      if (cancelled) return
      view.current = new cm.EditorView({
        parent: host.current,
        doc: value,
        extensions: [cm.basicSetup, lang.yaml(), cm.EditorView.lineWrapping,
          cm.EditorView.updateListener.of((u) => u.docChanged && latest.current(u.state.doc.toString()))],
      })
    }, (e) => setFailed(e.message))
    return () => { cancelled = true; view.current && view.current.destroy() }
  }, [])

  useEffect(() => {
    const v = view.current
    if (v && v.state.doc.toString() !== value) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } })
  }, [value])

  if (failed) return <textarea id="yaml-fallback" value={value} onChange={(e) => onChange(e.target.value)} />
  return <div id="yaml" className="yaml-editor" ref={host} />
}
