# SPDX-License-Identifier: Apache-2.0
import unittest

import torch

from tests import util  # noqa: F401
from edgebert_tools.spans import AdaptiveSpan


class SpanTest(unittest.TestCase):
    def test_distance_mask_formula_and_truncation(self):
        sp = AdaptiveSpan(2, mode="distance", ramp=4.0, max_span=8.0)
        with torch.no_grad():
            sp.value.copy_(torch.tensor([0.25, 1.0]))  # z = 2 and 8
        m = sp.mask(16)
        for h, z in enumerate((2.0, 8.0)):
            for i in range(16):
                for j in range(16):
                    want = min(1.0, max(0.0, (4.0 + z - abs(i - j)) / 4.0))
                    self.assertAlmostEqual(m[h, i, j].item(), want, places=6)
        # head 0 really drops far keys (R + z = 6 < 15): the span can shrink below the sequence length
        self.assertEqual(m[0, 0, 6].item(), 0.0)
        self.assertGreater(m[0, 0, 5].item(), 0.0)

    def test_absolute_mask_and_renormalisation(self):
        sp = AdaptiveSpan(1, mode="absolute", ramp=2.0, template_length=6)
        with torch.no_grad():
            sp.value.fill_(0.5)  # z = 3
        m = sp.mask(6)[0, 0]
        want = [min(1.0, max(0.0, (j - 5 + 3) / 2.0 + 1)) for j in range(6)]
        self.assertEqual([round(x, 6) for x in m.tolist()], [round(x, 6) for x in want])
        p = torch.softmax(torch.randn(1, 1, 6, 6), -1)
        q = sp.apply(p)
        torch.testing.assert_close(q.sum(-1), torch.ones(1, 1, 6), atol=1e-6, rtol=0)
        self.assertEqual(q[0, 0, 0, 0].item(), 0.0)

    def test_penalty_and_clamp(self):
        sp = AdaptiveSpan(4, mode="distance", ramp=8, max_span=64, init=0.5, coeff=1e-3)
        self.assertAlmostEqual(sp.loss().item(), 1e-3 * 64 * 0.5, places=7)
        with torch.no_grad():
            sp.value.copy_(torch.tensor([-0.3, 0.2, 1.4, 0.9]))
        sp.clamp_()
        self.assertEqual([round(v, 6) for v in sp.value.tolist()], [0.0, 0.2, 1.0, 0.9])


if __name__ == "__main__":
    unittest.main()
