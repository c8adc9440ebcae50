# SPDX-License-Identifier: Apache-2.0
import os
import tempfile
import unittest

from tests import util  # noqa: F401
from edgebert_tools import tokenizer

TEXT = """the film is good and the actors are great
el perro come la manzana y bebe agua fria
der hund isst den apfel und trinkt kaltes wasser
it costs 1,000 dollars or 25, not 30 , said the man
il cane mangia la mela e beve acqua fredda
a "quoted" word and another one here
""" * 40


class TokenizerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        p = os.path.join(cls.dir.name, "text.txt")
        with open(p, "w") as f:
            f.write(TEXT)
        tokenizer.train_spiece(p, os.path.join(cls.dir.name, "spiece"), 80)
        cls.tok = tokenizer.AlbertTokenizer(os.path.join(cls.dir.name, "spiece.model"), max_length=16)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_special_pieces_are_albert_s(self):
        sp = self.tok.sp
        self.assertEqual([sp.id_to_piece(i) for i in range(5)], ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"])
        ids = self.tok.encode("the film")
        self.assertEqual(ids[0], 2)
        self.assertEqual(ids[-1], 3)
        self.assertTrue(all(i >= 5 for i in ids[1:-1]))

    def test_preprocessing(self):
        self.assertEqual(self.tok.preprocess("  Él  ``Niño''\tCAFÉ "), 'el "nino" cafe')
        self.assertEqual(self.tok.encode("THE   FILM"), self.tok.encode("the film"))

    def test_truncation_keeps_sep(self):
        ids = self.tok.encode(TEXT)
        self.assertEqual(len(ids), 16)
        self.assertEqual(ids[-1], 3)

    def test_digit_comma_split(self):
        # HF AlbertTokenizer re-encodes a piece ending in digit + "," without the comma, then appends ","
        class FakeSp:
            def encode(self, text, out_type=str):
                return {"it x25, 7,": ["\u2581it", "\u2581x", "25,", "\u25817,"],
                        "25": ["\u258125"], "7": ["\u2581", "7"]}[text]
        tok = tokenizer.AlbertTokenizer.__new__(tokenizer.AlbertTokenizer)
        tok.sp, tok.do_lower_case, tok.keep_accents = FakeSp(), True, False
        self.assertEqual(tok.pieces("it x25, 7,"), ["\u2581it", "\u2581x", "25", ",", "\u2581", "7", ","])


if __name__ == "__main__":
    unittest.main()
