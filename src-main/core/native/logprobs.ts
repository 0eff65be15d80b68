// Top-k log-probabilities of one logits row, folded where the row lives (the engine host), never sent whole.

/**
 * log-softmax of `logits / temperature` over the whole vocabulary: the `k` most likely tokens (highest first) and the
 * log-probability of `chosen`. Sums in float64.
 */
export function topLogprobs(
  logits: Float32Array,
  temperature: number,
  k: number,
  chosen: number,
): { chosen: number; top: { token: number; logprob: number }[] } {
  const inv = 1 / temperature;
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp((logits[i]! - max) * inv);
  const lse = max * inv + Math.log(sum);
  // the k largest, kept sorted ascending in a small array (k is small)
  const ids: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (ids.length === k && v <= vals[0]!) continue;
    let j = 0;
    while (j < vals.length && vals[j]! < v) j++;
    ids.splice(j, 0, i);
    vals.splice(j, 0, v);
    if (ids.length > k) {
      ids.shift();
      vals.shift();
    }
  }
  const top = ids.map((token, j) => ({ token, logprob: vals[j]! * inv - lse })).reverse();
  return { chosen: logits[chosen]! * inv - lse, top };
}
