#!/usr/bin/env bash
# One-command installer for mmvitx and its pinned OpenMMLab stack.
#
#   bash tools/install.sh            # creates/updates .venv at the repository root
#   VIRTUAL_ENV active               # installs into the active environment instead
#
# mmcv 2.1.0 and xtcocotools are compiled from source (no compatible wheels exist for torch 2.13 /
# numpy 2): the first run takes ~15 minutes on 2 cores, pip caches the built wheels afterwards.
# A repeated run with unchanged requirements only re-verifies the environment (a few seconds).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

if [[ -n "${VIRTUAL_ENV:-}" ]]; then
    venv="$VIRTUAL_ENV"
else
    venv="$repo_root/.venv"
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "[mmvitx] creating virtual environment $venv"
        python3 -m venv "$venv"
    fi
fi
py="$venv/bin/python"
pip=("$py" -m pip --disable-pip-version-check)
stamp="$venv/.mmvitx-install-stamp"

"$py" - <<'EOF'
import sys
if sys.version_info < (3, 10):
    sys.exit(f'mmvitx needs Python >= 3.10, found {sys.version.split()[0]}')
EOF

verify() {
    "$py" - <<'EOF'
import importlib
for name in ('torch', 'torchvision', 'mmcv._ext', 'mmengine', 'mmdet', 'mmseg', 'mmpose',
             'xtcocotools.coco', 'pycocotools.coco', 'onnx', 'onnxscript', 'onnxruntime',
             'mmvitx'):
    importlib.import_module(name)
import torch, mmcv, mmdet, mmseg, mmpose, mmengine
print(f'[mmvitx] environment OK: torch {torch.__version__}, mmengine {mmengine.__version__}, '
      f'mmcv {mmcv.__version__} (ops), mmdet {mmdet.__version__}, mmseg {mmseg.__version__}, '
      f'mmpose {mmpose.__version__}')
EOF
}

fingerprint="$(cat requirements/*.txt setup.py tools/install.sh | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$fingerprint" ]] && verify 2>/dev/null; then
    echo "[mmvitx] requirements unchanged since the last install; nothing to do."
    exit 0
fi

step() { echo "[mmvitx] $*"; }

step "build tools"
"${pip[@]}" install -r requirements/build.txt
step "torch and torchvision"
"${pip[@]}" install -r requirements/torch.txt
step "OpenMMLab runtime requirements"
"${pip[@]}" install -r requirements/runtime.txt -r requirements/torch.txt -r requirements/build.txt
if ! "$py" -c "import mmcv, mmcv._ext; assert mmcv.__version__ == '2.1.0'" 2>/dev/null; then
    step "mmcv 2.1.0 with ops from source (first time ~11 minutes; cached afterwards)"
    MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" "${pip[@]}" install --no-build-isolation mmcv==2.1.0 \
        -r requirements/torch.txt -r requirements/build.txt
fi
if ! "$py" -c "import xtcocotools.coco" 2>/dev/null; then
    step "xtcocotools from source (the PyPI wheel is built against numpy 1.x)"
    "${pip[@]}" install --no-build-isolation --no-binary xtcocotools --no-deps xtcocotools==1.14.3
fi
step "mmpose 1.3.2 without its unusable declared dependencies"
"${pip[@]}" install --no-deps mmpose==1.3.2
step "test and deployment (ONNX) requirements and mmvitx (editable)"
"${pip[@]}" install -r requirements/tests.txt -r requirements/deploy.txt -r requirements/torch.txt \
    -r requirements/build.txt
"${pip[@]}" install --no-deps --no-build-isolation -e .

verify
echo "$fingerprint" > "$stamp"
