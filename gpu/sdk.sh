#!/bin/sh
# Fetches what a -tags cuda build needs, without a GPU and without root:
# cuda.h and the stub libcuda.so from Debian's non-free nvidia-cuda-dev
# (CUDA 11.8), and ptxas from nvidia-cuda-toolkit to check that
# kernels.ptx assembles, unpacked into gpu/sdk (ignored by git). Prints the
# environment for cgo, so use it as
#
#   eval "$(gpu/sdk.sh)"
#   go build -tags cuda . && go test -tags cuda ./gpu
#
# The stub is also linked as gpu/sdk/lib/libcuda.so.1, so a CUDA build can
# start here (LD_LIBRARY_PATH): its cuInit fails and the backend says so.
set -eu
root=$(cd "$(dirname "$0")" && pwd)/sdk
if [ ! -f "$root/usr/include/cuda.h" ] || [ ! -x "$root/usr/bin/ptxas" ]; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	echo "deb http://deb.debian.org/debian bookworm main contrib non-free" >"$work/sources.list"
	mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
	apt="apt-get -q -o Dir::Etc::SourceList=$work/sources.list -o Dir::Etc::SourceParts=/dev/null
		-o Dir::State::Lists=$work/lists -o Dir::Cache=$work/cache -o Debug::NoLocking=1
		-o APT::Sandbox::User=$(id -un)"
	$apt update >&2
	(cd "$work" && $apt download nvidia-cuda-dev nvidia-cuda-toolkit >&2)
	mkdir -p "$root"
	dpkg-deb --fsys-tarfile "$work"/nvidia-cuda-dev_*.deb |
		tar -x -C "$root" ./usr/include/cuda.h ./usr/lib/x86_64-linux-gnu/stubs/libcuda.so
	dpkg-deb --fsys-tarfile "$work"/nvidia-cuda-toolkit_*.deb | tar -x -C "$root" ./usr/bin/ptxas
	mkdir -p "$root/lib"
	ln -sf ../usr/lib/x86_64-linux-gnu/stubs/libcuda.so "$root/lib/libcuda.so.1"
	echo "CUDA headers and stub in $root" >&2
fi
echo "export CGO_CFLAGS=\"-I$root/usr/include\""
echo "export CGO_LDFLAGS=\"-L$root/usr/lib/x86_64-linux-gnu/stubs\""
echo "export PTXAS=\"$root/usr/bin/ptxas\""
