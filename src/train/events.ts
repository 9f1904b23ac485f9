// What a training run or experiment reports as it goes: the one stream the UI (through
// its worker) and the CLI (through its progress bar) both subscribe to.
import type { RunConfig } from './config';

export type RunState = 'starting' | 'compiling' | 'running' | 'paused' | 'stopped' | 'done' | 'diverged' | 'error';

export interface StepMetrics {
  type: 'step';
  runId: string;
  step: number;
  totalSteps: number;
  trainLoss: number;
  lr: number;
  gradNorm: number;
  /** Throughput over recent steps; null for the first step (shader compilation). */
  tokensPerSec: number | null;
  msPerStep: number | null;
  gpuBytes: number;
}

export interface EvalMetrics {
  type: 'eval';
  runId: string;
  step: number;
  valLoss: number;
  /** Exact-match accuracy (synthetic tasks), else null. */
  valAccuracy: number | null;
  /** Mean prefix mass β over layers and heads (prefix / NTK methods), else null. */
  prefixMass: number | null;
}

export interface StatusEvent {
  type: 'status';
  runId: string;
  state: RunState;
  message?: string;
}

export type RunEvent = StepMetrics | EvalMetrics | StatusEvent;

export interface RunSummary {
  runId: string;
  config: RunConfig;
  trainableParams: number;
  finalTrainLoss: number;
  finalValLoss: number;
  finalValAccuracy: number | null;
  /** finalValLoss in bits per byte of the validation text (text tasks; null or absent otherwise). */
  finalValBitsPerByte?: number | null;
  prefixMass: number | null;
  msPerStep: number | null;
  state: RunState;
  message?: string;
}

export type RunListener = (e: RunEvent) => void;
