// Generated text side by side: the base model and the last adapted model (the newest
// finished run) continue the same prompt with the same seeded sampling, so any difference
// comes from the adaptation. Text streams in character by character from the engine worker.
import { useId, useState } from 'react';
import { generateText } from './experiments/generation';
import { DEFAULT_GENERATE, lastAdaptedRun, type GenerateForm } from './experiments/logic';
import { TextNumber } from './experiments/parts';
import { useExperiments } from './experiments/state';
import './experiments/experiments.css';
import { activeRun, useApp } from './store';
import { isActive } from './runs';

function Output(p: { title: string; prompt: string; text: string; testId: string; placeholder: string; error?: string | null }) {
  return (
    <figure className="gen-output">
      <figcaption>{p.title}</figcaption>
      {p.error ? (
        <p role="alert" className="error-line">
          {p.error}
        </p>
      ) : p.text || p.prompt ? (
        <p className="gen-text" data-testid={p.testId}>
          <span className="gen-prompt">{p.prompt}</span>
          {p.text}
        </p>
      ) : (
        <p className="help">{p.placeholder}</p>
      )}
    </figure>
  );
}

export function GeneratePanel() {
  const gen = useExperiments((s) => s.gen);
  const gpuOk = useApp((s) => s.gpu.state === 'ok');
  const runGoing = useApp((s) => isActive(activeRun(s)));
  const next = useApp((s) => lastAdaptedRun(s.runs));
  const [form, setForm] = useState<GenerateForm>({ ...DEFAULT_GENERATE });
  const promptId = useId();
  const busy = gen.status === 'queued' || gen.status === 'running';
  const set = (patch: Partial<GenerateForm>) => setForm((f) => ({ ...f, ...patch }));
  const started = gen.status !== 'idle' && gen.requestId !== null;
  const adaptedTitle = started
    ? gen.adaptedRun
      ? `Adapted: ${gen.adaptedRun}${gen.adaptedMethod ? ` (${gen.adaptedMethod})` : ''}`
      : 'Adapted model: none yet'
    : next
      ? `Adapted: ${next.name}`
      : 'Adapted model: none yet';
  let status = '';
  if (gen.status === 'queued') status = runGoing ? 'Waiting for the training run to finish…' : 'Starting…';
  else if (gen.status === 'running') status = 'Generating…';
  else if (gen.status === 'done') status = 'Done.';
  return (
    <section className="card gen-panel" aria-labelledby="gen-title">
      <h2 id="gen-title">Generated text</h2>
      <form
        className="gen-form"
        noValidate
        aria-label="Text generation"
        onSubmit={(e) => {
          e.preventDefault();
          if (!busy) generateText(form);
        }}
      >
        <div className="field">
          <label htmlFor={promptId}>Prompt</label>
          <textarea
            id={promptId}
            value={form.prompt}
            rows={2}
            onChange={(e) => set({ prompt: e.target.value })}
            onKeyDown={(e) => {
              // Enter generates (as in a search box); Shift+Enter adds a line.
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault();
                if (!busy) generateText(form);
              }
            }}
          />
        </div>
        <div className="exp-grid">
          <TextNumber label="Characters to generate" value={form.maxNewTokens} min={1} max={1000} onChange={(v) => set({ maxNewTokens: v })} />
          <TextNumber label="Temperature" value={form.temperature} min={0} max={100} step={0.1} int={false} onChange={(v) => set({ temperature: v })} />
          <TextNumber label="Top-k (0 = all)" value={form.topK} min={0} onChange={(v) => set({ topK: v })} />
          <TextNumber label="Random draw" value={form.seed} min={0} onChange={(v) => set({ seed: v })} />
        </div>
        <div className="button-row">
          <button type="submit" className="primary" disabled={!gpuOk || busy}>
            Generate
          </button>
        </div>
        <p className="help">
          Both models sample from the same random stream, picked by “Random draw” (its seed); at temperature 0 each always takes its likeliest character. The adapted model is the newest finished run
          {next ? ` (now: ${next.name})` : ''}; without one, only the base model writes.
        </p>
      </form>
      <p className="exp-status" role="status" data-testid="generate-status">
        {status}
      </p>
      {gen.error && (
        <p role="alert" className="error-line">
          {gen.error}
        </p>
      )}
      {gen.unknown.length > 0 && (
        <p className="help">
          Not in the models' vocabulary (read as �): {gen.unknown.map((c) => JSON.stringify(c)).join(' ')}
        </p>
      )}
      <div className="gen-outputs">
        <Output title="Base model" prompt={started ? gen.prompt : ''} text={gen.base} testId="generated-base" placeholder="Press Generate to see the base model continue the prompt." />
        <Output
          title={adaptedTitle}
          prompt={started && gen.adaptedRun && !gen.adaptedError ? gen.prompt : ''}
          text={gen.adapted}
          testId="generated-adapted"
          error={gen.adaptedError}
          placeholder={next || gen.adaptedRun ? 'Press Generate to compare.' : 'Train a run (or import an adapter) to compare it with the base model.'}
        />
      </div>
    </section>
  );
}
