"""Exports torchvision's LR-ASPP MobileNetV3-Large (21 classes, random
weights: timing does not depend on their values) to ONNX at a fixed square
input size, for the side-by-side benchmark. Usage: make_lraspp.py SIZE OUT"""
import sys

import torch
from torchvision.models.segmentation import lraspp_mobilenet_v3_large


class Wrapper(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x)["out"]


def main():
    size, out = int(sys.argv[1]), sys.argv[2]
    torch.manual_seed(0)
    m = lraspp_mobilenet_v3_large(weights=None, weights_backbone=None,
                                  num_classes=21).eval()
    with torch.no_grad():
        torch.onnx.export(Wrapper(m), torch.randn(1, 3, size, size), out,
                          opset_version=13, input_names=["input"],
                          output_names=["out"])


if __name__ == "__main__":
    main()
