/**
 * `npx tsx bench/profile-top.ts <file.cpuprofile> [n]`: the top frames of a V8 CPU profile (from `node --cpu-prof`,
 * e.g. `npm run bench -- --cpu-prof`), by self time and by total time (the frame and what it calls), and the time
 * spent per package or source file.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function where(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1] ?? path;
  const own = /\/(dist|src|bench|test)\/(.+)$/.exec(path);
  if (own) return `${own[1]}/${own[2]}`;
  return path.startsWith('node:') ? path : path || '(native)';
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'} ${where(url)}${url ? `:${lineNumber + 1}` : ''}`;
}

export function topFrames(profile: CpuProfile, count = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const byPlace = new Map<string, number>();
  const stacks = new Map<number, Set<string>>();
  const stackOf = (id: number): Set<string> => {
    const known = stacks.get(id);
    if (known) return known;
    const node = byId.get(id);
    const up = parent.get(id);
    const set = new Set(up === undefined ? [] : stackOf(up));
    if (node) set.add(frameName(node));
    stacks.set(id, set);
    return set;
  };
  let all = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (!node) return;
    all += dt;
    const name = frameName(node);
    self.set(name, (self.get(name) ?? 0) + dt);
    const place = node.callFrame.url ? where(node.callFrame.url) : node.callFrame.functionName || '(native)';
    byPlace.set(place, (byPlace.get(place) ?? 0) + dt);
    for (const frame of stackOf(id)) total.set(frame, (total.get(frame) ?? 0) + dt);
  });
  const table = (title: string, map: Map<string, number>) => {
    const rows = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, count);
    return [
      title,
      ...rows.map(
        ([k, v]) => `${v.toFixed(0).padStart(8)} ms ${((v / all) * 100).toFixed(1).padStart(5)}%  ${k}`,
      ),
    ].join('\n');
  };
  return [
    `profile: ${(all / 1000).toFixed(1)} s sampled`,
    table('\nself time, by frame:', self),
    table('\ntotal time (frame and its callees), by frame:', total),
    table('\nself time, by package or file:', byPlace),
  ].join('\n');
}

if (process.argv[1]?.endsWith('profile-top.ts')) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: npx tsx bench/profile-top.ts <file.cpuprofile> [n]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  process.stdout.write(`${topFrames(profile, Number(process.argv[3] ?? 25))}\n`);
}
