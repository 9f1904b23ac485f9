// Small form fields on native inputs: a visible <label> for every control, drafts that
// commit on Enter / blur (so typing "0.00" is not clamped half-way), and the schema's range.
import { useEffect, useId, useState, type ReactNode } from 'react';
import { parseField, RUN_FIELDS, type RunFieldName } from '../train/config';
import { setConfig, useApp } from './store';

export function NumberField({ name, label, help, step }: { name: RunFieldName; label: string; help?: string; step?: number | 'any' }) {
  const value = useApp((s) => s.config[name]) as number;
  const f = RUN_FIELDS[name];
  const id = useId();
  const [draft, setDraft] = useState(String(value));
  const [issue, setIssue] = useState<string | null>(null);
  useEffect(() => setDraft(String(value)), [value]);
  if (f.kind !== 'int' && f.kind !== 'float') throw new Error(`${name} is not a number field`);
  const commit = (raw: string) => {
    const r = parseField(name, raw);
    setIssue(r.issue ?? null);
    setConfig({ [name]: r.value } as Record<string, number>);
    setDraft(String(r.value));
  };
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        inputMode={f.kind === 'int' ? 'numeric' : 'decimal'}
        min={f.min}
        max={f.max}
        step={step ?? (f.kind === 'int' ? 1 : 'any')}
        value={draft}
        aria-describedby={help || issue ? `${id}-help` : undefined}
        onChange={(e) => {
          setDraft(e.target.value);
          // Spinner arrows and complete numbers in range apply at once; the rest on blur/Enter.
          const n = e.target.valueAsNumber;
          if (Number.isFinite(n) && n >= f.min && n <= f.max && (f.kind === 'float' || Number.isInteger(n))) {
            setIssue(null);
            setConfig({ [name]: n } as Record<string, number>);
          }
        }}
        onBlur={(e) => commit(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit((e.target as HTMLInputElement).value);
        }}
      />
      {(help || issue) && (
        <small id={`${id}-help`} className={issue ? 'field-issue' : 'help'}>
          {issue ?? help}
        </small>
      )}
    </div>
  );
}

export function SelectField<T extends string>({
  label, value, options, onChange, help, disabled,
}: {
  label: string;
  value: T;
  options: readonly (readonly [T, string])[];
  onChange: (v: T) => void;
  help?: ReactNode;
  /** Options shown but not selectable (the help says why). */
  disabled?: ReadonlySet<string>;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as T)} aria-describedby={help ? `${id}-help` : undefined}>
        {options.map(([v, text]) => (
          <option key={v} value={v} disabled={disabled?.has(v) && v !== value}>
            {text}
          </option>
        ))}
      </select>
      {help && (
        <small id={`${id}-help`} className="help">
          {help}
        </small>
      )}
    </div>
  );
}
