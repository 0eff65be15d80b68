/**
 * Energy counters the OS exposes, for the systems table's "energy per answer": Linux powercap RAPL (the CPU packages'
 * cumulative microjoules, `/sys/class/powercap/intel-rapl:N/energy_uj`, wrapping at `max_energy_range_uj`). Elsewhere,
 * or when the counter is missing or unreadable (recent kernels make it root-only), the reading is null with the
 * reason, which the table shows instead of a number. The package counter measures the whole CPU, other programs too.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface EnergyReading {
  /** Microjoules per package zone, null with the reason when there is no counter. */
  zones: { file: string; uj: number; max: number }[] | null;
  reason: string | null;
}

const POWERCAP = '/sys/class/powercap';

export function readEnergy(root = POWERCAP, platform = process.platform): EnergyReading {
  if (platform === 'darwin') return { zones: null, reason: 'macOS exposes energy through powermetrics only, which needs administrator rights' };
  if (platform !== 'linux') return { zones: null, reason: `no energy counter is read on ${platform}` };
  let names: string[];
  try {
    names = fs.readdirSync(root).filter((n) => /^intel-rapl:\d+$/.test(n));
  } catch {
    return { zones: null, reason: `this machine exposes no RAPL counter (${root} is missing)` };
  }
  if (names.length === 0) return { zones: null, reason: `this machine exposes no RAPL package counter in ${root}` };
  const zones: { file: string; uj: number; max: number }[] = [];
  for (const n of names) {
    const file = path.join(root, n, 'energy_uj');
    try {
      const uj = Number(fs.readFileSync(file, 'utf8').trim());
      const max = Number(fs.readFileSync(path.join(root, n, 'max_energy_range_uj'), 'utf8').trim());
      if (!Number.isFinite(uj)) return { zones: null, reason: `${file} does not hold a number` };
      zones.push({ file, uj, max: Number.isFinite(max) && max > 0 ? max : 0 });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return { zones: null, reason: code === 'EACCES' ? `${file} is readable by root only on this kernel` : `${file} cannot be read (${code ?? String(e)})` };
    }
  }
  return { zones, reason: null };
}

/** Joules between two readings (a counter that wrapped once is unwrapped), or null with the reason. */
export function joulesBetween(a: EnergyReading, b: EnergyReading): { joules: number | null; reason: string | null } {
  if (!a.zones || !b.zones) return { joules: null, reason: a.reason ?? b.reason };
  let uj = 0;
  for (const z of a.zones) {
    const after = b.zones.find((x) => x.file === z.file);
    if (!after) return { joules: null, reason: `${z.file} disappeared during the run` };
    let d = after.uj - z.uj;
    if (d < 0) d += z.max;
    uj += d;
  }
  return { joules: uj / 1e6, reason: null };
}
