/**
 * Routing simulation: the student answers unless its confidence is below a threshold, then the teacher does. The
 * definitions follow RouteLLM (github.com/lm-sys/RouteLLM, routellm/evals/evaluate.py, `generate_results`): the curve
 * is quality against the share of calls sent to the strong model (the teacher); PGR at a point =
 * (q_router − q_weak) / (q_strong − q_weak); APGR = (AUC − weak AUC) / (strong AUC − weak AUC) with the areas taken by
 * the trapezoidal rule (`np.trapz`) over the call share as a fraction. RouteLLM sweeps the deciles of its router's
 * win rate (routellm/evals/benchmarks.py, `pd.qcut`); here every distinct confidence is a threshold, so the curve has
 * every point a threshold can reach, from 0 % escalated (the student's mean) to 100 % (the teacher's mean).
 */
import { AppError } from '../../../../src-shared/errors.js';

export interface RoutingExample {
  student: number;
  teacher: number;
  /** Higher = more confident; escalated when below the threshold. */
  confidence: number;
}

export interface RoutingPoint {
  /** Escalate when confidence < threshold (Infinity: everything). */
  threshold: number;
  /** Share of examples sent to the teacher, 0..1. */
  escalated: number;
  /** Mean score of the routed answers. */
  quality: number;
  /** (quality − student) / (teacher − student); null when teacher and student score the same. */
  pgr: number | null;
}

export interface RoutingCurve {
  points: RoutingPoint[];
  student: number;
  teacher: number;
  /** Null when teacher and student score the same (no gap to recover). */
  apgr: number | null;
  n: number;
}

/** The curve over every distinct confidence, sorted by escalated share. */
export function routingCurve(examples: readonly RoutingExample[]): RoutingCurve {
  const n = examples.length;
  if (n === 0) throw new AppError('invalid_input', 'examples: nothing to route', 'examples');
  examples.forEach((e, i) => {
    for (const k of ['student', 'teacher', 'confidence'] as const)
      if (!Number.isFinite(e[k])) throw new AppError('invalid_input', `examples[${i}].${k}: a finite number, not ${e[k]}`, `examples[${i}].${k}`);
  });
  const order = examples.map((_, i) => i).sort((x, y) => examples[x]!.confidence - examples[y]!.confidence);
  let studentSum = 0;
  let teacherSum = 0;
  for (const e of examples) {
    studentSum += e.student;
    teacherSum += e.teacher;
  }
  const student = studentSum / n;
  const teacher = teacherSum / n;
  const gap = teacher - student;
  const pgr = (q: number) => (gap === 0 ? null : (q - student) / gap);
  const points: RoutingPoint[] = [];
  let sum = studentSum; // escalating example i swaps its student score for its teacher's
  let i = 0;
  while (i <= n) {
    const threshold = i < n ? examples[order[i]!]!.confidence : Infinity;
    const quality = sum / n;
    points.push({ threshold, escalated: i / n, quality, pgr: pgr(quality) });
    if (i === n) break;
    // the next threshold escalates every example with this confidence
    const c = examples[order[i]!]!.confidence;
    for (; i < n && examples[order[i]!]!.confidence === c; i++) sum += examples[order[i]!]!.teacher - examples[order[i]!]!.student;
  }
  points[points.length - 1]!.quality = teacher; // exact, not a running sum's rounding
  points[points.length - 1]!.pgr = pgr(teacher);
  points[0]!.quality = student;
  points[0]!.pgr = pgr(student);
  return { points, student, teacher, apgr: apgr(points, student, teacher), n };
}

/** RouteLLM's APGR over a curve whose escalated shares run from 0 to 1. */
function apgr(points: readonly RoutingPoint[], student: number, teacher: number): number | null {
  if (teacher === student) return null;
  let auc = 0;
  for (let k = 1; k < points.length; k++) auc += ((points[k]!.escalated - points[k - 1]!.escalated) * (points[k]!.quality + points[k - 1]!.quality)) / 2;
  const span = points[points.length - 1]!.escalated - points[0]!.escalated;
  return (auc - student * span) / (teacher * span - student * span);
}

/** The point at a threshold: escalate the examples whose confidence is below it. */
export function pointAtThreshold(curve: RoutingCurve, threshold: number): RoutingPoint {
  // points are sorted by threshold; the first at or above `threshold` escalates exactly the confidences below it
  const best = curve.points.find((p) => p.threshold >= threshold) ?? curve.points[curve.points.length - 1]!;
  return { ...best, threshold };
}

/** The curve's point with the largest escalated share not above `share` (0..1). */
export function pointAtShare(curve: RoutingCurve, share: number): RoutingPoint {
  let best = curve.points[0]!;
  for (const p of curve.points) if (p.escalated <= share + 1e-12) best = p;
  return best;
}

/**
 * The first point (fewest escalations) whose quality reaches `target`: by default a share of the teacher's quality
 * (quality ≥ target × teacher), or with `basis: 'gap'` a share of the student→teacher gap (PGR ≥ target, RouteLLM's
 * "calls needed for X % of the quality gap"). Null when no threshold reaches it.
 */
export function thresholdForTarget(curve: RoutingCurve, target: number, basis: 'teacher' | 'gap' = 'teacher'): RoutingPoint | null {
  if (!Number.isFinite(target)) throw new AppError('invalid_input', `target: a number, not ${target}`, 'target');
  for (const p of curve.points) {
    if (basis === 'teacher' ? p.quality >= target * curve.teacher - 1e-12 : p.pgr !== null && p.pgr >= target - 1e-12) return p;
  }
  return null;
}
