import { describe, expect, it } from 'vitest';
import { pointAtShare, pointAtThreshold, routingCurve, thresholdForTarget, type RoutingExample } from '../../src-main/core/evaluate/metrics/index.js';
import { mulberry32 } from '../../src-main/core/random.js';

describe('the routing simulation', () => {
  // by confidence: e2 (0.2), e3 (0.5), e4 (0.7), e1 (0.9)
  const small: RoutingExample[] = [
    { student: 1, teacher: 1, confidence: 0.9 },
    { student: 0, teacher: 1, confidence: 0.2 },
    { student: 0, teacher: 1, confidence: 0.5 },
    { student: 1, teacher: 0, confidence: 0.7 },
  ];

  it('computes a hand-checked small case', () => {
    const c = routingCurve(small);
    expect([c.student, c.teacher]).toEqual([0.5, 0.75]);
    expect(c.points.map((p) => [p.threshold, p.escalated, p.quality])).toEqual([
      [0.2, 0, 0.5],
      [0.5, 0.25, 0.75],
      [0.7, 0.5, 1],
      [0.9, 0.75, 0.75],
      [Infinity, 1, 0.75],
    ]);
    // numpy.trapz([.5, .75, 1, .75, .75], [0, .25, .5, .75, 1]) = 0.78125; APGR = (0.78125 - 0.5) / (0.75 - 0.5)
    expect(c.apgr).toBeCloseTo(1.125, 15);
    expect(pointAtThreshold(c, 0.7).pgr).toBe(2);
    expect(pointAtThreshold(c, 0.6)).toMatchObject({ threshold: 0.6, escalated: 0.5, quality: 1 });
    expect(pointAtShare(c, 0.3)).toMatchObject({ escalated: 0.25, pgr: 1 });
    expect(thresholdForTarget(c, 0.9)).toMatchObject({ threshold: 0.5, escalated: 0.25 }); // quality ≥ 0.675
    expect(thresholdForTarget(c, 1.5, 'gap')).toMatchObject({ threshold: 0.7 }); // PGR ≥ 1.5
    expect(thresholdForTarget(c, 1.5)).toBeNull(); // 1.125 of the teacher's quality is never reached
  });

  it("starts at the student's mean score and ends at the teacher's", () => {
    const rng = mulberry32(8);
    const ex = Array.from({ length: 500 }, () => ({ student: rng(), teacher: rng() * 1.3, confidence: Math.round(rng() * 50) }));
    const c = routingCurve(ex);
    const mean = (k: 'student' | 'teacher') => ex.reduce((s, e) => s + e[k], 0) / ex.length;
    expect(c.points[0]).toMatchObject({ escalated: 0, pgr: 0 });
    expect(c.points[0]!.quality).toBeCloseTo(mean('student'), 12);
    expect(c.points.at(-1)).toMatchObject({ escalated: 1, pgr: 1 });
    expect(c.points.at(-1)!.quality).toBeCloseTo(mean('teacher'), 12);
    expect(c.points.length).toBe(new Set(ex.map((e) => e.confidence)).size + 1); // ties escalate together
  });

  it("ranks a perfect router's APGR above a random router's", () => {
    const rng = mulberry32(21);
    const base = Array.from({ length: 400 }, () => ({ student: rng() < 0.55 ? 1 : 0, teacher: rng() < 0.75 ? 1 : 0 }));
    // perfect: least confident exactly where the teacher is right and the student wrong
    const perfect = routingCurve(base.map((e) => ({ ...e, confidence: e.student - e.teacher })));
    const random = routingCurve(base.map((e) => ({ ...e, confidence: rng() })));
    expect(perfect.apgr!).toBeGreaterThan(random.apgr! + 0.3);
    expect(Math.abs(random.apgr! - 0.5)).toBeLessThan(0.15); // a random router recovers about half the area
  });

  it('reports no PGR when student and teacher score alike, and refuses bad input', () => {
    const same = routingCurve([{ student: 1, teacher: 1, confidence: 0 }]);
    expect([same.apgr, same.points[0]!.pgr]).toEqual([null, null]);
    expect(() => routingCurve([])).toThrow(/^examples: nothing to route/);
    expect(() => routingCurve([{ student: 1, teacher: NaN, confidence: 0 }])).toThrow(/^examples\[0\]\.teacher/);
  });
});
