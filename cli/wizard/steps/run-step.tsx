/**
 * Step 5: the run, with its phases, a bar for the current one and the time left. The work is on
 * the core API and its worker thread; this screen only draws events (at most ten a second).
 */
import { useEffect, useRef, useState } from 'react';
import { Box, Text } from 'ink';
import type { ProgressEvent } from '../../../src/progress.js';
import { CancelledError } from '../../../src/errors.js';
import { phasesFor, runWizard, type Phase, type RunInput, type RunResult } from '../execute.js';
import { modeFor } from '../plan.js';
import { ProgressBar, formatSeconds } from '../ui/progress-bar.js';
import { ErrorLine, Frame } from '../ui/frame.js';
import { Select } from '../ui/select.js';
import { color } from '../ui/color.js';
import { message } from '../message.js';

type Input = Omit<RunInput, 'signal'>;

export function RunStep({ input, signal, onDone, onCancelled, onBack }: {
  input: Input; signal: AbortSignal; onDone: (r: RunResult) => void; onCancelled: () => void; onBack: () => void;
}) {
  const phases = phasesFor(modeFor(input.choices.goal, input.model));
  const [phase, setPhase] = useState<Phase>(phases[0]!);
  const [skipped, setSkipped] = useState<Partial<Record<Phase, string>>>({});
  const [event, setEvent] = useState<ProgressEvent>();
  const [error, setError] = useState<string>();
  const [elapsed, setElapsed] = useState(0);
  const last = useRef(0);
  useEffect(() => {
    const start = Date.now();
    const timer = setInterval(() => setElapsed((Date.now() - start) / 1000), 500);
    runWizard({ ...input, signal }, {
      onPhase: (p, why) => {
        if (why) setSkipped((s) => ({ ...s, [p]: why }));
        else { setPhase(p); setEvent(undefined); }
      },
      onProgress: (e) => {
        const now = Date.now();
        if (now - last.current < 100 && !(e.total !== undefined && e.done >= e.total)) return;
        last.current = now;
        setEvent(e);
      },
    }).then(
      (r) => { clearInterval(timer); onDone(r); },
      (err: unknown) => {
        clearInterval(timer);
        if (err instanceof CancelledError || signal.aborted) onCancelled();
        else setError(message(err));
      },
    );
    return () => clearInterval(timer);
    // The run starts once, when the screen appears.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const current = phases.indexOf(phase);
  return (
    <Frame step={5} keys={error ? 'Up/Down move, Enter choose' : 'Ctrl-C cancels: nothing is written'}>
      {phases.map((p, i) => {
        const mark = skipped[p] ? '-' : i < current ? 'v' : i === current ? (error ? 'x' : '>') : ' ';
        const tone = skipped[p] ? color('muted') : i < current ? color('ok') : i === current ? color(error ? 'error' : 'accent') : color('muted');
        return <Text key={p} color={tone}>{`${mark} ${p}${skipped[p] ? ` (skipped: ${skipped[p]})` : ''}`}</Text>;
      })}
      <Box marginTop={1} flexDirection="column">
        {!error ? (
          <>
            <Text wrap="truncate-end">{event ? `${event.stage}${event.message ? `: ${event.message}` : ''}` : `${phase}...`}</Text>
            <ProgressBar done={event?.done ?? 0} {...(event?.total !== undefined ? { total: event.total } : {})} {...(event?.etaSeconds !== undefined ? { eta: event.etaSeconds } : {})} />
            <Text color={color('muted')}>{`elapsed ${formatSeconds(elapsed)}`}</Text>
          </>
        ) : (
          <>
            <ErrorLine message={error} />
            <Select items={[{ value: 'back', label: 'Back to the review' }, { value: 'quit', label: 'Quit' }]} onSelect={(v) => (v === 'back' ? onBack() : onCancelled())} />
          </>
        )}
      </Box>
    </Frame>
  );
}
