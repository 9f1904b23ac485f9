// Every kernel's checks, collected from src/kernels/*.check.ts. Vite (browser and Vitest)
// resolves the glob at build time, so adding a check file is all it takes to register it.
import type { KernelCheck } from './check';

const modules = import.meta.glob('./*.check.ts', { eager: true }) as Record<string, { checks: KernelCheck[] }>;

export const allChecks: KernelCheck[] = Object.keys(modules)
  .sort()
  .flatMap((k) => modules[k].checks);
