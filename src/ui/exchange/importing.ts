// "Import adapter or checkpoint": an adapter is evaluated on the current task and becomes a
// run on the list; a base model replaces the worker's after the user agrees. Anything
// refused leaves everything as it was and says why.
import { importBase } from '../../io/checkpoint';
import { app } from '../appPort';
import { engine } from '../engineLink';
import { isActive } from '../runs';
import { classifyCheckpoint, importErrorText, keepableZip, type PickedFile, readPicked, runBundleName } from './bundle';
import { keepFile } from './persistence';
import { importedRunRecord } from './records';
import { setExchange, withBusy } from './state';

let importCounter = 0;

export async function importPicked(picked: PickedFile[], confirm: (question: string) => boolean = (q) => window.confirm(q)): Promise<void> {
  const label = picked.length === 1 ? picked[0].name : picked.map((p) => p.name).join(' + ');
  setExchange({ message: null });
  let files;
  let kind: 'adapter' | 'base';
  try {
    files = readPicked(picked);
    kind = classifyCheckpoint(files);
  } catch (e) {
    setExchange({ message: { kind: 'error', text: importErrorText(label, e) } });
    return;
  }
  if (kind === 'adapter') {
    const runId = `imported-${++importCounter}-${Date.now().toString(36)}`;
    const config = { ...app().config() };
    const userText = app().userText();
    const running = app().runs().some(isActive);
    await withBusy(`Importing ${label}: ${running ? 'waits for the current run to finish, then ' : ''}evaluating on ${config.task}…`, async () => {
      const r = await engine().request({ type: 'import-adapter', runId, fileName: label, files, config, userText }).result;
      if (!r.ok) throw new Error(importErrorText(label, r.error.message));
      const run = importedRunRecord(runId, config, r.value);
      app().addRuns([run], 'last');
      setExchange({ message: { kind: 'ok', text: `Imported ${label} as "${run.name}": validation loss ${r.value.valLoss.toFixed(3)} on ${r.value.taskLabel}.` } });
      await keepFile({ id: `file-${Date.now().toString(36)}-i${importCounter}`, runId, name: /\.zip$/i.test(label) ? label : `${runBundleName(run)}`, kind: 'adapter', origin: 'imported', bytes: keepableZip(picked, files), savedAt: Date.now() });
    });
    return;
  }
  // A base model: check it here first, so the question shows what it is and a bad file is
  // refused before anyone is asked.
  let fp: string;
  let desc: string;
  try {
    const b = await importBase(files);
    fp = b.fingerprint;
    const c = b.config;
    desc = `${c.nLayer} layers, ${c.nHead} heads, width ${c.nEmbd}, context ${c.contextLength}, ${c.vocabSize} characters; fingerprint ${fp}`;
  } catch (e) {
    setExchange({ message: { kind: 'error', text: importErrorText(label, e) } });
    return;
  }
  if (!confirm(`Replace the base model with ${label} (${desc})? Runs so far stay on the list; adapters trained on the current base model will not load onto the new one.`)) {
    setExchange({ message: { kind: 'ok', text: `Kept the current base model (${label} not loaded).` } });
    return;
  }
  await withBusy(`Loading the base model ${label}…`, async () => {
    const r = await engine().request({ type: 'import-base', fileName: label, files }).result;
    if (!r.ok) throw new Error(importErrorText(label, r.error.message));
    app().noteBaseChange(label, r.value.previousFingerprint, r.value.fingerprint);
    setExchange({ message: { kind: 'ok', text: `The base model is now ${label} (fingerprint ${fp}).` } });
  });
}
