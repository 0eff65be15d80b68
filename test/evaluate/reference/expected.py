"""Expected chrF and ROUGE-L numbers for test/evaluate/metrics-reference.test.ts, from the reference tools themselves.

chrF: sacrebleu (github.com/mjpost/sacrebleu @ f615c72), `sacrebleu.sentence_chrf(hyp, [ref]).score`, default
arguments (chrF2, char_order 6, word_order 0, beta 2, whitespace removed, eps_smoothing off).
ROUGE-L: rouge-score (github.com/google-research/google-research, folder rouge/), `RougeScorer(['rougeL'])
.score(target=ref, prediction=hyp)['rougeL']`, default tokenizer, no stemmer.

Run (no PyPI here, so the packages come from source; imports their code needs only for other paths are stubbed):
  git --git-dir=<mirror of mjpost/sacrebleu> archive HEAD sacrebleu | tar x -C /tmp/evref
  copy google-research/google-research's rouge/rouge_scorer.py (@ 61ce9f0c), scoring.py (@ 0b7b841b), tokenize.py
  (@ 0c1bbe5f) and tokenizers.py (@ 30adf0ec) into /tmp/evref/rouge/ with an empty __init__.py (the repository is
  too large to fetch whole; the files were read one by one; only the rougeL path of RougeScorer.score is needed)
  PYTHONPATH=/tmp/evref python3 test/evaluate/reference/expected.py > /tmp/expected.txt
and paste the printed array into the test. Reads the pairs from pairs.json next to this script.
"""
import json
import os
import sys
import types

# Modules imported at the top of sacrebleu and rouge-score that sentence_chrf and rougeL (no stemmer) never call, and
# that are not installed here, are stubbed.
def stub(name, **attrs):
    if name in sys.modules:
        return sys.modules[name]
    try:
        return __import__(name, fromlist=["_"])
    except ImportError:
        mod = types.ModuleType(name)
        mod.__dict__.update(attrs)
        sys.modules[name] = mod
        return mod


# sacrebleu: dataset downloads, table printing, colored output, XML test sets, the intl tokenizer

for name in ["portalocker", "tabulate", "colorama", "lxml", "lxml.etree", "regex"]:
    stub(name, tabulate=None)
# sacrebleu/version.py is written by setuptools-scm when the package is built; the source tree has none
stub("sacrebleu.version", __version__="source")
stub("absl", logging=stub("absl.logging", info=lambda *a, **k: None))
stub("nltk", stem=stub("nltk.stem", porter=stub("nltk.stem.porter")))

import sacrebleu  # noqa: E402
from rouge import rouge_scorer  # noqa: E402

pairs = json.load(open(os.path.join(os.path.dirname(__file__), "pairs.json")))
scorer = rouge_scorer.RougeScorer(["rougeL"])
print(f"// sacrebleu {sacrebleu.__version__}: [chrF, rougeL precision, rougeL recall, rougeL fmeasure] per pair of pairs.json")
print("const EXPECTED: [number, number, number, number][] = [")
for hyp, ref in pairs:
    c = sacrebleu.sentence_chrf(hyp, [ref]).score
    r = scorer.score(ref, hyp)["rougeL"]
    print(f"  [{c!r}, {float(r.precision)!r}, {float(r.recall)!r}, {float(r.fmeasure)!r}],")
print("];")
