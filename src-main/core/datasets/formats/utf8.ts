import { isUtf8 } from 'node:buffer';

/**
 * Streaming UTF-8 validation that says where the invalid bytes are, whatever the chunking: a sequence split across
 * two chunks is checked as one. Valid chunks take Node's native `isUtf8` fast path.
 */
export class Utf8Checker {
  private need = 0; // continuation bytes still expected
  private lower = 0x80; // allowed range of the next continuation byte (narrower after E0, ED, F0, F4)
  private upper = 0xbf;
  private seen = 0; // bytes of the sequence in progress read so far

  /**
   * Calls `onInvalid(i)` for each invalid sequence of `buf`, with the index of its first byte (negative when the
   * sequence began in an earlier chunk).
   */
  scan(buf: Uint8Array, onInvalid: (index: number) => void): void {
    if (this.need === 0 && isUtf8(buf)) return;
    let start = -this.seen; // first byte of the sequence in progress
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i]!;
      if (this.need === 0) {
        start = i;
        this.seen = 0;
        if (b <= 0x7f) continue;
        if (b >= 0xc2 && b <= 0xdf) this.need = 1;
        else if (b >= 0xe0 && b <= 0xef) {
          if (b === 0xe0) this.lower = 0xa0;
          if (b === 0xed) this.upper = 0x9f;
          this.need = 2;
        } else if (b >= 0xf0 && b <= 0xf4) {
          if (b === 0xf0) this.lower = 0x90;
          if (b === 0xf4) this.upper = 0x8f;
          this.need = 3;
        } else {
          onInvalid(i);
          continue;
        }
        this.seen = 1;
        continue;
      }
      if (b < this.lower || b > this.upper) {
        // a truncated sequence: report it, then read this byte again as the start of a new one
        this.reset();
        onInvalid(start);
        i--;
        continue;
      }
      this.lower = 0x80;
      this.upper = 0xbf;
      this.need--;
      this.seen++;
    }
  }

  /** Where the first invalid sequence of `buf` starts (see `scan`), or null when there is none. */
  firstInvalid(buf: Uint8Array): number | null {
    let first: number | null = null;
    this.scan(buf, (i) => {
      first ??= i;
    });
    return first;
  }

  /** True when the input ended in the middle of a multi-byte sequence. */
  endsIncomplete(): boolean {
    const incomplete = this.need > 0;
    this.reset();
    return incomplete;
  }

  private reset(): void {
    this.need = 0;
    this.seen = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
  }
}
