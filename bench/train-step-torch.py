"""PyTorch twin of bench/train-step-tfjs.mjs: the same U-Net, batch, loss and optimizer; prints one JSON line.

Usage: /usr/bin/python3 bench/train-step-torch.py --threads 2 [--batch 4 --size 256 --base 16 --depth 4 --steps 5]
       [--dims 3 --size 32|40x56x40 --classes 3]
2D: the benchmark net of train-step-tfjs.mjs (batch norm, depth = poolings). --dims 3: rwseg's 3D U-Net layer by
layer (models/unet.ts, buildUNet({dims: 3, normalization: 'instance'})): depth = levels (depth 4 = three poolings),
conv 3x3x3 without bias -> InstanceNorm3d (affine, eps 1e-5) -> LeakyReLU(0.01), twice per level; max-pool 2;
ConvTranspose3d(2, stride 2, bias) up; concat [skip, up]; 1x1x1 conv (bias) + softmax head.
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn as nn


def block(cin, cout, dims=2):
    conv = nn.Conv2d if dims == 2 else nn.Conv3d
    layers = []
    for i in range(2):
        norm = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1) if dims == 2 else nn.InstanceNorm3d(cout, eps=1e-5, affine=True)
        layers += [conv(cin if i == 0 else cout, cout, 3, padding=1, bias=False), norm, nn.LeakyReLU(0.01)]
    return nn.Sequential(*layers)


class UNet(nn.Module):
    """depth poolings (2D bench net); the 3D net is built with depth = levels - 1 poolings."""

    def __init__(self, base, depth, classes, dims=2):
        super().__init__()
        widths = [base * 2 ** i for i in range(depth + 1)]
        up = nn.ConvTranspose2d if dims == 2 else nn.ConvTranspose3d
        conv = nn.Conv2d if dims == 2 else nn.Conv3d
        self.down = nn.ModuleList(block(1 if i == 0 else widths[i - 1], widths[i], dims) for i in range(depth))
        self.bottom = block(widths[depth - 1], widths[depth], dims)
        self.up = nn.ModuleList(up(widths[i + 1], widths[i], 2, stride=2) for i in range(depth))
        self.dec = nn.ModuleList(block(2 * widths[i], widths[i], dims) for i in range(depth))
        self.head = conv(widths[0], classes, 1)
        self.pool = nn.MaxPool2d(2, 2) if dims == 2 else nn.MaxPool3d(2, 2)

    def forward(self, x):
        skips = []
        for blk in self.down:
            x = blk(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottom(x)
        for i in reversed(range(len(self.up))):
            x = self.dec[i](torch.cat([skips[i], self.up[i](x)], dim=1))
        return torch.softmax(self.head(x), dim=1)


def dice_loss(probs, target):
    dims = tuple(d for d in range(probs.dim()) if d != 1)
    inter = (probs * target).sum(dims)
    denom = probs.sum(dims) + target.sum(dims)
    return 1 - ((2 * inter + 1e-5) / (denom + 1e-5)).mean()


def main():
    p = argparse.ArgumentParser()
    for name, default in [('threads', 2), ('batch', 4), ('base', 16), ('depth', 4), ('classes', 2), ('steps', 5), ('warmup', 2), ('dims', 2)]:
        p.add_argument('--' + name, type=int, default=default)
    p.add_argument('--size', default='256', help="'256' (square / cube) or 'DxHxW'")
    a = p.parse_args()
    spatial = [int(v) for v in a.size.split('x')] if 'x' in a.size else [int(a.size)] * a.dims
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = UNet(a.base, a.depth if a.dims == 2 else a.depth - 1, a.classes, a.dims)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(a.batch, 1, *spatial)
    labels = (torch.rand(a.batch, *spatial) > 0.7).long()
    y = torch.nn.functional.one_hot(labels, a.classes).movedim(-1, 1).float()

    def step():
        opt.zero_grad()
        loss = dice_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    times, cpu_times = [], []
    for _ in range(a.steps):
        c0, t0 = time.process_time(), time.perf_counter()
        last = step()
        times.append((time.perf_counter() - t0) * 1000)
        cpu_times.append((time.process_time() - c0) * 1000)
    print(json.dumps({
        'framework': 'pytorch', 'backend': f'torch {torch.__version__} cpu, {a.threads} threads',
        'params': sum(p.numel() for p in model.parameters()), 'batch': a.batch, 'size': a.size,
        'msPerStep': statistics.median(times), 'minMs': min(times), 'times': [round(t) for t in times], 'lastLoss': last,
        # CPU time summed over all threads: an ideal 2-thread run takes about half of it as wall time.
        'cpuMsPerStep': statistics.median(cpu_times),
        # Peak resident memory of the process (Linux reports KiB).
        'maxRssMiB': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


if __name__ == '__main__':
    main()
