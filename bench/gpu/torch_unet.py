#!/usr/bin/env python3
"""The anchor for bench/gpu/webgpu-train-step.mjs: the same U-Net as the probe U-Net of
@rwseg/tfjs-training-backends/testing (packages/tfjs-training-backends/src/testing/probe-unet.ts) in PyTorch,
ms per training step (forward, backward, Adam, loss read back) per batch size, on CUDA when present (else CPU).
fp32 with TF32 off, like WebGPU's fp32.
Optionally exports the net to ONNX (opset 13, dynamic batch) for bench/gpu/ort-infer.mjs.
Prints one JSON line per batch size.
Usage: python3 bench/gpu/torch_unet.py [--batches 4,16,64] [--size 256] [--base 16] [--depth 4] [--steps 5]
       [--warmup 2] [--onnx path.onnx]
"""
import argparse
import json
import time

import torch
from torch import nn


def conv_block(cin, cout):
    layers = []
    for k in (cin, cout):
        # momentum/eps as TF.js's batchNorm on batch statistics; leakyRelu slope 0.01 as in the probe.
        layers += [nn.Conv2d(k, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout, eps=1e-3), nn.LeakyReLU(0.01)]
    return nn.Sequential(*layers)


class UNet(nn.Module):
    def __init__(self, in_channels=1, classes=2, base=16, depth=4):
        super().__init__()
        widths = [base * 2 ** i for i in range(depth + 1)]
        self.enc = nn.ModuleList()
        cin = in_channels
        for w in widths[:-1]:
            self.enc.append(conv_block(cin, w))
            cin = w
        self.bottom = conv_block(cin, widths[-1])
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        cin = widths[-1]
        for w in reversed(widths[:-1]):
            self.up.append(nn.ConvTranspose2d(cin, w, 2, stride=2))
            self.dec.append(conv_block(2 * w, w))
            cin = w
        self.head = nn.Conv2d(cin, classes, 1)

    def forward(self, x):
        skips = []
        for block in self.enc:
            x = block(x)
            skips.append(x)
            x = nn.functional.max_pool2d(x, 2)
        x = self.bottom(x)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips)):
            x = dec(torch.cat([up(x), skip], 1))
        return torch.softmax(self.head(x), 1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--batches', default='4,16,64')
    p.add_argument('--size', type=int, default=256)
    p.add_argument('--base', type=int, default=16)
    p.add_argument('--depth', type=int, default=4)
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--onnx', default=None)
    a = p.parse_args()
    torch.manual_seed(1)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    name = torch.cuda.get_device_name(0) if device.type == 'cuda' else 'cpu'
    net = UNet(base=a.base, depth=a.depth).to(device)
    params = sum(p.numel() for p in net.parameters())
    for batch in [int(b) for b in a.batches.split(',')]:
        row = {'what': f'torch-{device.type}', 'device': name, 'torch': torch.__version__, 'batch': batch, 'size': a.size,
               'base': a.base, 'depth': a.depth, 'parameters': params}
        try:
            opt = torch.optim.Adam(net.parameters(), lr=1e-3)
            images = torch.rand(batch, 1, a.size, a.size, device=device)
            target = (images[:, 0] > 0.5).long()
            def step():
                opt.zero_grad(set_to_none=True)
                probs = net(images)
                loss = nn.functional.nll_loss(torch.log(probs + 1e-7), target)
                loss.backward()
                opt.step()
                return loss.item()  # reads back, as the TF.js bench does
            for _ in range(a.warmup):
                step()
            start = time.perf_counter()
            for _ in range(a.steps):
                loss = step()
            row.update(msPerStep=round((time.perf_counter() - start) / a.steps * 1000, 1), steps=a.steps, finalLoss=loss)
        except RuntimeError as error:  # out of memory at a large batch: report, go on
            row['error'] = str(error)[:300]
            if device.type == 'cuda':
                torch.cuda.empty_cache()
        print(json.dumps(row), flush=True)
    if a.onnx:
        net.eval().cpu()
        torch.onnx.export(net, torch.rand(1, 1, a.size, a.size), a.onnx, opset_version=13, input_names=['image'],
                          output_names=['probabilities'], dynamic_axes={'image': {0: 'batch'}, 'probabilities': {0: 'batch'}})


if __name__ == '__main__':
    main()
