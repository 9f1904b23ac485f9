// Redraws docs/profile.svg from the last profile run (bench-results/profile.json), e.g. after
// changing the chart's layout: `npx tsx scripts/profile-chart.ts`. `npm run bench` (the
// profile benchmark) writes the same chart itself.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILE_SVG, profileChart } from '../src/bench/profile.bench';

const file = join(import.meta.dirname, '../bench-results/profile.json');
const { data } = JSON.parse(readFileSync(file, 'utf8')) as { data: { repeats: number; profiles: { label: string; cpuKernels: Record<string, number> }[] } };
writeFileSync(PROFILE_SVG, profileChart(data.profiles, data.repeats));
console.log(`wrote ${PROFILE_SVG}`);
