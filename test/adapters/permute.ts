/**
 * convert_hf_to_gguf's LlamaModel.permute, spelled out as the numpy calls it makes (written independently of
 * src-main's llamaPermute, so the tests check it): view the [rows, cols] matrix as (n_head, 2, rows / n_head / 2,
 * cols), swap axes 1 and 2, flatten again.
 */
export function permuteByHand(w: Float32Array, rows: number, cols: number, nHead: number): Float32Array {
  const half = rows / nHead / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHead; h++) {
    for (let s = 0; s < 2; s++) {
      for (let i = 0; i < half; i++) {
        for (let c = 0; c < cols; c++) out[((h * half + i) * 2 + s) * cols + c] = w[((h * 2 + s) * half + i) * cols + c]!;
      }
    }
  }
  return out;
}
