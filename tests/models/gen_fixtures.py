#!/usr/bin/python3
"""Golden fixtures for the model-level tests: torchvision LR-ASPP models with
random weights, exported to ONNX, with an input tensor and torch's logits.

Usage: gen_fixtures.py OUTDIR

For each case this writes OUTDIR/CASE.onnx, OUTDIR/CASE.in.npy (NCHW float32
normal noise) and OUTDIR/CASE.out.npy (torch's m(x)["out"]), then
OUTDIR/manifest.txt listing the cases written, one per line. Every random
choice comes from fixed seeds, so two runs write the same tensors.

BatchNorm statistics and affine parameters are randomised because a freshly
initialised BN (mean 0, var 1, weight 1, bias 0) is nearly the identity, which
would hide a wrong fold of BN into the conv (or a missed epsilon). The odd
and non-square sizes exercise the padding and the rounding of every strided
stage (97 -> 49 -> 25 -> 13 -> 7).
"""

import os
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision.models import mobilenet_v3_small
from torchvision.models.segmentation import lraspp_mobilenet_v3_large
from torchvision.models.segmentation.lraspp import _lraspp_mobilenetv3

# name: (architecture, classes, height, width, opset, keep BatchNormalization)
CASES = {
    "large-97x97": ("large", 21, 97, 97, 13, False),
    "large-80x129": ("large", 21, 80, 129, 13, False),
    "small-97x97": ("small", 5, 97, 97, 13, False),
    "small-80x129": ("small", 5, 80, 129, 13, False),
    "small-65x111-opset17": ("small", 5, 65, 111, 17, False),
    "small-80x129-bn": ("small", 5, 80, 129, 13, True),
}


class Logits(nn.Module):
    """The ONNX graph must return the plain tensor, not torchvision's dict."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def build(arch, classes, seed):
    torch.manual_seed(seed)
    if arch == "large":
        m = lraspp_mobilenet_v3_large(weights=None, weights_backbone=None,
                                      num_classes=classes)
    else:
        # The same construction torchvision's large builder uses, on the
        # small backbone.
        backbone = mobilenet_v3_small(weights=None, dilated=True)
        m = _lraspp_mobilenetv3(backbone, classes)
    m.eval()
    calibrate(m, torch.Generator().manual_seed(seed + 1))
    return m


def calibrate(m, g):
    """Randomises every BatchNorm around the statistics it actually sees.

    With torchvision's initialisation and made-up BN statistics the signal
    dies out with depth: the logits come out almost constant over the image,
    and a 1e-4 tolerance would then check little more than the biases. So
    each BN gets the mean and variance of its real input on a calibration
    tensor, perturbed, plus a random affine; a forward pre-hook sets them
    just before the layer runs, so one pass calibrates the layers in order.
    """
    def hook(mod, args):
        x = args[0]
        c = mod.num_features
        mean = x.mean(dim=(0, 2, 3))
        std = x.std(dim=(0, 2, 3)) + 1e-3
        mod.running_mean.copy_(mean + std * 0.3 * torch.randn(c, generator=g))
        mod.running_var.copy_((std * (torch.rand(c, generator=g) * 0.6 + 0.7))
                              ** 2)
        mod.weight.copy_(torch.rand(c, generator=g) + 0.5)
        mod.bias.copy_(torch.randn(c, generator=g) * 0.3)

    handles = [mod.register_forward_pre_hook(hook) for mod in m.modules()
               if isinstance(mod, nn.BatchNorm2d)]
    with torch.no_grad():
        m(torch.randn(1, 3, 96, 96, generator=g))
    for h in handles:
        h.remove()
    # Float32 rounding grows with the activations, so scale the two
    # classifier convs (their sum is the output) to bring the logits to a
    # standard deviation of 0.5: torch's own float32 result then stays
    # within about 1e-5 of a float64 evaluation, which leaves room under the
    # 1e-4 tolerance for an engine that sums in another order.
    with torch.no_grad():
        y = m(torch.randn(1, 3, 96, 96, generator=g))["out"]
        scale = 0.5 / float(y.std())
        for conv in (m.classifier.low_classifier, m.classifier.high_classifier):
            conv.weight.mul_(scale)
            conv.bias.mul_(scale)


def write_npy(path, array):
    np.save(path, np.ascontiguousarray(array, dtype="<f4"))


def has_batchnorm(path):
    # Op types are stored as plain strings in the protobuf, so a byte search
    # answers without needing the onnx package.
    with open(path, "rb") as f:
        return b"BatchNormalization" in f.read()


def export(model, x, path, opset, keep_bn):
    kwargs = {}
    if keep_bn:
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
        kwargs["do_constant_folding"] = False
    torch.onnx.export(model, x, path, opset_version=opset,
                      input_names=["input"], output_names=["out"], **kwargs)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_fixtures.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(2)
    # torch 1.13 warns about prim::Constant shape inference on every export
    # of these models; it is harmless here and would bury the build log.
    warnings.filterwarnings("ignore", message="The shape inference of "
                            "prim::Constant type is missing")
    written = []
    for i, (name, (arch, classes, h, w, opset, keep_bn)) in \
            enumerate(CASES.items()):
        model = Logits(build(arch, classes, 1000 + i))
        g = torch.Generator().manual_seed(2000 + i)
        x = torch.randn(1, 3, h, w, generator=g)
        with torch.no_grad():
            y = model(x)
        onnx_path = os.path.join(outdir, name + ".onnx")
        try:
            export(model, x, onnx_path, opset, keep_bn)
        except Exception as e:  # noqa: BLE001 - any export failure skips
            if not keep_bn:
                raise
            print("note: %s skipped: torch %s cannot export with BatchNorm "
                  "kept (%s)" % (name, torch.__version__, e))
            continue
        if keep_bn and not has_batchnorm(onnx_path):
            os.unlink(onnx_path)
            print("note: %s skipped: torch %s folded BatchNormalization "
                  "even with TrainingMode.PRESERVE" % (name, torch.__version__))
            continue
        write_npy(os.path.join(outdir, name + ".in.npy"), x.numpy())
        write_npy(os.path.join(outdir, name + ".out.npy"), y.numpy())
        written.append(name)
        print("%s: %s %d classes %dx%d opset %d, output %s, |y| max %.3g"
              % (name, arch, classes, h, w, opset, tuple(y.shape),
                 float(y.abs().max())))
    with open(os.path.join(outdir, "manifest.txt"), "w") as f:
        f.write("".join(n + "\n" for n in written))
    print("torch %s torchvision %s: %d of %d cases written to %s"
          % (torch.__version__, torchvision.__version__, len(written),
             len(CASES), outdir))


if __name__ == "__main__":
    main()
