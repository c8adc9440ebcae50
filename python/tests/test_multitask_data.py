# SPDX-License-Identifier: Apache-2.0
"""The multi-task recipe's pieces that need no shared data: pair encoding and truncation, the PTB-style rewrite,
the sentence split, and the pretraining example builder (segments, token types, SOP labels)."""
import os
import tempfile
import unittest

import numpy as np

from tests import util  # noqa: F401
from edgebert_tools import corpus, tokenizer
import pretrain_backbone as pb

TEXT = "the film is good and the actors are great\nit is a bad , bad movie , is n't it ?\n" * 60


class PairEncodingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        p = os.path.join(cls.dir.name, "text.txt")
        with open(p, "w") as f:
            f.write(TEXT)
        tokenizer.train_spiece(p, os.path.join(cls.dir.name, "spiece"), 30)
        cls.tok = tokenizer.AlbertTokenizer(os.path.join(cls.dir.name, "spiece.model"), max_length=16)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_pair_layout_and_token_types(self):
        a = self.tok.encode("the film", add_special=False)
        b = self.tok.encode("is good", add_special=False)
        ids, tt = self.tok.encode_pair("the film", "is good", max_length=64)
        self.assertEqual(ids, [2] + a + [3] + b + [3])
        self.assertEqual(tt, [0] * (len(a) + 2) + [1] * (len(b) + 1))

    def test_longest_first_truncation(self):
        long_a = "the film is good and the actors are great " * 3
        ids, tt = self.tok.encode_pair(long_a, "bad")
        self.assertEqual(len(ids), 16)
        self.assertEqual(len(tt), 16)
        b = self.tok.encode("bad", add_special=False)
        self.assertEqual(ids[-len(b) - 1:], b + [3])  # the short side is untouched
        ids, tt = self.tok.encode_pair(long_a, long_a)  # both long: they end up within one piece of each other
        self.assertEqual(len(ids), 16)
        self.assertLessEqual(abs(tt.count(0) - 2 - (tt.count(1) - 1)), 1)


class CorpusTest(unittest.TestCase):
    def test_ptb_style(self):
        self.assertEqual(corpus.ptb_style('I didn\'t like it, "really".'), 'I did n\'t like it , " really " .')
        self.assertEqual(corpus.ptb_style("It's 3.5 stars!"), "It 's 3.5 stars !")

    def test_sentence_split(self):
        self.assertEqual(corpus.split_sentences("Good. Bad! Why? 3 stars."), ["Good.", "Bad!", "Why?", "3 stars."])
        self.assertEqual(corpus.split_sentences("a.b is fine"), ["a.b is fine"])


class PretrainExamplesTest(unittest.TestCase):
    def test_segments_and_labels(self):
        rng = np.random.default_rng(0)
        lens = rng.integers(3, 30, size=60)
        sent_end = np.cumsum(lens)
        tokens = rng.integers(5, 100, size=int(sent_end[-1])).astype(np.uint16)
        doc_end = np.array([6, 7, 20, 40, 60])
        labels = np.array([1, -1, 0, -1, -1], dtype=np.int8)
        exs = pb.make_examples(tokens, sent_end, doc_end, labels, epoch=0, seed=1, max_len=64)
        again = pb.make_examples(tokens, sent_end, doc_end, labels, epoch=0, seed=1, max_len=64)
        self.assertEqual(exs, again)  # deterministic in (seed, epoch): what resuming relies on
        self.assertNotEqual(exs, pb.make_examples(tokens, sent_end, doc_end, labels, epoch=1, seed=1, max_len=64))
        covered = sum(b - a for e in exs for a, b in e[0] + e[1])
        self.assertEqual(covered, int(np.minimum(lens, 61).sum()))  # every sentence once (capped at the budget)
        for e in exs:
            ids, tt = pb.build(tokens, e, 64)
            self.assertLessEqual(len(ids), 64)
            self.assertEqual(ids[0], 2)
            self.assertEqual(ids.count(3), 2 if e[1] else 1)
            self.assertEqual(tt, sorted(tt))
            self.assertEqual(e[2] == -100, not e[1])
        self.assertTrue({e[3] for e in exs} <= {0, 1, -100})


class PairTeacherTest(unittest.TestCase):
    """The linear MRPC teacher must not care which sentence comes first: the training pairs are also given swapped,
    and both orders get one soft label."""

    def test_pair_model_is_symmetric(self):
        import train_teacher
        words = "the film is good bad actors great movie plot slow fast story".split()
        rng = np.random.default_rng(3)
        rows = []
        for k in range(40):
            a = " ".join(rng.choice(words, 6))
            b = a if k % 2 else " ".join(rng.choice(words, 6))
            rows.append((k % 2, a, b))
        m, feats = train_teacher.mrpc_linear(rows)
        swapped = [(l, b, a) for l, a, b in rows]
        np.testing.assert_allclose(m.predict_proba(feats(rows)), m.predict_proba(feats(swapped)), rtol=0, atol=1e-12)
        # identical sentences (label 1) against unrelated ones (label 0): the model must have learned something
        self.assertGreater((m.predict(feats(rows)) == np.array([l for l, _, _ in rows])).mean(), 0.9)


if __name__ == "__main__":
    unittest.main()
