"""Writes pytorch_model.safetensors beside a MAGVIT-v2 folder's pickled
pytorch_model.bin (the official loader reads either; Parascope reads only
safetensors), in float32, or bfloat16 with --bf16. The LFQ buffers keep
their dtypes (power_vals stays int64).

    /usr/bin/python3 engine/magvit/reference/convert.py FOLDER [--bf16]
"""
import os
import sys

import torch

from magvit import write_safetensors


def main():
    args = [a for a in sys.argv[1:] if a != "--bf16"]
    if len(args) != 1:
        sys.exit(__doc__)
    folder = args[0]
    state = torch.load(os.path.join(folder, "pytorch_model.bin"), map_location="cpu")
    out = os.path.join(folder, "pytorch_model.safetensors")
    write_safetensors(out, state, "BF16" if "--bf16" in sys.argv else "F32")
    print(f"{out}: {len(state)} tensors")


if __name__ == "__main__":
    main()
