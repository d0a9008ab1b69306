/** "Did you mean" suggestions by edit distance. Pure. */

export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest candidate within a distance that scales with the word, or undefined. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance || (d === bestDistance && best !== undefined && candidate < best)) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** "did you mean X?" or a list of what is allowed. */
export function suggestionFix(word: string, candidates: readonly string[], noun: string): string {
  const near = closest(word, candidates);
  if (near) return `did you mean "${near}"?`;
  const shown = candidates.slice(0, 12).join(', ');
  return candidates.length > 0 ? `use one of the known ${noun}s: ${shown}${candidates.length > 12 ? ', ...' : ''}` : `no ${noun}s are defined`;
}
