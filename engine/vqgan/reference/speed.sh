#!/bin/sh
# Go against PyTorch on one 512×512 aMUSEd VQ-GAN decode (see speed.py).
# OpenBLAS tuning variables are unset so PyTorch runs as installed.
cd "$(dirname "$0")/../../.." || exit 1
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 engine/vqgan/reference/speed.py "$@"
