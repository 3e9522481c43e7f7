#!/usr/bin/env bash
# Runs the GPU benchmarks on a machine with no Node.js and no network (a lent H100/H200), from the repository
# root, with bench/gpu/carry made by `node bench/gpu/pack.mjs` carried along:
#   1. unpacks the carried Node binary and node_modules into a work folder (never into the checkout),
#   2. brings the Vulkan loader (carried .debs) if the machine lacks it, and finds the NVIDIA Vulkan ICD,
#   3. measures ms per training step of the benchmark U-Net (2D, base 16, depth 4, 256x256) on TF.js WebGPU at
#      batch 4, 16, 64, then PyTorch on the same net (CUDA) as the anchor, which also exports it to ONNX,
#   4. measures ONNX inference on onnxruntime's WebGPU provider against its CPU provider.
# Results: $OUT/results.jsonl (one JSON line per measurement), $OUT/summary.md, $OUT/log.txt.
# TINY=1 runs everything at a toy size and accepts a software adapter: the end-to-end check on lavapipe (CI box).
# Env: PYTHON (default python3, the one with torch), RWSEG_GPU_WORK (default /tmp/rwseg-gpu).
set -uo pipefail
cd "$(dirname "$0")/../.."
carry=bench/gpu/carry
work=${RWSEG_GPU_WORK:-/tmp/rwseg-gpu}
out=${OUT:-$work/out}
python=${PYTHON:-python3}
mkdir -p "$work" "$out"
exec > >(tee "$out/log.txt") 2>&1

[ -f "$carry/node.xz" ] || { echo "no $carry/node.xz: run node bench/gpu/pack.mjs here first and carry bench/gpu/carry"; exit 1; }
echo "== unpacking Node $(cat $carry/node.version) and node_modules into $work"
xz -dc "$carry/node.xz" > "$work/node" && chmod +x "$work/node"
rm -rf "$work/node_modules" && tar -C "$work" -xJf "$carry/node_modules.tar.xz"
cp bench/gpu/*.mjs "$work/"
node=$work/node

if ! ldconfig -p | grep -q 'libvulkan\.so\.1' || ! ldconfig -p | grep -q 'libGLdispatch\.so\.0'; then
  echo "== no Vulkan loader or GL dispatch library: unpacking the carried .debs"
  for f in "$carry"/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -z "${VK_DRIVER_FILES:-}" ] && ! ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json >/dev/null 2>&1; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/nvidia/nvidia_icd.json; do
    [ -f "$icd" ] && export VK_DRIVER_FILES=$icd && echo "== Vulkan ICD: $icd" && break
  done
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$work/xdg}
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

if [ -n "${TINY:-}" ]; then
  size=32 base=4 depth=2 batches=1,2 steps=2 warmup=1 runs=3 infer_batches=1,2 soft=--allow-software
else
  size=256 base=16 depth=4 batches=4,16,64 steps=5 warmup=2 runs=10 infer_batches=1,4 soft=
fi
net="--size $size --base $base --depth $depth --batches $batches --steps $steps --warmup $warmup"

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  | sed 's/^/{"what":"nvidia-smi","gpu":"/; s/$/"}/' >> "$out/results.jsonl"

echo "== TF.js webgpu training steps"
timeout 420 "$node" "$work/webgpu-train-step.mjs" $net $soft | tee -a "$out/results.jsonl"
echo "== PyTorch anchor (and ONNX export)"
timeout 180 "$python" bench/gpu/torch_unet.py $net --onnx "$work/unet.onnx" | tee -a "$out/results.jsonl"
echo "== onnxruntime: webgpu vs cpu provider"
[ -f "$work/unet.onnx" ] && timeout 180 "$node" "$work/ort-infer.mjs" --model "$work/unet.onnx" --size "$size" \
  --batches "$infer_batches" --runs "$runs" | tee -a "$out/results.jsonl"

"$node" "$work/summarize.mjs" "$out/results.jsonl" | tee "$out/summary.md"
