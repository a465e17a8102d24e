#!/usr/bin/env bash
# LeNet-5 on Fashion-MNIST in one command: installs Debian's
# dataset-fashion-mnist when missing, trains lenet5.json for 10 epochs on the
# 60,000 training images and reports the accuracy on the 10,000 test images.
#   examples/fashion-mnist/train.sh            (after scripts/build.sh)
#   examples/fashion-mnist/train.sh --plot     also draw loss.png from the run's log (matplotlib)
# MININN names the mininn binary (default build/mininn), OUT the folder for
# the weights and the log (default examples/fashion-mnist/out).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mininn=${MININN:-$here/../../build/mininn}
out=${OUT:-$here/out}
data=/usr/share/datasets/fashion-mnist

if [[ ! -f $data/train-images-idx3-ubyte.gz ]]; then
  if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends dataset-fashion-mnist
fi
mkdir -p "$out"
"$mininn" train "$here/lenet5.json" \
  --images "$data/train-images-idx3-ubyte.gz" --labels "$data/train-labels-idx1-ubyte.gz" \
  --val-images "$data/t10k-images-idx3-ubyte.gz" --val-labels "$data/t10k-labels-idx1-ubyte.gz" \
  --epochs 10 --batch-size 64 --optimizer sgd --lr 0.01 --momentum 0.9 --seed 0 \
  --save "$out/lenet5.safetensors" --log-csv "$out/log.csv"
if [[ "${1:-}" == "--plot" ]]; then
  /usr/bin/python3 "$here/plot_loss.py" "$out/log.csv" "$here/loss.png"
fi
