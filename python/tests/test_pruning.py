# SPDX-License-Identifier: Apache-2.0
import unittest

import torch

from tests import util  # noqa: F401
from edgebert_tools import pruning


class PruningTest(unittest.TestCase):
    def test_cubic_schedule(self):
        N, W = 1000, 100
        f = lambda t: pruning.cubic_threshold(t, N, W, 1.0, 0.4, 1, 2)
        self.assertEqual(f(0), 1.0)
        self.assertEqual(f(100), 1.0)
        self.assertEqual(f(801), 0.4)
        self.assertEqual(f(1000), 0.4)
        # midpoint of the cubic part: final + (initial - final) * 0.5^3
        self.assertAlmostEqual(f(450), 0.4 + 0.6 * 0.125)
        vals = [f(t) for t in range(N + 1)]
        self.assertTrue(all(a >= b for a, b in zip(vals, vals[1:])))

    def test_topk_mask_keeps_fraction_of_largest(self):
        s = torch.tensor([[0.5, -1.0, 3.0], [2.0, 0.1, 0.2]])
        m = pruning.topk_mask(s, 0.5)
        self.assertEqual(m.tolist(), [[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
        self.assertEqual(pruning.topk_mask(s, 1.0).sum().item(), 6)
        self.assertEqual(pruning.topk_mask(s, 0.0).sum().item(), 0)
        mm = pruning.magnitude_mask(s, 2 / 6)
        self.assertEqual(mm.tolist(), [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
        self.assertAlmostEqual(pruning.sparsity(m), 0.5)

    def test_straight_through_gradient(self):
        s = torch.tensor([1.0, -2.0, 3.0, 0.5], requires_grad=True)
        m = pruning.TopKBinarizer.apply(s, 0.5)
        self.assertEqual(m.tolist(), [1.0, 0.0, 1.0, 0.0])
        (m * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
        self.assertEqual(s.grad.tolist(), [1.0, 2.0, 3.0, 4.0])


if __name__ == "__main__":
    unittest.main()
