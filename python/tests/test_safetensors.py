# SPDX-License-Identifier: Apache-2.0
import json
import os
import struct
import tempfile
import unittest

import numpy as np

from tests import util  # noqa: F401
from edgebert_tools import safetensors_io as st


class SafetensorsTest(unittest.TestCase):
    def test_round_trip_dtypes_and_layout(self):
        ts = {"b.f32": np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5, "a.u8": np.array([0, 1, 255], dtype=np.uint8),
              "c.i64": np.array([[-1], [7]], dtype=np.int64), "d.scalar": np.float32(3.25).reshape(())}
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "x.safetensors")
            st.write(p, ts, {"format": "pt"})
            back, meta = st.read(p, with_metadata=True)
            self.assertEqual(meta, {"format": "pt"})
            for k, v in ts.items():
                np.testing.assert_array_equal(back[k], v)
                self.assertEqual(back[k].dtype, v.dtype)
            raw = open(p, "rb").read()
            (n,) = struct.unpack("<Q", raw[:8])
            self.assertEqual(n % 8, 0)
            header = json.loads(raw[8:8 + n])
            self.assertEqual(header["a.u8"]["dtype"], "U8")
            self.assertEqual(header["b.f32"]["shape"], [2, 3])
            # tensors are laid out in name order, contiguous, starting at 0
            offs = sorted(v["data_offsets"] for k, v in header.items() if k != "__metadata__")
            self.assertEqual(offs[0][0], 0)
            for x, y in zip(offs, offs[1:]):
                self.assertEqual(x[1], y[0])
            self.assertEqual(offs[-1][1], len(raw) - 8 - n)

    def test_truncated_file_is_an_error(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "x.safetensors")
            st.write(p, {"w": np.ones((4, 4), np.float32)})
            raw = open(p, "rb").read()
            with open(p, "wb") as f:
                f.write(raw[:-5])
            with self.assertRaisesRegex(ValueError, "'w'"):
                st.read(p)
            with open(p, "wb") as f:
                f.write(raw[:4])
            with self.assertRaises(ValueError):
                st.read(p)


if __name__ == "__main__":
    unittest.main()
