# SPDX-License-Identifier: Apache-2.0
import os
import tempfile
import unittest

import numpy as np

from tests import util
from edgebert_tools import predictor

SHIPPED = os.path.join(util.REPO, "..", "shared", "data", "edgebert-sst2", "sst2_lookup_table_opt.csv")


class PredictorTest(unittest.TestCase):
    @unittest.skipUnless(os.path.exists(SHIPPED), "shared EdgeBERT data not present")
    def test_lookup_matches_reference_notes_on_the_shipped_table(self):
        t = predictor.read_csv(SHIPPED)
        self.assertEqual(t.shape, (100, 11))
        # reference/edgebert.md §4.2, T = 0.16: <= 0.21 -> 2; 0.22-0.26 -> 3; 0.27-0.34 -> 4; 0.35-0.52 -> 5
        for h1, want in ((0.21, 2), (0.22, 3), (0.26, 3), (0.27, 4), (0.34, 4), (0.35, 5), (0.52, 5)):
            self.assertEqual(predictor.predicted_exit_layer(t, h1, 0.16), want, h1)

    def test_table_shape_format_and_monotone_data(self):
        rng = np.random.default_rng(0)
        h1 = rng.uniform(0, 0.7, 2000)
        traces = np.stack([h1, 0.8 * h1, 0.5 * h1, 0.3 * h1], 1) + rng.normal(0, 0.01, (2000, 4))
        t = predictor.fit_table(np.clip(traces, 0, None), epochs=20, seed=0)
        self.assertEqual(t.shape, (100, 4))
        np.testing.assert_allclose(t[:, 0], np.arange(100) * 0.01)
        self.assertTrue((t[:, 1:] >= 0).all())
        # learned the relation where there is data
        np.testing.assert_allclose(t[50, 1:], [0.4, 0.25, 0.15], atol=0.05)
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "lut.csv")
            predictor.write_csv(p, t)
            with open(p) as f:
                first = f.readline().strip().split(",")
            self.assertEqual(len(first), 4)
            self.assertEqual(first[0], "0.000000000000000000e+00")
            np.testing.assert_array_equal(predictor.read_csv(p), t)


if __name__ == "__main__":
    unittest.main()
