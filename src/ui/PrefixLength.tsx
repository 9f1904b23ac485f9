// The prefix length m: a slider on a log scale (0, 1, 2, 4, …, 4096) and an exact number
// field. When a prefix run is on screen, settling on a new m starts a run at that length
// (the slider waits for the hand to stop; the number field commits on Enter or blur).
import { useEffect, useId, useRef, useState } from 'react';
import { RUN_FIELDS, parseField } from '../train/config';
import { commitPrefixLength, setConfig, useApp } from './store';
import { PREFIX_STOPS, prefixStopIndex } from './settings';

const SLIDER_SETTLE_MS = 500;

export function PrefixLength() {
  const m = useApp((s) => s.config.prefixLength);
  const id = useId();
  const [draft, setDraft] = useState(String(m));
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => setDraft(String(m)), [m]);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);
  const idx = prefixStopIndex(m);
  const f = RUN_FIELDS.prefixLength;
  const commitNumber = (raw: string) => {
    const v = parseField('prefixLength', raw).value as number;
    setDraft(String(v));
    commitPrefixLength(v);
  };
  return (
    <div className="field prefix-length">
      <label htmlFor={`${id}-n`}>Prefix length m</label>
      <div className="prefix-row">
        <input
          type="range"
          min={0}
          max={PREFIX_STOPS.length - 1}
          step={1}
          value={idx}
          aria-label="Prefix length (log scale)"
          aria-valuetext={`m = ${PREFIX_STOPS[idx]}`}
          onChange={(e) => {
            const v = PREFIX_STOPS[Number(e.target.value)];
            setConfig({ prefixLength: v });
            if (timer.current) clearTimeout(timer.current);
            timer.current = setTimeout(() => commitPrefixLength(v), SLIDER_SETTLE_MS);
          }}
        />
        <input
          id={`${id}-n`}
          type="number"
          min={f.min}
          max={f.max}
          step={1}
          inputMode="numeric"
          aria-label="Prefix length"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onBlur={(e) => commitNumber(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') commitNumber((e.target as HTMLInputElement).value);
          }}
        />
      </div>
      <small className="help">
        trainable keys and values per layer and head; 0 is the base model. Changing it after a prefix run starts a run at the new length.
      </small>
    </div>
  );
}
