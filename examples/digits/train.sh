#!/usr/bin/env bash
# The digits example in one command: prepares scikit-learn's 8x8 digits as
# .npy files, trains digits.json on them, saves the weights.
#   examples/digits/train.sh                  (after scripts/build.sh)
#   examples/digits/train.sh --check 0.98     also fail below this validation accuracy (CI)
# MININN names the mininn binary (default build/mininn), DIGITS_DATA the
# folder for the data, the log and the weights (default examples/digits/data).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mininn=${MININN:-$here/../../build/mininn}
data=${DIGITS_DATA:-$here/data}

/usr/bin/python3 "$here/prepare.py" "$data"
"$mininn" train "$here/digits.json" \
  --images "$data/train_images.npy" --labels "$data/train_labels.npy" \
  --val-images "$data/val_images.npy" --val-labels "$data/val_labels.npy" \
  --optimizer adam --lr 0.003 --batch-size 32 --epochs 10 --seed 0 \
  --save "$data/digits.safetensors" | tee "$data/train.log"

if [[ "${1:-}" == "--check" ]]; then
  minimum=${2:?--check needs the minimum accuracy}
  accuracy=$(tail -n 1 "$data/train.log" | sed -n 's/^validation accuracy: //p')
  if ! awk -v a="$accuracy" -v m="$minimum" 'BEGIN { exit !(a != "" && a >= m) }'; then
    echo "digits: validation accuracy ${accuracy:-missing} is below $minimum" >&2
    exit 1
  fi
  echo "digits: validation accuracy $accuracy >= $minimum"
fi
