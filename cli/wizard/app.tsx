/**
 * The wizard: model -> goal -> data -> review -> run -> result, keyboard only. Esc goes back a
 * step; Ctrl-C quits (exit 130), and during the run cancels it first, leaving no output.
 */
import { useMemo, useRef, useState } from 'react';
import { useInput } from 'ink';
import type { DataSource } from '../../src/calibrate/data/open.js';
import { DEFAULT_SPARSITY, type Goal, type WizardChoices, type DataChoice, type PruneChoice } from './choices.js';
import { calibrationRequired, defaultOutput, makePlan, modeFor, needsCalibration } from './plan.js';
import { PruneStep } from './steps/prune-step.js';
import type { RunResult } from './execute.js';
import { ModelStep, type LoadedModel } from './steps/model-step.js';
import { GoalStep } from './steps/goal-step.js';
import { DataStep } from './steps/data-step.js';
import { BudgetStep } from './steps/budget-step.js';
import { ReviewStep } from './steps/review-step.js';
import { RunStep } from './steps/run-step.js';
import { ResultStep } from './steps/result-step.js';

type Step = 'model' | 'goal' | 'prune' | 'calibration' | 'evaluation' | 'budget' | 'review' | 'run' | 'result';

export const EXIT_OK = 0;
export const EXIT_INTERRUPTED = 130;

export function App({ initialModel, onExit }: { initialModel?: string; onExit: (code: number) => void }) {
  const [step, setStep] = useState<Step>('model');
  const [loaded, setLoaded] = useState<LoadedModel>();
  const [goal, setGoal] = useState<Goal>('budget');
  const [calibration, setCalibration] = useState<{ choice: DataChoice; source?: DataSource }>({ choice: { kind: 'none' } });
  const [evaluation, setEvaluation] = useState<{ choice: DataChoice; source?: DataSource }>({ choice: { kind: 'none' } });
  const [maxDrop, setMaxDrop] = useState(1);
  const [pruneChoice, setPrune] = useState<PruneChoice>({ method: 'channel', sparsity: DEFAULT_SPARSITY.channel });
  const [output, setOutput] = useState<string>();
  const [result, setResult] = useState<RunResult>();
  const abort = useRef<AbortController>(undefined);

  const mode = loaded ? modeFor(goal, loaded.model) : 'static';
  const calib = needsCalibration(mode, pruneChoice.method);
  const steps: Step[] = ['model', 'goal', ...(goal === 'prune' ? ['prune' as const] : []), ...(calib ? ['calibration' as const] : []), 'evaluation', ...(goal === 'budget' ? ['budget' as const] : []), 'review', 'run', 'result'];
  const next = (from: Step) => setStep(steps[steps.indexOf(from) + 1]!);
  const back = () => {
    const i = steps.indexOf(step);
    if (i > 0 && step !== 'run' && step !== 'result') setStep(steps[i - 1]!);
  };

  useInput((input, key) => {
    if (key.ctrl && input === 'c') {
      if (step === 'run' && abort.current) abort.current.abort();
      else onExit(EXIT_INTERRUPTED);
    } else if (key.escape) back();
  });

  const choices: WizardChoices | undefined = useMemo(() => loaded && {
    modelPath: loaded.path, goal, calibration: calibration.choice, evaluation: evaluation.choice, maxDrop, prune: pruneChoice,
    output: output ?? defaultOutput(loaded.path, mode),
  }, [loaded, goal, calibration, evaluation, maxDrop, pruneChoice, output, mode]);

  switch (step) {
    case 'model':
      return <ModelStep {...(initialModel ? { initial: initialModel } : {})} onDone={(m) => { setLoaded(m); setOutput(undefined); next('model'); }} />;
    case 'goal':
      return <GoalStep onDone={(g) => { setGoal(g); setOutput(undefined); setStep(g === 'prune' ? 'prune' : g === 'budget' || modeFor(g, loaded!.model) === 'static' ? 'calibration' : 'evaluation'); }} />;
    case 'prune':
      return <PruneStep onDone={(p) => { setPrune(p); setStep(needsCalibration('prune', p.method) ? 'calibration' : 'evaluation'); }} />;
    case 'calibration':
      return <DataStep key="calibration" purpose={mode === 'prune' ? 'pruning' : 'calibration'} model={loaded!.model} required={calibrationRequired(mode, pruneChoice.method)}
        onDone={(choice, source) => { setCalibration({ choice, ...(source !== undefined ? { source } : {}) }); next('calibration'); }} />;
    case 'evaluation':
      return <DataStep key="evaluation" purpose="evaluation" model={loaded!.model} required={goal === 'budget'}
        onDone={(choice, source) => { setEvaluation({ choice, ...(source !== undefined ? { source } : {}) }); next('evaluation'); }} />;
    case 'budget':
      return <BudgetStep initial={maxDrop} onDone={(d) => { setMaxDrop(d); next('budget'); }} />;
    case 'review':
      return <ReviewStep plan={makePlan(choices!, loaded!.model)} output={choices!.output} onOutput={setOutput}
        onRun={() => { abort.current = new AbortController(); setStep('run'); }} />;
    case 'run': {
      const data: { calibration?: DataSource; evaluation?: DataSource } = {};
      if (calib && calibration.source !== undefined) data.calibration = calibration.source;
      if (evaluation.source !== undefined) data.evaluation = evaluation.source;
      return <RunStep input={{ model: loaded!.model, choices: choices!, data }} signal={abort.current!.signal}
        onDone={(r) => { setResult(r); setStep('result'); }} onCancelled={() => onExit(EXIT_INTERRUPTED)} onBack={() => setStep('review')} />;
    }
    case 'result':
      return <ResultStep result={result!} choices={choices!} model={loaded!.model} onQuit={() => onExit(EXIT_OK)} />;
  }
}
