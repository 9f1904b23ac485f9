// Generated text as a request to the engine client: the base model and the last adapted run
// continue the same prompt; the streamed tokens and the outcome land in the experiments
// state's `gen`.
import { app } from '../appPort';
import { engine } from '../engineLink';
import type { Pending } from '../worker/client';
import { generateSettingsOf, lastAdaptedRun, type GenerateForm } from './logic';
import { getExperiments, IDLE_GEN, setExperiments, type ExperimentsState } from './state';

/** The request the panel shows; replies of an older one are ignored. */
let generation: Pending<'generate'> | null = null;

export function generateText(f: GenerateForm): boolean {
  const r = generateSettingsOf(f);
  if (!r.ok) {
    // A request already going keeps its status; the message says why the new one was refused.
    setExperiments((s) => ({ gen: { ...s.gen, status: s.gen.status === 'running' || s.gen.status === 'queued' ? s.gen.status : 'failed', error: r.errors[0] } }));
    return false;
  }
  const run = lastAdaptedRun(app().runs());
  const mine = (s: ExperimentsState) => generation === p && s.gen.requestId === p.id;
  const p = engine().request({ type: 'generate', runId: run?.id ?? null, prompt: f.prompt, ...r.value }, (m) => {
    if (!mine(getExperiments())) return;
    if (m.type === 'generate-started') setExperiments((s) => ({ gen: { ...s.gen, status: 'running', adaptedMethod: m.adapted, unknown: m.unknown } }));
    else setExperiments((s) => ({ gen: { ...s.gen, [m.which]: s.gen[m.which] + m.text } }));
  });
  generation = p;
  setExperiments({ gen: { ...IDLE_GEN, requestId: p.id, status: 'queued', prompt: f.prompt, adaptedRun: run?.name ?? null } });
  void p.result.then((res) => {
    if (!mine(getExperiments())) return;
    generation = null;
    if (res.ok) setExperiments((s) => ({ gen: { ...s.gen, status: 'done', base: res.value.base, adapted: res.value.adapted ?? '', adaptedError: res.value.adaptedError } }));
    else setExperiments((s) => ({ gen: { ...s.gen, status: 'failed', error: res.error.message } }));
  });
  return true;
}
